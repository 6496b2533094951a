"""The transform registry. Importing this package registers every built-in transform family."""

from augcli.transforms import (  # noqa: F401  (registration)
    blur,
    color,
    distort,
    domain,
    dropout,
    effects,
    filters,
    geometry,
    lighting,
    mix,
    morphology,
    noise,
    plugin,
    policy,
    quality,
    sizing,
    tone,
    warps,
    weather,
)
from augcli.transforms.base import REGISTRY, ApplyContext, SampleContext, Transform, register

__all__ = ["REGISTRY", "ApplyContext", "SampleContext", "Transform", "register"]
