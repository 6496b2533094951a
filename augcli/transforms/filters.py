"""More blur transforms: box blur, unsharp mask, glass blur and zoom blur. Alpha is never filtered."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import filters as k
from augcli.transforms.base import IntRange, Range, Transform, bounded, integer, new_seed, register, uniform


class _Blur(Transform):
    family: ClassVar[str] = "blur"


def odd_size(rng, low: int, high: int) -> int:
    """An odd size in [low, high] drawn uniformly; a range holding no odd size gives the one just below low."""
    odd = list(range(low | 1, high + 1, 2))
    if not odd:  # [4, 4]: the odd size just below, recorded as applied
        return low - 1
    return odd[integer(rng, 0, len(odd) - 1)]


@register
class BoxBlur(_Blur):
    """Replace each pixel by the mean of its odd-sized square neighbourhood (a box filter)."""

    name: Literal["box_blur"] = "box_blur"
    size_range: IntRange = bounded((3, 7), 1, 101, "neighbourhood side in pixels; only odd sizes are drawn")
    example: ClassVar[dict[str, Any]] = {"name": "box_blur", "size_range": [3, 5], "p": 0.3}

    def sample(self, rng, ctx):
        return {"size": odd_size(rng, *self.size_range)}

    def apply(self, image, params, ctx):
        return k.box_blur(image, size=params["size"])


@register
class UnsharpMask(_Blur):
    """Sharpen by adding back amount x the difference between the image and its Gaussian blur."""

    name: Literal["unsharp_mask"] = "unsharp_mask"
    sigma_range: Range = bounded((0.5, 2.0), 0, 20, "sigma in pixels of the blur that is subtracted")
    amount_range: Range = bounded((0.5, 1.5), 0, 5, "how much of the detail is added back (0 keeps the image)")
    threshold: float = Field(0.0, ge=0.0, le=1.0, description="detail smaller than this fraction of white is kept")
    example: ClassVar[dict[str, Any]] = {"name": "unsharp_mask", "sigma_range": [0.8, 1.5], "amount_range": [0.5, 1]}

    def apply(self, image, params, ctx):
        return k.unsharp_mask(image, **params, threshold=self.threshold)


@register
class GlassBlur(_Blur):
    """Frosted-glass blur: Gaussian blur, shuffle pixels within a small distance, blur again."""

    name: Literal["glass_blur"] = "glass_blur"
    sigma_range: Range = bounded((0.5, 0.8), 0, 10, "Gaussian sigma in pixels, before and after the shuffle")
    max_delta_range: IntRange = bounded((1, 3), 0, 20, "jitter in pixels of a shuffle pass (0: no shuffle)")
    iterations_range: IntRange = bounded((1, 2), 1, 5, "shuffle passes")
    example: ClassVar[dict[str, Any]] = {"name": "glass_blur", "sigma_range": [0.5, 0.8], "max_delta_range": [1, 2]}

    def sample(self, rng, ctx):
        return {
            "sigma": uniform(rng, self.sigma_range),
            "max_delta": integer(rng, *self.max_delta_range),
            "iterations": integer(rng, *self.iterations_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.glass_blur(image, **params)


@register
class ZoomBlur(_Blur):
    """Radial blur: average the image with copies of it zoomed in about the centre, as when zooming mid-shot."""

    name: Literal["zoom_blur"] = "zoom_blur"
    zoom_range: Range = bounded((0.05, 0.2), 0, 1, "largest extra magnification (0.1: 10%; 0 keeps the image)")
    steps_range: IntRange = bounded((6, 10), 1, 32, "number of zoomed copies averaged in")
    example: ClassVar[dict[str, Any]] = {"name": "zoom_blur", "zoom_range": [0.05, 0.15], "p": 0.2}

    def apply(self, image, params, ctx):
        return k.zoom_blur(image, **params)
