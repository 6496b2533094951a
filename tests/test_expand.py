"""`augcli expand` end to end, through the CLI, on real image files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import CONFIGS, HYMENOPTERA, make_dataset, tree_bytes, write_recipe

RECIPE = """
seed: 3
copies: 3
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-20, 20], p: 0.8}
  - name: one_of
    transforms: [{name: gaussian_noise}, {name: gaussian_blur}]
  - {name: random_erasing, p: 0.3}
"""


def run(runner, *args: str):
    return runner.invoke(app, [str(a) for a in args])


def rows(output: Path) -> list[dict]:
    return [r for r in read_records(output / "manifest.jsonl") if r["type"] == "output"]


def test_expand_sample_data_default_recipe(runner, sample_copy: Path, tmp_path: Path) -> None:
    before = tree_bytes(sample_copy)
    out = tmp_path / "out"
    result = run(runner, "expand", CONFIGS / "default.yaml", sample_copy, "-o", out, "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    assert "30 sources read, 150 images written" in result.output
    assert tree_bytes(sample_copy) == before, "the input tree must never be written to"
    records = list(read_records(out / "manifest.jsonl"))
    assert records[0]["type"] == "header" and records[-1]["type"] == "footer"
    outputs = rows(out)
    assert len(outputs) == 150
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.jsonl"}
    assert files == {r["path"] for r in outputs}
    for row in outputs:
        data = (out / row["path"]).read_bytes()
        import hashlib

        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert row["label"] == row["path"].split("/")[0] == row["source"].split("/")[0]
        if row["kind"] == "augmented":
            stem = Path(row["source"]).stem
            assert row["path"] == f"{row['label']}/{stem}__aug{row['copy']:02d}.jpg"
            assert row["seed"][0] == 1234 and row["seed"][2] == row["copy"]
            assert all(set(t) == {"name", "step", "params"} for t in row["transforms"])
        else:
            assert data == (sample_copy / row["source"]).read_bytes()


def test_workers_one_and_two_are_byte_identical(runner, sample_copy: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    results = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = run(runner, "expand", recipe, sample_copy, "-o", out, "--workers", workers, "-q")
        assert result.exit_code == 0, result.output
        results[workers] = tree_bytes(out)
    assert results["1"] == results["2"]
    assert len(results["1"]) == 30 * 4 + 1


def test_seed_changes_outputs_but_not_names(runner, sample_copy: Path, tmp_path: Path) -> None:
    trees = []
    for seed in (1, 2):
        recipe = write_recipe(tmp_path / f"r{seed}.yaml", RECIPE.replace("seed: 3", f"seed: {seed}"))
        out = tmp_path / f"o{seed}"
        assert run(runner, "expand", recipe, sample_copy, "-o", out, "--workers", "1", "-q").exit_code == 0
        trees.append(tree_bytes(out))
    assert trees[0].keys() == trees[1].keys()
    assert sum(trees[0][k] != trees[1][k] for k in trees[0]) > 60


def test_split_layout_copies_eval_splits_unchanged(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"train/a": 3, "train/b": 2, "val/a": 2, "val/b": 1, "test/a": 1})
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "-q").exit_code == 0
    outputs = rows(out)
    by_split = {s: [r for r in outputs if r["split"] == s] for s in ("train", "val", "test")}
    assert len(by_split["train"]) == 5 * 4
    assert len(by_split["val"]) == 3 and len(by_split["test"]) == 1
    for row in by_split["val"] + by_split["test"]:
        assert row["kind"] == "original" and row["path"] == row["source"]
        assert (out / row["path"]).read_bytes() == (data / row["source"]).read_bytes()
    assert all(r["path"].startswith("train/") for r in by_split["train"])


def test_corrupt_image_is_reported_and_the_run_continues(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 3})
    (data / "a" / "broken.jpg").write_bytes((data / "a" / "img_000.jpg").read_bytes()[:300])
    (data / "a" / "empty.png").write_bytes(b"")
    (data / "a" / "notes.jpg").write_text("not an image")
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    result = run(runner, "expand", recipe, data, "-o", out, "-q")
    assert result.exit_code == 1
    assert "3 files skipped" in result.output
    assert "a/broken.jpg: corrupt" in result.output
    assert "a/empty.png: empty" in result.output
    assert "a/notes.jpg: not_an_image" in result.output
    skipped = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "skipped"]
    assert {r["source"] for r in skipped} == {"a/broken.jpg", "a/empty.png", "a/notes.jpg"}
    assert len(rows(out)) == 3 * 4
    again = run(runner, "expand", recipe, data, "-o", tmp_path / "out2", "-q", "--keep-going")
    assert again.exit_code == 0


def test_output_inside_input_is_refused(runner, sample_copy: Path, tmp_path: Path) -> None:
    before = tree_bytes(sample_copy)
    result = run(runner, "expand", CONFIGS / "default.yaml", sample_copy, "-o", sample_copy / "out")
    assert result.exit_code == 2
    assert "inside the dataset" in result.output
    assert tree_bytes(sample_copy) == before and not (sample_copy / "out").exists()


def test_non_empty_output_is_refused_without_force(runner, sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(runner, "expand", CONFIGS / "default.yaml", sample_copy, "-o", out)
    assert result.exit_code == 2 and "already holds other files" in result.output


def test_missing_dataset_and_bad_recipe_are_usage_errors(runner, tmp_path: Path) -> None:
    result = run(runner, "expand", CONFIGS / "default.yaml", tmp_path / "nope", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "dataset folder not found" in result.output
    bad = write_recipe(tmp_path / "bad.yaml", "transforms:\n  - {name: rotat}\n")
    result = run(runner, "expand", bad, tmp_path, "-o", tmp_path / "o")
    assert result.exit_code == 2 and "bad.yaml:2" in result.output and "Traceback" not in result.output


def test_no_partial_files_after_a_failed_write(runner, sample_copy: Path, tmp_path: Path, monkeypatch) -> None:
    """A disk that fills up mid-run: clear error naming the path, no temp files, no manifest."""
    import augcli.imageio as imageio

    real_replace, calls = os.replace, {"n": 0}

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 17:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(imageio.os, "replace", failing_replace)
    out = tmp_path / "out"
    result = run(runner, "expand", CONFIGS / "default.yaml", sample_copy, "-o", out, "--workers", "1", "-q")
    assert result.exit_code == 2
    assert "No space left on device" in result.output and str(out) in result.output
    leftovers = [p.name for p in out.rglob("*") if p.is_file() and (p.name.startswith(".") or "tmp" in p.name)]
    assert leftovers == []
    assert not (out / "manifest.jsonl").exists()


def test_same_stem_different_extensions_get_distinct_names(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 1})
    shutil.copy(data / "a" / "img_000.jpg", data / "a" / "img_000.png")
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\nformat: jpg\n")
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "-q").exit_code == 0
    names = sorted(r["path"] for r in rows(out))
    assert "a/img_000_jpg__aug00.jpg" in names and "a/img_000_png__aug00.jpg" in names


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    for command in (
        [sys.executable, "-m", "augcli", "--help"],
        [str(Path(sys.executable).parent / "augcli"), "--help"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "expand" in done.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = "import sys, augcli.cli; assert not {'cv2', 'numpy'} & set(sys.modules), sys.modules.keys()"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_transforms_and_schema_commands(runner) -> None:
    from augcli.transforms import REGISTRY

    listing = run(runner, "transforms")
    assert listing.exit_code == 0
    assert all(name in listing.output for name in REGISTRY)
    detail = run(runner, "transforms", "rotate")
    assert "angle_range" in detail.output and "within [-180, 180]" in detail.output
    assert "did you mean 'rotate'" in run(runner, "transforms", "rotat").output
    schema = json.loads(run(runner, "schema").output)
    assert "transforms" in schema["properties"]
    assert "rotate" in json.dumps(schema)


@pytest.mark.skipif(not HYMENOPTERA.is_dir(), reason="../shared/datasets/hymenoptera is not present")
def test_hymenoptera_subset_train_val(runner, tmp_path: Path) -> None:
    subset = tmp_path / "hym"
    for split, count in (("train", 4), ("val", 3)):
        for label in ("ants", "bees"):
            files = sorted((HYMENOPTERA / split / label).iterdir())[:count]
            (subset / split / label).mkdir(parents=True)
            for f in files:
                shutil.copy(f, subset / split / label / f.name)
    out = tmp_path / "out"
    result = run(runner, "expand", CONFIGS / "default.yaml", subset, "-o", out, "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    outputs = rows(out)
    assert len([r for r in outputs if r["split"] == "train"]) == 8 * 5
    assert len([r for r in outputs if r["split"] == "val"]) == 6
    sources = {p.relative_to(subset).as_posix() for p in subset.rglob("*") if p.is_file()}
    assert {r["source"] for r in outputs} == sources


def test_manifest_header_fingerprints_the_byte_deciding_code(runner, sample_copy: Path, tmp_path: Path) -> None:
    """The version number does not move when a kernel changes; the code fingerprint does, so a replay
    mismatch can name it and a resume across a kernel change is refused."""
    from augcli.audit_checks import version_drift
    from augcli.manifest import code_fingerprint

    out = tmp_path / "out"
    assert run(runner, "expand", CONFIGS / "default.yaml", sample_copy, "-o", out, "-q").exit_code == 0
    header = next(read_records(out / "manifest.jsonl"))
    assert header["versions"]["augcli_code"] == code_fingerprint()
    assert len(code_fingerprint()) == 16
    drifted = {**header["versions"], "augcli_code": "0" * 16}
    assert "augcli_code 0000000000000000 (manifest)" in version_drift(drifted)
    assert "match" in version_drift(header["versions"])
