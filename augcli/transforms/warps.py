"""Safe rotation (nothing lost, or nothing invented) and the piecewise affine grid warp.

Their family is "geometry": targets follow safe_rotate through its exact matrix and piecewise_affine as a
dense warp (spatial.py).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import warps as k
from augcli.transforms.base import BorderMode, Range, bounded, new_seed, register, uniform
from augcli.transforms.geometry import _Warp


@register
class SafeRotate(_Warp):
    """Rotate by an angle and keep every pixel (expand the canvas) or only picture pixels (crop_valid)."""

    name: Literal["safe_rotate"] = "safe_rotate"
    angle_range: Range = bounded((-15.0, 15.0), -180, 180, "angle in degrees, counter-clockwise")
    mode: Literal["expand", "crop_valid"] = Field(
        "expand",
        description="expand: the canvas grows to hold the whole rotated picture (corners filled); crop_valid: "
        "the largest upright rectangle of picture pixels only, resized back to the input size",
    )
    border_mode: BorderMode = Field("constant", description="how the canvas corners of `expand` are filled")
    example: ClassVar[dict[str, Any]] = {"name": "safe_rotate", "angle_range": [-10, 10], "mode": "crop_valid"}

    def apply(self, image, params, ctx):
        return k.safe_rotate(image, angle=params["angle"], mode=self.mode, **self._warp_options())


@register
class PiecewiseAffine(_Warp):
    """Jitter a grid of control points and warp each triangle of the grid affinely (a local wobble)."""

    name: Literal["piecewise_affine"] = "piecewise_affine"
    scale_range: Range = bounded(
        (0.01, 0.03),
        0,
        0.25,
        "jitter of each control point (standard deviation), a fraction of the width (x) and height (y)",
    )
    rows: int = Field(4, ge=2, le=32, description="control points down the image (corners included)")
    cols: int = Field(4, ge=2, le=32, description="control points across the image (corners included)")
    example: ClassVar[dict[str, Any]] = {
        "name": "piecewise_affine",
        "scale_range": [0.02, 0.04],
        "rows": 5,
        "cols": 5,
        "border_mode": "reflect",
    }

    def sample(self, rng, ctx):
        return {"scale": uniform(rng, self.scale_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.piecewise_affine(image, rows=self.rows, cols=self.cols, **params, **self._warp_options())
