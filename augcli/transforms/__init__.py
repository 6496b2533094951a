"""The transform registry. Importing this package registers every built-in transform family."""

from augcli.transforms import blur, color, dropout, geometry, noise  # noqa: F401  (registration)
from augcli.transforms.base import REGISTRY, ApplyContext, SampleContext, Transform, register

__all__ = ["REGISTRY", "ApplyContext", "SampleContext", "Transform", "register"]
