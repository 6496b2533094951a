"""Class balancing through `augcli expand`: fixed copies, target_per_class, balance: max, per-class overrides."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.manifest import read_records
from augcli.pipeline import replay
from augcli.recipe import load_recipe
from tests.conftest import make_dataset, tree_bytes, write_recipe

LAYOUT = {"train/bird": 3, "train/cat": 7, "train/dog": 20, "test/cat": 2}
BASE = """
seed: 5
format: png
transforms:
  - {name: hflip, p: 0.5}
  - {name: gaussian_noise, sigma_range: [0.01, 0.02]}
"""


@pytest.fixture(scope="module")
def unbalanced(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "ds", LAYOUT, size=(20, 28))


def expand(runner, tmp_path: Path, dataset: Path, recipe_text: str, *extra: str, name: str = "out"):
    recipe = write_recipe(tmp_path / f"{name}.yaml", recipe_text)
    out = tmp_path / name
    workers = [] if "--workers" in extra else ["--workers", "1"]  # a pool only where the test is about workers
    result = runner.invoke(app, ["expand", str(recipe), str(dataset), "-o", str(out), "-q", *workers, *extra])
    return result, out


def outputs(out: Path) -> list[dict]:
    return [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]


def final_counts(out: Path) -> dict[str, int]:
    """Images per split/class, counted on disk."""
    files = [p.relative_to(out).parts for p in out.rglob("*") if p.suffix in (".png", ".jpg")]
    return dict(Counter(f"{parts[0]}/{parts[1]}" for parts in files))


def copies_per_source(out: Path) -> dict[str, list[int]]:
    per_source: dict[str, list[int]] = defaultdict(list)
    for row in outputs(out):
        if row["kind"] == "augmented":
            per_source[row["source"]].append(row["copy"])
    return per_source


def assert_even_spread(out: Path, dataset: Path, label: str, augmented: int) -> None:
    sources = sorted(p.relative_to(dataset).as_posix() for p in (dataset / label).glob("*.jpg"))
    got = copies_per_source(out)
    counts = [len(got.get(s, [])) for s in sources]
    assert sum(counts) == augmented
    k = augmented / len(sources)
    assert set(counts) <= {math.floor(k), math.ceil(k)}, counts
    for source in sources:  # copy indices are 0..n-1, never repeated
        assert sorted(got.get(source, [])) == list(range(len(got.get(source, []))))


def test_fixed_copies_keep_the_imbalance(runner, unbalanced: Path, tmp_path: Path) -> None:
    result, out = expand(runner, tmp_path, unbalanced, BASE + "copies: 2\n")
    assert result.exit_code == 0, result.output
    assert final_counts(out) == {"train/bird": 9, "train/cat": 21, "train/dog": 60, "test/cat": 2}


def test_target_per_class_exact_counts_and_even_spread(runner, unbalanced: Path, tmp_path: Path) -> None:
    result, out = expand(runner, tmp_path, unbalanced, BASE + "target_per_class: 12\n")
    assert result.exit_code == 0, result.output
    # dog (20) is above the target: no outputs, kept originals, and a warning naming it
    assert final_counts(out) == {"train/bird": 12, "train/cat": 12, "train/dog": 20, "test/cat": 2}
    assert re.search(r"warning: class train/dog has 20 images, above target_per_class 12", result.output)
    assert_even_spread(out, unbalanced, "train/bird", 9)  # 3 each
    assert_even_spread(out, unbalanced, "train/cat", 5)  # 5 sources get 1, 2 get none
    assert not any(r["label"] == "dog" and r["kind"] == "augmented" for r in outputs(out))
    header = next(iter(read_records(out / "manifest.jsonl")))
    assert header["counts"] == {
        "test/cat": {"before": 2, "after": 2},
        "train/bird": {"before": 3, "after": 12},
        "train/cat": {"before": 7, "after": 12},
        "train/dog": {"before": 20, "after": 20},
    }
    # the summary table has the after column
    assert re.search(r"train\s+bird\s+3\s+3\s+9\s+12\s+0", result.output), result.output


def test_balance_max_raises_every_class_to_the_largest(runner, unbalanced: Path, tmp_path: Path) -> None:
    result, out = expand(runner, tmp_path, unbalanced, BASE + "balance: max\n")
    assert result.exit_code == 0, result.output
    assert final_counts(out) == {"train/bird": 20, "train/cat": 20, "train/dog": 20, "test/cat": 2}
    assert_even_spread(out, unbalanced, "train/bird", 17)  # 5, 6, 6
    assert_even_spread(out, unbalanced, "train/cat", 13)  # 1 or 2
    assert "warning" not in result.output
    result, _ = expand(runner, tmp_path, unbalanced, BASE + "balance: max\ncopies: 3\n", name="with_copies")
    assert "warning: copies: 3 is not used: balance decides" in result.output
    # 17 copies at most 6 per source: names stay two digits wide
    names = [r["path"] for r in outputs(out) if r["kind"] == "augmented"]
    assert all(re.search(r"__aug\d\d\.png$", n) for n in names)


def test_without_originals_a_class_reaches_the_target_with_augmented_images_only(
    runner, unbalanced: Path, tmp_path: Path
) -> None:
    result, out = expand(runner, tmp_path, unbalanced, BASE + "target_per_class: 10\nkeep_originals: false\n")
    assert result.exit_code == 0, result.output
    assert final_counts(out) == {"train/bird": 10, "train/cat": 10, "train/dog": 10, "test/cat": 2}
    assert_even_spread(out, unbalanced, "train/dog", 10)  # half the dog sources get one copy
    assert "only 10 of its 20 sources" in result.output


def test_which_sources_get_the_extra_copy_follows_the_seed(runner, unbalanced: Path, tmp_path: Path) -> None:
    chosen = []
    for seed in (5, 6):
        recipe = BASE.replace("seed: 5", f"seed: {seed}") + "target_per_class: 11\n"
        result, out = expand(runner, tmp_path, unbalanced, recipe, name=f"s{seed}")
        assert result.exit_code == 0, result.output
        chosen.append({s for s, c in copies_per_source(out).items() if "cat" in s and len(c) == 1})
    again, out = expand(runner, tmp_path, unbalanced, BASE + "target_per_class: 11\n", name="again")
    assert {s for s, c in copies_per_source(out).items() if "cat" in s and len(c) == 1} == chosen[0]
    assert len(chosen[0]) == len(chosen[1]) == 4
    assert chosen[0] != chosen[1]  # seeds 5 and 6 happen to pick different sources (fixed, deterministic)


def test_per_class_overrides(runner, unbalanced: Path, tmp_path: Path) -> None:
    recipe_text = (
        BASE
        + """balance: max
