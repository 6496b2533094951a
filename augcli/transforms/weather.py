"""Weather and light transforms: fog, rain, snow, shadows, sun flare, brightness gradients.

They change colour channels only (alpha is kept) and scale to the image type's white, so grey and
16-bit images get the same look as 8-bit colour.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field

from augcli.kernels import weather as k
from augcli.transforms.base import (
    Colour,
    IntRange,
    Range,
    Transform,
    bounded,
    colour_field,
    integer,
    new_seed,
    register,
    uniform,
)


class _Weather(Transform):
    family: ClassVar[str] = "weather"


@register
class Fog(_Weather):
    """Veil the scene in patchy light-grey fog that lowers contrast."""

    name: Literal["fog"] = "fog"
    intensity_range: Range = bounded((0.25, 0.5), 0, 1, "share of fog colour mixed in at the densest patches")
    example: ClassVar[dict[str, Any]] = {"name": "fog", "intensity_range": [0.2, 0.4], "p": 0.3}

    def sample(self, rng, ctx):
        return {"intensity": uniform(rng, self.intensity_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.fog(image, **params)


@register
class Rain(_Weather):
    """Dim the scene and draw slanted, light rain streaks."""

    name: Literal["rain"] = "rain"
    density_range: Range = bounded((12.0, 25.0), 0, 200, "streaks per 100 x 100 pixels")
    length_range: Range = bounded((0.05, 0.1), 0.005, 1, "streak length as a fraction of the image height")
    angle_range: Range = bounded((-12.0, 12.0), -80, 80, "slant from vertical in degrees (same for all streaks)")
    example: ClassVar[dict[str, Any]] = {"name": "rain", "density_range": [10, 20], "angle_range": [-10, 10]}

    def sample(self, rng, ctx):
        return {
            "density": uniform(rng, self.density_range),
            "length": uniform(rng, self.length_range),
            "angle": uniform(rng, self.angle_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.rain(image, **params)


@register
class Snow(_Weather):
    """Scatter soft white snowflakes over a light haze."""

    name: Literal["snow"] = "snow"
    density_range: Range = bounded((10.0, 20.0), 0, 200, "flakes per 100 x 100 pixels")
    flake_size_range: Range = bounded((0.004, 0.012), 0.0005, 0.1, "flake radius as a fraction of the shorter side")
    example: ClassVar[dict[str, Any]] = {"name": "snow", "density_range": [8, 16]}

    def sample(self, rng, ctx):
        return {
            "density": uniform(rng, self.density_range),
            "flake_size": uniform(rng, self.flake_size_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.snow(image, **params)


@register
class Shadow(_Weather):
    """Darken one or more random soft-edged polygons, as if something blocked the light."""

    name: Literal["shadow"] = "shadow"
    count_range: IntRange = bounded((1, 2), 1, 20, "number of shadow polygons")
    vertices_range: IntRange = bounded((4, 7), 3, 20, "corners per polygon")
    size_range: Range = bounded((0.2, 0.45), 0.01, 2, "polygon radius as a fraction of the longer side")
    darkness_range: Range = bounded((0.3, 0.6), 0, 1, "light removed inside a shadow (1 is black)")
    example: ClassVar[dict[str, Any]] = {"name": "shadow", "count_range": [1, 2], "darkness_range": [0.3, 0.6]}

    def sample(self, rng, ctx):
        longer = max(ctx.width, ctx.height)
        polygons = []
        for _ in range(integer(rng, *self.count_range)):
            cx, cy = uniform(rng, (0, ctx.width - 1)), uniform(rng, (0, ctx.height - 1))
            radius = uniform(rng, self.size_range) * longer
            vertices = integer(rng, *self.vertices_range)
            # Sorted angles around the centre give a simple (non self-intersecting) polygon.
            angles = sorted(uniform(rng, (0, 2 * math.pi)) for _ in range(vertices))
            spans = [radius * uniform(rng, (0.5, 1.0)) for _ in range(vertices)]
            polygons.append(
                [[round(cx + r * math.cos(a)), round(cy + r * math.sin(a))] for a, r in zip(angles, spans, strict=True)]
            )
        return {"polygons": polygons, "darkness": uniform(rng, self.darkness_range)}

    def apply(self, image, params, ctx):
        return k.shadow(image, **params)


@register
class SunFlare(_Weather):
    """Add a bright sun glow with faint lens halos along the line through the image centre."""

    name: Literal["sun_flare"] = "sun_flare"
    center_x_range: Range = bounded((0.0, 1.0), 0, 1, "flare centre, a fraction of the width")
    center_y_range: Range = bounded((0.0, 0.4), 0, 1, "flare centre, a fraction of the height")
    size_range: Range = bounded((0.15, 0.3), 0.01, 2, "glow radius as a fraction of the shorter side")
    intensity_range: Range = bounded((0.6, 0.9), 0, 1, "glow brightness at its centre")
    halos_range: IntRange = bounded((3, 6), 0, 20, "number of halo discs")
    # The default is the former (0.85, 0.95, 1.0) fractions of white, exactly: the same output bytes.
    color: Colour = colour_field([216.75, 242.25, 255.0], "flare colour (grey images use its luma)")
    example: ClassVar[dict[str, Any]] = {"name": "sun_flare", "center_y_range": [0, 0.3], "p": 0.2}

    def sample(self, rng, ctx):
        short = min(ctx.width, ctx.height)
        x = uniform(rng, self.center_x_range) * (ctx.width - 1)
        y = uniform(rng, self.center_y_range) * (ctx.height - 1)
        intensity = uniform(rng, self.intensity_range)
        to_centre = ((ctx.width - 1) / 2 - x, (ctx.height - 1) / 2 - y)
        halos = []
        for _ in range(integer(rng, *self.halos_range)):
            t = uniform(rng, (0.3, 2.0))
            halos.append(
                [
                    x + t * to_centre[0],
                    y + t * to_centre[1],
                    uniform(rng, (0.03, 0.12)) * short,
                    uniform(rng, (0.1, 0.3)) * intensity,
                ]
            )
        radius = uniform(rng, self.size_range) * short
        return {"x": x, "y": y, "radius": radius, "intensity": intensity, "halos": halos}

    def apply(self, image, params, ctx):
        return k.sun_flare(image, **params, color=self.color)


@register
class BrightnessGradient(_Weather):
    """Darken smoothly towards the edges (vignette) or towards one side (linear gradient)."""

    name: Literal["brightness_gradient"] = "brightness_gradient"
    mode: Literal["vignette", "linear"] = Field("vignette", description="gradient shape")
    strength_range: Range = bounded((0.2, 0.5), -1, 1, "light removed at the darkest point; negative brightens")
    angle_range: Range = bounded((0.0, 360.0), -360, 360, "linear: direction it darkens towards (0 right, 90 down)")
    example: ClassVar[dict[str, Any]] = {"name": "brightness_gradient", "mode": "linear", "strength_range": [0.2, 0.4]}

    def sample(self, rng, ctx):
        params = {"strength": uniform(rng, self.strength_range)}
        if self.mode == "linear":
            params["angle"] = uniform(rng, self.angle_range)
        return params

    def apply(self, image, params, ctx):
        return k.brightness_gradient(image, mode=self.mode, **params)
