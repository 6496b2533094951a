"""The one path from a decoded source to an output's pixels and bytes.

expand, preview (sheet and --each), `audit --replay`, tta and the Python API all call `render()`, so the
recipe's bit depth, the steps (sampled, or replayed from recorded params) and the encoder's alpha and
8-bit policy are applied in exactly one place: a file preview shows, replay rebuilds or the API returns
is byte for byte the file expand writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augcli.imageio import encodable, encode, to_bit_depth
from augcli.pipeline import Applied, Carry, augment, replay
from augcli.recipe import Recipe
from augcli.seeding import rng_for, stable_id
from augcli.transforms.base import ApplyContext


@dataclass
class Rendered:
    data: bytes  # the encoded file
    image: np.ndarray  # the pixels as the file holds them (after the format's 8-bit / alpha policy)
    applied: list[Applied]  # each step that ran, with its concrete params
    seed: list[int]  # what the output's generator was built from
    sources: list[str]  # the source, then each partner a mixing step used
    targets: Any = None  # the boxes, polygons and mask that followed the steps (targets.Targets), if any
    tally: dict[str, int] | None = None  # what happened to them: before, kept, clipped, dropped
    preprocess: list[Applied] = field(default_factory=list)  # the recipe's `preprocess:` steps, as applied

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def render(
    recipe: Recipe,
    image: np.ndarray,
    *,
    source: str,
    label: str,
    copy: int,
    suffix: str,
    partners: tuple[str, ...] = (),
    ctx: ApplyContext | None = None,
    steps: list[Any] | None = None,
    applied: list[Applied] | None = None,
    targets: Any = None,
    target_settings: Any = None,
    preprocess: list[Applied] | None = None,
) -> Rendered:
    """Augment copy `copy` of a decoded source and encode it for `suffix`.

    `steps` defaults to the recipe's steps for `label` (preview --each and tta pass their own; originals of a
    recipe with `preprocess:` pass none). With `applied` (a manifest row's recorded steps) and `preprocess` (its
    recorded preprocessing) nothing random is drawn: the params are replayed. `targets` (boxes, polygons, mask)
    follow every step; see `recipe.targets` for what is kept."""
    steps = recipe.steps_for(label) if steps is None else steps
    image = to_bit_depth(image, recipe.bit_depth)
    settings = target_settings or recipe.targets
    start = None if targets is None else Carry(targets.copy(), settings)
    if recipe.preprocess:  # every output of every split, before the steps; deterministic, so nothing is drawn
        rng = rng_for(recipe.seed, source, copy)
        if preprocess is None:
            image, preprocess = augment(image, recipe.preprocess, rng, source=source, ctx=ctx, carry=start)
        else:
            image = replay(image, preprocess, recipe.preprocess, ctx, start)
    carry = start
    if applied is None:
        # No steps, nothing to draw: a generator costs ~40 us, a twentieth of an identity output's encode.
        rng = rng_for(recipe.seed, source, copy) if steps else None
        for _attempt in range(RETRIES if settings.empty == "retry" else 1):
            carry = None if start is None else start.copy()
            out, applied = augment(
                image, steps, rng, source=source, label=label, partners=partners, ctx=ctx, carry=carry
            )
            if carry is None or carry.targets.instances or not carry.tally.before:
                break  # the same generator goes on, so each retry is a fresh draw and replays exactly
    else:
        carry = None if start is None else start.copy()
        out = replay(image, applied, steps, ctx, carry)
    if carry is not None and settings.empty == "skip" and carry.tally.before and not carry.targets.instances:
        raise NoTargetsLeft(f"copy {copy}: the steps removed all {carry.tally.before} objects (targets.empty: skip)")
    # Mixing transforms name the other sources they used under params["partners"] (each listed once).
    contributors = list(dict.fromkeys([source] + [p for step in applied for p in step["params"].get("partners", [])]))
    return Rendered(
        data=encode(out, suffix, recipe.quality),
        image=encodable(out, suffix),
        applied=applied,
        seed=[recipe.seed, stable_id(source), copy],
        sources=contributors,
        targets=None if carry is None else carry.targets,
        tally=None if carry is None else carry.tally.as_json(len(carry.targets.instances)),
        preprocess=preprocess or [],
    )


RETRIES = 10  # targets.empty: retry draws a copy again at most this many times


class NoTargetsLeft(Exception):
    """targets.empty: skip, and a copy lost every object: the copy is reported instead of written."""
