"""`augcli tta`: write, for each image of a split, a fixed named set of views with their inverse maps.

Nothing is random: the views of an image are a function of its pixels and the view names (see
views.py). Each manifest row groups a view with its source (`group`) and records the 3x3 matrix
mapping view pixels back to source pixels, so predictions on a view (boxes, keypoints, masks) can be
brought back to the source image.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli import storage
from augcli.dataset import Dataset, Sample, scan
from augcli.errors import DatasetError, ImageReadError, OutputError, RecipeError
from augcli.executor import Job, balanced_size, chunked, default_workers, run
from augcli.imageio import DEFAULT_MAX_PIXELS, decode
from augcli.lock import output_lock
from augcli.manifest import MANIFEST_NAME, ManifestWriter, header, output_row, skipped_row
from augcli.planner import WorkItem, plan_views
from augcli.recipe import TTASection, load_recipe
from augcli.renderer import render
from augcli.split import split_for_recipe
from augcli.state import check_output
from augcli.views import expand_views, plan_view
from augcli.worker import crashed, item_skipped, recipe_of


@dataclass(frozen=True)
class TTASettings:
    recipe_json: str
    source_root: str
    output_root: str
    crop_fraction: float
    max_pixels: int


@dataclass
class TTAResult:
    output: Path
    manifest: Path
    split: str | None
    views: list[str]
    sources: int = 0
    outputs: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def tta(
    recipe_path: str | Path,
    dataset_root: str | Path,
    output: str | Path,
    *,
    split: str | None = None,
    views: list[str] | None = None,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> TTAResult:
    started = time.perf_counter()
    workers = workers or default_workers()
    recipe = load_recipe(recipe_path)
    section = recipe.tta or TTASection()
    try:
        names = expand_views(views or section.views)
    except ValueError as exc:
        raise RecipeError(
            f"{exc} (views: identity, hflip, vflip, rot90, rot180, rot270, transpose, "
            "five_crop, ten_crop, crop_<corner>[_hflip], scale_<factor>)"
        ) from None
    dataset = split_for_recipe(scan(dataset_root), recipe, workers, max_pixels)
    output = Path(output)
    check_output(dataset.root, output, force)
    with output_lock(output, "tta"):  # one writer per folder: a second run is refused at once (lock.py)
        chosen_split = (split or section.split) if dataset.layout == "split" else None
        items = plan_views(recipe, _samples_of(dataset, chosen_split), names)
        settings = TTASettings(
            recipe.model_dump_json(), str(dataset.root), str(output), section.crop_fraction, max_pixels
        )
        for folder in sorted({os.path.dirname(p) for item in items for p in item.paths()}):
            (output / folder).mkdir(parents=True, exist_ok=True)
        output.mkdir(parents=True, exist_ok=True)
        if on_start:
            on_start(len(items))
        result = TTAResult(output, output / MANIFEST_NAME, chosen_split, names, sources=len(items))
        extra = {
            "kind": "tta",
            "layout": dataset.layout,
            "split": chosen_split,
            "views": names,
            "crop_fraction": section.crop_fraction,
        }
        writer = ManifestWriter(output)
        try:
            writer.write(header(recipe, extra))
            for skipped in dataset.skipped:
                if chosen_split is None or skipped.relpath.startswith(f"{chosen_split}/"):
                    row = skipped_row(skipped.relpath, None, None, skipped.reason, skipped.message)
                    writer.write(row)
                    result.skipped.append(row)
            job = Job(process_chunk, settings, crashed, storage.get_options())
            for rows_per_item in run(job, chunked(items, balanced_size(len(items), workers, most=4)), workers):
                for rows in rows_per_item:
                    for row in rows:
                        writer.write(row)
                        if row["type"] == "skipped":
                            result.skipped.append(row)
                        else:
                            result.outputs += 1
                    if on_progress:
                        on_progress(1)
            footer = {"type": "footer", "kind": "tta", "sources": result.sources, "outputs": result.outputs}
            writer.write({**footer, "skipped": len(result.skipped)})
            writer.commit()
        except OSError as exc:
            writer.discard()
            raise OutputError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
        except BaseException:
            writer.discard()
            raise
        result.seconds = time.perf_counter() - started
        return result


def _samples_of(dataset: Dataset, split: str | None) -> list[Sample]:
    if split is None:
        return list(dataset.samples)
    chosen = [s for s in dataset.samples if s.split == split]
    if not chosen:
        present = ", ".join(str(s) for s in dataset.splits()) or "none"
        raise DatasetError(f"{dataset.root}: no images in split {split!r} (splits present: {present}); use --split")
    return chosen


def process_chunk(settings: TTASettings, items: list[WorkItem]) -> list[list[dict[str, Any]]]:
    return [process_item(settings, item) for item in items]


def process_item(settings: TTASettings, item: WorkItem) -> list[dict[str, Any]]:
    try:
        data = storage.read(settings.source_root, item.source)
        decoded = decode(data, item.source, settings.max_pixels)
    except ImageReadError as exc:
        return [item_skipped(item, exc.reason, exc.detail or str(exc))]
    recipe, image = recipe_of(settings.recipe_json), decoded.image
    source_sha = hashlib.sha256(data).hexdigest()
    rows = []
    try:
        for name, out_rel in item.outputs:
            view = plan_view(image.shape[1], image.shape[0], name, settings.crop_fraction)
            suffix = os.path.splitext(out_rel)[1]
            rendered = render(
                recipe, image, source=item.source, label=item.label, copy=0, suffix=suffix,
                steps=view.steps, applied=view.applied,
            )  # fmt: skip
            storage.write(settings.output_root, out_rel, rendered.data)
            row = output_row(
                out_rel, "tta", item, source_sha, decoded, rendered.image, rendered.sha256, len(rendered.data)
            )
            del row["copy"], row["seed"]
            row.update(
                transforms=rendered.applied,
                group=item.source,
                view=name,
                inverse=[[_plain(v) for v in r] for r in view.inverse.tolist()],
                box=list(view.box) if view.box else None,
                source_width=int(image.shape[1]),
                source_height=int(image.shape[0]),
            )
            rows.append(row)
    except OSError:
        raise
    except Exception as exc:  # a view or the encoder failed on this image: report it, keep going
        return [item_skipped(item, "transform_failed", f"{type(exc).__name__}: {exc}")]
    return rows


def _plain(value: float) -> int | float:
    """Whole numbers as ints, so exact views read as exact in the manifest."""
    return int(value) if float(value).is_integer() else float(value)
