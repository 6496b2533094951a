"""Procedural surface effects: spatter (rain drops or mud on the lens) and frost. No texture files.

Family "weather": they change colour channels only (alpha is kept) and scale to the type's white.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import effects as k
from augcli.transforms.base import Range, Transform, bounded, new_seed, register, uniform


@register
class Spatter(Transform):
    """Splash rain drops (the scene blurred through them) or mud blobs over the image, as on a dirty lens."""

    family: ClassVar[str] = "weather"
    name: Literal["spatter"] = "spatter"
    mode: Literal["rain", "mud"] = Field("rain", description="what is spattered")
    intensity_range: Range = bounded((0.5, 0.8), 0, 1, "opacity of the blobs (0 keeps the image)")
    cutout_range: Range = bounded((0.65, 0.8), 0, 1, "share of the surface left clean")
    size_range: Range = bounded((0.01, 0.03), 0.001, 0.5, "blob scale, a fraction of the shorter side")
    example: ClassVar[dict[str, Any]] = {"name": "spatter", "mode": "mud", "cutout_range": [0.7, 0.85], "p": 0.2}

    def sample(self, rng, ctx):
        return {
            "intensity": uniform(rng, self.intensity_range),
            "cutout": uniform(rng, self.cutout_range),
            "size": uniform(rng, self.size_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.spatter(image, mode=self.mode, **params)


@register
class Frost(Transform):
    """Cover the image with procedural ice crystals, thicker towards the edges, as on a frosted window."""

    family: ClassVar[str] = "weather"
    name: Literal["frost"] = "frost"
    intensity_range: Range = bounded((0.3, 0.6), 0, 1, "opacity of the ice (0 keeps the image)")
    crystal_range: Range = bounded((0.04, 0.1), 0.005, 0.3, "crystal needle length, a fraction of the shorter side")
    example: ClassVar[dict[str, Any]] = {"name": "frost", "intensity_range": [0.3, 0.5], "p": 0.1}

    def sample(self, rng, ctx):
        return {
            "intensity": uniform(rng, self.intensity_range),
            "crystal": uniform(rng, self.crystal_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.frost(image, **params)
