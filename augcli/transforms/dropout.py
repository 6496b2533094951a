"""Erasing transforms (random erasing, cutout, grid dropout)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, StrictBool

from augcli.kernels import dropout as k
from augcli.transforms.base import Fill, IntRange, Range, Transform, bounded, integer, new_seed, register, uniform


class _Dropout(Transform):
    family: ClassVar[str] = "dropout"


@register
class RandomErasing(_Dropout):
    """Erase one rectangle of random area and aspect ratio (Zhong et al. 2017) with the `fill` colour or noise."""

    name: Literal["random_erasing"] = "random_erasing"
    area_range: Range = bounded((0.02, 0.2), 0, 1, "erased area as a fraction of the image")
    aspect_range: Range = bounded((0.3, 3.3), 0.05, 20, "rectangle aspect ratio, width / height")
    fill: Fill = 0.0
    random_fill: StrictBool = False
    example: ClassVar[dict[str, Any]] = {"name": "random_erasing", "area_range": [0.02, 0.15], "p": 0.5}

    def sample(self, rng, ctx):
        area = uniform(rng, self.area_range) * ctx.width * ctx.height
        log_aspect = (math.log(self.aspect_range[0]), math.log(self.aspect_range[1]))
        aspect = math.exp(uniform(rng, log_aspect))
        w = max(1, min(ctx.width, int(round(math.sqrt(area * aspect)))))
        h = max(1, min(ctx.height, int(round(math.sqrt(area / aspect)))))
        box = [integer(rng, 0, ctx.width - w), integer(rng, 0, ctx.height - h), w, h]
        params: dict[str, Any] = {"boxes": [box]}
        if self.random_fill:
            params["noise_seed"] = new_seed(rng)
        return params

    def apply(self, image, params, ctx):
        return k.erase(image, boxes=params["boxes"], fill=self.fill, noise_seed=params.get("noise_seed"))


@register
class CoarseDropout(_Dropout):
    """Erase several rectangles (cutout), count and sizes drawn from ranges, with the `fill` colour or noise."""

    name: Literal["coarse_dropout"] = "coarse_dropout"
    holes_range: IntRange = bounded((1, 8), 0, 1000, "number of holes")
    hole_width_range: Range = bounded((0.05, 0.15), 0, 1, "hole width as a fraction of the image width")
    hole_height_range: Range = bounded((0.05, 0.15), 0, 1, "hole height as a fraction of the image height")
    fill: Fill = 0.0
    random_fill: StrictBool = Field(False, description="fill holes with uniform noise instead of `fill`")
    example: ClassVar[dict[str, Any]] = {
        "name": "coarse_dropout",
        "holes_range": [2, 6],
        "hole_width_range": [0.05, 0.12],
        "hole_height_range": [0.05, 0.12],
        "random_fill": True,
    }

    def sample(self, rng, ctx):
        # All holes drawn at once (numpy arrays, not four generator calls per hole: the Python loop cost
        # more than erasing the holes). Same distributions: sizes uniform in the ranges, positions
        # uniform over the places the hole fits.
        count = integer(rng, *self.holes_range)
        widths = _sizes(rng, self.hole_width_range, count, ctx.width)
        heights = _sizes(rng, self.hole_height_range, count, ctx.height)
        # floor(u * places) is uniform over the places; rng.integers with an array of bounds is ~5x slower.
        xs = (rng.random(count) * (ctx.width - widths + 1)).astype(np.int64)
        ys = (rng.random(count) * (ctx.height - heights + 1)).astype(np.int64)
        boxes = [[int(x), int(y), int(w), int(h)] for x, y, w, h in zip(xs, ys, widths, heights, strict=True)]
        params: dict[str, Any] = {"boxes": boxes}
        if self.random_fill:
            params["noise_seed"] = new_seed(rng)
        return params

    def apply(self, image, params, ctx):
        return k.erase(image, boxes=params["boxes"], fill=self.fill, noise_seed=params.get("noise_seed"))


def _sizes(rng, fraction_range, count: int, side: int) -> np.ndarray:
    """`count` hole sides: a fraction drawn from the range times the side, rounded, within [1, side]."""
    low, high = fraction_range
    fractions = np.full(count, float(low)) if low == high else rng.uniform(low, high, count)
    return np.clip(np.rint(fractions * side), 1, side).astype(np.int64)


@register
class GridDropout(_Dropout):
    """Erase a regular grid of square holes (GridMask) at a random offset, with the `fill` colour or noise."""

    name: Literal["grid_dropout"] = "grid_dropout"
    cell_size_range: Range = bounded((0.1, 0.2), 0.01, 1, "grid cell side as a fraction of the shorter side")
    ratio_range: Range = bounded((0.4, 0.6), 0, 1, "hole side as a fraction of the cell side")
    fill: Fill = 0.0
    random_fill: StrictBool = Field(False, description="fill holes with uniform noise instead of `fill`")
    example: ClassVar[dict[str, Any]] = {
        "name": "grid_dropout",
        "cell_size_range": [0.1, 0.15],
        "ratio_range": [0.5, 0.5],
    }

    def sample(self, rng, ctx):
        unit = max(2, round(uniform(rng, self.cell_size_range) * min(ctx.width, ctx.height)))
        params: dict[str, Any] = {
            "unit": unit,
            "hole": min(unit, round(uniform(rng, self.ratio_range) * unit)),
            "offset_x": integer(rng, 0, unit - 1),
            "offset_y": integer(rng, 0, unit - 1),
        }
        if self.random_fill:
            params["noise_seed"] = new_seed(rng)
        return params

    def apply(self, image, params, ctx):
        return k.grid_dropout(image, **params, fill=self.fill)
