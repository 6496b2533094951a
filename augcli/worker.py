"""The unit of work: process one chunk of sources into output files and manifest rows.

`process_chunk(settings, items)` is pure apart from writing its own output files: it takes small
picklable values (paths, seeds, the recipe as JSON), never pixel arrays, so any executor (a local
process pool, a Dask cluster) can run it and the results depend on nothing but its arguments.
"""

from __future__ import annotations

import hashlib
import json
import os
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from augcli import storage
from augcli.errors import ImageReadError
from augcli.imageio import Decoded, decode, encodable, encode, to_bit_depth
from augcli.pipeline import augment
from augcli.recipe import Recipe
from augcli.seeding import rng_for, stable_id
from augcli.transforms.base import ApplyContext


@dataclass(frozen=True)
class Settings:
    """What every chunk of one run shares."""

    recipe_json: str
    source_root: str
    output_root: str
    max_pixels: int
    partners: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "split/label" -> sources
    # Roots may be URLs (storage.py). Options (credentials, endpoint) go to the workers, never into a repr.
    storage_options: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    parts: bool = False  # remote output: each chunk also writes its manifest part (parts.py)


@dataclass(frozen=True)
class WorkItem:
    """One source and the outputs to make from it (output paths are decided by the planner)."""

    source: str
    label: str
    split: str | None
    original_out: str | None = None
    outputs: tuple[tuple[int, str], ...] = ()
    stamp: str = ""  # remote output only: the source's size and ETag/mtime, part of its chunk's key (parts.py)


@lru_cache(maxsize=4)
def _recipe(recipe_json: str) -> Recipe:
    return Recipe.model_validate_json(recipe_json)


def process_chunk(settings: Settings, items: list[WorkItem]) -> list[list[dict[str, Any]]]:
    """Rows for each item, in item order."""
    recipe = _recipe(settings.recipe_json)
    if settings.storage_options:
        storage.set_options(settings.storage_options)
    rows = [process_item(settings, recipe, item) for item in items]
    storage.flush()  # remote outputs are sent together (storage.write batch); nothing queued for local ones
    if settings.parts:  # after every output of the chunk is written
        from augcli.parts import write_part

        write_part(settings.output_root, recipe.sha256(), items, rows)
    return rows


def process_item(settings: Settings, recipe: Recipe, item: WorkItem) -> list[dict[str, Any]]:
    try:
        data = storage.read(settings.source_root, item.source)
        decoded = decode(data, item.source, settings.max_pixels)
    except ImageReadError as exc:
        return [skipped_row(item, exc.reason, exc.detail or str(exc))]
    source_sha = hashlib.sha256(data).hexdigest()
    base = {"source": item.source, "source_sha256": source_sha, "label": item.label, "split": item.split}
    rows: list[dict[str, Any]] = []
    try:
        if item.original_out:
            storage.write(settings.output_root, item.original_out, data, batch=True)
            rows.append(_row(item.original_out, "original", base, decoded, decoded.image, source_sha))
        if item.outputs:
            rows.extend(_augmented_rows(settings, recipe, item, decoded, base))
    except OSError:
        raise  # disk full, permissions: the run must stop, not skip
    except Exception as exc:  # a transform or encoder failed on this image: report it, keep going
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [skipped_row(item, "transform_failed", detail)]
    return rows


@dataclass
class Rendered:
    """One augmented copy, encoded: exactly the bytes expand writes (preview and audit use this too)."""

    data: bytes
    image: Any  # the array as the file holds it (after 8-bit / alpha conversion for the format)
    applied: list[dict[str, Any]]
    seed: list[int]
    sources: list[str]


def render_copy(
    recipe: Recipe,
    image: Any,
    *,
    source: str,
    label: str,
    copy: int,
    suffix: str,
    partners: tuple[str, ...] = (),
    ctx: ApplyContext | None = None,
) -> Rendered:
    """Augment one copy of a decoded source and encode it for `suffix`."""
    rng = rng_for(recipe.seed, source, copy)
    image = to_bit_depth(image, recipe.bit_depth)
    out, applied = augment(image, recipe.steps_for(label), rng, source=source, label=label, partners=partners, ctx=ctx)
    # Mixing transforms name the other sources they used under params["partners"] (each listed once).
    contributors = list(dict.fromkeys([source] + [p for step in applied for p in step["params"].get("partners", [])]))
    return Rendered(
        data=encode(out, suffix, recipe.quality),
        image=encodable(out, suffix),
        applied=applied,
        seed=[recipe.seed, stable_id(source), copy],
        sources=contributors,
    )


def _augmented_rows(settings, recipe, item, decoded: Decoded, base) -> list[dict[str, Any]]:
    partners = settings.partners.get(f"{item.split}/{item.label}", ())
    ctx = ApplyContext(load=partner_loader(settings.source_root, settings.max_pixels))
    rows = []
    for copy, out_rel in item.outputs:
        rendered = render_copy(
            recipe,
            decoded.image,
            source=item.source,
            label=item.label,
            copy=copy,
            suffix=os.path.splitext(out_rel)[1],
            partners=partners,
            ctx=ctx,
        )
        storage.write(settings.output_root, out_rel, rendered.data, batch=True)
        row = _row(out_rel, "augmented", base, decoded, rendered.image, hashlib.sha256(rendered.data).hexdigest())
        row.update(copy=copy, seed=rendered.seed, transforms=rendered.applied, sources=rendered.sources)
        rows.append(row)
    return rows


def partner_loader(source_root: str, max_pixels: int):
    """Loads other sources of the dataset for mixing transforms, with the same read policy."""

    def load(source: str):
        return decode(storage.read(source_root, source), source, max_pixels).image

    return lru_cache(maxsize=8)(load)


def _row(path: str, kind: str, base: dict, decoded: Decoded, image, sha: str) -> dict[str, Any]:
    return {
        "type": "output",
        "path": path,
        "kind": kind,
        **base,
        "copy": None,
        "seed": None,
        "transforms": [],
        "sha256": sha,
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "channels": 1 if image.ndim == 2 else int(image.shape[2]),
        "bit_depth": 16 if image.dtype.itemsize == 2 else 8,
        "orientation": decoded.orientation,
        "notes": decoded.notes,
    }


def skipped_row(item: WorkItem, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": "skipped",
        "source": item.source,
        "label": item.label,
        "split": item.split,
        "reason": reason,
        "message": message,
    }


def row_json(row: dict[str, Any]) -> str:
    return json.dumps(row, separators=(",", ":"), allow_nan=False)
