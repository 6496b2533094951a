"""Geometric transforms: flips, rotations, affine maps, crops."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import geometry as k
from augcli.transforms.base import (
    BorderMode,
    Fill,
    Interpolation,
    IntRange,
    Range,
    Transform,
    bounded,
    integer,
    register,
    uniform,
)


class _Geometric(Transform):
    family: ClassVar[str] = "geometry"


@register
class HFlip(_Geometric):
    """Mirror the image left to right."""

    name: Literal["hflip"] = "hflip"
    example: ClassVar[dict[str, Any]] = {"name": "hflip", "p": 0.5}

    def apply(self, image, params, ctx):
        return k.hflip(image)


@register
class VFlip(_Geometric):
    """Mirror the image top to bottom."""

    name: Literal["vflip"] = "vflip"
    example: ClassVar[dict[str, Any]] = {"name": "vflip", "p": 0.5}

    def apply(self, image, params, ctx):
        return k.vflip(image)


@register
class Rot90(_Geometric):
    """Rotate by a whole number of quarter turns, counter-clockwise (width and height swap for odd turns)."""

    name: Literal["rot90"] = "rot90"
    k_range: IntRange = bounded((1, 3), 0, 3, "quarter turns to choose from, inclusive")
    example: ClassVar[dict[str, Any]] = {"name": "rot90", "k_range": [1, 3], "p": 0.5}

    def sample(self, rng, ctx):
        return {"k": integer(rng, *self.k_range)}

    def apply(self, image, params, ctx):
        return k.rot90(image, k=params["k"])


class _Warp(_Geometric):
    border_mode: BorderMode = Field("reflect", description="how uncovered pixels are filled (numpy.pad names)")
    fill: Fill = 0.0
    interpolation: Interpolation = Field("linear", description="resampling filter")

    def _warp_options(self) -> dict[str, Any]:
        return {"border_mode": self.border_mode, "fill": self.fill, "interpolation": self.interpolation}


@register
class Rotate(_Warp):
    """Rotate by an angle in degrees (counter-clockwise) about the centre, keeping the image size."""

    name: Literal["rotate"] = "rotate"
    angle_range: Range = bounded((-15.0, 15.0), -180, 180, "angle in degrees")
    example: ClassVar[dict[str, Any]] = {"name": "rotate", "angle_range": [-20, 20], "border_mode": "reflect"}

    def sample(self, rng, ctx):
        return {"angle": uniform(rng, self.angle_range)}

    def apply(self, image, params, ctx):
        return k.rotate(image, angle=params["angle"], **self._warp_options())


@register
class Affine(_Warp):
    """Scale, translate, shear and rotate in one warp about the centre, keeping the image size."""

    name: Literal["affine"] = "affine"
    scale_range: Range = bounded((0.9, 1.1), 0.05, 20, "zoom factor; below 1 shrinks")
    translate_x_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the width")
    translate_y_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the height")
    shear_x_range: Range = bounded((0.0, 0.0), -80, 80, "horizontal shear in degrees")
    shear_y_range: Range = bounded((0.0, 0.0), -80, 80, "vertical shear in degrees")
    angle_range: Range = bounded((0.0, 0.0), -180, 180, "rotation in degrees")
    example: ClassVar[dict[str, Any]] = {
        "name": "affine",
        "scale_range": [0.8, 1.2],
        "translate_x_range": [-0.1, 0.1],
        "shear_x_range": [-10, 10],
        "border_mode": "constant",
    }

    def sample(self, rng, ctx):
        return {
            "scale": uniform(rng, self.scale_range),
            "translate_x": uniform(rng, self.translate_x_range),
            "translate_y": uniform(rng, self.translate_y_range),
            "shear_x": uniform(rng, self.shear_x_range),
            "shear_y": uniform(rng, self.shear_y_range),
            "angle": uniform(rng, self.angle_range),
        }

    def apply(self, image, params, ctx):
        return k.affine(image, **params, **self._warp_options())


@register
class RandomResizedCrop(_Geometric):
    """Crop a random region of given area fraction and aspect ratio, then resize it back (Inception-style)."""

    name: Literal["random_resized_crop"] = "random_resized_crop"
    scale_range: Range = bounded((0.5, 1.0), 0.01, 1, "crop area as a fraction of the image area")
    ratio_range: Range = bounded((0.75, 4 / 3), 0.1, 10, "crop aspect ratio, width / height")
    size: tuple[int, int] | None = None
    interpolation: Interpolation = "linear"
    example: ClassVar[dict[str, Any]] = {"name": "random_resized_crop", "scale_range": [0.6, 1.0]}

    def sample(self, rng, ctx):
        out_width, out_height = self.size or (ctx.width, ctx.height)
        x, y, w, h = _crop_box(rng, ctx.width, ctx.height, self.scale_range, self.ratio_range)
        return {"x": x, "y": y, "width": w, "height": h, "out_width": out_width, "out_height": out_height}

    def apply(self, image, params, ctx):
        return k.crop_and_resize(image, **params, interpolation=self.interpolation)


def _crop_box(rng, width: int, height: int, scale_range, ratio_range) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop search: ten tries at the asked area and ratio, else the centre."""
    area = width * height
    log_ratio = (math.log(ratio_range[0]), math.log(ratio_range[1]))
    for _ in range(10):
        target = area * uniform(rng, scale_range)
        ratio = math.exp(uniform(rng, log_ratio))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return integer(rng, 0, width - w), integer(rng, 0, height - h), w, h
    ratio = width / height
    if ratio < ratio_range[0]:
        w, h = width, int(round(width / ratio_range[0]))
    elif ratio > ratio_range[1]:
        w, h = int(round(height * ratio_range[1])), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h
