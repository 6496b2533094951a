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
from augcli.renderer import NoTargetsLeft, render
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
    annotations: Any = None  # an annotated dataset's formats.AnnotatedDataset (without its sample list)
    # source -> (split, annotation) of every source a mixing step may take as a partner, to read its targets
    references: dict[str, tuple[str | None, str]] = field(default_factory=dict)


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
    annotated = settings.annotations is not None
    try:
        height, width = decoded.image.shape[:2]
        targets = read_targets(settings, item.source, item.split, item.annotation, width, height) if annotated else None
    except ImageReadError as exc:  # a label file that cannot be used: the image is skipped and reported
        return [item_skipped(item, exc.reason, str(exc))]
    try:
        if item.original_out:
            row, original_targets = _original(settings, recipe, item, data, decoded, source_sha, targets)
            rows.append(_with_targets(settings, item, row, original_targets, *_size(row)) if annotated else row)
        partners = settings.partners.get(f"{item.split}/{item.label}", ())
        ctx = ApplyContext(load=partner_loader(settings.source_root, settings.max_pixels))
        if annotated:
            ctx.extra["targets"] = partner_targets(settings, ctx.load)
        for copy, out_rel in item.outputs:
            try:
                rendered = render(
                    recipe,
                    decoded.image,
                    source=item.source,
                    label=item.label,
                    copy=copy,
                    suffix=os.path.splitext(out_rel)[1],
                    partners=partners,
                    ctx=ctx,
                    targets=targets,
                )
            except NoTargetsLeft as exc:  # targets.empty: skip
                rows.append({**item_skipped(item, "no_targets_left", str(exc)), "copy": copy, "path": out_rel})
                continue
            storage.write(settings.output_root, out_rel, rendered.data, batch=True)
            row = output_row(
                out_rel, "augmented", item, source_sha, decoded, rendered.image, rendered.sha256, len(rendered.data)
            )
            row.update(copy=copy, seed=rendered.seed, transforms=rendered.applied, sources=rendered.sources)
            if recipe.preprocess:
                row["preprocess"] = rendered.preprocess
            if annotated:
                out_h, out_w = rendered.image.shape[:2]
                row = _with_targets(settings, item, row, rendered.targets, out_w, out_h, rendered.tally)
            rows.append(row)
    except OSError:
        raise  # disk full, permissions: the run must stop, not skip
    except Exception as exc:  # a transform or encoder failed on this image: report it, keep going
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [item_skipped(item, "transform_failed", detail)]
    return rows


def _original(settings: Settings, recipe: Recipe, item: WorkItem, data: bytes, decoded, source_sha: str, targets):
    """A source kept as it is: its bytes copied, or, with `preprocess:`, re-rendered through the one renderer."""
    if not recipe.preprocess:
        storage.write(settings.output_root, item.original_out, data, batch=True)
        row = output_row(item.original_out, "original", item, source_sha, decoded, decoded.image, source_sha, len(data))
        return row, targets
    suffix = os.path.splitext(item.original_out)[1]
    rendered = render(
        recipe, decoded.image, source=item.source, label=item.label, copy=0, suffix=suffix, steps=[], targets=targets
    )
    storage.write(settings.output_root, item.original_out, rendered.data, batch=True)
    row = output_row(
        item.original_out, "original", item, source_sha, decoded, rendered.image, rendered.sha256, len(rendered.data)
    )
    row["preprocess"] = rendered.preprocess
    return row, rendered.targets


def _size(row: dict) -> tuple[int, int]:
    return row["width"], row["height"]


def read_targets(settings: Settings, source: str, split: str | None, annotation: str, width: int, height: int):
    from augcli.formats import AnnotatedSample, read

    return read(settings.annotations, AnnotatedSample(source, split, annotation), width, height)


def _with_targets(settings: Settings, item: WorkItem, row: dict, targets: Any, width: int, height: int, tally=None):
    """Write the output's annotation files (its format's per-image files) and record them on its row."""
    from augcli.formats import AnnotatedSample, write

    sample = AnnotatedSample(item.source, item.split, item.annotation)
    files = write(settings.annotations, sample, row["path"], targets, width, height)
    for rel, content in sorted(files.items()):
        storage.write(settings.output_root, rel, content, batch=True)
    row["annotations"] = [{"path": rel, "sha256": hashlib.sha256(files[rel]).hexdigest()} for rel in sorted(files)]
    row["objects"] = [instance.to_json() for instance in targets.instances]
    row["targets"] = tally or {
        "before": len(targets.instances),
        "kept": len(targets.instances),
        "clipped": 0,
        "dropped": 0,
    }
    return row


def partner_targets(settings: Settings, load_image):
    """A mixing step's partner targets, read like the source's own (the image decoded to learn its size)."""

    @lru_cache(maxsize=8)
    def load(source: str):
        height, width = load_image(source).shape[:2]
        split, annotation = settings.references[source]
        targets = read_targets(settings, source, split, annotation, width, height)
        for instance in targets.instances:
            instance.key = -1  # a partner's objects are not the source's to count as clipped
        return targets, (width, height)

    return load


def partner_loader(source_root: str, max_pixels: int):
    """Loads other sources of the dataset for mixing transforms, with the same read policy. Names may come
    from a manifest (replay), so they are vetted before anything is opened."""
    remote = storage.is_url(source_root)

    @lru_cache(maxsize=8)
    def load(source: str):
        real_root = None if remote else _resolved(source_root)  # only once a partner is asked for
        unsafe = not lexically_safe(source) or (
            real_root is not None and not (real_root / source).resolve().is_relative_to(real_root)
        )
        if unsafe:  # object keys have no symlinks to follow out, so the text check is enough for them
            raise ValueError(f"unsafe partner path {source!r}")
        return decode(storage.read(source_root, source), source, max_pixels).image

    return load


@lru_cache(maxsize=4)
def _resolved(root: str) -> Path:
    return Path(root).resolve()
