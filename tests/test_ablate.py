"""`augcli ablate`: variants, the builtin proxy trainer, user commands with placeholders, failures and resume."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import cv2
import numpy as np

from augcli.ablate import estimate
from augcli.cli import app
from tests.conftest import make_dataset, write_recipe

RECIPE = """\
seed: 1
copies: 4
transforms:
  - {name: rot90, k_range: [0, 3]}
  - {name: vflip, p: 0.5}
"""


def oriented_dataset(root: Path) -> Path:
    """Two classes, a bar along one edge and a square in one corner: train shows one orientation only,
    val the three others, so only a recipe that turns the images lets a pixel classifier generalise."""
    rng = np.random.default_rng(5)
    for split in ("train", "val"):
        for kind in ("bar", "corner"):
            for i in range(12):
                image = rng.normal(60, 12, (24, 24)).clip(0, 255)
                if kind == "bar":
                    image[: int(rng.integers(4, 7)), 2:22] = 220
                else:
                    image[:11, :11] = 220
                turned = np.ascontiguousarray(np.rot90(image, 0 if split == "train" else 1 + i % 3))
                path = root / split / kind / f"{kind}_{i:02d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), turned.astype(np.uint8))
    return root


def test_estimate_is_a_t_interval() -> None:
    e = estimate([1.0, 2.0, 3.0])  # mean 2, sd 1, t(2) = 4.303
    assert e.mean == 2.0 and abs(e.low - (2 - 4.303 / 3**0.5)) < 1e-9 and e.n == 3
    assert estimate([0.5]).n == 1 and estimate([]).n == 0


def test_builtin_proxy_shows_the_lift_of_turning_images(runner, tmp_path: Path) -> None:
    data = oriented_dataset(tmp_path / "data")
    runs = tmp_path / "runs"
    args = ["ablate", str(write_recipe(tmp_path / "r.yaml", RECIPE)), str(data), "-o", str(runs), "--repeats", "2"]
    result = runner.invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((runs / "report.json").read_text())
    assert list(report["variants"]) == ["baseline", "full", "without-0-rot90", "without-1-vflip"]
    full, baseline = report["variants"]["full"], report["variants"]["baseline"]
    assert full["mean"] > baseline["mean"] + 0.3
    assert report["lift"]["full"]["ci95"][0] > 0  # the whole interval above zero
    assert report["contribution"]["0-rot90"]["mean"] > 0.2 and report["harmful"] == []
    for name in report["variants"]:  # every variant is an ordinary expanded dataset
        assert (runs / name / "manifest.jsonl").is_file() and (runs / name / "val" / "bar").is_dir()
    assert not list((runs / "baseline" / "train" / "bar").glob("*__aug*"))
    assert len(list((runs / "full" / "train" / "bar").glob("*__aug*"))) == 48
    assert "| full | 1.0000" in (runs / "report.md").read_text() and "| full |" in result.output
    assert (runs / "report.png").read_bytes().startswith(b"\x89PNG")
    page = (runs / "report.html").read_text()
    assert '<img src="report.png"' in page and "<td>without-0-rot90</td>" in page and page.count("<td>ok</td>") == 8
    audit = runner.invoke(app, ["audit", str(runs / "full"), "--workers", "1"])
    assert audit.exit_code == 0, audit.output  # results live outside the variants: no orphans
    again = runner.invoke(app, [*args, "--workers", "1"])
    assert again.exit_code == 0 and again.output.count(": recorded ") == 8


TRAINER = """\
import json, pathlib, sys
train, val, seed, out, calls = sys.argv[1:6]
with open(calls, "a") as log:
    log.write(json.dumps([train, val, seed, out]) + "\\n")
(pathlib.Path(out) / "model.txt").write_text("weights")
print("epoch 1 loss 0.5")
if "without-0" in train and pathlib.Path(calls + ".fail").exists():
    sys.exit("CUDA out of memory")
if "without-1" in train and seed == "1" and pathlib.Path(calls + ".fail").exists():
    print("done, no json")
    sys.exit(0)
