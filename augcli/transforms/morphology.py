"""Morphological transforms: erode, dilate, open and close. Alpha is kept."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import morphology as k
from augcli.transforms.base import IntRange, Transform, bounded, register


@register
class Morphology(Transform):
    """Erode, dilate, open or close with a rectangular, elliptic or cross-shaped element of random size."""

    family: ClassVar[str] = "morphology"
    name: Literal["morphology"] = "morphology"
    op: Literal["erode", "dilate", "open", "close"] = Field("erode", description="the operation")
    shape: Literal["rect", "ellipse", "cross"] = Field("ellipse", description="structuring element shape")
    size_range: IntRange = bounded((2, 3), 1, 31, "element side in pixels (1 keeps the image)")
    example: ClassVar[dict[str, Any]] = {"name": "morphology", "op": "dilate", "shape": "ellipse", "size_range": [2, 4]}

    def apply(self, image, params, ctx):
        return k.morphology(image, op=self.op, shape=self.shape, size=params["size"])
