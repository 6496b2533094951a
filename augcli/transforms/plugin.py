"""The plugin hook: a recipe step that runs a user's own transform.

    - name: plugin
      function: "my_package.augment:StyleTransfer"   # module:attribute, or an entry point name
      params: {strength: 0.5}                        # keyword arguments for it

`function` names a class (or any callable) that, called with `params` as keyword arguments, returns an
object with the same contract as the built-in transforms:

    sample(rng, ctx) -> dict   all randomness, drawn from `rng` (a numpy Generator); plain JSON values.
                               `ctx` is a SampleContext (height, width, channels, dtype, source, label).
                               Optional: without it the params are {}.
    apply(image, params, ctx) -> ndarray   deterministic given params; BGR(A) / grey, 8- or 16-bit in,
                               same dtype and channel count out; must not modify `image` in place.

A name without a colon is looked up among the installed entry points of group `augcli.transforms`.
The code is imported when the recipe is validated, so a missing module or a bad params mapping is a
recipe error naming the file, line and key, before any image is read.
"""

from __future__ import annotations

import importlib
import json
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from augcli.transforms.base import Transform, register

ENTRY_POINT_GROUP = "augcli.transforms"
_INSTANCES: dict[tuple[str, str], Any] = {}  # per process: (function, params JSON) -> the user's object


class Identity:
    """The built-in example plugin: returns the image unchanged (a template for your own)."""

    def sample(self, rng, ctx) -> dict[str, Any]:
        return {}

    def apply(self, image, params, ctx):
        return image.copy()


def resolve(function: str) -> Any:
    """The object named by "module:attribute" or by an entry point of group augcli.transforms."""
    if ":" not in function:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == function]
        if not found:
            raise ValueError(
                f"no entry point {function!r} in group {ENTRY_POINT_GROUP!r}; "
                "use module:attribute or install the package that provides it"
            )
        try:
            return found[0].load()
        except Exception as exc:
            raise ValueError(f"entry point {function!r} failed to load: {type(exc).__name__}: {exc}") from None
    module_name, _, attribute = function.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the user's module raising while it imports
        raise ValueError(f"cannot import plugin module {module_name!r}: {type(exc).__name__}: {exc}") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    return target


def instance(function: str, params: dict[str, Any]) -> Any:
    key = (function, json.dumps(params, sort_keys=True))
    if key not in _INSTANCES:
        factory = resolve(function)
        try:
            made = factory(**params)
        except Exception as exc:
            raise ValueError(f"{function}(**params) failed: {type(exc).__name__}: {exc}") from None
        if not callable(getattr(made, "apply", None)):
            raise ValueError(f"{function} must return an object with apply(image, params, ctx)")
        _INSTANCES[key] = made
    return _INSTANCES[key]


@register
class Plugin(Transform):
    """Run a user's own transform, named by module:attribute or an augcli.transforms entry point."""

    name: Literal["plugin"] = "plugin"
    function: str = Field(
        "augcli.transforms.plugin:Identity",
        min_length=1,
        description="module:attribute of a class or factory, or an entry point name in group augcli.transforms",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="keyword arguments for the class or factory")

    family: ClassVar[str] = "plugin"
    example: ClassVar[dict[str, Any]] = {"name": "plugin", "function": "augcli.transforms.plugin:Identity"}

    @field_validator("function")
    @classmethod
    def _importable(cls, function: str) -> str:
        resolve(function)  # raises ValueError naming what is missing
        return function

    @field_validator("params")
    @classmethod
    def _plain(cls, params: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(params, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"params must be plain values (numbers, strings, lists, mappings): {exc}") from None
        return params

    @model_validator(mode="after")
    def _constructible(self) -> Plugin:
        instance(self.function, self.params)
        return self

    def sample(self, rng, ctx):
        user = instance(self.function, self.params)
        # User code may return numpy scalars or tuples: give apply() exactly what a replay from the manifest would.
        return json.loads(json.dumps(dict(user.sample(rng, ctx)), allow_nan=False)) if hasattr(user, "sample") else {}

    def apply(self, image, params, ctx):
        out = instance(self.function, self.params).apply(image, params, ctx)
        kept = getattr(out, "dtype", None) == image.dtype and getattr(out, "ndim", None) == image.ndim
        if not kept or out.shape[2:] != image.shape[2:]:
            shape = getattr(out, "shape", type(out).__name__)
            raise TypeError(
                f"plugin {self.function} returned {shape} {getattr(out, 'dtype', '')} "
                f"for a {image.shape} {image.dtype} image; keep the dtype and channel count"
            )
        return out
