"""Noise transforms."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictBool

from augcli.kernels import noise as k
from augcli.transforms.base import Range, Transform, bounded, new_seed, register, uniform


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
