"""Annotated datasets: detection and segmentation layouts read into the one target model and written back.

Four layouts (YOLO, COCO, Pascal VOC, semantic masks), one module each with the same five functions:
`scan(root)`, `read(dataset, sample, width, height)`, `annotation_files(dataset, sample, out_image_rel)`,
`write(dataset, sample, out_image_rel, targets, width, height)` and `dataset_files(dataset, entries)`.
This package picks the module from `dataset.layout`, so callers never branch on the format.

Reading refuses a whole label file rather than dropping its bad lines (a silently shortened label file
teaches a detector that the dropped objects are background). `scan` already parses every label file it
can check without decoding images and lists the refusals in `dataset.problems`; `read` checks again with
the decoded image's size and raises AnnotationError (an ImageReadError: skipped and reported per image).

Writers are byte-deterministic: the same targets give the same bytes on every machine and worker count.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from augcli.errors import DatasetError
from augcli.formats.detect import detect
from augcli.formats.model import REASONS, AnnotatedDataset, AnnotatedSample, AnnotationError
from augcli.targets import Targets

LAYOUTS = ("auto", "classes", "yolo", "coco", "voc", "masks")
FORMATS = ("yolo", "coco", "voc", "masks")

# (split, out_image_rel, width, height, targets) in manifest order; an optional sixth item, the source
# AnnotatedSample, lets COCO keep the source image entry's extra fields (license, date_captured, ...).
Entry = tuple[Any, ...]

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "REASONS",
    "AnnotatedDataset",
    "AnnotatedSample",
    "AnnotationError",
    "Entry",
    "annotation_files",
    "dataset_files",
    "detect",
    "read",
    "scan",
    "write",
]


def _module(layout: str) -> ModuleType:
    if layout not in FORMATS:
        raise DatasetError(f"unknown annotation layout {layout!r}; expected one of {', '.join(FORMATS)}")
    return importlib.import_module(f"augcli.formats.{layout}")


def scan(root: str | Path, layout: str = "auto") -> AnnotatedDataset:
    if layout not in LAYOUTS:
        raise DatasetError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if layout == "auto":
        layout = detect(root)
    if layout == "classes":
        raise DatasetError(f"{root}: a class-folder dataset has no annotations; it is scanned by augcli.dataset")
    from augcli.formats.common import check_root

    return _module(layout).scan(check_root(root))


def read(dataset: AnnotatedDataset, sample: AnnotatedSample, width: int, height: int) -> Targets:
    return _module(dataset.layout).read(dataset, sample, width, height)


def annotation_files(dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str) -> list[str]:
    return _module(dataset.layout).annotation_files(dataset, sample, out_image_rel)


def write(
    dataset: AnnotatedDataset, sample: AnnotatedSample, out_image_rel: str, targets: Targets, width: int, height: int
) -> dict[str, bytes]:
    return _module(dataset.layout).write(dataset, sample, out_image_rel, targets, width, height)


def dataset_files(dataset: AnnotatedDataset, entries: list[Entry]) -> dict[str, bytes]:
    return _module(dataset.layout).dataset_files(dataset, entries)
