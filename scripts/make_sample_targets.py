"""Generate the small annotated demo datasets that ship in ``sample_targets/``.

One folder per annotation layout augcli reads, drawn from a fixed seed so no download is needed:

    yolo/   Roboflow YOLO export: <split>/images + <split>/labels, data.yaml; rectangles as box lines,
            triangles and diamonds as polygon lines; one train image has no objects and no label file
    coco/   Roboflow COCO export: <split>/_annotations.coco.json beside the images; polygons, and the
            diamonds as iscrowd RLE masks
    voc/    Pascal VOC: JPEGImages/, Annotations/, ImageSets/Main/{train,val}.txt
    masks/  semantic masks: <split>/images + <split>/masks (uint8 PNG, 0 background, class i -> i + 1,
            255 on a one-pixel band around each shape: "ignore", as in VOC's SegmentationClass)

Ground truth is exact: every shape is rasterised into its own mask first and drawn into the image through
that mask, so a box is the drawn pixels' extent ([x0, y0, x1, y1] corners, x1 = last column + 1), and
the masks are the drawn pixels. Polygons are the drawn vertices at pixel centres (vertex + 0.5).
Shapes never overlap. Re-running with the same NumPy/OpenCV versions gives byte-identical files.

Usage:
    python scripts/make_sample_targets.py [OUT_DIR] [--force]
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_sample_data import add_sensor_noise, encode_jpeg, shape_fill_colour, textured_background  # noqa: E402

SEED = 20240917
CLASSES = ["rectangle", "triangle", "diamond"]
SPLITS = {"train": 6, "valid": 2}
SIZE_RANGE = (160, 240)
DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "sample_targets"


def shape_vertices(rng, category, width, height):
    """Integer pixel vertices of one shape, inside the image with a margin."""
    w = int(rng.integers(width // 6, width // 3))
    h = int(rng.integers(height // 6, height // 3))
    x = int(rng.integers(2, width - w - 2))
    y = int(rng.integers(2, height - h - 2))
    if category == 0:  # rectangle
        return np.array([[x, y], [x + w - 1, y], [x + w - 1, y + h - 1], [x, y + h - 1]])
    if category == 1:  # triangle: apex somewhere along the top
        apex = x + int(rng.integers(0, w))
        return np.array([[apex, y], [x + w - 1, y + h - 1], [x, y + h - 1]])
    return np.array([[x + w // 2, y], [x + w - 1, y + h // 2], [x + w // 2, y + h - 1], [x, y + h // 2]])


def make_image(layout_index, split_index, index):
    """(BGR image, [(category, object mask, vertices)]) with non-overlapping shapes."""
    rng = np.random.default_rng([SEED, layout_index, split_index, index])
    width = int(rng.integers(SIZE_RANGE[0], SIZE_RANGE[1] + 1))
    height = int(rng.integers(SIZE_RANGE[0], SIZE_RANGE[1] + 1))
    image = textured_background(rng, height, width)
    objects = []
    taken = np.zeros((height, width), dtype=np.uint8)
    empty = split_index == 0 and index == 5  # one background-only image per dataset
    for _ in range(0 if empty else int(rng.integers(1, 4))):
        category = int(rng.integers(0, len(CLASSES)))
        for _attempt in range(20):
            vertices = shape_vertices(rng, category, width, height)
            mask = np.zeros((height, width), dtype=np.uint8)
            cv2.fillPoly(mask, [vertices.astype(np.int32)], 1)
            if not (cv2.dilate(taken, np.ones((5, 5), np.uint8)) & mask).any():
                break
        else:
            continue
        taken |= mask
        colour = np.array(shape_fill_colour(rng, image.mean(axis=(0, 1))), dtype=np.float32)
        image[mask == 1] = colour
        objects.append((category, mask, vertices))
    image = add_sensor_noise(rng, image)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), objects


def box_of(mask):
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def polygon_of(vertices):
    return [float(v) + 0.5 for point in vertices for v in point]


def num(value, decimals=6):
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def images_for(layout_index):
    for split_index, (split, count) in enumerate(SPLITS.items()):
        for index in range(count):
            image, objects = make_image(layout_index, split_index, index)
            yield split, f"{split}_{index:02d}", image, objects


def write_yolo(out):
    for split, stem, image, objects in images_for(0):
        height, width = image.shape[:2]
        (out / split / "images").mkdir(parents=True, exist_ok=True)
        (out / split / "labels").mkdir(parents=True, exist_ok=True)
        (out / split / "images" / f"{stem}.jpg").write_bytes(encode_jpeg(image))
        if not objects:
            continue  # no label file: an image without objects
        lines = []
        for category, mask, vertices in objects:
            if category == 0:
                x0, y0, x1, y1 = box_of(mask)
                values = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
            else:
                poly = polygon_of(vertices)
                values = [v / (width if i % 2 == 0 else height) for i, v in enumerate(poly)]
            lines.append(" ".join([str(category)] + [num(v) for v in values]) + "\n")
        (out / split / "labels" / f"{stem}.txt").write_text("".join(lines))
    (out / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\n\n"
        f"nc: {len(CLASSES)}\nnames: [{', '.join(repr(n) for n in CLASSES)}]\n"
    )


def write_coco(out):
    from augcli.formats.rle import rle_encode

    docs = {}
    for split, stem, image, objects in images_for(1):
        height, width = image.shape[:2]
        (out / split).mkdir(parents=True, exist_ok=True)
        (out / split / f"{stem}.jpg").write_bytes(encode_jpeg(image))
        doc = docs.setdefault(
            split,
            {
                "info": {
                    "year": "2024",
                    "version": "1",
                    "description": "augcli sample shapes",
                    "contributor": "",
                    "url": "",
                    "date_created": "2024-09-17T00:00:00+00:00",
                },
                "licenses": [{"id": 1, "url": "https://creativecommons.org/publicdomain/zero/1.0/", "name": "CC0 1.0"}],
                "categories": [{"id": 0, "name": "shapes", "supercategory": "none"}]
                + [{"id": i + 1, "name": n, "supercategory": "shapes"} for i, n in enumerate(CLASSES)],
                "images": [],
                "annotations": [],
            },
        )
        image_id = len(doc["images"])
        doc["images"].append(
            {
                "id": image_id,
                "license": 1,
                "file_name": f"{stem}.jpg",
                "height": height,
                "width": width,
                "date_captured": "2024-09-17T00:00:00+00:00",
            }
        )
        for category, mask, vertices in objects:
            x0, y0, x1, y1 = box_of(mask)
            crowd = category == 2
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]),
                    "image_id": image_id,
                    "category_id": category + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": int(mask.sum()),
                    "segmentation": rle_encode(mask) if crowd else [polygon_of(vertices)],
                    "iscrowd": int(crowd),
                }
            )
    for split, doc in docs.items():
        (out / split / "_annotations.coco.json").write_text(json.dumps(doc) + "\n")


def write_voc(out):
    for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    lists = {"train": [], "val": []}
    for split, stem, image, objects in images_for(2):
        height, width = image.shape[:2]
        (out / "JPEGImages" / f"{stem}.jpg").write_bytes(encode_jpeg(image))
        lists["train" if split == "train" else "val"].append(stem)
        lines = [
            "<annotation>",
            "\t<folder>JPEGImages</folder>",
            f"\t<filename>{stem}.jpg</filename>",
            "\t<source>",
            "\t\t<database>augcli sample shapes</database>",
            "\t</source>",
            "\t<size>",
            f"\t\t<width>{width}</width>",
            f"\t\t<height>{height}</height>",
            "\t\t<depth>3</depth>",
            "\t</size>",
            "\t<segmented>0</segmented>",
        ]
        for number, (category, mask, _) in enumerate(objects):
            x0, y0, x1, y1 = box_of(mask)
            lines += [
                "\t<object>",
                f"\t\t<name>{CLASSES[category]}</name>",
                "\t\t<pose>Unspecified</pose>",
                "\t\t<truncated>0</truncated>",
                f"\t\t<difficult>{int(number == 2)}</difficult>",
                "\t\t<bndbox>",
                f"\t\t\t<xmin>{x0 + 1}</xmin>",
                f"\t\t\t<ymin>{y0 + 1}</ymin>",
                f"\t\t\t<xmax>{x1}</xmax>",
                f"\t\t\t<ymax>{y1}</ymax>",
                "\t\t</bndbox>",
                "\t</object>",
            ]
        lines.append("</annotation>")
        (out / "Annotations" / f"{stem}.xml").write_text("\n".join(lines) + "\n")
    for split, stems in lists.items():
        (out / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(s + "\n" for s in stems))


def write_masks(out):
    band = np.ones((3, 3), np.uint8)
    for split, stem, image, objects in images_for(3):
        height, width = image.shape[:2]
        labels = np.zeros((height, width), dtype=np.uint8)
        for _, mask, _ in objects:
            labels[cv2.dilate(mask, band) > mask] = 255  # the one-pixel ignore band around the shape
        for category, mask, _ in objects:
            labels[mask == 1] = category + 1
        for folder in ("images", "masks"):
            (out / split / folder).mkdir(parents=True, exist_ok=True)
        (out / split / "images" / f"{stem}.jpg").write_bytes(encode_jpeg(image))
        ok, png = cv2.imencode(".png", labels)
        assert ok
        (out / split / "masks" / f"{stem}.png").write_bytes(png.tobytes())
    (out / "classes.txt").write_text("".join(n + "\n" for n in ["background"] + CLASSES))


WRITERS = {"yolo": write_yolo, "coco": write_coco, "voc": write_voc, "masks": write_masks}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate augcli's annotated demo datasets.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--force", action="store_true", help="write even if the output directory is not empty")
    args = parser.parse_args(argv)
    if args.out_dir.exists() and any(args.out_dir.iterdir()) and not args.force:
        print(f"error: {args.out_dir} is not empty (use --force to overwrite)", file=sys.stderr)
        return 1
    for layout, writer in WRITERS.items():
        writer(args.out_dir / layout)
    files = [p for p in args.out_dir.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files ({total / 1024:.0f} KB) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
