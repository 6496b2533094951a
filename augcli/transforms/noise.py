"""Noise transforms."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictBool

from augcli.kernels import noise as k
from augcli.transforms.base import Fill, Range, Transform, bounded, new_seed, register, uniform


class _Noise(Transform):
    family: ClassVar[str] = "noise"


@register
class GaussianNoise(_Noise):
    """Add zero-mean Gaussian noise with a standard deviation given as a fraction of white."""

    name: Literal["gaussian_noise"] = "gaussian_noise"
    sigma_range: Range = bounded((0.01, 0.05), 0, 1, "standard deviation as a fraction of white")
    per_channel: StrictBool = True
    example: ClassVar[dict[str, Any]] = {"name": "gaussian_noise", "sigma_range": [0.01, 0.04], "p": 0.3}

    def sample(self, rng, ctx):
        return {"sigma": uniform(rng, self.sigma_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.gaussian_noise(image, **params, per_channel=self.per_channel)


@register
class SaltAndPepper(_Noise):
    """Turn a random fraction of pixels white (salt) or black (pepper)."""

    name: Literal["salt_and_pepper"] = "salt_and_pepper"
    amount_range: Range = bounded((0.01, 0.04), 0, 1, "fraction of pixels changed")
    salt_ratio: float = Field(0.5, ge=0.0, le=1.0, description="share of changed pixels that turn white")
    example: ClassVar[dict[str, Any]] = {"name": "salt_and_pepper", "amount_range": [0.005, 0.02]}

    def sample(self, rng, ctx):
        return {"amount": uniform(rng, self.amount_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.salt_and_pepper(image, **params, salt_ratio=self.salt_ratio)


@register
class ShotNoise(_Noise):
    """Poisson (shot) noise: fewer photons at white give a noisier image, stronger in bright areas."""

    name: Literal["shot_noise"] = "shot_noise"
    photons_range: Range = bounded((40.0, 200.0), 1, 1e6, "photons collected by a white pixel (fewer: noisier)")
    example: ClassVar[dict[str, Any]] = {"name": "shot_noise", "photons_range": [30, 150], "p": 0.3}

    def sample(self, rng, ctx):
        return {"photons": uniform(rng, self.photons_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.shot_noise(image, **params)


@register
class ISONoise(_Noise):
    """Camera sensor noise: Poisson luminance noise plus hue jitter (grey images: luminance only)."""

    name: Literal["iso_noise"] = "iso_noise"
    intensity_range: Range = bounded((0.1, 0.4), 0, 2, "luminance noise strength")
    color_shift_range: Range = bounded((0.01, 0.04), 0, 1, "hue jitter as a fraction of the hue circle")
    example: ClassVar[dict[str, Any]] = {"name": "iso_noise", "intensity_range": [0.1, 0.5], "p": 0.3}

    def sample(self, rng, ctx):
        return {
            "intensity": uniform(rng, self.intensity_range),
            "color_shift": uniform(rng, self.color_shift_range),
            "noise_seed": new_seed(rng),
        }

    def apply(self, image, params, ctx):
        return k.iso_noise(image, **params)


@register
class MultiplicativeNoise(_Noise):
    """Speckle noise: multiply each value by 1 plus zero-mean Gaussian noise."""

    name: Literal["multiplicative_noise"] = "multiplicative_noise"
    sigma_range: Range = bounded((0.05, 0.15), 0, 1, "standard deviation of the multiplier around 1")
    per_channel: StrictBool = True
    example: ClassVar[dict[str, Any]] = {"name": "multiplicative_noise", "sigma_range": [0.05, 0.2], "p": 0.3}

    def sample(self, rng, ctx):
        return {"sigma": uniform(rng, self.sigma_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.multiplicative_noise(image, **params, per_channel=self.per_channel)


@register
class PixelDropout(_Noise):
    """Set a random fraction of pixels (or single channel values) to the `fill` colour."""

    name: Literal["pixel_dropout"] = "pixel_dropout"
    rate_range: Range = bounded((0.01, 0.05), 0, 1, "fraction of pixels dropped")
    per_channel: StrictBool = Field(False, description="drop channel values independently (coloured specks)")
    fill: Fill = 0.0  # the dropped pixels' colour
    example: ClassVar[dict[str, Any]] = {"name": "pixel_dropout", "rate_range": [0.01, 0.03], "p": 0.2}

    def sample(self, rng, ctx):
        return {"rate": uniform(rng, self.rate_range), "noise_seed": new_seed(rng)}

    def apply(self, image, params, ctx):
        return k.pixel_dropout(image, **params, per_channel=self.per_channel, fill=self.fill)
