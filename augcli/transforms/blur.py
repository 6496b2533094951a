"""Blur transforms."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from augcli.kernels import blur as k
from augcli.transforms.base import Range, Transform, bounded, register, uniform


class _Blur(Transform):
    family: ClassVar[str] = "blur"


@register
class GaussianBlur(_Blur):
    """Blur with a Gaussian kernel whose sigma (in pixels) is drawn from a range."""

    name: Literal["gaussian_blur"] = "gaussian_blur"
    sigma_range: Range = bounded((0.5, 1.5), 0, 50, "blur sigma in pixels")
    example: ClassVar[dict[str, Any]] = {"name": "gaussian_blur", "sigma_range": [0.3, 1.2], "p": 0.3}

    def sample(self, rng, ctx):
        return {"sigma": uniform(rng, self.sigma_range)}

    def apply(self, image, params, ctx):
        return k.gaussian_blur(image, **params)
