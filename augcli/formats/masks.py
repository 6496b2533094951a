"""Semantic segmentation masks: a single-channel PNG label map per image, pixel value = class id.

Layouts: `<split>/images/` + `<split>/masks/`, or `images/` + `masks/` at the root. The mask of
`.../images/<inner>/x.jpg` is `.../masks/<inner>/x.png`. An image without a mask is refused
(image_without_mask): unlike a missing YOLO label there is no safe reading of it (all background is a guess).

Label maps are 8- or 16-bit grey PNGs, or palette PNGs (VOC's SegmentationClass style), whose palette indices
are the labels. Colour (RGB) masks are refused: the colour -> class table they need is not part of the layout.

Names: `labelmap.txt` or `classes.txt` at the root (line i names label i), optional; with names, a label
>= len(names) other than the ignore value is unknown_class. Ignore value: 255 unless a `masks.yaml` at the
root says `ignore: <int>` or `ignore: null` (no ignore value).

Writing: grey masks are encoded by OpenCV's PNG encoder at its defaults (so a mask written by OpenCV reads and
writes back byte-identical), palette masks by Pillow with the source file's palette. The dtype is kept.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image

from augcli.errors import DatasetError, ImageReadError
from augcli.formats.common import (
    folder_pairs,
    images_in,
    names_from_lines,
    read_text,
    swap_dir,
    walk_files,
)
from augcli.formats.model import AnnotatedDataset, AnnotatedSample, AnnotationError
from augcli.targets import Targets

DEFAULT_IGNORE = 255
NAME_FILES = ("labelmap.txt", "classes.txt")
SETTINGS = "masks.yaml"


def scan(root: Path) -> AnnotatedDataset:
    dataset = AnnotatedDataset(root, "masks", ignore_value=_ignore_value(root))
    pairs = folder_pairs(root, "masks")
    if not pairs:
        raise DatasetError(f"{root}: no images/ + masks/ folders at the root or in split folders (semantic masks)")
    files = {rel: read_text(root, rel) for rel in (*NAME_FILES, SETTINGS) if (root / rel).is_file()}
    names_file = next((rel for rel in NAME_FILES if rel in files), None)
    dataset.names = names_from_lines(root, names_file) if names_file else []
    dataset.extra = {"pairs": pairs, "files": files}
    used: set[str] = set()
    for image_dir, mask_dir in pairs.items():
        for image in images_in(root, image_dir, dataset):
            mask = swap_dir(image, pairs, ".png")
            if not (root / mask).is_file():
                dataset.problems.append((image, "image_without_mask", f"{image}: image_without_mask (expected {mask})"))
                continue
            used.add(mask)
            split = image_dir.split("/")[0] if "/" in image_dir else None
            dataset.samples.append(AnnotatedSample(image, split, mask))
        for rel in walk_files(root, mask_dir):
            if rel in used:
                continue
            if rel.lower().endswith(".png"):
                dataset.problems.append(
                    (rel, "label_without_image", f"{rel}: label_without_image (no image of that name)")
                )
            else:
                dataset.ignored.append(rel)
    dataset.samples.sort(key=lambda s: s.relpath)
    return dataset


def read(dataset: AnnotatedDataset, sample: AnnotatedSample, width: int, height: int) -> Targets:
    mask, _ = _decode(dataset.root, sample.annotation)
    rel = sample.annotation
    if mask.shape != (height, width):
        raise AnnotationError(
            rel, "size_mismatch", f"mask is {mask.shape[1]}x{mask.shape[0]}, the image {width}x{height}"
        )
    if dataset.names:
        values = np.unique(mask)
        unknown = [int(v) for v in values if v >= len(dataset.names) and v != dataset.ignore_value]
        if unknown:
            raise AnnotationError(rel, "unknown_class", f"labels {unknown[:5]} beyond the {len(dataset.names)} names")
    return Targets([], mask)


def annotation_files(dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str) -> list[str]:
    return [swap_dir(out_image_rel, dataset.extra["pairs"], ".png")]


def write(
    dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str, targets: Targets, width: int, height: int
) -> dict[str, bytes]:
    mask = targets.mask
    if mask is None or mask.ndim != 2 or mask.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{out_image_rel}: a semantic mask must be a 2-D uint8 or uint16 array")
    palette = _palette(dataset.root, sample.annotation)
    if palette is not None and mask.dtype == np.uint8:
        image = Image.fromarray(mask, mode="P")
        image.putpalette(palette)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
    else:
        ok, encoded = cv2.imencode(".png", np.ascontiguousarray(mask))
        if not ok:
            raise ValueError(f"{out_image_rel}: OpenCV could not encode the mask")
        data = encoded.tobytes()
    return {annotation_files(dataset, sample, out_image_rel)[0]: data}


def dataset_files(dataset: AnnotatedDataset, entries: list[tuple[Any, ...]]) -> dict[str, bytes]:
    """The names file and masks.yaml as read."""
    return {rel: text.encode() for rel, text in dataset.extra["files"].items()}


def _decode(root: Path, rel: str) -> tuple[np.ndarray, list[int] | None]:
    """(label map, palette or None). Pillow, not cv2: cv2 expands a palette PNG to colours."""
    from augcli.imageio import read_bytes

    try:
        data = read_bytes(root / rel)
    except ImageReadError as exc:
        raise AnnotationError(rel, "malformed_label", f"{exc.reason}: {exc.detail}") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise AnnotationError(rel, "malformed_label", f"a mask must be a PNG, this is {image.format}")
            mode = image.mode
            palette = image.getpalette() if mode == "P" else None
            array = np.array(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise AnnotationError(rel, "malformed_label", f"unreadable PNG: {exc}") from None
    if mode in ("I;16", "I;16B", "I"):
        if array.min(initial=0) < 0 or array.max(initial=0) > 65535:
            raise AnnotationError(rel, "malformed_label", "labels outside 0..65535")
        return array.astype(np.uint16), None
    if mode in ("L", "P"):
        return array.astype(np.uint8), palette
    raise AnnotationError(rel, "malformed_label", f"a mask must be a single-channel label map, this PNG is {mode}")


def _palette(root: Path, rel: str) -> list[int] | None:
    """The source mask's palette from its header alone (no pixel decoding); None for grey masks."""
    try:
        with Image.open(root / rel) as image:
            return image.getpalette() if image.mode == "P" else None
    except (OSError, SyntaxError, ValueError) as exc:
        raise AnnotationError(rel, "malformed_label", f"unreadable PNG: {exc}") from None


def _ignore_value(root: Path) -> int | None:
    if not (root / SETTINGS).is_file():
        return DEFAULT_IGNORE
    try:
        data = yaml.safe_load(read_text(root, SETTINGS))
    except yaml.YAMLError:
        raise DatasetError(f"{root / SETTINGS}: invalid YAML") from None
    if not isinstance(data, dict) or "ignore" not in data:
        return DEFAULT_IGNORE
    value = data["ignore"]
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535):
        raise DatasetError(f"{root / SETTINGS}: `ignore` must be an integer 0..65535 or null, got {value!r}")
    return value
