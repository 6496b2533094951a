"""COCO instances JSON: one file per split listing images, categories and annotations.

Layouts: Roboflow's `<split>/_annotations.coco.json` beside the images (also at the root, without splits),
and the original `annotations/instances_<split>.json` with images in `<split>/` or `images/<split>/`.
An image's annotation reference is "<json relpath>#<image id>". The JSON is parsed once per process
(cached on path, size and mtime), so a worker reading many images of a split does not re-parse it.

Conversions: bbox [x, y, w, h] <-> box [x, y, x + w, y + h] (both continuous pixel coordinates, no shift);
polygon segmentations -> polygons; RLE segmentations (compressed or not) are carried verbatim in `rle`.
Category ids may be anything: `names` is ordered by id and `extra["category_ids"]` maps indices back.

Kept verbatim: every annotation field other than id, image_id, category_id, bbox, area and segmentation
(iscrowd included) in `attributes`; the JSON's other top-level keys (info, licenses, categories) and, when
`dataset_files` is given each entry's source sample, the source image entry's extra fields.
Not preserved: ids (images 1..n and annotations 1..m in output order), `area` (recomputed: RLE pixel
count, else polygon area by the shoelace formula, else box area), number formatting (values rounded to
1/1000 px), and the JSON's whitespace (written compact, UTF-8).

Tolerance: a coordinate up to 1 px outside the image is clipped, farther is box_outside_image. A polygon
with fewer than 3 points or an RLE whose size is not the image's is malformed.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

from augcli.errors import DatasetError, OutputError
from augcli.formats.common import (
    check_box,
    clip_coords,
    images_in,
    join,
    visible_dirs,
    visible_files,
)
from augcli.formats.model import AnnotatedDataset, AnnotatedSample, AnnotationError
from augcli.formats.rle import rle_area, rle_decode, rle_encode  # noqa: F401  (the RLE API lives with COCO)
from augcli.targets import Instance, Targets, _num

TOLERANCE = 1.0  # pixels
ROBOFLOW_NAME = "_annotations.coco.json"
CORE_FIELDS = ("id", "image_id", "category_id", "bbox", "area", "segmentation")


def scan(root: Path) -> AnnotatedDataset:
    dataset = AnnotatedDataset(root, "coco")
    splits: dict[str | None, dict[str, Any]] = {}
    for base in [""] + visible_dirs(root):
        if (root / base / ROBOFLOW_NAME).is_file():
            splits[base or None] = {"json": join(base, ROBOFLOW_NAME), "image_dir": base, "recursive": False}
    for name in visible_files(root / "annotations"):
        if name.startswith("instances_") and name.endswith(".json"):
            split = name[len("instances_") : -len(".json")]
            image_dir = next((d for d in (split, f"images/{split}") if (root / d).is_dir()), None)
            if image_dir is None:
                raise DatasetError(f"{root}/annotations/{name}: no image folder {split}/ or images/{split}/")
            splits[split] = {"json": f"annotations/{name}", "image_dir": image_dir, "recursive": True}
    if not splits:
        raise DatasetError(f"{root}: no {ROBOFLOW_NAME} and no annotations/instances_<split>.json (COCO)")

    categories: dict[int, str] = {}
    indexes = {}
    for split, info in splits.items():
        doc, index = _load(root / info["json"], info["json"])
        info["top"] = {k: (None if k in ("images", "annotations") else v) for k, v in doc.items()}
        indexes[split] = index
        for category in doc["categories"]:
            cid, name = category.get("id"), category.get("name")
            if not isinstance(cid, int) or not isinstance(name, str):
                raise DatasetError(f"{root / info['json']}: category {category!r} needs an integer id and a name")
            if categories.setdefault(cid, name) != name:
                raise DatasetError(
                    f"{root / info['json']}: category id {cid} is {name!r} here, {categories[cid]!r} in another split"
                )
    ids = sorted(categories)
    dataset.names = [categories[i] for i in ids]
    dataset.extra = {
        "splits": {s: {k: v for k, v in i.items() if k != "recursive"} for s, i in splits.items()},
        "category_ids": ids,
    }
    lookup = {cid: index for index, cid in enumerate(ids)}

    for split, info in splits.items():
        listed: dict[str, int] = {}
        for image_id, (entry, anns) in indexes[split]["images"].items():
            rel = join(info["image_dir"], str(entry.get("file_name", "")))
            if rel in listed:
                dataset.problems.append(
                    (rel, "duplicate_image", f"{info['json']}: image ids {listed[rel]} and {image_id} both name {rel}")
                )
                continue
            listed[rel] = image_id
            if not (root / rel).is_file():
                dataset.problems.append(
                    (rel, "missing_image", f"{info['json']}: image id {image_id} names {rel}, which does not exist")
                )
                continue
            try:
                for ann in anns:
                    _instance(ann, entry.get("width"), entry.get("height"), lookup, info["json"], image_id)
            except AnnotationError as exc:
                dataset.problems.append((rel, exc.reason, str(exc)))
                continue
            dataset.samples.append(AnnotatedSample(rel, split, f"{info['json']}#{image_id}"))
        for rel in images_in(root, info["image_dir"], dataset, recursive=info["recursive"]):
            if rel not in listed:
                dataset.problems.append((rel, "image_not_in_annotations", f"{rel}: not listed in {info['json']}"))
        for orphan in indexes[split]["orphans"]:
            dataset.problems.append((info["json"], "malformed_label", f"{info['json']}: {orphan}"))
    dataset.samples.sort(key=lambda s: s.relpath)
    return dataset


def read(dataset: AnnotatedDataset, sample: AnnotatedSample, width: int, height: int) -> Targets:
    rel, _, image_id = sample.annotation.rpartition("#")
    _, index = _load(dataset.root / rel, rel)
    entry, anns = index["images"][int(image_id)]
    stated = (entry.get("width"), entry.get("height"))
    if stated != (width, height):
        raise AnnotationError(
            rel,
            "size_mismatch",
            f"image id {image_id} is {stated[0]}x{stated[1]} in the JSON, {width}x{height} decoded",
        )
    lookup = {cid: index for index, cid in enumerate(dataset.extra["category_ids"])}
    return Targets([_instance(ann, width, height, lookup, rel, image_id) for ann in anns])


def annotation_files(dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str) -> list[str]:
    return []  # one JSON per split, written by dataset_files


def write(
    dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str, targets: Targets, width: int, height: int
) -> dict[str, bytes]:
    return {}


def dataset_files(dataset: AnnotatedDataset, entries: list[tuple[Any, ...]]) -> dict[str, bytes]:
    """One JSON per split with output images: images 1..n and annotations 1..m in entry order."""
    ids = dataset.extra["category_ids"]
    docs: dict[Any, dict[str, Any]] = {}
    for entry in entries:
        split, out_rel, width, height, targets = entry[:5]
        if split not in dataset.extra["splits"]:
            raise OutputError(f"{out_rel}: split {split!r} has no COCO JSON in the source dataset")
        info = dataset.extra["splits"][split]
        doc = docs.setdefault(split, {"images": [], "annotations": []})
        image_dir = info["image_dir"]
        if image_dir and not out_rel.startswith(image_dir + "/"):
            raise OutputError(f"{out_rel}: not inside the split's image folder {image_dir}/")
        image_id = len(doc["images"]) + 1
        fields = {
            "id": image_id,
            "file_name": out_rel[len(image_dir) + 1 :] if image_dir else out_rel,
            "width": int(width),
            "height": int(height),
        }
        source = _source_entry(dataset, entry[5]) if len(entry) > 5 and entry[5] is not None else {}
        doc["images"].append({**{k: fields.get(k, v) for k, v in source.items()}, **fields} if source else fields)
        for inst in targets.instances:
            doc["annotations"].append(_annotation(inst, len(doc["annotations"]) + 1, image_id, ids[inst.category]))
    out = {}
    for split, info in dataset.extra["splits"].items():
        if split in docs:
            full = {k: docs[split].get(k, v) for k, v in info["top"].items()}
            full.setdefault("images", docs[split]["images"])
            full.setdefault("annotations", docs[split]["annotations"])
            out[info["json"]] = (json.dumps(full, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    return out


def _annotation(inst: Instance, ann_id: int, image_id: int, category_id: int) -> dict[str, Any]:
    x0, y0, x1, y1 = inst.box
    if inst.rle is not None:
        segmentation: Any = inst.rle
        area = float(rle_area(inst.rle))
    else:
        segmentation = [[_num(v) for v in poly] for poly in inst.polygons]
        area = sum(_shoelace(poly) for poly in inst.polygons) if inst.polygons else (x1 - x0) * (y1 - y0)
    record = {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [_num(x0), _num(y0), _num(x1 - x0), _num(y1 - y0)],
        "area": _num(area),
        "segmentation": segmentation,
        "iscrowd": inst.attributes.get("iscrowd", 1 if inst.rle is not None else 0),
    }
    record.update((k, v) for k, v in inst.attributes.items() if k not in record)
    return record


def _shoelace(poly: list[float]) -> float:
    xs, ys = poly[0::2], poly[1::2]
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


def _instance(
    ann: dict[str, Any], width: Any, height: Any, lookup: dict[int, int], rel: str, image_id: Any
) -> Instance:
    where = f"image id {image_id}, annotation id {ann.get('id')}"
    if ann.get("category_id") not in lookup:
        raise AnnotationError(
            rel, "unknown_class", f"{where}: category_id {ann.get('category_id')!r} is not in categories"
        )
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        raise AnnotationError(
            rel, "malformed_label", f"image id {image_id}: width/height missing or not positive integers"
        )
    bbox = ann.get("bbox")
    if not _numbers(bbox) or len(bbox) != 4:
        raise AnnotationError(rel, "malformed_label", f"{where}: bbox {bbox!r} is not 4 numbers")
    x, y, w, h = bbox
    box = check_box(clip_coords([x, y, x + w, y + h], width, height, TOLERANCE, rel, None), rel, None)
    seg = ann.get("segmentation", [])
    polygons, rle = [], None
    if isinstance(seg, dict):
        if list(seg.get("size", [])) != [height, width] or "counts" not in seg:
            raise AnnotationError(
                rel, "malformed_label", f"{where}: RLE size {seg.get('size')!r} is not [{height}, {width}]"
            )
        rle = seg
    elif isinstance(seg, list):
        for poly in seg:
            if not _numbers(poly) or len(poly) < 6 or len(poly) % 2:
                raise AnnotationError(rel, "malformed_label", f"{where}: a polygon needs >= 3 x,y pairs")
            polygons.append(clip_coords([float(v) for v in poly], width, height, TOLERANCE, rel, None))
    else:
        raise AnnotationError(rel, "malformed_label", f"{where}: segmentation is neither polygons nor RLE")
    attributes = {k: v for k, v in ann.items() if k not in CORE_FIELDS}
    return Instance(lookup[ann["category_id"]], box, polygons, rle, attributes)


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _source_entry(dataset: AnnotatedDataset, sample: AnnotatedSample) -> dict[str, Any]:
    rel, _, image_id = sample.annotation.rpartition("#")
    return _load(dataset.root / rel, rel)[1]["images"][int(image_id)][0]


def _load(path: Path, rel: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    return _parse(str(path), rel, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=8)
def _parse(path: str, rel: str, mtime_ns: int, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document and {"images": {id: (entry, [annotations])}, "orphans": [messages]}; cached per process."""
    try:
        with open(path, "rb") as handle:
            doc = json.loads(handle.read().decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise DatasetError(f"{path}: cannot read as UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict) or not all(
        isinstance(doc.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise DatasetError(f"{path}: expected an object with `images`, `annotations` and `categories` lists")
    images: dict[Any, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for entry in doc["images"]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), int)
            or not isinstance(entry.get("file_name"), str)
        ):
            raise DatasetError(f"{path}: image entry {str(entry)[:80]} needs an integer id and a file_name")
        if entry["id"] in images:
            raise DatasetError(f"{path}: image id {entry['id']} appears twice")
        images[entry["id"]] = (entry, [])
    orphans = []
    for ann in doc["annotations"]:
        if not isinstance(ann, dict) or ann.get("image_id") not in images:
            ident = ann.get("id") if isinstance(ann, dict) else ann
            orphans.append(f"annotation id {ident} refers to no listed image")
            continue
        images[ann["image_id"]][1].append(ann)
    return doc, {"images": images, "orphans": orphans}
