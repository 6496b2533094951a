"""The benchmark code must keep running: one repetition on a tiny generated dataset (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.run import README_END, README_START, main
from tests.conftest import make_dataset


@pytest.mark.bench
def test_bench_runs_and_writes_one_table(tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path / "data", {"train/ants": 2, "val/bees": 1}, size=(48, 64))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Performance\n\n{README_START}\nold\n{README_END}\n\nafter\n", encoding="utf-8")
    output = tmp_path / "results.md"
    args = [
        "--dataset",
        str(dataset),
        "--reps",
        "1",
        "--workers",
        "1",
        "--kernel-images",
        "1",
        "--kernels",
        "hflip,rotate",
    ]
    args += ["--augmentor-every", "1", "--memory-scale", "2", "--help-runs", "1", "--output", str(output)]
    assert main([*args, "--readme", str(readme)]) == 0
    report = output.read_text(encoding="utf-8")
    for measure in ("floor: decode once", "augcli identity recipe", "workers=1", "peak RSS", "augcli --help"):
        assert measure in report
    assert report.count("| measure |") == 1  # one table
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and report.strip() in text and text.endswith("after\n")


def test_benchmark_lists_the_same_sources_as_augcli() -> None:
    from augcli.entries import IMAGE_EXTENSIONS
    from benchmarks.common import IMAGE_SUFFIXES

    assert set(IMAGE_EXTENSIONS) == IMAGE_SUFFIXES
