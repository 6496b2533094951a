"""Detection and segmentation datasets end to end, through the CLI, on the shipped `sample_targets/` (YOLO, COCO,
VOC, masks, made by scripts/make_sample_targets.py with exact ground truth): read and written in the same format,
targets following the recipe, reproducible across worker counts, resumable and audited."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.formats import AnnotatedSample, read, scan
from augcli.manifest import read_records
from tests.conftest import CONFIGS, REPO, tree_bytes, write_recipe

SAMPLES = REPO / "sample_targets"
FORMATS = ("yolo", "coco", "voc", "masks")
IDENTITY = "seed: 1\ncopies: 1\nformat: png\ntransforms: []\n"


@pytest.fixture(scope="module", params=FORMATS)
def fmt(request) -> str:
    return request.param


def expand(runner, recipe: Path | str, data: Path, out: Path, *extra: str):
    return runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q", *extra])


def outputs(out: Path) -> list[dict]:
    return [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]


def annotations_of(root: Path, layout: str) -> dict[str, list]:
    """Every image's objects (and mask bytes) as read back by the format's own reader."""
    dataset = scan(root, layout)
    found = {}
    for sample in dataset.samples:
        image = cv2.imread(str(root / sample.relpath), cv2.IMREAD_UNCHANGED)
        targets = read(dataset, sample, image.shape[1], image.shape[0])
        mask = None if targets.mask is None else targets.mask.tobytes()
        found[sample.relpath] = ([i.to_json() for i in targets.instances], mask)
    return found


def test_identity_round_trips_every_format(runner, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    result = expand(runner, write_recipe(tmp_path / "r.yaml", IDENTITY), SAMPLES / fmt, out)
    assert result.exit_code == 0, result.output
    source, written = annotations_of(SAMPLES / fmt, fmt), annotations_of(out, fmt)
    for rel, targets in source.items():
        assert written[rel] == targets, f"{rel}: the original's annotations read back changed"
        copies = [p for p in written if p.startswith(rel.rsplit(".", 1)[0] + "__aug00")]
        assert len(copies) == (1 if "train" in rel else 0), rel  # only the train split is augmented
        for copy in copies:
            assert written[copy] == targets, f"{copy}: an identity copy moved its targets"
    per_image = {"yolo": ".txt", "voc": ".xml", "masks": ".png"}.get(fmt)
    if per_image:  # the format's per-image files are rewritten byte for byte
        for path in (SAMPLES / fmt).rglob(f"*{per_image}"):
            rel = path.relative_to(SAMPLES / fmt)
            if "images" not in rel.parts and "JPEGImages" not in rel.parts:
                assert (out / rel).read_bytes() == path.read_bytes(), rel


@pytest.mark.parametrize("fmt", FORMATS)
def test_recipes_are_reproducible_resumable_and_audit_clean(runner, tmp_path: Path, fmt: str) -> None:
    recipe = CONFIGS / ("segmentation.yaml" if fmt == "masks" else "detection.yaml")
    one, two = tmp_path / "one", tmp_path / "two"
    assert expand(runner, recipe, SAMPLES / fmt, one, "--workers", "1").exit_code == 0
    done = expand(runner, recipe, SAMPLES / fmt, two, "--workers", "2")
    assert done.exit_code == 0, done.output
    assert tree_bytes(one) == tree_bytes(two), "workers 1 and 2 write the same bytes"
    rows = outputs(one)
    augmented = [r for r in rows if r["kind"] == "augmented"]
    assert len(augmented) == 18 and all("targets" in r and r["annotations"] or fmt == "coco" for r in augmented)
    again = expand(runner, recipe, SAMPLES / fmt, one, "--workers", "2")
    assert again.exit_code == 0 and "resumed: 8 sources" in again.output
    audit = runner.invoke(
        app,
        ["audit", str(one), "--source", str(SAMPLES / fmt), "--replay", "1.0", "--format", "json", "--workers", "2"],
    )
    report = json.loads(audit.stdout)
    assert audit.exit_code == 0, [f for f in report["findings"] if f["severity"] != "info"]
    assert report["replayed"] == report["replay_matched"] == len(augmented)


def test_masks_hold_only_their_labels_and_the_ignore_value(runner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert expand(runner, CONFIGS / "segmentation.yaml", SAMPLES / "masks", out).exit_code == 0
    labels = set()
    for path in (SAMPLES / "masks").rglob("masks/*.png"):
        labels |= set(np.unique(cv2.imread(str(path), cv2.IMREAD_UNCHANGED)).tolist())
    for path in out.rglob("masks/*__aug*.png"):
        image = cv2.imread(str(out / path.relative_to(out).as_posix().replace("masks/", "images/")))
        mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert mask.shape == image.shape[:2]
        assert set(np.unique(mask).tolist()) <= labels | {255}


def test_coco_output_loads_in_pycocotools(runner, tmp_path: Path) -> None:
    coco = pytest.importorskip("pycocotools.coco")
    out = tmp_path / "out"
    assert expand(runner, CONFIGS / "detection.yaml", SAMPLES / "coco", out).exit_code == 0
    api = coco.COCO(str(out / "train" / "_annotations.coco.json"))
    rows = {r["path"]: r for r in outputs(out) if r["split"] == "train"}
    assert len(api.getImgIds()) == len(rows)
    for image in api.loadImgs(api.getImgIds()):
        row = rows[f"train/{image['file_name']}"]
        assert (image["width"], image["height"]) == (row["width"], row["height"])
        anns = api.loadAnns(api.getAnnIds(imgIds=[image["id"]]))
        assert len(anns) == len(row["objects"])
        for ann in anns:
            mask = api.annToMask(ann)
            assert mask.shape == (row["height"], row["width"])
            x, y, w, h = ann["bbox"]
            ys, xs = np.nonzero(mask)
            if len(xs):  # the box holds the object's pixels (1 px for rounding at the edges)
                assert xs.min() >= x - 1 and xs.max() < x + w + 1 and ys.min() >= y - 1 and ys.max() < y + h + 1


def test_a_tampered_label_file_fails_the_audit(runner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert expand(runner, CONFIGS / "detection.yaml", SAMPLES / "yolo", out).exit_code == 0
    label = next(out.rglob("labels/*__aug00.txt"))
    label.write_text("0 0.5 0.5 0.1 0.1\n")
    audit = runner.invoke(app, ["audit", str(out), "--format", "json", "--workers", "1"])
    report = json.loads(audit.stdout)
    assert audit.exit_code == 3
    assert any(f["check"] == "changed" and f["path"].endswith(label.name) for f in report["findings"])


def test_a_half_annotated_tree_is_refused_not_read_as_classes(runner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLES / "yolo", data)
    shutil.rmtree(data / "train" / "labels")
    result = expand(runner, write_recipe(tmp_path / "r.yaml", IDENTITY), data, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "labels" in result.output and "--layout" in result.output


def test_a_label_naming_an_unknown_class_skips_that_image(runner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLES / "yolo", data)
    (data / "train" / "labels" / "train_00.txt").write_text("9 0.5 0.5 0.2 0.2\n")
    out = tmp_path / "out"
    result = expand(runner, write_recipe(tmp_path / "r.yaml", IDENTITY), data, out)
    assert result.exit_code == 1, result.output
    skipped = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "skipped"]
    assert [(r["source"], r["reason"]) for r in skipped] == [("train/images/train_00.jpg", "unknown_class")]


def test_mosaic_keeps_every_partners_objects_in_their_tiles(runner, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", "seed: 3\ncopies: 2\nformat: png\ntransforms: [{name: mosaic}]\n")
    out = tmp_path / "out"
    assert expand(runner, recipe, SAMPLES / "coco", out).exit_code == 0
    dataset = scan(SAMPLES / "coco", "coco")
    counts = {s.relpath: len(read(dataset, s, *_size(SAMPLES / "coco" / s.relpath)).instances) for s in dataset.samples}
    for row in outputs(out):
        if row["kind"] == "augmented":
            expected = sum(counts[s] for s in row["sources"])
            assert row["targets"]["kept"] == len(row["objects"]) <= expected
            assert len(row["objects"]) >= expected - row["targets"]["dropped"] - 1


def _size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path))
    return image.shape[1], image.shape[0]


def test_annotated_sample_identity_is_a_public_type() -> None:
    assert AnnotatedSample("a.jpg", None, "").relpath == "a.jpg"


def test_balance_counts_objects_per_class_for_annotated_datasets(runner, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", "seed: 2\nbalance: max\nformat: png\ntransforms: [{name: hflip}]\n")
    out = tmp_path / "out"
    result = expand(runner, recipe, SAMPLES / "yolo", out)
    assert result.exit_code == 0, result.output
    names = read_records(out / "manifest.jsonl").__next__()["names"]
    before, after = {}, {}
    for row in outputs(out):
        if row["split"] == "train":
            for record in row["objects"]:
                table = before if row["kind"] == "original" else after
                table[names[record["category"]]] = table.get(names[record["category"]], 0) + 1
    total = {name: before.get(name, 0) + after.get(name, 0) for name in before}
    largest = max(before.values())
    assert min(before.values()) < largest, "the sample must start unbalanced for this test to mean anything"
    assert all(count >= largest for count in total.values()), total  # every class reaches the largest's count
    assert "objects of class" in result.output and "before" in result.output
