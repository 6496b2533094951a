"""`make bench`: augcli against the codec floor and its peers, one table from one run.

Usage: python -m benchmarks.run [--dataset PATH] [--reps 3] [--output benchmarks/results.md] [--readme README.md]

Every throughput figure is a whole process (interpreter start-up, imports, pool start included),
timed from outside, the median of --reps repetitions run interleaved so machine noise spreads evenly.
The peers (albumentations, Augmentor) and psutil come from `pip install '.[bench]'`; a peer that is
not installed gets a row saying so.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import list_images  # noqa: E402
from benchmarks.detection import make_dataset  # noqa: E402
from benchmarks.measure import ENV, median, run  # noqa: E402
from benchmarks.recipes import write_detection_recipe, write_recipes  # noqa: E402
from benchmarks.table import Row, render  # noqa: E402

README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=str(REPO.parent / "shared" / "datasets" / "hymenoptera"))
    parser.add_argument("--reps", type=int, default=3, help="repetitions per figure (the table shows medians)")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--kernel-images", type=int, default=24, help="photos per per-transform pass")
    parser.add_argument("--augmentor-every", type=int, default=4, help="Augmentor runs on every Nth source")
    parser.add_argument("--memory-scale", type=int, default=4, help="the dataset is copied this many times")
    parser.add_argument(
        "--detection-repeat", type=int, default=20, help="sample_targets/yolo's train images are copied this many times"
    )
    parser.add_argument("--kernels", help="comma-separated transform names (default: every compared one)")
    parser.add_argument("--help-runs", type=int, default=7, help="`augcli --help` runs (the median is shown)")
    parser.add_argument(
        "--tmp", help="folder for generated data and outputs (default: /dev/shm when it is a writable tmpfs)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        help="also run the scale section on this many generated small images (100000 in `make bench-scale`)",
    )
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask local-cluster rows")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results.md"))
    parser.add_argument("--readme", help=f"also replace the text between {README_START} and {README_END}")
    args = parser.parse_args(argv)
    dataset = Path(args.dataset).resolve()
    if not dataset.is_dir():
        parser.error(f"dataset folder {dataset} does not exist (give one with --dataset or DATASET=)")
    started = time.perf_counter()
    _compile_package()
    where = args.tmp or default_tmp()
    with tempfile.TemporaryDirectory(prefix="augcli-bench-", dir=where) as temp:
        rows = Bench(args, dataset, Path(temp)).rows()
        if args.scale:
            from benchmarks.scale import scale_rows

            rows += scale_rows(_augcli_command(), Path(temp) / "scale", args.workers, args.scale)
    table = render(rows)
    report = machine(args, dataset, Path(where)) + "\n\n" + table + "\n"
    report += f"\nWhole benchmark: {time.perf_counter() - started:.0f} s.\n"
    print(report)
    Path(args.output).write_text(report, encoding="utf-8")
    if args.readme:
        update_readme(Path(args.readme), report)
    return 0


class Bench:
    def __init__(self, args: argparse.Namespace, dataset: Path, temp: Path) -> None:
        self.args, self.dataset, self.temp = args, dataset, temp
        self.sources = list_images(dataset)
        splits = sorted(p.name for p in dataset.iterdir() if p.is_dir())
        self.recipes = write_recipes(temp, args.copies, args.quality, splits)
        self.recipes["detection"] = write_detection_recipe(temp, args.copies, args.quality)
        self.detection = make_dataset(temp / "detection-data", args.detection_repeat)
        self.augcli = _augcli_command()

    def rows(self) -> list[Row]:
        a, workers = self.args, self.args.workers
        contestants = {
            "floor": lambda out: self._script("floor.py", out, workers),
            "identity": lambda out: self._expand("identity", out, workers),
            "typical": lambda out: self._expand("typical", out, workers),
            "typical_1": lambda out: self._expand("typical", out, 1),
            "detection": lambda out: self._expand("detection", out, workers, self.detection),
        }
        peers = {"albumentations": "albumentations", "augmentor": "Augmentor"}
        missing = [name for name, module in peers.items() if importlib.util.find_spec(module) is None]
        if "albumentations" not in missing:
            contestants["albumentations"] = lambda out: self._script("peer_albumentations.py", out, workers)
            contestants["albumentations_bbox"] = lambda out: self._script(
                "peer_albumentations_bbox.py", out, workers, dataset=self.detection
            )
        if "augmentor" not in missing:
            every = ["--every", str(a.augmentor_every)]
            contestants["augmentor"] = lambda out: self._script("peer_augmentor.py", out, workers, every)
        rates: dict[str, list[float]] = {name: [] for name in contestants}
        cpu: dict[str, list[float]] = {name: [] for name in contestants}
        memory: list[float] = []
        for _ in range(a.reps):
            for name, command in contestants.items():
                out = self.temp / f"out-{name}"
                result = run(command(out))
                written = sum(1 for p in out.rglob("*.jpg"))
                if name in ("detection", "albumentations_bbox"):
                    _check_labels(name, out, written)
                rates[name].append(written / result.seconds)
                cpu[name].append(result.cpu_seconds / written * 1000)
                if name == "typical":
                    memory.append(result.peak_rss_mb)
                shutil.rmtree(out)
        rate = {name: median(values) for name, values in rates.items()}
        self.cpu = {name: median(values) for name, values in cpu.items()}
        scaled = self._replicate(a.memory_scale)
        big = self._peak_memory(scaled)
        rows = self._throughput_rows(rate, missing)
        rows += self._detection_rows(rate, missing)
        rows += self._dask_rows(scaled)
        rows += self._kernel_rows(missing)
        rows += [
            Row("peak RSS, typical expand, 1x dataset (MB)", f"{median(memory):.0f}"),
            Row(
                f"peak RSS, typical expand, {a.memory_scale}x dataset (MB)",
                f"{big:.0f}",
                "1x",
                big / median(memory),
                "< 1.2",
                big / median(memory) < 1.2,
            ),
        ]
        help_seconds = median([run([*self.augcli, "--help"]).seconds for _ in range(a.help_runs)])
        rows.append(Row("`augcli --help` start-up (s)", f"{help_seconds:.3f}", "", None, "< 0.3", help_seconds < 0.3))
        return rows

    def _throughput_rows(self, rate: dict[str, float], missing: list[str]) -> list[Row]:
        a, floor, cpu = self.args, rate["floor"], self.cpu
        n = a.workers
        identity = rate["identity"] / floor
        rows = [
            Row(
                f"floor: decode once, encode K={a.copies} JPEG q{a.quality}, {n} processes (img/s)",
                f"{floor:.0f}",
                cpu_ms=cpu["floor"],
            ),
            Row(
                "augcli identity recipe (img/s)",
                f"{rate['identity']:.0f}",
                "floor",
                identity,
                ">= 0.85",
                identity >= 0.85,
                cpu["identity"],
            ),
            Row(
                f"augcli typical recipe, workers={n} (img/s)",
                f"{rate['typical']:.0f}",
                "floor",
                rate["typical"] / floor,
                cpu_ms=cpu["typical"],
            ),
            Row("augcli typical recipe, workers=1 (img/s)", f"{rate['typical_1']:.0f}", cpu_ms=cpu["typical_1"]),
            Row(
                f"scaling: workers={n} / workers=1",
                "",
                "workers=1",
                rate["typical"] / rate["typical_1"],
                ">= 1.6",
                rate["typical"] / rate["typical_1"] >= 1.6,
            ),
        ]
        for name, label, target, shown in (
            ("albumentations", "albumentations Compose + Pool + cv2.imwrite", 1.6, ">= 1.6 (stretch 2.0)"),
            ("augmentor", f"Augmentor pipeline + Pool (every {a.augmentor_every}th source)", 5.0, ">= 5.0"),
        ):
            if name in missing:
                rows.append(Row(f"{label}: not installed (pip install '.[bench]')", ""))
                continue
            ratio = rate["typical"] / rate[name]
            rows.append(
                Row(
                    f"{label} (img/s)",
                    f"{rate[name]:.0f}",
                    "augcli typical / peer",
                    ratio,
                    shown,
                    ratio >= target,
                    cpu[name],
                )
            )
        return rows

    def _detection_rows(self, rate: dict[str, float], missing: list[str]) -> list[Row]:
        label = "augcli detection recipe (boxes + mosaic) (img/s)"
        peer = "albumentations Compose + BboxParams(yolo) + Mosaic + Pool"
        if "albumentations" in missing:
            return [Row(label, f"{rate['detection']:.0f}"), Row(f"{peer}: not installed (pip install '.[bench]')", "")]
        ratio = rate["detection"] / rate["albumentations_bbox"]
        cpu = self.cpu
        return [
            Row(
                label,
                f"{rate['detection']:.0f}",
                "albumentations bbox",
                ratio,
                ">= 1.3",
                ratio >= 1.3,
                cpu["detection"],
            ),
            Row(f"{peer} (img/s)", f"{rate['albumentations_bbox']:.0f}", cpu_ms=cpu["albumentations_bbox"]),
        ]

    def _kernel_rows(self, missing: list[str]) -> list[Row]:
        if "albumentations" in missing:
            return [Row("per-transform kernels: albumentations not installed", "")]
        import cv2
        import numpy as np

        from benchmarks.kernels import bench_kernels, compared_names

        step = max(1, len(self.sources) // self.args.kernel_images)
        images = []
        for relpath in self.sources[::step][: self.args.kernel_images]:
            data = np.frombuffer((self.dataset / relpath).read_bytes(), np.uint8)
            images.append(cv2.imdecode(data, cv2.IMREAD_COLOR))
        rows, ratios = [], []
        only = set(self.args.kernels.split(",")) if self.args.kernels else None
        for result in bench_kernels(images, self.args.reps, only):
            if result.error:
                rows.append(Row(f"kernel `{result.name}`: {result.error}", ""))
                continue
            ratios.append(result.ratio)
            rows.append(
                Row(
                    f"kernel `{result.name}`, 1 core (img/s)",
                    f"{result.augcli:.0f}",
                    f"albumentations {result.albumentations:.0f}",
                    result.ratio,
                    ">= 1.0",
                    result.ratio >= 1.0,
                )
            )
        middle = median(ratios)
        rows.append(
            Row(
                f"kernels: median ratio over {len(ratios)} transforms",
                "",
                "albumentations",
                middle,
                ">= 1.3",
                middle >= 1.3,
            )
        )
        _, uncompared = compared_names()
        if uncompared:
            rows.append(
                Row("not compared (no albumentations row in benchmarks/kernels.py): " + ", ".join(uncompared), "")
            )
        return rows

    def _dask_rows(self, scaled: Path) -> list[Row]:
        if self.args.no_dask:
            return []
        from benchmarks.dask_compare import dask_rows

        a = self.args
        return dask_rows(self.augcli, self.recipes["typical"], self.dataset, scaled, a.workers, a.reps, self.temp)

    def _replicate(self, scale: int) -> Path:
        """The dataset copied `scale` times (real files, no symlinks)."""
        big = self.temp / "scaled"
        for relpath in self.sources:
            folder, name = os.path.split(relpath)
            (big / folder).mkdir(parents=True, exist_ok=True)
            for copy in range(scale):
                shutil.copyfile(self.dataset / relpath, big / folder / f"x{copy}_{name}")
        return big

    def _peak_memory(self, big: Path) -> float:
        """Peak RSS of the typical expand on the replicated dataset."""
        out = self.temp / "out-scaled"
        result = run(
            [
                *self.augcli,
                "expand",
                str(self.recipes["typical"]),
                str(big),
                "-o",
                str(out),
                "--workers",
                str(self.args.workers),
                "-q",
            ]
        )
        shutil.rmtree(out)
        return result.peak_rss_mb

    def _expand(self, recipe: str, out: Path, workers: int, dataset: Path | None = None) -> list[str]:
        return [
            *self.augcli,
            "expand",
            str(self.recipes[recipe]),
            str(dataset or self.dataset),
            "-o",
            str(out),
            "--workers",
            str(workers),
            "-q",
        ]

    def _script(
        self, script: str, out: Path, workers: int, extra: list[str] = (), dataset: Path | None = None
    ) -> list[str]:
        a = self.args
        return [
            sys.executable,
            str(REPO / "benchmarks" / script),
            str(dataset or self.dataset),
            str(out),
            "--copies",
            str(a.copies),
            "--quality",
            str(a.quality),
            "--workers",
            str(workers),
            *extra,
        ]


def _check_labels(name: str, out: Path, images: int) -> None:
    """A detection contestant writes one YOLO label file per image, or its rate means nothing."""
    labels = sum(1 for p in out.rglob("labels/*.txt"))
    if labels != images or not images:
        raise RuntimeError(f"{name} wrote {images} images but {labels} label files in {out}")


def _augcli_command() -> list[str]:
    """The installed entry point beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("augcli")
    return [str(script)] if script.exists() else [sys.executable, "-m", "augcli"]


