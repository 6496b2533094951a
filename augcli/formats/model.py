"""The shared types of the annotation formats: what a scan returns and what a per-file refusal raises.

They live here rather than in `formats/__init__.py` so the format modules can import them without importing
the package that dispatches to them (the import graph stays acyclic); `augcli.formats` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.errors import AugcliError, ImageReadError


@dataclass(frozen=True)
class AnnotatedSample:
    """One source image and where its annotations are.

    `annotation` is opaque outside the format that made it: a label file's relpath (YOLO, VOC, masks) or
    "<json relpath>#<image id>" (COCO). "" means the image has no annotation file, which YOLO and VOC read
    as "no objects".
    """

    relpath: str  # the image, posix, relative to the dataset root
    split: str | None
    annotation: str


@dataclass
class AnnotatedDataset:
    root: Path
    layout: str  # "yolo" | "coco" | "voc" | "masks"
    samples: list[AnnotatedSample] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # category names; the index is Instance.category
    # (relpath, reason, message): the refused IMAGE's relpath (the message names the annotation file and line),
    # or the annotation file's own relpath when it has no image (label_without_image)
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # relpaths deliberately not read (rules in each format)
    ignore_value: int | None = None  # masks: the label value that means "not annotated"
    extra: dict[str, Any] = field(default_factory=dict)  # what the writers need, small and picklable

    def splits(self) -> list[str | None]:
        return sorted({s.split for s in self.samples}, key=lambda v: v or "")


class AnnotationError(ImageReadError):
    """One image's annotations cannot be used; the run skips that image and reports it.

    A subclass of ImageReadError on purpose: every path that already skips and reports an unreadable
    image (reason code in the summary and the manifest) handles a bad label file the same way.
    `path` is the annotation file relative to the dataset root, `line` its 1-based line when known.
    """

    def __init__(self, path: str, reason: str, detail: str = "", line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        AugcliError.__init__(self, f"{where}: {reason}" + (f" ({detail})" if detail else ""))


# The reason codes a format reports, in one place so the summary and the tests agree on them.
REASONS = (
    "label_without_image",  # an annotation file whose image does not exist
    "image_without_mask",  # masks: an image with no label map (no "no objects" reading exists for masks)
    "image_not_in_annotations",  # COCO: an image file the split's JSON does not list
    "missing_image",  # COCO: the JSON lists an image file that does not exist
    "duplicate_image",  # COCO: two JSON entries name the same image file
    "symlink_outside",  # the class-folder scanner's path-safety rule: a symlink leaving the root
    "not_a_file",  # ... or a device, pipe or socket
    "unknown_class",  # a class id/name outside the dataset's names
    "box_outside_image",  # a coordinate farther outside the image than the format's tolerance
    "degenerate_box",  # zero or negative width or height
    "malformed_label",  # unparsable line, XML or JSON entry; wrong token count; non-numeric values
    "size_mismatch",  # the annotation's recorded image size (or the mask's) differs from the decoded image
)