images = len(list(pathlib.Path(train).rglob("*.png")))
print(json.dumps({"accuracy": images / 1000 + int(seed), "loss": 0.1}))
"""


def test_a_command_trainer_with_placeholders_failures_and_resume(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"train/a": 3, "train/b": 3, "val/a": 2, "val/b": 2}, suffix=".png")
    trainer = tmp_path / "trainer.py"
    trainer.write_text(TRAINER)
    calls = tmp_path / "calls.txt"
    Path(f"{calls}.fail").write_text("")
    runs = tmp_path / "runs"
    command = " ".join(shlex.quote(str(p)) for p in (sys.executable, trainer)) + " {train} {val} {seed} {out} "
    command += shlex.quote(str(calls))
    recipe = write_recipe(tmp_path / "r.yaml", "seed: 2\ncopies: 2\ntransforms: [{name: hflip}, {name: vflip}]\n")
    args = ["ablate", str(recipe), str(data), "-o", str(runs), "--train", command, "--repeats", "2", "--workers", "1"]

    first = runner.invoke(app, args)
    assert first.exit_code == 1 and "written:" in first.output, first.output  # finished, with failed runs
    logged = [json.loads(line) for line in calls.read_text().splitlines()]
    assert len(logged) == 8  # 4 variants x 2 repeats
    assert logged[2] == [
        str(runs / "full" / "train"),
        str(runs / "full" / "val"),
        "0",
        str(runs / "results/full/repeat-0"),
    ]
    assert (runs / "results" / "full" / "repeat-0" / "model.txt").read_text() == "weights"
    report = json.loads((runs / "report.json").read_text())
    failures = {(f["variant"], f["repeat"]): f["error"] for f in report["failures"]}
    assert failures == {
        ("without-0-hflip", 0): "exit code 1: CUDA out of memory",
        ("without-0-hflip", 1): "exit code 1: CUDA out of memory",
        ("without-1-vflip", 1): "the last line of stdout is not a JSON object",
    }
    # 6 train sources: baseline 6 images, full 6 + 12; the JSON object's accuracy is images / 1000 + seed
    assert abs(report["variants"]["full"]["mean"] - 0.518) < 1e-9 and report["variants"]["full"]["n"] == 2
    assert abs(report["lift"]["full"]["mean"] - 0.012) < 1e-9 and report["variants"]["without-0-hflip"]["n"] == 0
    assert "without-0-hflip repeat 0: failed exit code 1: CUDA out of memory" in first.output

    Path(f"{calls}.fail").unlink()
    calls.write_text("")
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    rerun = [json.loads(line) for line in calls.read_text().splitlines()]
    assert [(Path(r[0]).parent.name, r[2]) for r in rerun] == [
        ("without-0-hflip", "0"),
        ("without-0-hflip", "1"),
        ("without-1-vflip", "1"),
    ]  # only the failed runs: the others are recorded in RUNS/results
    report = json.loads((runs / "report.json").read_text())
    assert report["failures"] == [] and report["contribution"]["0-hflip"]["mean"] == 0.0


def test_a_dataset_without_val_split_and_a_bad_command_exit_2(runner, tmp_path: Path) -> None:
    flat = make_dataset(tmp_path / "flat", {"a": 2, "b": 2})
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = runner.invoke(app, ["ablate", str(recipe), str(flat), "-o", str(tmp_path / "runs"), "--workers", "1"])
    assert result.exit_code == 2 and "needs a dataset with a train split and a val split" in result.output
    bad = runner.invoke(app, ["ablate", str(recipe), str(flat), "-o", str(tmp_path / "r2"), "--train", "x 'y"])
    assert bad.exit_code == 2 and "cannot be parsed" in bad.output


def arrows_dataset(root: Path) -> Path:
    """Arrows pointing left or right: a horizontal flip turns one class into the other, so it destroys the label."""
    rng = np.random.default_rng(9)
    for split in ("train", "val"):
        for kind in ("left", "right"):
            for i in range(12):
                image = rng.normal(60, 10, (24, 24)).clip(0, 255)
                y = int(rng.integers(8, 16))
                image[y - 1 : y + 2, 5:20] = 220  # the shaft
                tip = np.array([[3, y], [10, y - 6], [10, y + 6]], dtype=np.int32)  # the head, on the left
                cv2.fillPoly(image, [tip], 220)
                picture = image if kind == "left" else image[:, ::-1]
                path = root / split / kind / f"{kind}_{i:02d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), np.ascontiguousarray(picture).astype(np.uint8))
    return root


def test_a_flip_that_changes_the_label_is_flagged_harmful(runner, tmp_path: Path) -> None:
    data = arrows_dataset(tmp_path / "data")
    recipe = "seed: 2\ncopies: 4\ntransforms:\n  - {name: hflip, p: 0.5}\n  - {name: gaussian_noise, p: 0.5}\n"
    runs = tmp_path / "runs"
    args = ["ablate", str(write_recipe(tmp_path / "r.yaml", recipe)), str(data), "-o", str(runs), "--repeats", "3"]
    result = runner.invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((runs / "report.json").read_text())
    assert report["contribution"]["0-hflip"]["ci95"][1] < 0, report["contribution"]
    assert report["harmful"] == ["0-hflip"]
