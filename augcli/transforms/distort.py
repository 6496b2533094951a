"""Non-affine geometric transforms: perspective, lens, grid and elastic distortion.

Their family is "geometry": they move pixels, so alpha moves with the picture.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import distort as k
from augcli.transforms.base import Range, bounded, new_seed, register, uniform
from augcli.transforms.geometry import _Warp


@register
class Perspective(_Warp):
    """Move each corner by a random amount and warp the picture to match (a camera viewpoint change)."""

    name: Literal["perspective"] = "perspective"
    scale_range: Range = bounded((0.02, 0.08), 0, 0.4, "largest corner movement, a fraction of width/height")
    example: ClassVar[dict[str, Any]] = {"name": "perspective", "scale_range": [0.03, 0.1], "border_mode": "constant"}

    def sample(self, rng, ctx):
        reach = uniform(rng, self.scale_range)
        return {"corners": [[uniform(rng, (-reach, reach)), uniform(rng, (-reach, reach))] for _ in range(4)]}

    def apply(self, image, params, ctx):
        return k.perspective(image, corners=params["corners"], **self._warp_options())


@register
class OpticalDistortion(_Warp):
    """Radial lens distortion about the centre: k > 0 barrel (lines bow outwards), k < 0 pincushion."""

    name: Literal["optical_distortion"] = "optical_distortion"
    k_range: Range = bounded((-0.15, 0.15), -1, 1, "radial coefficient; 0 is no distortion")
    example: ClassVar[dict[str, Any]] = {"name": "optical_distortion", "k_range": [-0.2, 0.2]}

    def apply(self, image, params, ctx):
        return k.optical_distortion(image, k=params["k"], **self._warp_options())


@register
class GridDistortion(_Warp):
    """Cut the image into bands along each axis and stretch or squeeze each band by a random amount."""

    name: Literal["grid_distortion"] = "grid_distortion"
    steps: int = Field(5, ge=1, le=64, description="bands per axis")
    distort_range: Range = bounded((-0.3, 0.3), -0.99, 5, "relative change of each band's width; 0 keeps it")
    example: ClassVar[dict[str, Any]] = {"name": "grid_distortion", "steps": 6, "distort_range": [-0.3, 0.3]}

    def sample(self, rng, ctx):
        return {
            "x_steps": [uniform(rng, self.distort_range) for _ in range(self.steps)],
            "y_steps": [uniform(rng, self.distort_range) for _ in range(self.steps)],
        }

    def apply(self, image, params, ctx):
        return k.grid_distortion(image, **params, **self._warp_options())


@register
class ElasticTransform(_Warp):
    """Displace pixels along a smoothed random field (Simard et al. 2003): a rubber-sheet wobble."""

    name: Literal["elastic_transform"] = "elastic_transform"
    alpha_range: Range = bounded((0.01, 0.02), 0, 0.5, "RMS displacement, a fraction of the shorter side")
    sigma_range: Range = bounded((0.04, 0.08), 0.001, 1, "smoothness (Gaussian sigma), a fraction of the shorter side")
    example: ClassVar[dict[str, Any]] = {
        "name": "elastic_transform",
        "alpha_range": [0.01, 0.03],
        "sigma_range": [0.05, 0.08],
    }

    def sample(self, rng, ctx):
        return {
            "alpha": uniform(rng, self.alpha_range),
            "sigma": uniform(rng, self.sigma_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.elastic_transform(image, **params, **self._warp_options())
