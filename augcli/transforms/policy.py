"""Augmentation policies: RandAugment, TrivialAugment Wide, AutoAugment and AugMix as single steps.

torchvision.transforms.v2 is the reference: the same operation lists, magnitude bins and sign draws
(`_AUGMENTATION_SPACE` of each class). `sample()` chooses the concrete operations and their signed
magnitudes and records them as params, e.g. {"ops": [{"op": "rotate", "magnitude": -9.0}, ...]}, so a
manifest row names every operation and `apply()` (kernels/policy.py) only replays what is recorded.

Policies contain spatial operations (shears, translations, rotations) and are not pixel-only: targets
cannot simply stay where they were. `POLICIES` names them for the targets contract (spatial.py / carry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, StrictBool, model_validator

from augcli.kernels import policy as k
from augcli.transforms.base import Fill, Interpolation, IntRange, Transform, bounded, integer, register

# Every policy step: targets (boxes, masks) do not stay put under them (they include spatial operations).
POLICIES = frozenset({"rand_augment", "trivial_augment_wide", "auto_augment", "aug_mix"})
# The ones whose recorded ops compose into one matrix (kernels.policy.op_matrix, in order); aug_mix
# averages differently warped copies, so no point map exists for it.
MATRIX_POLICIES = frozenset({"rand_augment", "trivial_augment_wide", "auto_augment"})

Bins = Callable[[int, int, int], np.ndarray] | None  # (num_bins, height, width) -> magnitude per bin
Space = dict[str, tuple[Bins, bool]]  # op -> (bins or None for no magnitude, signed)


def _linear(high: float) -> Bins:
    return lambda n, h, w: np.linspace(0.0, high, n)


def _posterize(top: int, span: int) -> Bins:
    """Bits from `top` down by `span` over the bins, rounded half to even (torch.round)."""
    return lambda n, h, w: np.rint(top - np.arange(n) / ((n - 1) / span))


_SOLARIZE: Bins = lambda n, h, w: np.linspace(1.0, 0.0, n)  # noqa: E731  (threshold, fraction of white)
_ENHANCE = ("brightness", "color", "contrast", "sharpness")

RAND_AUGMENT_SPACE: Space = {
    "identity": (None, False),
    "shear_x": (_linear(0.3), True),
    "shear_y": (_linear(0.3), True),
    "translate_x": (lambda n, h, w: np.linspace(0.0, 150.0 / 331.0 * w, n), True),
    "translate_y": (lambda n, h, w: np.linspace(0.0, 150.0 / 331.0 * h, n), True),
    "rotate": (_linear(30.0), True),
    **{op: (_linear(0.9), True) for op in _ENHANCE},
    "posterize": (_posterize(8, 4), False),
    "solarize": (_SOLARIZE, False),
    "auto_contrast": (None, False),
    "equalize": (None, False),
}
AUTO_AUGMENT_SPACE: Space = {
    **{op: v for op, v in RAND_AUGMENT_SPACE.items() if op != "identity"},
    "invert": (None, False),
}
TRIVIAL_AUGMENT_WIDE_SPACE: Space = {
    "identity": (None, False),
    "shear_x": (_linear(0.99), True),
    "shear_y": (_linear(0.99), True),
    "translate_x": (_linear(32.0), True),
    "translate_y": (_linear(32.0), True),
    "rotate": (_linear(135.0), True),
    **{op: (_linear(0.99), True) for op in _ENHANCE},
    "posterize": (_posterize(8, 6), False),
    "solarize": (_SOLARIZE, False),
    "auto_contrast": (None, False),
    "equalize": (None, False),
}
AUG_MIX_PARTIAL_SPACE: Space = {
    "shear_x": (_linear(0.3), True),
    "shear_y": (_linear(0.3), True),
    "translate_x": (lambda n, h, w: np.linspace(0.0, w / 3.0, n), True),
    "translate_y": (lambda n, h, w: np.linspace(0.0, h / 3.0, n), True),
    "rotate": (_linear(30.0), True),
    "posterize": (_posterize(4, 4), False),
    "solarize": (_SOLARIZE, False),
    "auto_contrast": (None, False),
    "equalize": (None, False),
}
AUG_MIX_SPACE: Space = {**AUG_MIX_PARTIAL_SPACE, **{op: (_linear(0.9), True) for op in _ENHANCE}}
AUG_MIX_BINS = 10  # torchvision's _PARAMETER_MAX: severity s draws a bin among the first s of 10
AUTO_AUGMENT_BINS = 10

# AutoAugment's learned sub-policies (Cubuk et al. 2019, as torchvision lists them): two (op, probability,
# magnitude bin) each; ops without a magnitude have bin None.
SubPolicy = tuple[tuple[str, float, int | None], tuple[str, float, int | None]]
AUTO_AUGMENT_POLICIES: dict[str, tuple[SubPolicy, ...]] = {
    "imagenet": (
        (("posterize", 0.4, 8), ("rotate", 0.6, 9)),
        (("solarize", 0.6, 5), ("auto_contrast", 0.6, None)),
        (("equalize", 0.8, None), ("equalize", 0.6, None)),
        (("posterize", 0.6, 7), ("posterize", 0.6, 6)),
        (("equalize", 0.4, None), ("solarize", 0.2, 4)),
        (("equalize", 0.4, None), ("rotate", 0.8, 8)),
        (("solarize", 0.6, 3), ("equalize", 0.6, None)),
        (("posterize", 0.8, 5), ("equalize", 1.0, None)),
        (("rotate", 0.2, 3), ("solarize", 0.6, 8)),
        (("equalize", 0.6, None), ("posterize", 0.4, 6)),
        (("rotate", 0.8, 8), ("color", 0.4, 0)),
        (("rotate", 0.4, 9), ("equalize", 0.6, None)),
        (("equalize", 0.0, None), ("equalize", 0.8, None)),
        (("invert", 0.6, None), ("equalize", 1.0, None)),
        (("color", 0.6, 4), ("contrast", 1.0, 8)),
        (("rotate", 0.8, 8), ("color", 1.0, 2)),
        (("color", 0.8, 8), ("solarize", 0.8, 7)),
        (("sharpness", 0.4, 7), ("invert", 0.6, None)),
        (("shear_x", 0.6, 5), ("equalize", 1.0, None)),
        (("color", 0.4, 0), ("equalize", 0.6, None)),
        (("equalize", 0.4, None), ("solarize", 0.2, 4)),
        (("solarize", 0.6, 5), ("auto_contrast", 0.6, None)),
        (("invert", 0.6, None), ("equalize", 1.0, None)),
        (("color", 0.6, 4), ("contrast", 1.0, 8)),
        (("equalize", 0.8, None), ("equalize", 0.6, None)),
    ),
    "cifar10": (
        (("invert", 0.1, None), ("contrast", 0.2, 6)),
        (("rotate", 0.7, 2), ("translate_x", 0.3, 9)),
        (("sharpness", 0.8, 1), ("sharpness", 0.9, 3)),
        (("shear_y", 0.5, 8), ("translate_y", 0.7, 9)),
        (("auto_contrast", 0.5, None), ("equalize", 0.9, None)),
        (("shear_y", 0.2, 7), ("posterize", 0.3, 7)),
        (("color", 0.4, 3), ("brightness", 0.6, 7)),
        (("sharpness", 0.3, 9), ("brightness", 0.7, 9)),
        (("equalize", 0.6, None), ("equalize", 0.5, None)),
        (("contrast", 0.6, 7), ("sharpness", 0.6, 5)),
        (("color", 0.7, 7), ("translate_x", 0.5, 8)),
        (("equalize", 0.3, None), ("auto_contrast", 0.4, None)),
        (("translate_y", 0.4, 3), ("sharpness", 0.2, 6)),
        (("brightness", 0.9, 6), ("color", 0.2, 8)),
        (("solarize", 0.5, 2), ("invert", 0.0, None)),
        (("equalize", 0.2, None), ("auto_contrast", 0.6, None)),
        (("equalize", 0.2, None), ("equalize", 0.6, None)),
        (("color", 0.9, 9), ("equalize", 0.6, None)),
        (("auto_contrast", 0.8, None), ("solarize", 0.2, 8)),
        (("brightness", 0.1, 3), ("color", 0.7, 0)),
        (("solarize", 0.4, 5), ("auto_contrast", 0.9, None)),
        (("translate_y", 0.9, 9), ("translate_y", 0.7, 9)),
        (("auto_contrast", 0.9, None), ("solarize", 0.8, 3)),
        (("equalize", 0.8, None), ("invert", 0.1, None)),
        (("translate_y", 0.7, 9), ("auto_contrast", 0.9, None)),
    ),
    "svhn": (
        (("shear_x", 0.9, 4), ("invert", 0.2, None)),
        (("shear_y", 0.9, 8), ("invert", 0.7, None)),
        (("equalize", 0.6, None), ("solarize", 0.6, 6)),
        (("invert", 0.9, None), ("equalize", 0.6, None)),
        (("equalize", 0.6, None), ("rotate", 0.9, 3)),
        (("shear_x", 0.9, 4), ("auto_contrast", 0.8, None)),
        (("shear_y", 0.9, 8), ("invert", 0.4, None)),
        (("shear_y", 0.9, 5), ("solarize", 0.2, 6)),
        (("invert", 0.9, None), ("auto_contrast", 0.8, None)),
        (("equalize", 0.6, None), ("rotate", 0.9, 3)),
        (("shear_x", 0.9, 4), ("solarize", 0.3, 3)),
        (("shear_y", 0.8, 8), ("invert", 0.7, None)),
        (("equalize", 0.9, None), ("translate_y", 0.6, 6)),
        (("invert", 0.9, None), ("equalize", 0.6, None)),
        (("contrast", 0.3, 3), ("rotate", 0.8, 4)),
        (("invert", 0.8, None), ("translate_y", 0.0, 2)),
        (("shear_y", 0.7, 6), ("solarize", 0.4, 8)),
        (("invert", 0.6, None), ("rotate", 0.8, 4)),
        (("shear_y", 0.3, 7), ("translate_x", 0.9, 3)),
        (("shear_x", 0.1, 6), ("invert", 0.6, None)),
        (("solarize", 0.7, 2), ("translate_y", 0.6, 7)),
        (("shear_y", 0.8, 4), ("invert", 0.8, None)),
        (("shear_x", 0.7, 9), ("translate_y", 0.8, 3)),
        (("shear_y", 0.8, 5), ("auto_contrast", 0.7, None)),
        (("shear_x", 0.7, 2), ("invert", 0.1, None)),
    ),
}


def magnitude_of(space: Space, op: str, index: int, num_bins: int, height: int, width: int) -> float:
    """The unsigned magnitude of bin `index` (0.0 for ops without one), as torchvision computes it."""
    bins, _ = space[op]
    return 0.0 if bins is None else float(bins(num_bins, height, width)[index])


def draw_op(rng: np.random.Generator, space: Space, op: str, index: int, num_bins: int, ctx) -> dict[str, Any]:
    """{"op", "magnitude"}: bin `index`'s magnitude, negated with probability 1/2 for signed ops."""
    value = magnitude_of(space, op, index, num_bins, ctx.height, ctx.width)
    if space[op][1] and rng.random() < 0.5 and value != 0:
        value = -value
    return {"op": op, "magnitude": value}


