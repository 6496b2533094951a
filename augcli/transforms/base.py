"""The transform contract: a validated spec that samples plain-JSON params, and applies them.

All randomness lives in `sample()`; `apply()` is deterministic given the params, so a manifest row
can be replayed and a preview can show chosen params (kornia's replay, albumentations' get_params/apply).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

if TYPE_CHECKING:
    import numpy as np

BorderMode = Literal["constant", "edge", "reflect", "symmetric", "wrap"]
Interpolation = Literal["nearest", "linear", "cubic", "area", "lanczos"]


def _colour(value: float | list[float]) -> float | list[float]:
    """Colour values are on the 8-bit scale whatever the image's depth (kernels scale them to white):
    out-of-range values are refused here, at recipe load, never wrapped or clipped on an image."""
    values = [value] if isinstance(value, (int, float)) else value
    if len(values) not in (1, 3, 4):
        raise ValueError(
            f"a colour is one value, or 3 (blue, green, red) or 4 (and alpha) values, got {len(values)}: {value}"
        )
    if not all(0 <= v <= 255 for v in values):
        got = f", got {value}" if isinstance(value, list) else ""  # the recipe error shows a scalar already
        raise ValueError(f"colour values are on the 8-bit scale 0-255 (scaled to white on 16-bit images){got}")
    return value


# One number or [blue, green, red] / [blue, green, red, alpha]; see README "Colour values".
Colour = Annotated[float | list[float], AfterValidator(_colour)]


def colour_field(default: Any = ..., description: str = "a colour") -> Any:
    """A `Colour` field; the schema marks it so tools (and the property tests) know its scale."""
    return Field(
        default,
        description=f"{description}; 0-255 at any bit depth, one value or [b, g, r(, a)]",
        json_schema_extra={"colour": [0, 255]},
    )


# Fill of geometric and erasing transforms (the field's default is set where it is declared).
Fill = Annotated[Colour, colour_field(description="value of uncovered pixels")]


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] > pair[1]:
        raise ValueError(f"range must be [low, high] with low <= high, got [{pair[0]}, {pair[1]}]")
    return pair


Range = Annotated[tuple[float, float], AfterValidator(_ordered)]
IntRange = Annotated[tuple[int, int], AfterValidator(_ordered)]


def bounded(default: Any, low: float, high: float, description: str) -> Any:
    """A `_range` field whose ends must stay within [low, high]; the bounds appear in the JSON Schema."""
    return Field(default, description=description, json_schema_extra={"bounds": [low, high]})


@dataclass(frozen=True)
class SampleContext:
    """What `sample()` may look at: the current image's geometry and the source's identity.

    `partners` are the dataset-relative paths of other sources of the same class and split, for
    transforms that mix images.
    """

    height: int
    width: int
    channels: int
    dtype: str
    source: str = ""
    label: str = ""
    partners: tuple[str, ...] = ()


@dataclass
class ApplyContext:
    """What `apply()` may use besides params: a loader for other sources (mixing transforms only).

    A transform that mixes in other sources lists them in its params under "partners", so the
    manifest row names every contributing source."""

    load: Callable[[str], np.ndarray] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Transform(BaseModel):
    """Base of every recipe step that changes pixels. Subclasses declare `name` as a Literal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p: float = Field(1.0, ge=0.0, le=1.0, description="probability that the step runs")

    family: ClassVar[str] = "misc"
    needs_partners: ClassVar[bool] = False  # mixes in other images of the same class
    example: ClassVar[dict[str, Any]] = {}

    @classmethod
    def transform_name(cls) -> str:
        return _name_of(cls)

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        """Every `bounded()` field must stay inside its declared bounds (e.g. rotation within +-180)."""
        extra = cls.model_fields[info.field_name].json_schema_extra if info.field_name else None
        bounds = extra.get("bounds") if isinstance(extra, dict) else None
        if bounds and value is not None:
            low, high = bounds
            if any(not low <= v <= high for v in value):
                raise ValueError(f"must lie within [{low}, {high}], got {list(value)}")
        return value

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    def sample(self, rng: np.random.Generator, ctx: SampleContext) -> dict[str, Any]:
        """Draw concrete parameters (plain JSON values) for one application.

        By default every `*_range` field is drawn, in declaration order: an int range as an integer, a float
        range uniformly; the param is the field's name without `_range`. Transforms that need more (sizes from
        the image, seeds, choices) write their own."""
        params: dict[str, Any] = {}
        for name, param, whole in _range_fields(type(self)):
            low, high = getattr(self, name)
            params[param] = integer(rng, low, high) if whole else uniform(rng, (low, high))
        return params

    def apply(self, image: np.ndarray, params: dict[str, Any], ctx: ApplyContext) -> np.ndarray:
        raise NotImplementedError


@functools.cache
def _name_of(cls: type[Transform]) -> str:
    return cls.model_fields["name"].default  # pydantic's model_fields lookup: once per class, not per step


@functools.cache
def _range_fields(cls: type[Transform]) -> tuple[tuple[str, str, bool], ...]:
    """(field, param, is an int range) of every `*_range` field, in declaration order, worked out once per class:
    comparing the typing annotations on every sample() cost more than many kernels' own work."""
    return tuple(
        (name, name.removesuffix("_range"), info.annotation == tuple[int, int])
        for name, info in cls.model_fields.items()
        if name.endswith("_range")
    )


REGISTRY: dict[str, type[Transform]] = {}


def register(cls: type[Transform]) -> type[Transform]:
    """Class decorator: add a transform to the registry under its `name`, refusing duplicates."""
    name = cls.transform_name()
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} must declare `name: Literal[...]` with a default")
    if name in REGISTRY:
        raise ValueError(f"duplicate transform name {name!r}: {REGISTRY[name].__name__} and {cls.__name__}")
    REGISTRY[name] = cls
    return cls


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """A plain float in [low, high]; a fixed range [x, x] gives x without consuming randomness."""
    low, high = bounds
    if low == high:
        return float(low)
    # Generator.uniform(low, high) is low + (high - low) * next_double, which rng.random() is: the same draw
    # bit for bit, without uniform()'s argument handling (a third of the cost of sampling a small step).
    return float(low) + (float(high) - float(low)) * rng.random()


def integer(rng: np.random.Generator, low: int, high: int) -> int:
    """A plain int in [low, high] inclusive."""
    return int(low) if low >= high else int(rng.integers(low, high + 1))


def new_seed(rng: np.random.Generator) -> int:
    """A seed for a kernel's own noise generator, recorded in params so replay is exact."""
    return int(rng.integers(0, 2**31 - 1))
