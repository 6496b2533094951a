"""augcli split: stratified, seeded, near-duplicates kept in one split, files byte for byte, a manifest of it all;
split --check; and the split output expands and audits clean."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.split import SPLITS, assign, near_duplicate_groups, quotas
from tests.conftest import tree_bytes, write_image, write_recipe

CLASSES = ("birds", "cats", "dogs", "fish")
PER_CLASS = 10
# Planted near-duplicates: sets of sources that must share a group (and so a split).
PLANTED = [
    {"cats/img_000.jpg", "cats/img_000_bright.jpg"},
    {"dogs/img_003.jpg", "dogs/img_003_q60.jpg", "dogs/img_003_bright.png"},
    {"birds/img_005.jpg", "fish/img_005_twin.jpg"},  # the same photo filed under two classes
]
RECIPE = """
seed: 5
copies: 1
transforms:
  - {name: hflip, p: 0.5}
  - {name: brightness_contrast, brightness_range: [-0.1, 0.1], contrast_range: [-0.1, 0.1]}
"""


def textured_blocks(seed: int) -> np.ndarray:
    """9x8 random blocks (one per dHash cell, so unrelated images are ~32 bits apart) with a fine noise texture."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    image = cv2.resize(cells, (72, 64), interpolation=cv2.INTER_NEAREST).astype(np.int16)
    return np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)


