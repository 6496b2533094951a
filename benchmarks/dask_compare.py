"""`--scheduler local-cluster` against the local pool, on the same expand: CPU per output and rate.

Both run the same command (`augcli expand RECIPE DATA -o OUT --workers N -q`), the cluster with
`--scheduler local-cluster` added, measured as whole process trees (benchmarks.measure: wall time and the
CPU seconds of every waited-for descendant, cluster workers included). The runs are interleaved, pool then
cluster, on the dataset and on its replicated copy (`scaled`, made by the caller), and each ratio is the
median of the ratios of neighbouring runs, so a machine that gets busier during the benchmark moves both
sides of a ratio alike.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import median, run
from benchmarks.table import Row

CLUSTER = ["--scheduler", "local-cluster"]


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    outputs: int

    @property
    def cpu_ms_per_output(self) -> float:
        return 1000 * self.cpu_seconds / self.outputs

    @property
    def rate(self) -> float:
        return self.outputs / self.seconds


def dask_rows(
    augcli: list[str], recipe: Path, dataset: Path, scaled: Path, workers: int, reps: int, temp: Path
) -> list[Row]:
    if importlib.util.find_spec("distributed") is None:
        return [Row("Dask local-cluster vs pool: not measured (distributed is not installed)", "")]
    samples: dict[tuple[str, str], list[Sample]] = {}
    for _ in range(reps):
        for size, data in (("1x", dataset), ("scaled", scaled)):
            for runner, extra in (("pool", []), ("cluster", CLUSTER)):
                out = temp / f"out-dask-compare-{runner}"
                command = [*augcli, "expand", str(recipe), str(data), "-o", str(out), "--workers", str(workers), "-q"]
                samples.setdefault((size, runner), []).append(_measure([*command, *extra], out))
    return _rows(samples, workers, scale=_scale(dataset, scaled))


def _measure(command: list[str], out: Path) -> Sample:
    shutil.rmtree(out, ignore_errors=True)  # left by an interrupted benchmark, augcli would refuse to mix runs
    result = run(command)
    outputs = sum(1 for _ in out.rglob("*.jpg"))
    shutil.rmtree(out)
    if not outputs:
        raise RuntimeError(f"{' '.join(command)} wrote no image")
    return Sample(result.seconds, result.cpu_seconds, outputs)


def _rows(samples: dict[tuple[str, str], list[Sample]], workers: int, scale: str) -> list[Row]:
    def cpu(size: str, runner: str) -> float:
        return median([s.cpu_ms_per_output for s in samples[size, runner]])

    def ratio(size: str, value) -> float:  # median of the neighbouring runs' ratios, cluster / pool
        pairs = zip(samples[size, "cluster"], samples[size, "pool"], strict=True)
        return median([value(cluster) / value(pool) for cluster, pool in pairs])

    def pool_text(size: str) -> str:
        runs = samples[size, "pool"]
        return f"pool {median([s.rate for s in runs]):.0f} img/s, {median([s.seconds for s in runs]):.1f} s"

    def cluster_text(size: str) -> str:
        runs = samples[size, "cluster"]
        return f"{median([s.rate for s in runs]):.0f} img/s, {median([s.seconds for s in runs]):.1f} s"

    cpu_ratio = ratio("1x", lambda s: s.cpu_ms_per_output)
    scaled_rate = ratio("scaled", lambda s: s.rate)
    label = f"--scheduler local-cluster, {workers} workers"
    return [
        Row("pool: CPU ms per output, typical expand, 1x dataset", f"{cpu('1x', 'pool'):.2f}"),
        Row(
            f"{label}: CPU ms per output, 1x",
            f"{cpu('1x', 'cluster'):.2f}",
            "pool",
            cpu_ratio,
            "<= 1.1",
            cpu_ratio <= 1.1,
        ),
        Row(
            f"{label}: rate, 1x",
            cluster_text("1x"),
            pool_text("1x"),
            ratio("1x", lambda s: s.rate),
            cpu_ms=cpu("1x", "cluster"),
        ),
        Row(
            f"{label}: CPU ms per output, {scale}",
            f"{cpu('scaled', 'cluster'):.2f}",
            f"pool {cpu('scaled', 'pool'):.2f}",
            ratio("scaled", lambda s: s.cpu_ms_per_output),
        ),
        Row(
            f"{label}: rate, {scale}",
            cluster_text("scaled"),
            pool_text("scaled"),
            scaled_rate,
            ">= 0.85",
            scaled_rate >= 0.85,
            cpu_ms=cpu("scaled", "cluster"),
        ),
    ]


def _scale(dataset: Path, scaled: Path) -> str:
    from benchmarks.common import list_images

    sources, copies = len(list_images(dataset)), len(list_images(scaled))
    return f"{copies / sources:.0f}x dataset ({copies} sources)" if sources else "scaled dataset"
