"""expand at scale: 10,000 and 100,000 small sources (64x64 JPEGs, 10 classes), copies 2, no originals.

Measures a fresh run, a re-run of the finished run (nothing to do: resume verifies and keeps everything),
the same re-run with `--verify full`, and `audit --source` on the big run's manifest: wall time and the
peak RSS of the augcli DRIVER process alone (psutil, sampled every 20 ms; its pool workers are not
counted: they are bounded by the chunk, the driver is what grows with the dataset). And the progress
bar's ETA: every update tqdm writes to stderr is timestamped as it arrives; the worst |predicted finish -
actual finish| / actual run time over the updates after the first 10% of the work.

    python -m benchmarks.scale [--sources 100000] [--workers 2] [--temp /dev/shm/scale]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import Run, run
from benchmarks.table import Row, render

CLASSES = 10
DISTINCT = 256  # JPEGs actually encoded; every file is made distinct by a comment segment (cheap)
RECIPE = """\
seed: 7
copies: 2
keep_originals: false
transforms:
  - {name: hflip, p: 0.5}
  - {name: brightness_contrast, brightness_range: [-0.2, 0.2], contrast_range: [-0.1, 0.1]}
"""
MEMORY_TARGET = 1.2  # 100k run's driver peak / 10k run's
RERUN_TARGET = 0.25  # re-run of a finished run / the run
ETA_TARGET = 0.20


def make_dataset(root: Path, sources: int) -> Path:
    """`sources` distinct 64x64 JPEGs in 10 classes; a few hundred encodes, the rest are byte variants."""
    import cv2
    import numpy as np

    if (root / ".complete").is_file() and (root / ".complete").read_text() == str(sources):
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    bases = []
    for _ in range(DISTINCT):
        image = cv2.GaussianBlur(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), (5, 5), 0)
        bases.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    for c in range(CLASSES):
        (root / f"class_{c}").mkdir(parents=True)
    for i in range(sources):
        base = bases[i % DISTINCT]
        comment = f"augcli scale benchmark {i}".encode()
        # SOI, then a COM segment (decoders skip it), then the rest: same pixels, distinct bytes and hash.
        data = base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]
        (root / f"class_{i % CLASSES}" / f"img_{i:07d}.jpg").write_bytes(data)
    (root / ".complete").write_text(str(sources))
    return root


BAR = re.compile(r"(\d+)/(\d+) \[[\d:]+<[\d:?]+, +([\d.]+|\?)(s/)?")


def eta_error(measured: Run) -> tuple[float, int]:
    """Worst |predicted finish - actual finish| / actual duration of the bar, over the bar's updates after
    the first 10% of the work, and how many updates that was. Each update's predicted finish is its arrival
    time plus the remaining work at the rate it shows (finer than its ETA, which is whole seconds); the bar
    starts when its 0% line arrives and finishes when its 100% line does."""
    parsed = []
    for arrived, text in measured.stderr_updates:
        match = BAR.search(text)
        if match is not None:
            rate = None if match[3] == "?" else float(match[3])
            if rate is not None and match[4]:  # tqdm shows s/img below one image a second
                rate = 1 / rate
            parsed.append((arrived, int(match[1]), int(match[2]), rate))
    starts = [p for p in parsed if p[1] == 0]
    finals = [p for p in parsed if p[1] == p[2]]
    if not starts or not finals:
        return float("nan"), 0
    start, finish = starts[0][0], finals[0][0]
    errors = [
        abs(arrived + (total - n) / rate - finish) / (finish - start)
        for arrived, n, total, rate in parsed
        if n >= total / 10 and n < total and rate
    ]
    return (max(errors) if errors else float("nan")), len(errors)


def expand_command(augcli: list[str], recipe: Path, data: Path, out: Path, workers: int, *extra: str) -> list[str]:
    return [*augcli, "expand", str(recipe), str(data), "-o", str(out), "--workers", str(workers), *extra]


def scale_rows(augcli: list[str], temp: Path, workers: int, sources: int = 100_000) -> list[Row]:
    temp.mkdir(parents=True, exist_ok=True)
    recipe = temp / "scale.yaml"
    recipe.write_text(RECIPE)
    small_n, big_n = sources // 10, sources
    small, big = make_dataset(temp / f"data_{small_n}", small_n), make_dataset(temp / f"data_{big_n}", big_n)
    small_out, big_out = temp / f"out_{small_n}", temp / f"out_{big_n}"
    for out in (small_out, big_out):
        shutil.rmtree(out, ignore_errors=True)

    run_small = run(expand_command(augcli, recipe, small, small_out, workers, "-q"))
    run_big = run(expand_command(augcli, recipe, big, big_out, workers), terminal=True)  # with the bar, for the ETA
    rerun_small = run(expand_command(augcli, recipe, small, small_out, workers, "-q"))
    rerun_big = run(expand_command(augcli, recipe, big, big_out, workers, "-q"))
    full_big = run(expand_command(augcli, recipe, big, big_out, workers, "-q", "--verify", "full"))
    audit_big = run([*augcli, "audit", str(big_out), "--source", str(big), "--workers", str(workers)])
    eta, updates = eta_error(run_big)
    outputs = 2 * big_n

    def mb(m: Run) -> str:
        return f"{m.driver_peak_mb:.0f} MB"

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    def cpu(m: Run, outputs: int) -> float:
        return 1000 * m.cpu_seconds / outputs

    rows = [
        Row(
            f"expand {small_n:,} sources x 2 copies: time",
            f"{run_small.seconds:.1f} s",
            cpu_ms=cpu(run_small, 2 * small_n),
        ),
        Row(
            f"expand {big_n:,} sources x 2 copies: time",
            f"{run_big.seconds:.1f} s",
            f"{small_n:,} sources",
            ratio(run_big.seconds, run_small.seconds),
            "~10 (linear)",
            cpu_ms=cpu(run_big, outputs),
        ),
        Row(f"expand {small_n:,}: driver peak memory", mb(run_small)),
    ]
    mem_ratio = ratio(run_big.driver_peak_mb, run_small.driver_peak_mb)
    rows.append(
        Row(
            f"expand {big_n:,}: driver peak memory",
            mb(run_big),
            f"{small_n:,} run",
            mem_ratio,
            f"< {MEMORY_TARGET}",
            mem_ratio < MEMORY_TARGET,
        )
    )
    rerun_ratio = ratio(rerun_big.seconds, run_big.seconds)
    rows.append(
        Row(
            f"re-run of the finished {big_n:,} run (nothing to do): time",
            f"{rerun_big.seconds:.1f} s",
            "the run",
            rerun_ratio,
            f"<= {RERUN_TARGET}",
            rerun_ratio <= RERUN_TARGET,
            cpu_ms=cpu(rerun_big, outputs),
        )
    )
    rows.append(
        Row(
            f"re-run of the finished {small_n:,} run: time",
            f"{rerun_small.seconds:.1f} s",
            "the run",
            ratio(rerun_small.seconds, run_small.seconds),
            cpu_ms=cpu(rerun_small, 2 * small_n),
        )
    )
    rerun_mem = ratio(rerun_big.driver_peak_mb, run_small.driver_peak_mb)
    rows.append(
        Row(
            f"re-run {big_n:,}: driver peak memory",
            mb(rerun_big),
            f"{small_n:,} run",
            rerun_mem,
            f"< {MEMORY_TARGET}",
            rerun_mem < MEMORY_TARGET,
        )
    )
    full_ratio = ratio(full_big.seconds, run_big.seconds)
    rows.append(
        Row(
            f"re-run {big_n:,} with --verify full: time",
            f"{full_big.seconds:.1f} s",
            "the run",
            full_ratio,
            "< 1",
            cpu_ms=cpu(full_big, outputs),
        )
    )
    rows.append(
        Row(
            f"re-run {big_n:,} with full verify: driver peak memory",
            mb(full_big),
            f"{small_n:,} run",
            ratio(full_big.driver_peak_mb, run_small.driver_peak_mb),
        )
    )
    rows.append(
        Row(
            f"audit --source on the {outputs:,}-row manifest: time",
            f"{audit_big.seconds:.1f} s",
            "the run",
            ratio(audit_big.seconds, run_big.seconds),
            cpu_ms=cpu(audit_big, outputs),
        )
    )
    rows.append(
        Row(
            f"audit --source on the {outputs:,}-row manifest: driver peak memory",
            mb(audit_big),
            f"{small_n:,} expand",
            ratio(audit_big.driver_peak_mb, run_small.driver_peak_mb),
        )
    )
    rows.append(
        Row(
            f"progress bar ETA, worst error after 10% of the work ({updates} updates)",
            f"{eta:.1%}",
            "actual finish",
            eta,
            f"<= {ETA_TARGET:.0%}",
            eta <= ETA_TARGET,
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--temp", type=Path, default=None, help="a tmpfs folder is best (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    args = parser.parse_args()
    from benchmarks.run import default_tmp

    temp = args.temp or Path(tempfile.mkdtemp(prefix="augcli-scale-", dir=default_tmp()))
    augcli = [sys.executable, "-m", "augcli"]
    try:
        print(render(scale_rows(augcli, temp, args.workers, args.sources)))
    finally:
        if not args.keep and args.temp is None:
            shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
