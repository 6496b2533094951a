"""Annotation formats: detect, scan, read into the target model, write back in the same format.

Every dataset here is drawn with cv2 on a black background, one colour per object, so the ground truth
is the pixels: a box read back must be the extent of its colour, a mask must be the drawn labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli import formats
from augcli.errors import DatasetError, ImageReadError
from augcli.formats import AnnotatedSample, AnnotationError
from augcli.formats.rle import rle_area, rle_decode, rle_encode
from augcli.targets import Instance, Targets
from tests.conftest import REPO

W, H = 80, 60
# (category, colour, polygon vertices as drawn by cv2 in integer pixel indices)
SHAPES = [
    (0, (0, 0, 200), [(5, 6), (24, 6), (24, 20), (5, 20)]),  # rectangle: pixels x 5..24, y 6..20
    (1, (0, 200, 0), [(40, 10), (60, 40), (30, 40)]),  # triangle
]


def drawn(shapes=SHAPES, width=W, height=H) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    for _, colour, points in shapes:
        cv2.fillPoly(image, [np.array(points, np.int32)], colour)
    return image


def extent(image: np.ndarray, colour) -> list[float]:
    """The corner box of the pixels of one colour: [x0, y0, last x + 1, last y + 1]."""
    ys, xs = np.nonzero((image == np.array(colour, np.uint8)).all(axis=2))
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def put(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def yolo_box_line(category: int, box: list[float], width=W, height=H) -> str:
    x0, y0, x1, y1 = box
    values = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
    return " ".join([str(category)] + [formats.common.fmt(v, 6) for v in values])


def read_all(dataset):
    return {s.relpath: formats.read(dataset, s, W, H) for s in dataset.samples}


def problems(dataset) -> dict[str, str]:
    return {rel: reason for rel, reason, _ in dataset.problems}


# --- YOLO -------------------------------------------------------------------------------------------------


def make_yolo(root: Path) -> Path:
    image = drawn()
    box = extent(image, SHAPES[0][1])
    triangle = [v + 0.5 for point in SHAPES[1][2] for v in point]  # vertices at pixel centres
    seg = " ".join(["1"] + [formats.common.fmt(v / (W if i % 2 == 0 else H), 6) for i, v in enumerate(triangle)])
    for split in ("train", "valid"):
        put(root, f"{split}/images/a.png", png(image))
        put(root, f"{split}/labels/a.txt", yolo_box_line(0, box) + "\n" + seg + "\n")
    put(root, "train/images/background.png", png(np.zeros((H, W, 3), np.uint8)))  # no label file: no objects
    put(
        root,
        "data.yaml",
        "path: /somewhere/else\ntrain: ../train/images\nval: ../valid/images\nnames: {0: box, 1: tri}\n",
    )
    return root


def test_yolo_reads_boxes_and_polygons_exactly_and_writes_the_same_bytes(tmp_path: Path) -> None:
    root = make_yolo(tmp_path)
    assert formats.detect(root) == "yolo"
    dataset = formats.scan(root)
    assert dataset.names == ["box", "tri"]
    assert [(s.relpath, s.split, s.annotation) for s in dataset.samples] == [
        ("train/images/a.png", "train", "train/labels/a.txt"),
        ("train/images/background.png", "train", ""),
        ("valid/images/a.png", "valid", "valid/labels/a.txt"),
    ]
    image = drawn()
    targets = read_all(dataset)
    rect, tri = targets["train/images/a.png"].instances
    assert rect.category == 0 and not rect.polygons
    assert rect.box == pytest.approx(extent(image, SHAPES[0][1]), abs=1e-4)
    assert tri.category == 1 and len(tri.polygons) == 1
    assert tri.box == pytest.approx([30.5, 10.5, 60.5, 40.5], abs=1e-4)  # the polygon's bounds
    assert targets["train/images/background.png"].instances == []
    for sample in dataset.samples:
        written = formats.write(dataset, sample, sample.relpath, targets[sample.relpath], W, H)
        (rel,) = written
        assert rel == (sample.annotation or "train/labels/background.txt")
        assert written[rel] == ((root / rel).read_bytes() if sample.annotation else b"")
    files = formats.dataset_files(dataset, [])
    assert files == {"data.yaml": b"train: ../train/images\nval: ../valid/images\nnames: {0: box, 1: tri}\n"}


def test_yolo_ultralytics_layout_and_output_names(tmp_path: Path) -> None:
    put(tmp_path, "images/train/x.png", png(drawn()))
    put(tmp_path, "labels/train/x.txt", yolo_box_line(0, extent(drawn(), SHAPES[0][1])) + "\n")
    put(tmp_path, "labels/train/labels.cache", b"\0")
    dataset = formats.scan(tmp_path, "yolo")
    (sample,) = dataset.samples
    assert sample.split == "train" and dataset.names == ["0"]  # no names file: the ids in use name themselves
    assert dataset.ignored == ["labels/train/labels.cache"]
    assert formats.annotation_files(dataset, sample, "images/train/x__aug00.jpg") == ["labels/train/x__aug00.txt"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2 0.5 0.5 0.2 0.2", "unknown_class"),
        ("0 0.95 0.5 0.2 0.2", "box_outside_image"),
        ("0 0.5 0.5 0.2", "malformed_label"),
        ("0 0.5 0.5 0.2 0.2 0.9", "malformed_label"),
        ("zero 0.5 0.5 0.2 0.2", "malformed_label"),
        ("0 0.5 0.5 nan 0.2", "malformed_label"),
        ("0 0.5 0.5 0 0.2", "degenerate_box"),
    ],
)
def test_yolo_bad_label_files_are_refused_with_a_reason_and_line(tmp_path: Path, line: str, reason: str) -> None:
    put(tmp_path, "data.yaml", "names: [a, b]\n")
    put(tmp_path, "train/images/good.png", png(drawn()))
    put(tmp_path, "train/labels/good.txt", "0 0.5 0.5 0.2 0.2\n")
    put(tmp_path, "train/images/bad.png", png(drawn()))
    put(tmp_path, "train/labels/bad.txt", "1 0.5 0.5 0.2 0.2\n" + line + "\n")
    dataset = formats.scan(tmp_path)
    assert [s.relpath for s in dataset.samples] == ["train/images/good.png"]
    assert problems(dataset) == {"train/images/bad.png": reason}
    with pytest.raises(AnnotationError) as caught:
        formats.read(dataset, AnnotatedSample("train/images/bad.png", "train", "train/labels/bad.txt"), W, H)
    assert caught.value.reason == reason and isinstance(caught.value, ImageReadError)
    assert str(caught.value).startswith("train/labels/bad.txt:2: " + reason)


def test_yolo_label_without_image_and_tiny_overshoot(tmp_path: Path) -> None:
    put(tmp_path, "data.yaml", "names: [a]\n")
    put(tmp_path, "train/images/a.png", png(drawn()))
    put(tmp_path, "train/labels/a.txt", "0 0.9 0.5 0.2000004 0.2\n")  # right edge 1.0000002: rounding, clipped
    put(tmp_path, "train/labels/orphan.txt", "0 0.5 0.5 0.2 0.2\n")
    dataset = formats.scan(tmp_path)
    assert problems(dataset) == {"train/labels/orphan.txt": "label_without_image"}
    (instance,) = formats.read(dataset, dataset.samples[0], W, H).instances
    assert instance.box[2] == W


# --- COCO -------------------------------------------------------------------------------------------------


def coco_doc(image: np.ndarray, file_name: str, crowd_mask: np.ndarray) -> dict:
    rect = extent(image, SHAPES[0][1])
    triangle = [v + 0.5 for point in SHAPES[1][2] for v in point]
    ys, xs = np.nonzero(crowd_mask)
    crowd_box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
    return {
        "info": {"description": "test"},
        "licenses": [{"id": 4, "name": "CC0"}],
        "categories": [{"id": 3, "name": "rect"}, {"id": 12, "name": "crowd"}, {"id": 7, "name": "tri"}],
        "images": [{"id": 40, "license": 4, "file_name": file_name, "height": H, "width": W, "flickr_url": "u"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 40,
                "category_id": 3,
                "bbox": [rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1]],
                "area": 1,
                "segmentation": [],
                "iscrowd": 0,
                "attributes": {"occluded": False},
            },
            {
                "id": 2,
                "image_id": 40,
                "category_id": 7,
                "bbox": [30.5, 10.5, 30, 30],
                "area": 1,
                "segmentation": [triangle],
                "iscrowd": 0,
            },
            {
                "id": 5,
                "image_id": 40,
                "category_id": 12,
                "bbox": crowd_box,
                "area": 1,
                "segmentation": rle_encode(crowd_mask),
                "iscrowd": 1,
            },
        ],
    }


def crowd() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    cv2.circle(mask, (60, 50), 6, 1, -1)
    return mask


def test_coco_maps_sparse_category_ids_and_carries_rle_and_fields(tmp_path: Path) -> None:
    pycocotools = pytest.importorskip("pycocotools.coco")
    image = drawn()
    put(tmp_path, "train/a.png", png(image))
    put(tmp_path, "train/_annotations.coco.json", json.dumps(coco_doc(image, "a.png", crowd())))
    assert formats.detect(tmp_path) == "coco"
    dataset = formats.scan(tmp_path)
    assert dataset.names == ["rect", "tri", "crowd"]  # ordered by id: 3, 7, 12
    (sample,) = dataset.samples
    assert (
        sample.annotation == "train/_annotations.coco.json#40" and formats.annotation_files(dataset, sample, "x") == []
    )
    rect, tri, crowded = formats.read(dataset, sample, W, H).instances
    assert (rect.category, tri.category, crowded.category) == (0, 1, 2)
    assert rect.box == extent(image, SHAPES[0][1]) and rect.attributes == {
        "iscrowd": 0,
        "attributes": {"occluded": False},
    }
    assert tri.polygons == [[40.5, 10.5, 60.5, 40.5, 30.5, 40.5]] and tri.box == [30.5, 10.5, 60.5, 40.5]
    assert np.array_equal(rle_decode(crowded.rle), crowd()) and crowded.attributes == {"iscrowd": 1}

    targets = formats.read(dataset, sample, W, H)
    entries = [("train", "train/a__aug00.png", W, H, targets, sample), ("train", "train/b.png", W, H, Targets())]
    files = formats.dataset_files(dataset, entries)
    assert files == formats.dataset_files(dataset, entries)  # deterministic
    put(tmp_path / "out", "train/_annotations.coco.json", files["train/_annotations.coco.json"])
    coco = pycocotools.COCO(str(tmp_path / "out" / "train" / "_annotations.coco.json"))
    assert coco.getImgIds() == [1, 2] and coco.getAnnIds() == [1, 2, 3]
    assert coco.imgs[1] == {
        "id": 1,
        "license": 4,
        "file_name": "a__aug00.png",
        "height": H,
        "width": W,
        "flickr_url": "u",
    }
    assert [coco.anns[i]["category_id"] for i in (1, 2, 3)] == [3, 7, 12]
    assert coco.anns[1]["attributes"] == {"occluded": False} and coco.anns[1]["area"] == 20 * 15
    assert coco.anns[2]["area"] == pytest.approx(0.5 * 30 * 30)
    assert np.array_equal(coco.annToMask(coco.anns[3]), crowd()) and coco.anns[3]["area"] == crowd().sum()
    assert coco.dataset["info"] == {"description": "test"} and coco.dataset["categories"][0] == {
        "id": 3,
        "name": "rect",
    }


def test_coco_standard_layout_and_problems(tmp_path: Path) -> None:
    image = drawn()
    doc = coco_doc(image, "a.png", crowd())
    doc["images"] += [
        {"id": 41, "file_name": "gone.png", "height": H, "width": W},
        {"id": 42, "file_name": "wide.png", "height": H, "width": W},
        {"id": 43, "file_name": "odd.png", "height": H, "width": W},
    ]
    doc["annotations"] += [
        {"id": 9, "image_id": 42, "category_id": 3, "bbox": [70, 0, 20, 10], "segmentation": [], "iscrowd": 0},
        {"id": 10, "image_id": 43, "category_id": 99, "bbox": [0, 0, 5, 5], "segmentation": [], "iscrowd": 0},
    ]
    put(tmp_path, "annotations/instances_val.json", json.dumps(doc))
    for name in ("a.png", "wide.png", "odd.png", "unlisted.png"):
        put(tmp_path, f"images/val/{name}", png(image))
    assert formats.detect(tmp_path) == "coco"
    dataset = formats.scan(tmp_path)
    assert [(s.relpath, s.split) for s in dataset.samples] == [("images/val/a.png", "val")]
    assert problems(dataset) == {
        "images/val/gone.png": "missing_image",
        "images/val/wide.png": "box_outside_image",
        "images/val/odd.png": "unknown_class",
        "images/val/unlisted.png": "image_not_in_annotations",
    }
    with pytest.raises(AnnotationError, match="size_mismatch"):
        formats.read(dataset, dataset.samples[0], W + 1, H)
    files = formats.dataset_files(dataset, [("val", "images/val/a.png", W, H, Targets())])
    assert list(files) == ["annotations/instances_val.json"]


def test_rle_matches_pycocotools() -> None:
    mask_api = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(3)
    for trial in range(200):
        height, width = (int(v) for v in rng.integers(1, 50, 2))
        mask = (rng.random((height, width)) < rng.random()).astype(np.uint8)
        if trial % 7 == 0:
            mask[:] = trial % 2
        ours = rle_encode(mask)
        theirs = mask_api.encode(np.asfortranarray(mask))
        assert ours == {"size": [height, width], "counts": theirs["counts"].decode()}
        assert np.array_equal(rle_decode(ours), mask) and rle_area(ours) == mask_api.area(theirs)
        uncompressed = {"size": [height, width], "counts": _runs(mask)}
        assert np.array_equal(rle_decode(uncompressed), mask)


def _runs(mask: np.ndarray) -> list[int]:
    runs, current, count = [], 0, 0
    for value in mask.ravel(order="F"):
        if value != current:
            runs.append(count)
            current, count = value, 0
        count += 1
    return runs + [count]


# --- Pascal VOC -------------------------------------------------------------------------------------------


def voc_xml(name: str, objects: list[tuple[str, list[int], str]], width=W, height=H) -> str:
    lines = [
        "<annotation>",
        "\t<folder>JPEGImages</folder>",
        f"\t<filename>{name}</filename>",
        f"\t<path>/data/voc/JPEGImages/{name}</path>",
        "\t<size>",
        f"\t\t<width>{width}</width>",
        f"\t\t<height>{height}</height>",
        "\t\t<depth>3</depth>",
        "\t</size>",
        "\t<segmented>0</segmented>",
    ]
    for label, (xmin, ymin, xmax, ymax), difficult in objects:
        lines += [
            "\t<object>",
            f"\t\t<name>{label}</name>",
            "\t\t<pose>Left</pose>",
            "\t\t<truncated>1</truncated>",
            f"\t\t<difficult>{difficult}</difficult>",
            "\t\t<bndbox>",
            f"\t\t\t<xmin>{xmin}</xmin>",
            f"\t\t\t<ymin>{ymin}</ymin>",
            f"\t\t\t<xmax>{xmax}</xmax>",
            f"\t\t\t<ymax>{ymax}</ymax>",
            "\t\t</bndbox>",
            "\t</object>",
        ]
    return "\n".join(lines + ["</annotation>"]) + "\n"


def test_voc_converts_one_based_corners_and_writes_identical_xml(tmp_path: Path) -> None:
    image = drawn()
    x0, y0, x1, y1 = (int(v) for v in extent(image, SHAPES[0][1]))
    put(tmp_path, "JPEGImages/a.png", png(image))
    put(
        tmp_path,
        "Annotations/a.xml",
        voc_xml("a.png", [("rect", [x0 + 1, y0 + 1, x1, y1], "1"), ("whole", [1, 1, W, H], "0")]),
    )
    put(tmp_path, "JPEGImages/b.png", png(image))
    put(tmp_path, "ImageSets/Main/train.txt", "a\n")
    put(tmp_path, "ImageSets/Main/val.txt", "b\n")
    put(tmp_path, "ImageSets/Main/rect_train.txt", "a 1\n")
    assert formats.detect(tmp_path) == "voc"
    dataset = formats.scan(tmp_path)
    assert dataset.names == ["rect", "whole"]
    assert [(s.relpath, s.split, s.annotation) for s in dataset.samples] == [
        ("JPEGImages/a.png", "train", "Annotations/a.xml"),
        ("JPEGImages/b.png", "val", ""),
    ]
    assert dataset.ignored == ["ImageSets/Main/rect_train.txt"]
    a, b = dataset.samples
    rect, whole = formats.read(dataset, a, W, H).instances
    assert rect.box == extent(image, SHAPES[0][1]) and whole.box == [0, 0, W, H]
    assert rect.attributes == {"pose": "Left", "truncated": "1", "difficult": "1"}
    targets = formats.read(dataset, a, W, H)
    assert formats.write(dataset, a, a.relpath, targets, W, H) == {
        "Annotations/a.xml": (tmp_path / "Annotations/a.xml").read_bytes()
    }
    (out,) = formats.write(dataset, a, "JPEGImages/a__aug01.png", targets, W, H).values()
    assert b"<filename>a__aug01.png</filename>" in out and b"<path>/data/voc/JPEGImages/a__aug01.png</path>" in out
    assert formats.write(dataset, b, "JPEGImages/b.png", Targets(), W, H)["Annotations/b.xml"].count(b"<object>") == 0
    files = formats.dataset_files(
        dataset, [("train", "JPEGImages/a__aug01.png", W, H, targets), ("val", "JPEGImages/b.png", W, H, Targets())]
    )
    assert files == {"ImageSets/Main/train.txt": b"a__aug01\n", "ImageSets/Main/val.txt": b"b\n"}


def test_voc_keeps_values_of_a_differently_formatted_file(tmp_path: Path) -> None:
    put(tmp_path, "train/a.png", png(drawn()))
    put(
        tmp_path,
        "train/a.xml",
        '<?xml version="1.0"?>\n<annotation verified="yes"><filename>a.png</filename>'
        "<size><width>80</width><height>60</height><depth>3</depth></size>"
        "<object><name>rect</name><difficult>0</difficult><bndbox><xmin>0</xmin><ymin>3</ymin><xmax>10</xmax>"
        "<ymax>20</ymax></bndbox><part><name>hand</name><bndbox><xmin>2</xmin></bndbox></part></object></annotation>",
    )
    assert formats.detect(tmp_path) == "voc"
    dataset = formats.scan(tmp_path)
    (sample,) = dataset.samples
    assert sample.split == "train"
    (instance,) = formats.read(dataset, sample, W, H).instances
    assert instance.box == [0, 2, 10, 20]  # xmin=0 (a 0-based slip, 1 px out) is clipped
    (text,) = formats.write(dataset, sample, sample.relpath, Targets([instance]), W, H).values()
    rewritten = tmp_path / "again"
    put(rewritten, "train/a.png", png(drawn()))
    put(rewritten, "train/a.xml", text)
    again = formats.scan(rewritten)
    (same,) = formats.read(again, again.samples[0], W, H).instances
    assert same == instance and b'<annotation verified="yes">' in text and b"<name>hand</name>" in text


def test_voc_problems(tmp_path: Path) -> None:
    put(tmp_path, "JPEGImages/far.png", png(drawn()))
    put(tmp_path, "Annotations/far.xml", voc_xml("far.png", [("rect", [1, 1, W + 5, 10], "0")]))
    put(tmp_path, "JPEGImages/broken.png", png(drawn()))
    put(tmp_path, "Annotations/broken.xml", "<annotation><object>")
    put(tmp_path, "Annotations/orphan.xml", voc_xml("orphan.png", []))
    put(tmp_path, "labelmap.txt", "# label:color_rgb:parts:actions\nbackground:0,0,0::\nrect:255,0,0::\n")
    put(tmp_path, "JPEGImages/cat.png", png(drawn()))
    put(tmp_path, "Annotations/cat.xml", voc_xml("cat.png", [("cat", [1, 1, 5, 5], "0")]))
    dataset = formats.scan(tmp_path)
    assert dataset.names == ["background", "rect"] and dataset.samples == []
    assert problems(dataset) == {
        "JPEGImages/far.png": "box_outside_image",
        "JPEGImages/broken.png": "malformed_label",
        "JPEGImages/cat.png": "unknown_class",
        "Annotations/orphan.xml": "label_without_image",
    }


# --- semantic masks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_masks_read_and_write_identical_label_maps(tmp_path: Path, dtype) -> None:
    labels = np.zeros((H, W), dtype)
    for category, _, points in SHAPES:
        cv2.fillPoly(labels, [np.array(points, np.int32)], category + 1)
    labels[0, :] = 255
    if dtype == np.uint16:
        labels[1, 0] = 1000
    for split in ("train", "val"):
        put(tmp_path, f"{split}/images/a.png", png(drawn()))
        put(tmp_path, f"{split}/masks/a.png", png(labels))
    put(tmp_path, "train/images/lonely.png", png(drawn()))
    put(tmp_path, "val/masks/orphan.png", png(labels))
    put(tmp_path, "masks.yaml", "ignore: 0\n")
    assert formats.detect(tmp_path) == "masks"
    dataset = formats.scan(tmp_path)
    assert dataset.ignore_value == 0 and dataset.names == []
    assert [(s.split, s.annotation) for s in dataset.samples] == [
        ("train", "train/masks/a.png"),
        ("val", "val/masks/a.png"),
    ]
    assert problems(dataset) == {
        "train/images/lonely.png": "image_without_mask",
        "val/masks/orphan.png": "label_without_image",
    }
    for sample in dataset.samples:
        targets = formats.read(dataset, sample, W, H)
        assert targets.mask.dtype == dtype and np.array_equal(targets.mask, labels)
        assert formats.write(dataset, sample, sample.relpath, targets, W, H) == {sample.annotation: png(labels)}
    assert formats.annotation_files(dataset, dataset.samples[0], "train/images/a__aug00.jpg") == [
        "train/masks/a__aug00.png"
    ]
    assert formats.dataset_files(dataset, []) == {"masks.yaml": b"ignore: 0\n"}
    with pytest.raises(AnnotationError, match="size_mismatch"):
        formats.read(dataset, dataset.samples[0], W, H + 1)


def test_masks_unknown_labels_and_colour_masks(tmp_path: Path) -> None:
    labels = np.full((H, W), 255, np.uint8)
    labels[5:9, 5:9] = 3
    put(tmp_path, "images/a.png", png(drawn()))
    put(tmp_path, "masks/a.png", png(labels))
    put(tmp_path, "images/b.png", png(drawn()))
    put(tmp_path, "masks/b.png", png(drawn()))
    put(tmp_path, "classes.txt", "background\nthing\n")
    dataset = formats.scan(tmp_path)
    a, b = dataset.samples
    assert a.split is None
    with pytest.raises(AnnotationError, match="unknown_class"):
        formats.read(dataset, a, W, H)
    with pytest.raises(AnnotationError, match="malformed_label"):
        formats.read(dataset, b, W, H)


# --- detect -----------------------------------------------------------------------------------------------


def test_detect_class_folders(tmp_path: Path) -> None:
    put(tmp_path, "train/cats/a.png", png(drawn()))
    put(tmp_path, "train/dogs/b.png", png(drawn()))
    assert formats.detect(tmp_path) == "classes"
    with pytest.raises(DatasetError, match="class-folder"):
        formats.scan(tmp_path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["train/images/a.png"], "train/images/ has no labels/"),
        (["images/a.png"], "images/ has no labels/"),
        (["train/images/a.png", "train/labels/a.txt", "valid/images/b.png"], "valid/images/ has no labels/"),
        (["labels/a.txt"], "labels/ has no images/"),
        (["JPEGImages/a.png"], "JPEGImages/ has no Annotations/"),
        (["Annotations/a.xml", "cats/a.png"], "Annotations/ has no JPEGImages/"),
        (["data.yaml", "cats/a.png"], "no labels/ folder"),
        (["annotations/foo.json", "cats/a.png"], "no instances_<split>.json"),
        (["images/a.png", "labels/a.txt", "masks/a.png"], "more than one annotation layout"),
    ],
)
def test_detect_refuses_half_and_mixed_layouts(tmp_path: Path, files: list[str], message: str) -> None:
    for rel in files:
        put(tmp_path, rel, png(drawn()) if rel.endswith(".png") else "names: [a]\n")
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")) as caught:
        formats.detect(tmp_path)
    assert "--layout" in str(caught.value)


# --- the shipped samples ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", formats.FORMATS)
def test_sample_targets_read_cleanly_and_write_back(layout: str) -> None:
    root = REPO / "sample_targets" / layout
    assert formats.detect(root) == layout
    dataset = formats.scan(root)
    assert dataset.problems == [] and len(dataset.samples) == 8
    assert {s.split for s in dataset.samples} == ({"train", "val"} if layout == "voc" else {"train", "valid"})
    entries = []
    for sample in dataset.samples:
        height, width = cv2.imread(str(root / sample.relpath)).shape[:2]
        targets = formats.read(dataset, sample, width, height)
        entries.append((sample.split, sample.relpath, width, height, targets, sample))
        for rel, data in formats.write(dataset, sample, sample.relpath, targets, width, height).items():
            assert data == ((root / rel).read_bytes() if (root / rel).exists() else b""), rel
    files = formats.dataset_files(dataset, entries)
    if layout != "coco":
        assert all((root / rel).read_bytes() == data for rel, data in files.items())
    else:
        for rel, data in files.items():
            source, written = json.loads((root / rel).read_bytes()), json.loads(data)
            assert [a["bbox"] for a in written["annotations"]] == [a["bbox"] for a in source["annotations"]]
            assert [a["segmentation"] for a in written["annotations"]] == [
                a["segmentation"] for a in source["annotations"]
            ]


def test_instances_of_a_yolo_write_round_trip_through_read(tmp_path: Path) -> None:
    """Targets written by the YOLO writer read back equal to 1e-6 of the side (the 6-decimal rounding)."""
    root = make_yolo(tmp_path)
    dataset = formats.scan(root)
    sample = dataset.samples[0]
    targets = Targets(
        [
            Instance(1, [1.25, 2.5, 30.75, 40.0]),
            Instance(0, [0, 0, 10, 10], [[0, 0, 10, 0, 10, 10], [20, 20, 30, 20, 30, 30]]),
        ]
    )
    (data,) = formats.write(dataset, sample, sample.relpath, targets, W, H).values()
    assert data.decode().splitlines()[0] == "1 0.2 0.354167 0.36875 0.625"
    put(root, sample.annotation, data)
    back = formats.read(dataset, sample, W, H).instances
    assert len(back) == 3 and back[0].box == pytest.approx(targets.instances[0].box, abs=W * 1e-6)
    assert back[2].polygons == [pytest.approx([20, 20, 30, 20, 30, 30], abs=1e-4)]
