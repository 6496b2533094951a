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
    args += ["--augmentor-every", "1", "--memory-scale", "2", "--help-runs", "1", "--detection-repeat", "1"]
    args += ["--output", str(output), "--no-dask", "--tmp", str(tmp_path)]
    assert main([*args, "--readme", str(readme)]) == 0
    report = output.read_text(encoding="utf-8")
    measures = ("floor: decode once", "augcli identity recipe", "workers=1", "peak RSS", "augcli --help")
    for measure in (*measures, "augcli detection recipe (boxes + mosaic)", "albumentations Compose + BboxParams"):
        assert measure in report
    assert report.count("| measure |") == 1  # one table
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text and report.strip() in text and text.endswith("after\n")


@pytest.mark.bench
def test_detection_contestants_write_images_and_label_files(tmp_path: Path) -> None:
    import subprocess
    import sys

    from benchmarks.detection import YOLO_SAMPLE, make_dataset
    from benchmarks.measure import ENV
    from benchmarks.recipes import write_detection_recipe
    from benchmarks.run import _augcli_command, _check_labels

    dataset = make_dataset(tmp_path / "data", repeat=2)
    sources = sorted(p.stem for p in (dataset / "train" / "images").iterdir())
    assert len(sources) == 2 * len(list((YOLO_SAMPLE / "train" / "images").iterdir()))
    for line in (dataset / "train" / "labels" / f"{sources[0]}.txt").read_text().splitlines():
        assert len(line.split()) == 5  # polygons became boxes
    recipe = write_detection_recipe(tmp_path, copies=1, quality=90)
    commands = {"augcli": [*_augcli_command(), "expand", str(recipe), str(dataset), "-o", "{out}", "--workers", "1"]}
    try:
        import albumentations  # noqa: F401
    except ImportError:
        pass
    else:
        script = Path(__file__).resolve().parents[1] / "benchmarks" / "peer_albumentations_bbox.py"
        commands["albumentations"] = [sys.executable, str(script), str(dataset), "{out}", "--copies", "1"]
        commands["albumentations"] += ["--workers", "1"]
    for name, command in commands.items():
        out = tmp_path / f"out-{name}"
        subprocess.run([str(out) if c == "{out}" else c for c in command], check=True, env=ENV, capture_output=True)
        written = sorted(p.stem for p in (out / "train" / "images").glob("*.jpg"))
        assert written == [f"{stem}__aug00" for stem in sources], name
        labels = sorted(p.stem for p in (out / "train" / "labels").glob("*.txt"))
        assert labels == written, name
        _check_labels(name, out, len(written))
        lines = [line.split() for p in (out / "train" / "labels").glob("*.txt") for line in p.read_text().splitlines()]
        assert lines and all(len(f) == 5 and 0 <= float(f[1]) <= 1 and 0 <= float(f[2]) <= 1 for f in lines), name
    if "albumentations" not in commands:
        pytest.skip("albumentations not installed (pip install '.[bench]'): only augcli's detection run was checked")


def test_benchmark_lists_the_same_sources_as_augcli() -> None:
    from augcli.entries import IMAGE_EXTENSIONS
    from benchmarks.common import IMAGE_SUFFIXES

    assert set(IMAGE_EXTENSIONS) == IMAGE_SUFFIXES
