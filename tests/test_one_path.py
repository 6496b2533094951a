"""The drift the consolidation removed, pinned through the CLI: every command renders, replays and runs its
workers through one renderer and one runner, so bit depth, replay and crash isolation agree everywhere."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import textured, write_image, write_recipe

GAMMA_8BIT = """
seed: 3
copies: 2
bit_depth: 8
format: png
transforms:
  - name: gamma
    gamma_range: [0.6, 1.6]
  - name: hflip
    p: 0.5
"""


@pytest.fixture
def sixteen_bit(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for n in range(3):
        write_image(root / "train" / "a" / f"img_{n}.png", textured(24, 30, kind="rgb16", seed=n))
        write_image(root / "test" / "a" / f"img_{n}.png", textured(24, 30, kind="rgb16", seed=10 + n))
    return root


def rows_of(manifest: Path) -> list[dict]:
    return [r for r in read_records(manifest) if r["type"] == "output"]


def test_replay_of_an_8_bit_run_over_16_bit_sources_matches(runner, tmp_path: Path, sixteen_bit: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", GAMMA_8BIT)
    out = tmp_path / "out"
    done = runner.invoke(app, ["expand", str(recipe), str(sixteen_bit), "-o", str(out), "--workers", "1", "-q"])
    assert done.exit_code == 0, done.output
    augmented = [r for r in rows_of(out / "manifest.jsonl") if r["kind"] == "augmented"]
    assert augmented and all(r["bit_depth"] == 8 for r in augmented)
    report = runner.invoke(
        app, ["audit", str(out), "--source", str(sixteen_bit), "--replay", "1.0", "--format", "json", "--workers", "1"]
    )
    findings = json.loads(report.stdout)
    assert report.exit_code == 0, report.output
    assert findings["replayed"] == len(augmented) == findings["replay_matched"]


def test_tta_honours_bit_depth(runner, tmp_path: Path, sixteen_bit: Path) -> None:
    text = "bit_depth: 8\nformat: png\ntta:\n  views: [identity, hflip, scale_0.5]\n"
    recipe = write_recipe(tmp_path / "r.yaml", text)
    out = tmp_path / "tta"
    done = runner.invoke(app, ["tta", str(recipe), str(sixteen_bit), "-o", str(out), "--workers", "1", "-q"])
    assert done.exit_code == 0, done.output
    rows = rows_of(out / "manifest.jsonl")
    assert len(rows) == 9
    for row in rows:
        written = cv2.imread(str(out / row["path"]), cv2.IMREAD_UNCHANGED)
        assert row["bit_depth"] == 8 and written.dtype == np.uint8
    identity = next(r for r in rows if r["view"] == "identity")
    source = cv2.imread(str(sixteen_bit / identity["source"]), cv2.IMREAD_UNCHANGED)
    expected = ((source.astype(np.uint32) + 128) // 257).astype(np.uint8)  # expand's 16 -> 8 bit rounding
    assert np.array_equal(cv2.imread(str(out / identity["path"]), cv2.IMREAD_UNCHANGED), expected)


# A fresh interpreter whose decoder kills any worker process (like a segfaulting native decoder) on poison*.
# Fresh, so the runner forks its workers (they inherit the stand-in) from a process no OpenCV thread has run in.
STAND_IN = """
import os, sys
import augcli.imageio, augcli.tta
real, parent = augcli.imageio.decode, os.getpid()
def decode(data, name, *args, **kwargs):
    if os.path.basename(name).startswith("poison") and os.getpid() != parent:
        os._exit(70)
    return real(data, name, *args, **kwargs)
augcli.imageio.decode = augcli.tta.decode = decode
from augcli.executor import pool_context
assert pool_context().get_start_method() == "fork", "the stand-in reaches workers only by fork"
from augcli.cli import app
app(sys.argv[1:])
"""


def run_with_poison(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "poisoned_augcli.py"
    script.write_text(STAND_IN)
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=300)


needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the stand-in decoder reaches workers only by fork"
)


@needs_fork
def test_a_poison_image_in_tta_is_reported_and_the_run_completes(tmp_path, sixteen_bit) -> None:
    write_image(sixteen_bit / "test" / "a" / "poison.png", textured(24, 30, seed=99))
    recipe = write_recipe(tmp_path / "r.yaml", "tta:\n  views: [identity, vflip]\n")
    out = tmp_path / "tta"
    result = run_with_poison(tmp_path, "tta", str(recipe), str(sixteen_bit), "-o", str(out), "--workers", "2", "-q")
    assert result.returncode == 1, result.stdout + result.stderr  # skipped files: exit 1, like expand
    assert "test/a/poison.png: crashed_worker" in result.stdout
    records = list(read_records(out / "manifest.jsonl"))
    assert [r["source"] for r in records if r["type"] == "skipped"] == ["test/a/poison.png"]
    assert len([r for r in records if r["type"] == "output"]) == 6, "every other source got its views"


@needs_fork
def test_a_poison_image_in_audit_is_reported_and_the_audit_completes(runner, tmp_path, sixteen_bit) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\nformat: png\ntransforms: [{name: vflip}]\n")
    out = tmp_path / "out"
    done = runner.invoke(app, ["expand", str(recipe), str(sixteen_bit), "-o", str(out), "--workers", "1", "-q"])
    assert done.exit_code == 0, done.output
    poison = out / "train" / "a" / "poison_img_0__aug00.png"
    (out / "train" / "a" / "img_0__aug00.png").rename(poison)
    manifest = (out / "manifest.jsonl").read_text()
    (out / "manifest.jsonl").write_text(manifest.replace("img_0__aug00.png", "poison_img_0__aug00.png"))
    flags = ["--workers", "2", "--format", "json", "--near-dup-threshold", "-1"]
    result = run_with_poison(tmp_path, "audit", str(out), *flags)
    report = json.loads(result.stdout)
    crashed = [f for f in report["findings"] if "crashed the worker" in f["message"]]
    assert [f["path"] for f in crashed] == ["train/a/poison_img_0__aug00.png"]
    assert report["files_hashed"] >= 8, "the audit went on past the poison file"


def test_workers_fork_safely_after_opencv_ran_threads_in_the_driver(tmp_path, sample_copy) -> None:
    """A driver that already ran OpenCV's thread pool (a library caller, a test process) must not fork workers
    beside those threads: a child can wait forever on a pool that does not exist in it. Run in a fresh
    interpreter with a time limit, so a regression fails instead of hanging the suite."""
    script = tmp_path / "busy_driver.py"
    script.write_text(
        "import sys, numpy as np, cv2\n"
        "cv2.GaussianBlur(np.zeros((1500, 1500, 3), np.uint8), (31, 31), 5)  # starts OpenCV's pool threads\n"
        "from augcli.cli import app\n"
        "app(sys.argv[1:])\n"
    )
    recipe = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"
    for attempt in range(3):  # the hang was intermittent: try a few forks
        out = tmp_path / f"out{attempt}"
        args = ["expand", str(recipe), str(sample_copy), "-o", str(out), "--workers", "2", "-q"]
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
