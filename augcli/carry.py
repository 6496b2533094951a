"""Targets (boxes, polygons, masks) carried through a recipe's steps beside the image.

`follow()` is the one place that decides, per step, how targets move: by the step's matrix or its dense
warp (spatial.py), by erasing or mixing (mixing.py), or not at all for pixel steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augcli.mixing import erased, mixed
from augcli.spatial import (
    DENSE,
    ERASING,
    IN_PLACE,
    MATRICES,
    MIXING,
    Tally,
    corner_matrix,
    keep,
    through_matrix,
    through_warp,
    warp_label_map,
    warp_mask,
)
from augcli.targets import Targets, TargetSettings
from augcli.transforms.policy import MATRIX_POLICIES, POLICIES


class Carry:
    """Targets travelling with the image through the steps, and the tally of what happened to them."""

    def __init__(self, targets: Any, settings: Any) -> None:
        self.targets, self.settings = targets, settings
        self.tally = Tally(before=len(targets.instances))

    def copy(self) -> Carry:
        """The same targets and tally, to draw a copy again from (targets.empty: retry)."""
        twin = Carry(self.targets.copy(), self.settings)
        twin.tally = Tally(self.tally.before, self.tally.dropped, set(self.tally.clipped_keys))
        return twin

    def follow(self, spec: Any, params: dict[str, Any], before: np.ndarray, after: np.ndarray, ctx: Any) -> None:
        sizes = (before.shape[1], before.shape[0]), (after.shape[1], after.shape[0])
        self.targets = follow(spec, params, self.targets, *sizes, self.settings, self.tally, ctx)


def follow(
    spec: Any,
    params: dict[str, Any],
    targets: Targets,
    before: tuple[int, int],
    after: tuple[int, int],
    settings: TargetSettings,
    tally: Tally,
    ctx: Any = None,
) -> Targets:
    """`targets` of an image of size `before` (w, h) after `spec` ran with `params`, giving size `after`."""
    name = spec.transform_name()
    if name in IN_PLACE:
        return targets
    if name in MATRICES:
        matrix = MATRICES[name](spec, params, *before)
        moved = [through_matrix(i, corner_matrix(matrix), after) for i in targets.instances]
        mask = warp_mask(spec, params, targets.mask, settings.ignore, ctx)
        return Targets(keep(moved, targets.instances, after, settings, tally), mask)
    if name in DENSE:
        moved = [through_warp(spec, params, i, before, settings, ctx) for i in targets.instances]
        mask = warp_mask(spec, params, targets.mask, settings.ignore, ctx)
        return Targets(keep(moved, targets.instances, after, settings, tally), mask)
    if name in ERASING:
        return erased(name, params, targets, before, settings, tally)
    if name in MIXING:
        return mixed(name, params, targets, before, settings, tally, ctx)
    if name in POLICIES:
        return _through_policy(name, params, targets, before, settings, tally)
    return targets  # a pixel step: the picture changes, nothing moves


def _through_policy(name: str, params: dict[str, Any], targets: Targets, size, settings, tally) -> Targets:
    """A policy's recorded operations: its spatial ones warp one after another (the size never changes), so
    objects move by their composed matrix and the mask by each warp in turn, nearest neighbour."""
    from augcli.kernels.policy import SPATIAL_OPS, op_matrix

    if name not in MATRIX_POLICIES:  # aug_mix averages differently warped copies: no point map exists
        raise ValueError(f"{name} cannot carry boxes or masks (it mixes differently warped copies); use another step")
    matrices = [op_matrix(o["op"], o["magnitude"], *size) for o in params["ops"] if o["op"] in SPATIAL_OPS]
    if not matrices:
        return targets
    composed = np.eye(3)
    mask = targets.mask
    for matrix in matrices:
        composed = matrix @ composed
        mask = None if mask is None else _warp_label_map(mask, matrix, settings.ignore)
    moved = [through_matrix(i, corner_matrix(composed), size) for i in targets.instances]
    return Targets(keep(moved, targets.instances, size, settings, tally), mask)


def _warp_label_map(mask: np.ndarray, matrix: np.ndarray, ignore: int) -> np.ndarray:
    from augcli.kernels.geometry import warp_affine

    def warp(plane: np.ndarray, fill: int) -> np.ndarray:
        return warp_affine(plane, matrix[:2], border_mode="constant", fill=float(fill), interpolation="nearest")

    return warp_label_map(mask, ignore, warp)