classes:
  bird:
    transforms:
      - {name: vflip}
      - {name: rot90, k_range: [1, 1]}
  cat: {copies: 1, keep_originals: false}
  dog: {target_per_class: 22}
"""
    )
    result, out = expand(runner, tmp_path, unbalanced, recipe_text)
    assert result.exit_code == 0, result.output
    assert final_counts(out) == {"train/bird": 20, "train/cat": 7, "train/dog": 22, "test/cat": 2}
    rows = [r for r in outputs(out) if r["kind"] == "augmented"]
    bird = [r for r in rows if r["label"] == "bird"]
    others = [r for r in rows if r["label"] != "bird"]
    assert bird and others
    assert all([t["name"] for t in r["transforms"]] == ["vflip", "rot90"] for r in bird)
    assert all([t["step"] for t in r["transforms"]] == ["0", "1"] for r in bird)
    assert not any(t["name"] in ("vflip", "rot90") for r in others for t in r["transforms"])
    assert all(t["name"] in ("hflip", "gaussian_noise") for r in others for t in r["transforms"])
    # the recorded steps replay against the class's own list (png outputs: exact)
    recipe = load_recipe(tmp_path / "out.yaml")
    for row in [bird[0], others[0], others[-1]]:
        source = cv2.imread(str(unbalanced / row["source"]), cv2.IMREAD_UNCHANGED)
        again = replay(source, row["transforms"], recipe.steps_for(row["label"]))
        assert np.array_equal(again, cv2.imread(str(out / row["path"]), cv2.IMREAD_UNCHANGED))


def test_unknown_class_names_the_closest(runner, unbalanced: Path, tmp_path: Path) -> None:
    result, out = expand(runner, tmp_path, unbalanced, BASE + "classes:\n  cta: {copies: 2}\n")
    assert result.exit_code == 2
    assert "unknown class 'cta'" in result.output and "'cat'" in result.output
    assert not (out / "manifest.jsonl").exists()


def test_target_and_balance_are_exclusive(runner, unbalanced: Path, tmp_path: Path) -> None:
    result, _ = expand(runner, tmp_path, unbalanced, BASE + "target_per_class: 10\nbalance: max\n")
    assert result.exit_code == 2
    assert "target_per_class and balance are mutually exclusive" in result.output
    result, _ = expand(runner, tmp_path, unbalanced, BASE + "classes:\n  cat: {copies: 1, target_per_class: 3}\n")
    assert result.exit_code == 2 and "copies and target_per_class" in result.output


def test_balanced_workers_one_and_two_are_byte_identical(runner, unbalanced: Path, tmp_path: Path) -> None:
    trees = []
    for workers in ("1", "2"):
        text = BASE + "balance: max\nclasses:\n  bird: {transforms: [{name: vflip, p: 0.5}]}\n"
        result, out = expand(runner, tmp_path, unbalanced, text, "--workers", workers, name=f"w{workers}")
        assert result.exit_code == 0, result.output
        trees.append(tree_bytes(out))
    assert trees[0] == trees[1]
    assert len(trees[0]) == 20 * 3 + 2 + 1