def default_tmp() -> str:
    """/dev/shm when it is a writable tmpfs, else the system's temporary folder: the floor and augcli
    must write to the same kind of storage, and on a disk the write-back can dominate both."""
    shm = "/dev/shm"
    if filesystem_of(shm) == "tmpfs" and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


def filesystem_of(path: str) -> str:
    """The type of the file system holding `path` (the longest mount point above it in /proc/mounts)."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    real = os.path.realpath(path)
    found, kind = "", "unknown"
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(found):
            found, kind = point, fstype
    return kind


def _compile_package() -> None:
    """Write augcli's bytecode first, as any pip install does: with PYTHONDONTWRITEBYTECODE set (as on these
    machines) every `augcli` process would otherwise compile its ~100 modules again, ~0.25 s each start."""
    import compileall

    compileall.compile_dir(str(REPO / "augcli"), quiet=1)


def machine(args: argparse.Namespace, dataset: Path, where: Path) -> str:
    import cv2
    import numpy as np

    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown")
    versions = [f"Python {platform.python_version()}", f"OpenCV {cv2.__version__}", f"numpy {np.__version__}"]
    for module, label in (("albumentations", "albumentations"), ("Augmentor", "Augmentor")):
        if importlib.util.find_spec(module) is not None:
            versions.append(f"{label} {_version(module)}")
    sources = len(list_images(dataset))
    return (
        f"Machine: {os.cpu_count()} cores (nproc {_nproc()}), {cpu}; {', '.join(versions)}.\n"
        f"Dataset: {dataset.name} ({sources} photos), K={args.copies} outputs per source, JPEG quality "
        f"{args.quality}, {args.workers} worker processes unless stated; medians of {args.reps} runs, "
        f"each a whole process timed from outside. Detection rows: sample_targets/yolo's train images (boxes only) "
        f"copied {args.detection_repeat} times. Generated data and every output written to {where} "
        f"({_storage_kind(str(where))}). CPU ms/output: user + system time of the whole process tree over the "
        f"images written. {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )


def _storage_kind(path: str) -> str:
    kind = filesystem_of(path)
    return "tmpfs, memory" if kind in ("tmpfs", "ramfs") else f"{kind}, disk-backed"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "?"


def update_readme(readme: Path, report: str) -> None:
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} section to update")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{report}{README_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    _ = ENV  # the environment every subprocess gets (NO_ALBUMENTATIONS_UPDATE=1)
    raise SystemExit(main())
