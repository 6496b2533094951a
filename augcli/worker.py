"""expand's unit of work: one chunk of sources into output files and manifest rows.

`process_chunk(settings, items)` is pure apart from writing its own output files: it takes small
picklable values (paths, the recipe as JSON), never pixel arrays, so the runner (executor.py) can run it
serially, on a local pool or on a Dask cluster, and the results depend on nothing but its arguments.
"""

from __future__ import annotations

import hashlib
import os
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from augcli import storage
from augcli.errors import ImageReadError
from augcli.imageio import decode
from augcli.jobs import CRASHED_MESSAGE
from augcli.manifest import lexically_safe, output_row, skipped_row
from augcli.planner import WorkItem
from augcli.recipe import Recipe
from augcli.renderer import render
from augcli.transforms.base import ApplyContext

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Settings:
    """What every chunk of one run shares."""

    recipe_json: str
    source_root: str
    output_root: str
    max_pixels: int
    partners: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "split/label" -> sources


@lru_cache(maxsize=4)
def recipe_of(recipe_json: str) -> Recipe:
    return Recipe.model_validate_json(recipe_json)


def process_chunk(settings: Settings, items: list[WorkItem]) -> list[Rows]:
    """Rows for each item, in item order."""
    recipe = recipe_of(settings.recipe_json)
    rows = [process_item(settings, recipe, item) for item in items]
    storage.flush()  # remote outputs are sent together (storage.write batch); nothing queued for local ones
    return rows


def crashed(item: WorkItem) -> Rows:
    """The rows of a source whose worker died (executor.Job.on_crash)."""
    return [item_skipped(item, "crashed_worker", CRASHED_MESSAGE)]


def item_skipped(item: WorkItem, reason: str, message: str) -> dict[str, Any]:
    return skipped_row(item.source, item.label, item.split, reason, message)


def process_item(settings: Settings, recipe: Recipe, item: WorkItem) -> Rows:
    try:
        data = storage.read(settings.source_root, item.source)
        decoded = decode(data, item.source, settings.max_pixels)
    except ImageReadError as exc:
        return [item_skipped(item, exc.reason, exc.detail or str(exc))]
    source_sha = hashlib.sha256(data).hexdigest()
    rows: Rows = []
    try:
        if item.original_out:
            storage.write(settings.output_root, item.original_out, data, batch=True)
            rows.append(output_row(item.original_out, "original", item, source_sha, decoded, decoded.image, source_sha))
        partners = settings.partners.get(f"{item.split}/{item.label}", ())
        ctx = ApplyContext(load=partner_loader(settings.source_root, settings.max_pixels))
        for copy, out_rel in item.outputs:
            rendered = render(
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
            row = output_row(out_rel, "augmented", item, source_sha, decoded, rendered.image, rendered.sha256)
            row.update(copy=copy, seed=rendered.seed, transforms=rendered.applied, sources=rendered.sources)
            rows.append(row)
    except OSError:
        raise  # disk full, permissions: the run must stop, not skip
    except Exception as exc:  # a transform or encoder failed on this image: report it, keep going
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [item_skipped(item, "transform_failed", detail)]
    return rows


def partner_loader(source_root: str, max_pixels: int):
    """Loads other sources of the dataset for mixing transforms, with the same read policy. Names may come
    from a manifest (replay), so they are vetted before anything is opened."""
    real_root = None if storage.is_url(source_root) else Path(source_root).resolve()

    @lru_cache(maxsize=8)
    def load(source: str):
        unsafe = not lexically_safe(source) or (
            real_root is not None and not (real_root / source).resolve().is_relative_to(real_root)
        )
        if unsafe:  # object keys have no symlinks to follow out, so the text check is enough for them
            raise ValueError(f"unsafe partner path {source!r}")
        return decode(storage.read(source_root, source), source, max_pixels).image

    return load
