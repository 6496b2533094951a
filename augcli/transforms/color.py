"""Colour transforms: they reweight or move colour between channels. Alpha is never changed.

On grey (H, W) images, operations that only move colour between channels (channel_shuffle,
channel_dropout, sepia, saturation and hue) are the identity; rgb_shift shifts intensity by the mean
of its three shifts, and grayscale is the identity.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictBool

from augcli.kernels import color as k
from augcli.transforms.base import Fill, IntRange, Range, Transform, bounded, integer, register, uniform


class _Color(Transform):
    family: ClassVar[str] = "color"


def colour_channels(ctx) -> int:
    """Colour channels of the current image (alpha excluded): 3 for BGR(A), 1 for grey."""
    return 3 if ctx.channels >= 3 else 1


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

    def apply(self, image, params, ctx):
        return k.hue_saturation_value(image, **params)


@register
class RGBShift(_Color):
    """Add a separate constant to the red, green and blue channels (grey: their mean, to intensity)."""

    name: Literal["rgb_shift"] = "rgb_shift"
    r_shift_range: Range = bounded((-0.06, 0.06), -1, 1, "added to red, as a fraction of white")
    g_shift_range: Range = bounded((-0.06, 0.06), -1, 1, "added to green, as a fraction of white")
    b_shift_range: Range = bounded((-0.06, 0.06), -1, 1, "added to blue, as a fraction of white")
    example: ClassVar[dict[str, Any]] = {"name": "rgb_shift", "r_shift_range": [-0.1, 0.1], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.rgb_shift(image, **params)


@register
class ChannelShuffle(_Color):
    """Permute the colour channels at random (grey images are unchanged)."""

    name: Literal["channel_shuffle"] = "channel_shuffle"
    example: ClassVar[dict[str, Any]] = {"name": "channel_shuffle", "p": 0.1}

    def sample(self, rng, ctx):
        return {"order": [int(i) for i in rng.permutation(colour_channels(ctx))]}

    def apply(self, image, params, ctx):
        return k.channel_shuffle(image, **params)


@register
class Grayscale(_Color):
    """Replace colour by luma (BT.601); keeps three equal channels unless keep_channels is false."""

    name: Literal["grayscale"] = "grayscale"
    keep_channels: StrictBool = Field(
        True, description="write grey into all three colour channels; false gives a one-channel image (not with alpha)"
    )
    example: ClassVar[dict[str, Any]] = {"name": "grayscale", "keep_channels": True, "p": 0.1}

    def apply(self, image, params, ctx):
        return k.grayscale(image, keep_channels=self.keep_channels)


@register
class Sepia(_Color):
    """Tint towards old-photo brown with the classic sepia matrix (grey images are unchanged)."""

    name: Literal["sepia"] = "sepia"
    strength_range: Range = bounded((0.6, 1.0), 0, 1, "blend between the image (0) and full sepia (1)")
    example: ClassVar[dict[str, Any]] = {"name": "sepia", "strength_range": [0.5, 1.0], "p": 0.1}

    def apply(self, image, params, ctx):
        return k.sepia(image, **params)


@register
class ChannelDropout(_Color):
    """Set one or more randomly chosen colour channels to the `fill` value (grey images are unchanged)."""

    name: Literal["channel_dropout"] = "channel_dropout"
    count_range: IntRange = bounded((1, 1), 1, 2, "how many of the three colour channels are dropped")
    fill: Fill = 0.0  # the dropped channels' value (a list: each dropped channel takes its own)
    example: ClassVar[dict[str, Any]] = {"name": "channel_dropout", "count_range": [1, 1], "p": 0.1}

    def sample(self, rng, ctx):
        n = colour_channels(ctx)
        if n < 3:
            return {"channels": []}
        count = integer(rng, *self.count_range)
        # The first `count` of a permutation: the same uniform choice as rng.choice(replace=False), ~4x cheaper.
        return {"channels": sorted(int(c) for c in rng.permutation(n)[:count])}

    def apply(self, image, params, ctx):
        return k.channel_dropout(image, **params, fill=self.fill)


@register
class FancyPCA(_Color):
    """AlexNet's PCA colour augmentation: shift colours along the image's principal colour axes."""

    name: Literal["fancy_pca"] = "fancy_pca"
    alpha_std: float = Field(0.1, ge=0.0, le=2.0, description="standard deviation of the per-axis weights")
    example: ClassVar[dict[str, Any]] = {"name": "fancy_pca", "alpha_std": 0.1}

    def sample(self, rng, ctx):
        if self.alpha_std == 0:
            return {"alphas": [0.0, 0.0, 0.0]}
        return {"alphas": [float(a) for a in rng.normal(0.0, self.alpha_std, 3)]}

    def apply(self, image, params, ctx):
        return k.fancy_pca(image, **params)


JITTER_STEPS = ("brightness", "contrast", "saturation", "hue")


@register
class ColorJitter(_Color):
    """torchvision's ColorJitter: brightness, contrast, saturation and hue changes in a random order."""

    name: Literal["color_jitter"] = "color_jitter"
    brightness_range: Range = bounded((0.8, 1.2), 0, 10, "brightness factor; 1 keeps")
    contrast_range: Range = bounded((0.8, 1.2), 0, 10, "contrast factor about the mean grey; 1 keeps")
    saturation_range: Range = bounded((0.8, 1.2), 0, 10, "saturation factor; 0 is grey, 1 keeps")
    hue_range: Range = bounded((-10.0, 10.0), -180, 180, "hue rotation in degrees")
    example: ClassVar[dict[str, Any]] = {
        "name": "color_jitter",
        "brightness_range": [0.7, 1.3],
        "contrast_range": [0.7, 1.3],
        "saturation_range": [0.7, 1.3],
        "hue_range": [-10, 10],
    }

    def sample(self, rng, ctx):
        order = [JITTER_STEPS[int(i)] for i in rng.permutation(len(JITTER_STEPS))]
        return {
            "order": order,
            "brightness": uniform(rng, self.brightness_range),
            "contrast": uniform(rng, self.contrast_range),
            "saturation": uniform(rng, self.saturation_range),
            "hue": uniform(rng, self.hue_range),
        }

    def apply(self, image, params, ctx):
        return k.color_jitter(image, **params)
