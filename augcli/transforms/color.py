"""Colour and tone transforms. Alpha is never changed by these."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from augcli.kernels import color as k
from augcli.transforms.base import Range, Transform, bounded, register, uniform


class _Color(Transform):
    family: ClassVar[str] = "color"


@register
class BrightnessContrast(_Color):
    """Shift brightness by a fraction of white and scale contrast about the mean grey level."""

    name: Literal["brightness_contrast"] = "brightness_contrast"
    brightness_range: Range = bounded((-0.2, 0.2), -1, 1, "added light, as a fraction of white")
    contrast_range: Range = bounded((-0.2, 0.2), -1, 10, "contrast change; 0 keeps, -1 flattens to grey")
    example: ClassVar[dict[str, Any]] = {
        "name": "brightness_contrast",
        "brightness_range": [-0.2, 0.2],
        "contrast_range": [-0.2, 0.2],
    }

    def sample(self, rng, ctx):
        return {"brightness": uniform(rng, self.brightness_range), "contrast": uniform(rng, self.contrast_range)}

    def apply(self, image, params, ctx):
        return k.brightness_contrast(image, **params)


@register
class HueSaturationValue(_Color):
    """Rotate hue by degrees and scale saturation and value; grey images change value only."""

    name: Literal["hue_saturation_value"] = "hue_saturation_value"
    hue_shift_range: Range = bounded((-10.0, 10.0), -180, 180, "hue rotation in degrees")
    saturation_range: Range = bounded((-0.2, 0.2), -1, 10, "saturation change; -1 removes colour")
    value_range: Range = bounded((-0.1, 0.1), -1, 10, "value (brightness) change as a factor")
    example: ClassVar[dict[str, Any]] = {"name": "hue_saturation_value", "hue_shift_range": [-15, 15]}

    def sample(self, rng, ctx):
        return {
            "hue_shift": uniform(rng, self.hue_shift_range),
            "saturation": uniform(rng, self.saturation_range),
            "value": uniform(rng, self.value_range),
        }

    def apply(self, image, params, ctx):
        return k.hue_saturation_value(image, **params)
