"""Tone transforms: curves on values (gamma, posterize, solarize, equalise, ...) and sharpening filters.

Curves are defined on values as a fraction of white, so 8-bit, 16-bit and grey images get the same
look. Alpha is never changed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictBool

from augcli.kernels import tone as k
from augcli.transforms.base import IntRange, Range, Transform, bounded, register, uniform


class _Tone(Transform):
    family: ClassVar[str] = "color"


@register
class Gamma(_Tone):
    """Apply a power-law curve: gamma below 1 brightens shadows, above 1 darkens them."""

    name: Literal["gamma"] = "gamma"
    gamma_range: Range = bounded((0.8, 1.25), 0.05, 20, "exponent; 1 keeps the image")
    example: ClassVar[dict[str, Any]] = {"name": "gamma", "gamma_range": [0.7, 1.4]}

    def apply(self, image, params, ctx):
        return k.gamma(image, **params)


@register
class Invert(_Tone):
    """Turn the image into its negative (white minus each value)."""

    name: Literal["invert"] = "invert"
    example: ClassVar[dict[str, Any]] = {"name": "invert", "p": 0.1}

    def apply(self, image, params, ctx):
        return k.invert(image)


@register
class Posterize(_Tone):
    """Reduce each channel to 2**bits levels by keeping its top bits."""

    name: Literal["posterize"] = "posterize"
    bits_range: IntRange = bounded((4, 6), 1, 8, "bits kept (levels = 2**bits; 8 keeps an 8-bit image)")
    example: ClassVar[dict[str, Any]] = {"name": "posterize", "bits_range": [3, 5], "p": 0.2}

    def apply(self, image, params, ctx):
        return k.posterize(image, **params)


@register
class Solarize(_Tone):
    """Invert the values above a threshold (a fraction of white; 1 keeps the image)."""

    name: Literal["solarize"] = "solarize"
    threshold_range: Range = bounded((0.6, 0.9), 0, 1, "values above this fraction of white are inverted")
    example: ClassVar[dict[str, Any]] = {"name": "solarize", "threshold_range": [0.5, 0.8], "p": 0.2}

    def apply(self, image, params, ctx):
        return k.solarize(image, **params)


@register
class Equalize(_Tone):
    """Equalise the histogram of each channel (or of the luma only, keeping hues)."""

    name: Literal["equalize"] = "equalize"
    # Luma only by default: equalising channels separately on a photo dominated by one colour (foliage,
    # sky) swings its hues (green leaves turned purple in the preview); by_channels: true is PIL's way.
    by_channels: StrictBool = Field(False, description="each channel on its own (PIL); false equalises luma only")
    example: ClassVar[dict[str, Any]] = {"name": "equalize", "by_channels": False, "p": 0.2}

    def apply(self, image, params, ctx):
        return k.equalize(image, by_channels=self.by_channels)


@register
class CLAHE(_Tone):
    """Contrast-limited adaptive histogram equalisation of the luma, tile by tile."""

    name: Literal["clahe"] = "clahe"
    clip_limit_range: Range = bounded((1.0, 3.0), 0.1, 40, "contrast limit per tile (higher: stronger)")
    tiles: int = Field(8, ge=1, le=64, description="tiles per side")
    example: ClassVar[dict[str, Any]] = {"name": "clahe", "clip_limit_range": [1, 4], "tiles": 8}

    def apply(self, image, params, ctx):
        return k.clahe(image, **params, tiles=self.tiles)


@register
class AutoContrast(_Tone):
    """Stretch values so the darkest becomes black and the brightest white (PIL's autocontrast)."""

    name: Literal["auto_contrast"] = "auto_contrast"
    cutoff: float = Field(0.0, ge=0.0, lt=50.0, description="percent of pixels ignored at each end")
    by_channels: StrictBool = Field(True, description="stretch each channel on its own; false keeps hues")
    example: ClassVar[dict[str, Any]] = {"name": "auto_contrast", "cutoff": 1.0, "p": 0.3}

    def apply(self, image, params, ctx):
        return k.auto_contrast(image, cutoff=self.cutoff, by_channels=self.by_channels)


@register
class RandomToneCurve(_Tone):
    """Bend the tone curve with a random S- or inverse-S cubic Bezier through black and white."""

    name: Literal["random_tone_curve"] = "random_tone_curve"
    shift_range: Range = bounded((-0.1, 0.1), -1 / 3, 1 / 3, "how far each control point moves (0 keeps)")
    example: ClassVar[dict[str, Any]] = {"name": "random_tone_curve", "shift_range": [-0.15, 0.15]}

    def sample(self, rng, ctx):
        return {"low_shift": uniform(rng, self.shift_range), "high_shift": uniform(rng, self.shift_range)}

    def apply(self, image, params, ctx):
        return k.tone_curve(image, **params)


@register
class Sharpen(_Tone):
    """Sharpen with a Laplacian kernel blended with the identity by alpha."""

    name: Literal["sharpen"] = "sharpen"
    alpha_range: Range = bounded((0.2, 0.5), 0, 1, "share of the sharpening kernel (0 keeps)")
    lightness_range: Range = bounded((0.8, 1.2), 0, 5, "brightness of the sharpened result (1 keeps)")
    example: ClassVar[dict[str, Any]] = {"name": "sharpen", "alpha_range": [0.2, 0.5], "p": 0.3}

    def apply(self, image, params, ctx):
        return k.sharpen(image, **params)


@register
class Emboss(_Tone):
    """Give a relief look with an emboss kernel blended with the identity by alpha."""

    name: Literal["emboss"] = "emboss"
    alpha_range: Range = bounded((0.2, 0.5), 0, 1, "share of the emboss kernel (0 keeps)")
    strength_range: Range = bounded((0.2, 0.7), 0, 5, "relief depth")
    example: ClassVar[dict[str, Any]] = {"name": "emboss", "alpha_range": [0.2, 0.5], "p": 0.2}

    def apply(self, image, params, ctx):
        return k.emboss(image, **params)
