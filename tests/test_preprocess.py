"""`preprocess:` gives every output of every split the same treatment (sizing, grey) before any augmentation,
records it on every row and replays byte for byte; without it originals stay byte copies."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import REPO, make_dataset, write_recipe

RECIPE = """
seed: 5
copies: 2
format: png
preprocess:
  - {name: resize, shortest: 40}
  - {name: letterbox, size: [64, 48], fill: [0, 0, 255]}
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-15, 15], border_mode: constant}
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data", {"train/a": 3, "train/b": 2, "val/a": 2, "test/b": 1}, size=(37, 81))


def run(runner, *args: str):
    return runner.invoke(app, [*args])


def test_every_output_of_every_split_gets_the_size_and_replays(runner, tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    result = run(runner, "expand", str(write_recipe(tmp_path / "r.yaml", RECIPE)), str(data), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    rows = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]
    assert {r["split"] for r in rows} == {"train", "val", "test"} and len(rows) == 8 + 10
    for row in rows:
        image = cv2.imread(str(out / row["path"]), cv2.IMREAD_UNCHANGED)
        assert image.shape[:2] == (48, 64) and (row["width"], row["height"]) == (64, 48), row["path"]
        assert [step["name"] for step in row["preprocess"]] == ["resize", "letterbox"]
        assert row["path"].endswith(".png"), "originals are re-encoded in the recipe's format"
    original = next(r for r in rows if r["kind"] == "original")
    assert original["sha256"] != original["source_sha256"]
    pad = cv2.imread(str(out / original["path"]))[0, 0].tolist()  # a 37x81 source letterboxed into 64x48: bars
    assert pad == [0, 0, 255]
    flags = ["--replay", "1.0", "--format", "json", "--workers", "1", "--near-dup-threshold", "-1"]  # textures alike
    audit = run(runner, "audit", str(out), "--source", str(data), *flags)
    report = json.loads(audit.stdout)
    assert audit.exit_code == 0, report["findings"]
    assert report["replayed"] == report["replay_matched"] == len(rows), "originals are rebuilt too"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{name: rotate}", "preprocess[0]: 'rotate' cannot preprocess"),
        ("{name: center_crop, width_fraction_range: [0.5, 0.9]}", "preprocess[0]: center_crop must always run"),
        ("{name: resize, longest: 64, p: 0.5}", "preprocess[0]: resize must always run"),
        ("{name: resize, longest: 64, size: [8, 8]}", "set one of size, longest, shortest"),
    ],
)
def test_a_random_or_optional_preprocess_step_is_refused(runner, tmp_path: Path, data: Path, step, message) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", f"preprocess:\n  - {step}\n")
    result = run(runner, "expand", str(recipe), str(data), "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 2 and message in result.output, result.output


def test_annotations_follow_the_preprocessing(runner, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\npreprocess: [{name: letterbox, size: [96, 96]}]\n")
    out = tmp_path / "out"
    source = REPO / "sample_targets" / "voc"
    assert run(runner, "expand", str(recipe), str(source), "-o", str(out), "-q").exit_code == 0
    for row in (r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"):
        assert (row["width"], row["height"]) == (96, 96)
        assert all(
            0 <= o["box"][0] < o["box"][2] <= 96 and 0 <= o["box"][1] < o["box"][3] <= 96 for o in row["objects"]
        )
    audit = run(runner, "audit", str(out), "--source", str(source), "--replay", "1.0", "--workers", "1")
    assert audit.exit_code == 0, audit.output
