"""Blur transforms: Gaussian, motion, median and defocus. Alpha is never blurred."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from augcli.kernels import blur as k
from augcli.transforms.base import IntRange, Range, Transform, bounded, integer, register


class _Blur(Transform):
    family: ClassVar[str] = "blur"


@register
class GaussianBlur(_Blur):
    """Blur with a Gaussian kernel whose sigma (in pixels) is drawn from a range."""

    name: Literal["gaussian_blur"] = "gaussian_blur"
    sigma_range: Range = bounded((0.5, 1.5), 0, 50, "blur sigma in pixels")
    example: ClassVar[dict[str, Any]] = {"name": "gaussian_blur", "sigma_range": [0.3, 1.2], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.gaussian_blur(image, **params)


@register
class MotionBlur(_Blur):
    """Blur along a straight line of random length and angle, as from camera shake."""

    name: Literal["motion_blur"] = "motion_blur"
    length_range: IntRange = bounded((3, 9), 1, 101, "streak length in pixels (1 keeps the image)")
    angle_range: Range = bounded((-90.0, 90.0), -180, 180, "direction in degrees, 0 is horizontal")
    example: ClassVar[dict[str, Any]] = {"name": "motion_blur", "length_range": [3, 11], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.motion_blur(image, **params)


@register
class MedianBlur(_Blur):
    """Replace each pixel by the median of its odd-sized square neighbourhood."""

    name: Literal["median_blur"] = "median_blur"
    size_range: IntRange = bounded((3, 5), 1, 31, "neighbourhood side in pixels; only odd sizes are drawn")
    example: ClassVar[dict[str, Any]] = {"name": "median_blur", "size_range": [3, 5], "p": 0.2}

    def sample(self, rng, ctx):
        low, high = self.size_range
        odd = list(range(low | 1, high + 1, 2))
        if not odd:  # [4, 4]: the odd size just below, recorded as applied
            return {"size": low - 1}
        return {"size": odd[integer(rng, 0, len(odd) - 1)]}

    def apply(self, image, params, ctx):
        return k.median_blur(image, size=params["size"])


@register
class Defocus(_Blur):
    """Out-of-focus blur: convolve with a disc of random radius, its edge slightly softened."""

    name: Literal["defocus"] = "defocus"
    radius_range: IntRange = bounded((2, 4), 0, 50, "disc radius in pixels (0 keeps the image)")
    alias_blur_range: Range = bounded((0.1, 0.5), 0, 5, "Gaussian sigma softening the disc edge")
    example: ClassVar[dict[str, Any]] = {"name": "defocus", "radius_range": [2, 5], "p": 0.2}

    def apply(self, image, params, ctx):
        return k.defocus(image, **params)