def reencoded(image: np.ndarray, quality: int, brighten: int = 0) -> np.ndarray:
    shifted = np.clip(image.astype(np.int16) + brighten, 0, 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", shifted, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)


def make_planted(root: Path) -> Path:
    for c, label in enumerate(CLASSES):
        for n in range(PER_CLASS):
            write_image(root / label / f"img_{n:03d}.jpg", textured_blocks(100 * c + n))
    cats0, dogs3, birds5 = (
        textured_blocks(100 * CLASSES.index(c) + n) for c, n in (("cats", 0), ("dogs", 3), ("birds", 5))
    )
    write_image(root / "cats" / "img_000_bright.jpg", reencoded(cats0, 85, brighten=12))
    write_image(root / "dogs" / "img_003_q60.jpg", reencoded(dogs3, 60))
    write_image(root / "dogs" / "img_003_bright.png", reencoded(dogs3, 90, brighten=8))
    write_image(root / "fish" / "img_005_twin.jpg", reencoded(birds5, 75))
    data = (root / "fish" / "img_000.jpg").read_bytes()
    (root / "fish" / "broken.jpg").write_bytes(data[: len(data) // 2])  # truncated: reported, never dropped
    return root


def run_split(runner, data: Path, out: Path, *args: object):
    return runner.invoke(app, ["split", str(data), "-o", str(out), "--workers", "1", "-q", *map(str, args)])


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "split.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    return make_planted(tmp_path_factory.mktemp("planted") / "data")


@pytest.fixture(scope="module")
def split_out(planted, tmp_path_factory) -> tuple[Path, object]:
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("split") / "out"
    result = run_split(CliRunner(), planted, out, "--val", 0.2, "--test", 0.1, "--seed", 7)
    return out, result


def test_groups_stay_whole_and_quotas_hold(planted, split_out):
    out, result = split_out
    assert result.exit_code == 1, result.output  # one unreadable file: reported, like expand (exit 1)
    lines = records(out)
    header, footer = lines[0], lines[-1]
    assert header["kind"] == "split" and header["seed"] == 7 and footer["type"] == "footer"
    files = [r for r in lines if r["type"] == "file"]
    skipped = [r for r in lines if r["type"] == "skipped"]
    assert [(r["source"], r["reason"]) for r in skipped] == [("fish/broken.jpg", "corrupt")]
    assert "fish/broken.jpg: corrupt" in result.output
    by_source = {r["source"]: r for r in files}
    assert len(files) == footer["files"] == len(CLASSES) * PER_CLASS + 4
    # exactly the planted groups are grouped: each in one split, every other image alone
    members = defaultdict(set)
    for r in files:
        members[r["group"]].add(r["source"])
    assert sorted(map(sorted, (g for g in members.values() if len(g) > 1))) == sorted(map(sorted, PLANTED))
    for group in PLANTED:
        assert len({by_source[s]["split"] for s in group}) == 1, group
    assert footer["groups"] == 3 and "3 near-duplicate groups (7 images, 1 across classes)" in result.output
    # stratified: each class's counts are its quotas (val, test = floor(n * f + 0.5), train the rest)
    counts = Counter((r["label"], r["split"]) for r in files)
    for label in CLASSES:
        n = sum(counts[(label, s)] for s in SPLITS)
        assert {s: counts[(label, s)] for s in SPLITS} == quotas(n, 0.2, 0.1), label
    # files byte for byte, names unchanged, in <split>/<class>/; hashes recorded
    for r in files:
        assert r["path"] == f"{r['split']}/{r['label']}/{Path(r['source']).name}"
        target, source = out / r["path"], planted / r["source"]
        assert target.read_bytes() == source.read_bytes()
        assert len(r["dhash"]) == 16 and len(r["sha256"]) == 64
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        [r["path"] for r in files] + ["split.jsonl"]
    )
    linked = os.stat(out / files[0]["path"]).st_ino == os.stat(planted / files[0]["source"]).st_ino
    assert (f"{len(files)} hard links, 0 copies" if linked else f"0 hard links, {len(files)} copies") in result.output


def test_same_seed_same_bytes_other_seed_other_split(runner, planted, split_out, tmp_path):
    out, _ = split_out
    run_split(runner, planted, tmp_path / "again", "--val", 0.2, "--test", 0.1, "--seed", 7)
    assert tree_bytes(tmp_path / "again") == tree_bytes(out)
    run_split(runner, planted, tmp_path / "other", "--val", 0.2, "--test", 0.1, "--seed", 8)
    first = {r["source"]: r["split"] for r in records(out) if r["type"] == "file"}
    other = {r["source"]: r["split"] for r in records(tmp_path / "other") if r["type"] == "file"}
    assert first.keys() == other.keys() and first != other
    for group in PLANTED:
        assert len({other[s] for s in group}) == 1


def test_workers_do_not_change_the_output(runner, planted, split_out, tmp_path):
    result = runner.invoke(
        app, ["split", str(planted), "-o", str(tmp_path / "w3"), "--seed", "7", "--workers", "3", "-q"]
    )
    assert result.exit_code == 1, result.output
    assert tree_bytes(tmp_path / "w3") == tree_bytes(split_out[0])


def test_refusals(runner, planted, split_out, tmp_path):
    out, _ = split_out
    already = run_split(runner, out, tmp_path / "x", "--seed", 1)
    assert already.exit_code == 2 and "already split" in already.output and "--resplit" in already.output
    assert not (tmp_path / "x").exists()
    inside = run_split(runner, planted, planted / "cats" / "out", "--seed", 1)
    assert inside.exit_code == 2 and "inside the dataset" in inside.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    full = run_split(runner, planted, tmp_path / "full", "--seed", 1)
    assert full.exit_code == 2 and "not empty" in full.output
    no_seed = runner.invoke(app, ["split", str(planted), "-o", str(tmp_path / "y")])
    assert no_seed.exit_code == 2 and "--seed" in no_seed.output
    fractions = run_split(runner, planted, tmp_path / "z", "--seed", 1, "--val", 0.6, "--test", 0.5)
    assert fractions.exit_code == 2 and "sum below 1" in fractions.output


def test_resplit_takes_the_union_of_the_splits(runner, split_out, tmp_path):
    out, _ = split_out
    result = run_split(runner, out, tmp_path / "re", "--seed", 9, "--resplit", "--val", 0.3, "--test", 0.0)
    assert result.exit_code == 0, result.output
    files = [r for r in records(tmp_path / "re") if r["type"] == "file"]
    before = {Path(r["path"]).name for r in records(out) if r["type"] == "file"}
    assert {Path(r["path"]).name for r in files} == before
    assert {r["split"] for r in files} == {"train", "val"}
    members = defaultdict(set)
    for r in files:
        members[r["group"]].add(r["split"])
    assert all(len(s) == 1 for s in members.values())


def test_resplit_refuses_one_name_in_two_splits(runner, tmp_path):
    for split in ("train", "val"):
        write_image(tmp_path / "data" / split / "cats" / "a.jpg", textured_blocks(len(split)))
    result = run_split(runner, tmp_path / "data", tmp_path / "out", "--seed", 1, "--resplit")
    assert result.exit_code == 2 and "train/cats/a.jpg and val/cats/a.jpg" in result.output


def test_expanded_dataset_refused(runner, tmp_path):
    write_image(tmp_path / "data" / "cats" / "a.jpg", textured_blocks(1))
    (tmp_path / "data" / "manifest.jsonl").write_text("{}\n")
    result = run_split(runner, tmp_path / "data", tmp_path / "out", "--seed", 1)
    assert result.exit_code == 2 and "expanded dataset" in result.output


def test_check_passes_then_finds_tampering_and_leaks(runner, split_out, tmp_path):
    out = Path(shutil.copytree(split_out[0], tmp_path / "copy"))  # copies, not links: safe to tamper with
    ok = runner.invoke(app, ["split", "--check", str(out), "--workers", "1"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    files = [r for r in records(out) if r["type"] == "file"]
    single = next(r for r in files if r["split"] == "val")
    changed = out / single["path"]
    changed.write_bytes(changed.read_bytes()[:-1] + b"\0")
    (out / "train" / "cats" / "stray.txt").write_text("?")
    integrity = runner.invoke(app, ["split", "--check", str(out), "--workers", "1"])
    assert integrity.exit_code == 3, integrity.output
    assert f"changed: {single['path']}" in integrity.output and "orphan: train/cats/stray.txt" in integrity.output
    # a planted near-copy moved to test (and its row with it): the group straddles, and the pixels say so too
    twin = next(r for r in files if r["source"] == "cats/img_000_bright.jpg")
    moved = f"test/cats/{Path(twin['path']).name}"
    (out / moved).parent.mkdir(parents=True, exist_ok=True)
    os.replace(out / twin["path"], out / moved)
    text = (
        (out / "split.jsonl")
        .read_text()
        .replace(f'"path":"{twin["path"]}"', f'"path":"{moved}"')
        .replace(
            f'"path":"{moved}","source":"cats/img_000_bright.jpg","split":"{twin["split"]}"',
            f'"path":"{moved}","source":"cats/img_000_bright.jpg","split":"test"',
        )
    )
    (out / "split.jsonl").write_text(text)
    leak = runner.invoke(app, ["split", "--check", str(out), "--workers", "1"])
    assert leak.exit_code == 4, leak.output
    assert "group_straddles" in leak.output and f"near_duplicate: {moved}" in leak.output


def test_split_output_expands_and_audits_clean(runner, split_out, tmp_path):
    out, _ = split_out
    recipe = write_recipe(tmp_path / "recipe.yaml", RECIPE)
    expanded = tmp_path / "expanded"
    result = runner.invoke(app, ["expand", str(recipe), str(out), "-o", str(expanded), "--workers", "1", "-q"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (expanded / "manifest.jsonl").read_text().splitlines()]
    outputs = [r for r in rows if r["type"] == "output"]
    assert {r["split"] for r in outputs} == set(SPLITS)
    assert sum(r["kind"] == "original" for r in outputs) == len(CLASSES) * PER_CLASS + 4
    audit = runner.invoke(app, ["audit", str(expanded), "--source", str(out), "--workers", "1"])
    assert audit.exit_code == 0, audit.output  # no near-copy of a val/test image reached train


# --- the pure parts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "val", "test", "expected"),
    [
        (10, 0.2, 0.1, (7, 2, 1)),
        (25, 0.1, 0.1, (19, 3, 3)),
        (5, 0.2, 0.1, (3, 1, 1)),
        (1, 0.2, 0.1, (1, 0, 0)),
        (2, 0.25, 0.25, (0, 1, 1)),
        (3, 0.0, 0.0, (3, 0, 0)),
    ],
)
def test_quotas_round_half_up_train_takes_the_rest(n, val, test, expected):
    assert tuple(quotas(n, val, test)[s] for s in SPLITS) == expected


def test_union_find_joins_chains_and_crosses_classes():
    hashes = [0b0, 0b111, 0b111111, 0xFFFF << 48, (0xFFFF << 48) | 1, 0xFFFF_FFFF]  # 0-1-2: a chain of 3-bit steps
    assert near_duplicate_groups(hashes, 3) == [[0, 1, 2], [3, 4], [5]]
    assert near_duplicate_groups(hashes, -1) == [[i] for i in range(6)]


def test_assign_is_a_pure_function_of_the_seed():
    labels = ["a"] * 20 + ["b"] * 10
    groups = [[0, 1, 25]] + [[i] for i in range(2, 25)] + [[i] for i in range(26, 30)]
    class_quotas = {"a": quotas(20, 0.2, 0.2), "b": quotas(10, 0.2, 0.2)}
    first = assign(labels, groups, class_quotas, 1)
    assert first == assign(labels, groups, class_quotas, 1) and first != assign(labels, groups, class_quotas, 2)
    assert first[0] == first[1] == first[25]
    assert Counter(s for s, label in zip(first, labels, strict=True) if label == "a") == {
        "train": 12,
        "val": 4,
        "test": 4,
    }


def test_a_recipe_split_section_splits_before_augmenting_as_split_would(runner, planted, split_out, tmp_path):
    """`split:` in a recipe places every image where `augcli split` with the recipe's seed puts it; expand writes
    OUT/<split>/<class>/, augments train only, and audit finds no leak (near-duplicates stayed together)."""
    from tests.conftest import tree_bytes, write_recipe

    recipe = write_recipe(
        tmp_path / "r.yaml", "seed: 7\ncopies: 1\nsplit: {val: 0.2, test: 0.1}\ntransforms: [{name: hflip}]\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["expand", str(recipe), str(planted), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 1, result.output  # the truncated file is reported, as everywhere
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert rows[0]["split_from"] == {"val": 0.2, "test": 0.1, "near_dup_threshold": 6}
    placed = {r["source"]: r["split"] for r in rows if r.get("type") == "output" and r["kind"] == "original"}
    by_split = {r["source"]: r["split"] for r in records(split_out[0]) if r["type"] == "file"}
    assert placed == by_split, "the same placement as `augcli split --seed 7`"
    for row in (r for r in rows if r.get("type") == "output"):
        assert row["path"].startswith(f"{row['split']}/{row['label']}/")
        assert row["kind"] == "original" or row["split"] == "train"
    audit = runner.invoke(app, ["audit", str(out), "--source", str(planted), "--workers", "1"])
    assert audit.exit_code == 0, audit.output
    again = tmp_path / "again"
    assert (
        runner.invoke(app, ["expand", str(recipe), str(planted), "-o", str(again), "-q", "--workers", "2"]).exit_code
        == 1
    )
    assert tree_bytes(again) == tree_bytes(out)
    refused = runner.invoke(app, ["expand", str(recipe), str(split_out[0]), "-o", str(tmp_path / "x"), "-q"])
    assert refused.exit_code == 2 and "already split" in refused.output
