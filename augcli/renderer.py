"""The one path from a decoded source to an output's pixels and bytes.

expand, preview (sheet and --each), `audit --replay`, tta and the Python API all call `render()`, so the
recipe's bit depth, the steps (sampled, or replayed from recorded params) and the encoder's alpha and
8-bit policy are applied in exactly one place: a file preview shows, replay rebuilds or the API returns
is byte for byte the file expand writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from augcli.imageio import encodable, encode, to_bit_depth
from augcli.pipeline import Applied, augment, replay
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
) -> Rendered:
    """Augment copy `copy` of a decoded source and encode it for `suffix`.

    `steps` defaults to the recipe's steps for `label` (preview --each and tta pass their own). With
    `applied` (a manifest row's recorded steps) nothing random is drawn: the params are replayed."""
    steps = recipe.steps_for(label) if steps is None else steps
    image = to_bit_depth(image, recipe.bit_depth)
    if applied is None:
        rng = rng_for(recipe.seed, source, copy)
        out, applied = augment(image, steps, rng, source=source, label=label, partners=partners, ctx=ctx)
    else:
        out = replay(image, applied, steps, ctx)
    # Mixing transforms name the other sources they used under params["partners"] (each listed once).
    contributors = list(dict.fromkeys([source] + [p for step in applied for p in step["params"].get("partners", [])]))
    return Rendered(
        data=encode(out, suffix, recipe.quality),
        image=encodable(out, suffix),
        applied=applied,
        seed=[recipe.seed, stable_id(source), copy],
        sources=contributors,
    )
