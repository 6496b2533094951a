"""Light and optics: colour temperature (Planckian jitter), illumination patterns, chromatic aberration.

Pixel transforms: objects stay where they are (chromatic aberration moves only the red and blue fringes by a
fraction of a pixel to a few pixels). Alpha is never changed; grey images have no colour to tint or split.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import lighting as k
from augcli.transforms.base import Range, Transform, bounded, integer, register, uniform


@register
class PlanckianJitter(Transform):
    """Re-light as by a black body of random colour temperature (6500 K keeps the image; grey unchanged)."""

    family: ClassVar[str] = "color"
    name: Literal["planckian_jitter"] = "planckian_jitter"
    kelvin_range: Range = bounded((4000.0, 10000.0), 1000, 40000, "light temperature in kelvin (low: warm, high: cold)")
    example: ClassVar[dict[str, Any]] = {"name": "planckian_jitter", "kelvin_range": [3500, 9000], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.planckian_jitter(image, **params)


@register
class Illumination(Transform):
    """Brighten or darken by a smooth light pattern: a linear ramp, from one corner, or a Gaussian spot."""

    family: ClassVar[str] = "weather"
    name: Literal["illumination"] = "illumination"
    mode: Literal["linear", "corner", "gaussian"] = Field("gaussian", description="shape of the light pattern")
    intensity_range: Range = bounded((-0.3, 0.3), -1, 1, "light added where the pattern peaks; negative darkens")
    angle_range: Range = bounded((0.0, 360.0), -360, 360, "linear: direction it brightens towards (0 right, 90 down)")
    center_x_range: Range = bounded((0.2, 0.8), 0, 1, "gaussian: spot centre, a fraction of the width")
    center_y_range: Range = bounded((0.2, 0.8), 0, 1, "gaussian: spot centre, a fraction of the height")
    sigma_range: Range = bounded((0.2, 0.5), 0.01, 2, "gaussian: spot sigma, a fraction of the longer side")
    example: ClassVar[dict[str, Any]] = {"name": "illumination", "mode": "corner", "intensity_range": [-0.3, 0.3]}

    def sample(self, rng, ctx):
        params: dict[str, Any] = {"intensity": uniform(rng, self.intensity_range)}
        if self.mode == "linear":
            params["angle"] = uniform(rng, self.angle_range)
        elif self.mode == "corner":
            params["corner"] = integer(rng, 0, 3)
        else:
            params["center_x"] = uniform(rng, self.center_x_range)
            params["center_y"] = uniform(rng, self.center_y_range)
            params["sigma"] = uniform(rng, self.sigma_range)
        return params

    def apply(self, image, params, ctx):
        return k.illumination(image, mode=self.mode, **params)


@register
class ChromaticAberration(Transform):
    """Lens colour fringes: magnify the red and blue channels slightly about the centre (grey unchanged)."""

    family: ClassVar[str] = "color"
    name: Literal["chromatic_aberration"] = "chromatic_aberration"
    red_scale_range: Range = bounded((-0.01, 0.01), -0.1, 0.1, "red magnification minus 1 (0.01: 1% larger)")
    blue_scale_range: Range = bounded((-0.01, 0.01), -0.1, 0.1, "blue magnification minus 1")
    example: ClassVar[dict[str, Any]] = {
        "name": "chromatic_aberration",
        "red_scale_range": [0.002, 0.01],
        "blue_scale_range": [-0.01, -0.002],
    }

    def apply(self, image, params, ctx):
        return k.chromatic_aberration(image, **params)
