"""YOLO labels: one `.txt` per image, one object per line, coordinates normalised to the image size.

Layouts: Roboflow's `<split>/images/` + `<split>/labels/`, Ultralytics' `images/<split>/` + `labels/<split>/`,
and a split-less `images/` + `labels/`. The label of `.../images/<inner>/x.jpg` is `.../labels/<inner>/x.txt`.
An image without a label file has no objects (Ultralytics' rule); it is written back with an empty label file,
which means the same.

Lines: `class cx cy w h` is a box; `class x1 y1 x2 y2 ... xn yn` (n >= 3) is a polygon whose box is its bounds.
Both kinds may share a file. Any other token count is malformed (6 tokens is usually a prediction with a
confidence; keypoint datasets, `kpt_shape` in data.yaml, are refused at scan).

Names: `data.yaml` `names` (a list, or an {id: name} mapping whose missing ids are named by their number),
else `classes.txt`, else the numbers 0..max id found (then no id is "unknown").

Tolerance: a normalised value up to 1e-3 outside [0, 1] (about 1 px on a 1000 px side: exporters' rounding)
is clipped; farther is box_outside_image. Writing uses 6 decimals with trailing zeros stripped (1e-6 of the
side, what Ultralytics and Roboflow export), so a label read and written unchanged keeps its bytes when the
source used at most 6 decimals, "\n" line ends and a final newline. An instance with several polygons is
written as one line per polygon (a YOLO line is one polygon).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from augcli.errors import DatasetError
from augcli.formats.common import (
    bounds,
    check_box,
    check_category,
    clip_coords,
    fmt,
    folder_pairs,
    images_in,
    is_split_name,
    read_text,
    swap_dir,
    walk_files,
)
from augcli.formats.model import AnnotatedDataset, AnnotatedSample, AnnotationError
from augcli.targets import Instance, Targets

TOLERANCE = 1e-3  # normalised units
DECIMALS = 6
NAME_FILES = ("data.yaml", "data.yml", "classes.txt")


def scan(root: Path) -> AnnotatedDataset:
    dataset = AnnotatedDataset(root, "yolo")
    pairs = folder_pairs(root, "labels")  # image folder -> label folder
    if not pairs:
        raise DatasetError(f"{root}: no images/ + labels/ folders (YOLO) at the root or in split folders")
    dataset.extra["pairs"] = pairs
    names, files = _names(root)
    dataset.extra["files"] = files  # data.yaml / classes.txt text, written back by dataset_files
    source = next(iter(files), "the labels")
    dataset.extra["names_from"] = source

    top = -1  # the largest class id in use: names it when there is no names file
    labelled: set[str] = set()
    for image_dir, label_dir in pairs.items():
        for image in images_in(root, image_dir, dataset):
            label = swap_dir(image, pairs, ".txt")
            has_label = (root / label).is_file()
            try:
                rows = _parse(read_text(root, label), label, names, source) if has_label else []
            except AnnotationError as exc:
                dataset.problems.append((image, exc.reason, str(exc)))
            else:
                top = max([top] + [row[0] for row in rows])
                dataset.samples.append(AnnotatedSample(image, _split(image, image_dir), label if has_label else ""))
            if has_label:
                labelled.add(label)
        for rel in walk_files(root, label_dir):
            if rel in labelled:
                continue
            if rel.endswith(".txt"):
                dataset.problems.append(
                    (rel, "label_without_image", f"{rel}: label_without_image (no image in {image_dir}/)")
                )
            else:
                dataset.ignored.append(rel)  # labels.cache and other non-label files
    dataset.names = names if names is not None else [str(i) for i in range(top + 1)]
    dataset.samples.sort(key=lambda s: s.relpath)
    return dataset


def read(dataset: AnnotatedDataset, sample: AnnotatedSample, width: int, height: int) -> Targets:
    if not sample.annotation:
        return Targets()
    text = read_text(dataset.root, sample.annotation)
    rows = _parse(text, sample.annotation, dataset.names, dataset.extra["names_from"])
    instances = []
    for category, coords, is_polygon in rows:
        pixels = [v * (width if i % 2 == 0 else height) for i, v in enumerate(coords)]
        if is_polygon:
            instances.append(Instance(category, bounds([pixels]), [pixels]))
        else:
            instances.append(Instance(category, pixels))
    return Targets(instances)


def annotation_files(dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str) -> list[str]:
    return [swap_dir(out_image_rel, dataset.extra["pairs"], ".txt")]


def write(
    dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str, targets: Targets, width: int, height: int
) -> dict[str, bytes]:
    lines = []
    for inst in targets.instances:
        if inst.polygons:
            for poly in inst.polygons:
                values = [v / (width if i % 2 == 0 else height) for i, v in enumerate(poly)]
                lines.append(" ".join([str(inst.category)] + [fmt(v, DECIMALS) for v in values]))
        else:
            x0, y0, x1, y1 = inst.box
            values = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
            lines.append(" ".join([str(inst.category)] + [fmt(v, DECIMALS) for v in values]))
    text = "".join(line + "\n" for line in lines)
    return {annotation_files(dataset, sample, out_image_rel)[0]: text.encode()}


def dataset_files(dataset: AnnotatedDataset, entries: list[Any]) -> dict[str, bytes]:
    """data.yaml and classes.txt as read, so the output trains with the same names.

    data.yaml's split paths are relative and the output keeps the source's folders, so they stay valid;
    a top-level `path:` (the dataset's own location, often absolute) would point the output back at the
    source, so that one line is dropped and Ultralytics then resolves paths from the YAML's folder.
    """
    out = {}
    for rel, text in dataset.extra["files"].items():
        if rel.startswith("data.y"):
            text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("path:"))
        out[rel] = text.encode()
    return out


def _split(image: str, image_dir: str) -> str | None:
    if image_dir != "images":  # <split>/images/...
        return image_dir.split("/")[0]
    first, _, rest = image[len("images/") :].partition("/")
    return first if rest and is_split_name(first) else None  # images/<split>/... or a split-less images/


def _names(root: Path) -> tuple[list[str] | None, dict[str, str]]:
    for rel in NAME_FILES:
        if not (root / rel).is_file():
            continue
        text = read_text(root, rel)
        if rel == "classes.txt":
            return [line.strip() for line in text.splitlines() if line.strip()], {rel: text}
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise DatasetError(f"{root / rel}{f':{mark.line + 1}' if mark else ''}: invalid YAML") from None
        if not isinstance(data, dict):
            raise DatasetError(f"{root / rel}: expected a mapping with a `names` key")
        if "kpt_shape" in data:
            raise DatasetError(f"{root / rel}: keypoint (pose) datasets are not supported")
        names = data.get("names")
        if isinstance(names, dict) and names and all(isinstance(k, int) and k >= 0 for k in names):
            return [str(names.get(i, i)) for i in range(max(names) + 1)], {rel: text}
        if isinstance(names, list):
            return [str(n) for n in names], {rel: text}
        raise DatasetError(f"{root / rel}: `names` must be a list or an {{id: name}} mapping, got {names!r}")
    return None, {}


def _parse(
    text: str, rel: str, names: list[str] | None, source: str = "the names"
) -> list[tuple[int, list[float], bool]]:
    """(class, normalised coords, is_polygon) per non-blank line; boxes as corners [x0, y0, x1, y1]."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 5 and (len(tokens) < 7 or len(tokens) % 2 == 0):
            raise AnnotationError(
                rel,
                "malformed_label",
                f"{len(tokens)} values; expected 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 ...'",
                number,
            )
        try:
            category = int(tokens[0])
            values = [float(t) for t in tokens[1:]]
        except ValueError:
            raise AnnotationError(rel, "malformed_label", f"not numbers: {line.strip()[:60]!r}", number) from None
        if not all(math.isfinite(v) for v in values):
            raise AnnotationError(rel, "malformed_label", "NaN or infinite value", number)
        if names is not None:
            check_category(category, names, rel, number, source)
        if len(tokens) == 5:
            cx, cy, w, h = values
            corners = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            rows.append((category, check_box(clip_coords(corners, 1, 1, TOLERANCE, rel, number), rel, number), False))
        else:
            poly = clip_coords(values, 1, 1, TOLERANCE, rel, number)
            check_box(bounds([poly]), rel, number)
            rows.append((category, poly, True))
    return rows