def pick(rng: np.random.Generator, space: Space) -> str:
    """One op of the space, uniformly (torchvision's `_get_random_item`)."""
    names = tuple(space)
    return names[int(rng.integers(len(names)))]


class _Policy(Transform):
    family: ClassVar[str] = "policy"
    interpolation: Interpolation = Field("nearest", description="resampling of the spatial operations")
    fill: Fill = 0.0

    def apply(self, image, params, ctx):
        return k.run_ops(image, params["ops"], fill=self.fill, interpolation=self.interpolation)

    def operation_ends(self, height: int, width: int) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
        """For `preview --each`: every operation of the policy at its weakest, middle and strongest bin, as the
        params `apply()` takes (operations without a magnitude once)."""
        space, bins, last = self._each_space()
        rows = []
        for op, (scale, _signed) in space.items():
            indices = [("applied", 0)] if scale is None else [("low", 0), ("middle", last // 2), ("high", last)]
            columns = []
            for which, index in indices:
                magnitude = magnitude_of(space, op, index, bins, height, width)
                columns.append((which, self._each_params([{"op": op, "magnitude": magnitude}])))
            rows.append((op, columns))
        return rows

    def _each_space(self) -> tuple[Space, int, int]:
        return RAND_AUGMENT_SPACE, 31, 30

    def _each_params(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return {"ops": ops}


@register
class RandAugment(_Policy):
    """RandAugment (torchvision's): num_ops operations drawn uniformly, all at one magnitude bin."""

    name: Literal["rand_augment"] = "rand_augment"
    num_ops: int = Field(2, ge=0, le=10, description="operations applied one after another")
    magnitude: int = Field(9, ge=0, le=100, description="magnitude bin of every operation (below num_magnitude_bins)")
    num_magnitude_bins: int = Field(31, ge=2, le=101, description="bins between no change and the strongest change")
    example: ClassVar[dict[str, Any]] = {"name": "rand_augment", "num_ops": 2, "magnitude": 9}

    @model_validator(mode="after")
    def _magnitude_in_bins(self) -> RandAugment:
        if self.magnitude >= self.num_magnitude_bins:
            raise ValueError(f"magnitude {self.magnitude} must be below num_magnitude_bins ({self.num_magnitude_bins})")
        return self

    def _each_space(self) -> tuple[Space, int, int]:
        return RAND_AUGMENT_SPACE, self.num_magnitude_bins, self.num_magnitude_bins - 1

    def sample(self, rng, ctx):
        ops = []
        for _ in range(self.num_ops):
            op = pick(rng, RAND_AUGMENT_SPACE)
            ops.append(draw_op(rng, RAND_AUGMENT_SPACE, op, self.magnitude, self.num_magnitude_bins, ctx))
        return {"ops": ops}


@register
class TrivialAugmentWide(_Policy):
    """TrivialAugment Wide (torchvision's): one operation at a uniformly drawn magnitude bin."""

    name: Literal["trivial_augment_wide"] = "trivial_augment_wide"
    num_magnitude_bins: int = Field(31, ge=2, le=101, description="bins between no change and the strongest change")
    example: ClassVar[dict[str, Any]] = {"name": "trivial_augment_wide"}

    def _each_space(self) -> tuple[Space, int, int]:
        return TRIVIAL_AUGMENT_WIDE_SPACE, self.num_magnitude_bins, self.num_magnitude_bins - 1

    def sample(self, rng, ctx):
        op = pick(rng, TRIVIAL_AUGMENT_WIDE_SPACE)
        index = integer(rng, 0, self.num_magnitude_bins - 1)
        return {"ops": [draw_op(rng, TRIVIAL_AUGMENT_WIDE_SPACE, op, index, self.num_magnitude_bins, ctx)]}


@register
class AutoAugment(_Policy):
    """AutoAugment (torchvision's): one of 25 learned two-operation sub-policies (imagenet, cifar10, svhn)."""

    name: Literal["auto_augment"] = "auto_augment"
    policy: Literal["imagenet", "cifar10", "svhn"] = Field("imagenet", description="which learned policy")
    example: ClassVar[dict[str, Any]] = {"name": "auto_augment", "policy": "imagenet"}

    def _each_space(self) -> tuple[Space, int, int]:
        return AUTO_AUGMENT_SPACE, AUTO_AUGMENT_BINS, AUTO_AUGMENT_BINS - 1

    def sample(self, rng, ctx):
        table = AUTO_AUGMENT_POLICIES[self.policy]
        chosen = int(rng.integers(len(table)))
        ops = []
        for op, probability, index in table[chosen]:
            if rng.random() >= probability:
                continue
            ops.append(draw_op(rng, AUTO_AUGMENT_SPACE, op, index or 0, AUTO_AUGMENT_BINS, ctx))
        return {"sub_policy": chosen, "ops": ops}


@register
class AugMix(_Policy):
    """AugMix (torchvision's): mix the image with chains of random operations, Dirichlet/Beta weighted."""

    name: Literal["aug_mix"] = "aug_mix"
    severity: int = Field(3, ge=1, le=10, description="magnitude bins (of 10) the operations draw from")
    mixture_width: int = Field(3, ge=1, le=10, description="augmentation chains mixed in")
    chain_depth_range: IntRange = bounded(
        (1, 3), 1, 10, "operations per chain, drawn per chain (torchvision's chain_depth=-1 is [1, 3])"
    )
    alpha: float = Field(1.0, ge=0.05, le=100.0, description="Dirichlet / Beta concentration of the mixing weights")
    all_ops: StrictBool = Field(True, description="include brightness, color, contrast and sharpness")
    interpolation: Interpolation = Field("linear", description="resampling of the spatial operations")
    example: ClassVar[dict[str, Any]] = {"name": "aug_mix", "severity": 3, "mixture_width": 3}

    def _each_space(self) -> tuple[Space, int, int]:
        return (AUG_MIX_SPACE if self.all_ops else AUG_MIX_PARTIAL_SPACE), AUG_MIX_BINS, self.severity - 1

    def _each_params(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return {"weights": [0.0, 1.0], "chains": [ops]}  # the operation's chain alone

    def sample(self, rng, ctx):
        space = AUG_MIX_SPACE if self.all_ops else AUG_MIX_PARTIAL_SPACE
        keep, mixed = (float(v) for v in rng.dirichlet([self.alpha, self.alpha]))
        shares = rng.dirichlet([self.alpha] * self.mixture_width)
        chains = []
        for _ in range(self.mixture_width):
            depth = integer(rng, *self.chain_depth_range)
            chain = []
            for _ in range(depth):
                op = pick(rng, space)
                chain.append(draw_op(rng, space, op, integer(rng, 0, self.severity - 1), AUG_MIX_BINS, ctx))
            chains.append(chain)
        return {"weights": [keep] + [float(s) * mixed for s in shares], "chains": chains}

    def apply(self, image, params, ctx):
        return k.aug_mix(
            image, weights=params["weights"], chains=params["chains"], fill=self.fill, interpolation=self.interpolation
        )
