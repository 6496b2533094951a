"""`augcli tta`: write, for each image of a split, a fixed named set of views with their inverse maps.

Nothing is random: the views of an image are a function of its pixels and the view names (see
views.py). Each manifest row groups a view with its source (`group`) and records the 3x3 matrix
mapping view pixels back to source pixels, so predictions on a view (boxes, keypoints, masks) can be
brought back to the source image.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from augcli.dataset import Dataset, Sample, scan
from augcli.errors import DatasetError, ImageReadError, OutputError, RecipeError
from augcli.executor import default_workers
from augcli.expand import check_output
from augcli.imageio import DEFAULT_MAX_PIXELS, decode, encodable, encode, output_suffix, read_bytes, write_atomic
from augcli.lock import output_lock
from augcli.manifest import MANIFEST_NAME, ManifestWriter, header
from augcli.recipe import Recipe, TTASection, load_recipe
from augcli.views import expand_views, render_view

CHUNK = 4  # sources per task: views are cheap, so keep the IPC amortised


@dataclass(frozen=True)
class TTASettings:
    source_root: str
    output_root: str
    views: tuple[str, ...]
    crop_fraction: float
    quality: int
    max_pixels: int


@dataclass(frozen=True)
class TTAItem:
    source: str
    label: str
    split: str | None
    outputs: tuple[tuple[str, str], ...]  # (view name, output path)


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
    recipe = load_recipe(recipe_path)
    section = recipe.tta or TTASection()
    try:
        names = expand_views(views or section.views)
    except ValueError as exc:
        raise RecipeError(
            f"{exc} (views: identity, hflip, vflip, rot90, rot180, rot270, transpose, "
            "five_crop, ten_crop, crop_<corner>[_hflip], scale_<factor>)"
        ) from None
    dataset = scan(dataset_root)
    output = Path(output)
    check_output(dataset.root, output, force)
    with output_lock(output, "tta"):  # one writer per folder: a second run is refused at once (lock.py)
        chosen_split = (split or section.split) if dataset.layout == "split" else None
        samples = _samples_of(dataset, chosen_split)
        items = plan_views(recipe, samples, names)
        settings = TTASettings(
            str(dataset.root), str(output), tuple(names), section.crop_fraction, recipe.quality, max_pixels
        )
        for folder in sorted({os.path.dirname(p) for item in items for _, p in item.outputs}):
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
                    row = {
                        "type": "skipped",
                        "source": skipped.relpath,
                        "reason": skipped.reason,
                        "message": skipped.message,
                    }
                    writer.write(row)
                    result.skipped.append(row)
            for rows_per_item in _run(settings, items, workers or default_workers()):
                for rows in rows_per_item:
                    for row in rows:
                        writer.write(row)
                        if row["type"] == "skipped":
                            result.skipped.append(row)
                        else:
                            result.outputs += 1
                    if on_progress:
                        on_progress(1)
            writer.write(
                {
                    "type": "footer",
                    "kind": "tta",
                    "sources": result.sources,
                    "outputs": result.outputs,
                    "skipped": len(result.skipped),
                }
            )
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


def plan_views(recipe: Recipe, samples: list[Sample], names: list[str]) -> list[TTAItem]:
    """Output names: `<folder>/<stem>__<view><ext>`, beside the source's place in the dataset."""
    stems = Counter(os.path.splitext(s.relpath)[0] for s in samples)
    items = []
    for sample in samples:
        folder, name = os.path.split(sample.relpath)
        stem, suffix = os.path.splitext(name)
        if stems[os.path.join(folder, stem)] > 1:  # a.jpg and a.png side by side
            stem = f"{stem}_{suffix.lstrip('.').lower()}"
        out_suffix = output_suffix(suffix, recipe.format)
        outputs = tuple((view, f"{folder}/{stem}__{view}{out_suffix}") for view in names)
        items.append(TTAItem(sample.relpath, sample.label, sample.split, outputs))
    return items


def _run(settings: TTASettings, items: list[TTAItem], workers: int) -> Iterator[list[list[dict[str, Any]]]]:
    size = max(1, min(CHUNK, len(items) // (workers * 4) or 1))  # small runs still spread over the workers
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield process_chunk(settings, chunk)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(partial(process_chunk, settings), chunks)  # results in submission order


def process_chunk(settings: TTASettings, items: list[TTAItem]) -> list[list[dict[str, Any]]]:
    return [process_item(settings, item) for item in items]


def process_item(settings: TTASettings, item: TTAItem) -> list[dict[str, Any]]:
    base = {"source": item.source, "label": item.label, "split": item.split}
    try:
        data = read_bytes(Path(settings.source_root) / item.source)
        decoded = decode(data, item.source, settings.max_pixels)
    except ImageReadError as exc:
        return [{"type": "skipped", **base, "reason": exc.reason, "message": exc.detail or str(exc)}]
    image = decoded.image
    source_sha = hashlib.sha256(data).hexdigest()
    rows = []
    for name, out_rel in item.outputs:
        view = render_view(image, name, settings.crop_fraction)
        suffix = os.path.splitext(out_rel)[1]
        encoded = encode(view.image, suffix, settings.quality)
        written = encodable(view.image, suffix)
        write_atomic(Path(settings.output_root) / out_rel, encoded)
        rows.append(
            {
                "type": "output",
                "kind": "tta",
                "path": out_rel,
                **base,
                "source_sha256": source_sha,
                "group": item.source,
                "view": name,
                "inverse": [[_plain(v) for v in row] for row in view.inverse.tolist()],
                "box": list(view.box) if view.box else None,
                "source_width": int(image.shape[1]),
                "source_height": int(image.shape[0]),
                "sha256": hashlib.sha256(encoded).hexdigest(),
                "width": int(written.shape[1]),
                "height": int(written.shape[0]),
                "channels": 1 if written.ndim == 2 else int(written.shape[2]),
                "bit_depth": 16 if written.dtype.itemsize == 2 else 8,
                "orientation": decoded.orientation,
                "notes": decoded.notes,
            }
        )
    return rows


def _plain(value: float) -> int | float:
    """Whole numbers as ints, so exact views read as exact in the manifest."""
    return int(value) if float(value).is_integer() else float(value)
