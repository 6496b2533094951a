"""`augcli diff`: two runs differing in a known way report exactly those differences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from augcli.cli import app
from augcli.expand import expand
from augcli.rundiff import ks_statistic
from tests.conftest import make_dataset, write_recipe

RECIPE_A = """\
seed: 3
copies: 10
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-15, 15]}
  - {name: gaussian_noise, sigma_range: [0.01, 0.05], p: 0.5}
"""
# B: a wider rotate range, and a step inserted before it (so rotate moves from step 1 to step 2)
RECIPE_B = """\
seed: 3
copies: 10
transforms:
  - {name: hflip, p: 0.5}
  - {name: vflip, p: 0.5}
  - {name: rotate, angle_range: [-60, 60]}
  - {name: gaussian_noise, sigma_range: [0.01, 0.05], p: 0.5}
"""


def _rows(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return {r["path"]: r for r in rows if r["type"] == "output"}


def _runs(tmp_path: Path) -> tuple[Path, Path]:
    data_a = make_dataset(tmp_path / "data_a", {"a": 10, "b": 10}, size=(24, 32))
    data_b = Path(shutil.copytree(data_a, tmp_path / "data_b"))
    (data_b / "a" / "img_004.jpg").unlink()  # one removed source
    out_a, out_b = tmp_path / "out_a", tmp_path / "out_b"
    expand(write_recipe(tmp_path / "a.yaml", RECIPE_A), data_a, out_a, workers=1)
    expand(write_recipe(tmp_path / "b.yaml", RECIPE_B), data_b, out_b, workers=1)
    return out_a, out_b


def test_ks_statistic_against_definitions() -> None:
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([0, 0, 0], [1, 1]) == 1.0
    # empirical CDFs of [1, 2, 3, 4] and [3, 4, 5, 6] differ most (by 0.5) between 2 and 3
    assert ks_statistic([1, 2, 3, 4], [3, 4, 5, 6]) == 0.5
    rng = np.random.default_rng(0)
    assert ks_statistic(rng.uniform(0, 1, 2000), rng.uniform(0, 1, 2000)) < 0.06


def test_exactly_the_known_differences_are_reported(runner, tmp_path: Path) -> None:
    out_a, out_b = _runs(tmp_path)
    result = runner.invoke(app, ["diff", str(out_a), str(out_b), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    recipe = [(c["kind"], c["path"], c["old"], c["new"]) for c in report["recipe"]]
    assert recipe == [
        ("added", "transforms.1", None, {"name": "vflip", "p": 0.5}),
        ("changed", "transforms.2.angle_range", [-15.0, 15.0], [-60.0, 60.0]),
    ]
    assert report["recipe"][1]["note"] == "step 1 in A"
    assert report["versions"] == []  # same process, same libraries and code

    rows_a, rows_b = _rows(out_a), _rows(out_b)
    removed = ["a/img_004.jpg"] + [f"a/img_004__aug{i:02d}.jpg" for i in range(10)]
    assert report["outputs"]["added"] == [] and report["outputs"]["removed"] == removed
    assert report["sources"] == {"added": [], "removed": ["a/img_004.jpg"]}
    both = rows_a.keys() & rows_b.keys()
    # changed = exactly the outputs whose applied steps differ; originals never change
    assert report["outputs"]["changed"] == sorted(p for p in both if rows_a[p]["transforms"] != rows_b[p]["transforms"])
    assert not any(rows_a[p]["kind"] == "original" for p in report["outputs"]["changed"])
    assert report["outputs"]["unchanged"] == len(both) - len(report["outputs"]["changed"])

    shifts = {(s["step"], s["param"]): s for s in report["shifts"]}
    angle = shifts[("2", "angle")]
    assert angle["step_a"] == "1" and angle["flagged"] and angle["ks"] > 0.3
    assert [key for key, s in shifts.items() if s["flagged"]] == [("2", "angle")]
    assert ("3", "sigma") in shifts and shifts[("3", "sigma")]["step_a"] == "2"


def test_text_report_and_identical_runs(runner, tmp_path: Path) -> None:
    out_a, out_b = _runs(tmp_path)
    text = runner.invoke(app, ["diff", str(out_a), str(out_b)]).output
    assert '  added    transforms.1: {"name": "vflip", "p": 0.5}' in text
    assert "  changed  transforms.2.angle_range: [-15.0, 15.0] -> [-60.0, 60.0]  (step 1 in A)" in text
    assert "outputs: 0 added, 11 removed," in text and "sources removed: a/img_004.jpg" in text
    assert "rotate angle" in text and "SHIFTED" in text and text.rstrip().endswith("runs differ")
    same = runner.invoke(app, ["diff", str(out_a), str(out_a / "manifest.jsonl")])
    assert same.exit_code == 0
    assert "recipe:\n  same\nversions:\n  same" in same.output and same.output.rstrip().endswith("no differences")
    assert "SHIFTED" not in same.output


def test_bad_options_exit_2(runner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["diff", str(tmp_path), str(tmp_path)]).exit_code == 2
    out_a, _ = _runs(tmp_path)
    assert runner.invoke(app, ["diff", str(out_a), str(out_a), "--ks-threshold", "0"]).exit_code == 2
    assert runner.invoke(app, ["diff", str(out_a), str(out_a), "--format", "yaml"]).exit_code == 2
