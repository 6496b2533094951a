"""Detection and segmentation targets: what travels with an image through every transform.

Coordinates are continuous pixel coordinates with the origin at the image's top-left corner: pixel column i
spans [i, i + 1), so a box covering a whole W x H image is [0, 0, W, H] (COCO's and VOC's convention after
VOC's 1-based corners are converted; YOLO's normalised centres are multiplied out). Every format reader
produces this model and every writer consumes it, so a transform maps targets once for all formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool


@dataclass
class Instance:
    """One annotated object."""

    category: int  # class id: an index into the dataset's category names
    box: list[float]  # [x0, y0, x1, y1], x0 < x1, y0 < y1
    polygons: list[list[float]] = field(default_factory=list)  # each flat [x, y, x, y, ...], >= 3 points
    rle: dict[str, Any] | None = None  # COCO run-length mask {"size": [h, w], "counts": ...}, carried through
    attributes: dict[str, Any] = field(default_factory=dict)  # format fields kept verbatim (iscrowd, difficult...)
    key: int = -1  # the object's index in its source image, to count it once however many steps clip it

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"category": self.category, "box": [_num(v) for v in self.box]}
        if self.polygons:
            record["polygons"] = [[_num(v) for v in poly] for poly in self.polygons]
        if self.rle is not None:
            record["rle"] = self.rle
        if self.attributes:
            record["attributes"] = self.attributes
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Instance:
        return cls(
            int(record["category"]),
            [float(v) for v in record["box"]],
            [[float(v) for v in poly] for poly in record.get("polygons", [])],
            record.get("rle"),
            dict(record.get("attributes", {})),
        )


@dataclass
class Targets:
    """Everything annotated on one image. `mask` is a semantic label map (H x W, uint8 or uint16)."""

    instances: list[Instance] = field(default_factory=list)
    mask: np.ndarray | None = None

    def copy(self) -> Targets:
        return Targets(
            [
                Instance(i.category, list(i.box), [list(p) for p in i.polygons], i.rle, dict(i.attributes), i.key)
                for i in self.instances
            ],
            None if self.mask is None else self.mask.copy(),
        )


class TargetSettings(BaseModel):
    """Recipe key `targets:`: how boxes, polygons and masks are kept or dropped (detection and segmentation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_area: float = Field(1.0, ge=0, description="drop a box smaller than this many square pixels after a step")
    min_visibility: float = Field(
        0.0, ge=0, le=1, description="drop a box keeping less than this fraction of its area inside the image"
    )
    ignore: int = Field(255, ge=0, le=65535, description="mask label for pixels a warp uncovers or erasing removes")
    erased_visibility: float = Field(
        0.5, ge=0, le=1, description="erasing/cutmix drop a box keeping less than this fraction uncovered (0: never)"
    )
    erase_mask: StrictBool = Field(True, description="erasing writes the ignore label into masks")
    empty: Literal["keep", "skip", "retry"] = Field(
        "keep",
        description="when a copy loses every box: keep it, skip it (a skipped row), or draw again (up to 10 times, "
        "then keep)",
    )


def _num(value: float) -> int | float:
    """Whole numbers as ints, others rounded to 1/1000 px: stable, short JSON."""
    rounded = round(float(value), 3)
    return int(rounded) if rounded.is_integer() else rounded
