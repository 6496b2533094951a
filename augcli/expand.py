"""`augcli expand`: plan the outputs of a dataset, run the work, write the manifest.

The planner decides every output path up front (deterministic names keeping the source stem), the
executor runs chunks of sources and streams rows back in order, and the manifest is committed only
when the run completes.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.dataset import Dataset, Sample, scan
from augcli.errors import DatasetError, OutputError
from augcli.executor import default_workers, run_local
from augcli.imageio import DEFAULT_MAX_PIXELS, output_suffix
from augcli.manifest import MANIFEST_NAME, ManifestWriter, header
from augcli.recipe import Block, Recipe, load_recipe
from augcli.worker import Settings, WorkItem


@dataclass
class ClassCounts:
    sources: int = 0
    originals: int = 0
    augmented: int = 0
    skipped: int = 0


@dataclass
class ExpandResult:
    output: Path
    manifest: Path
    layout: str
    counts: dict[tuple[str | None, str], ClassCounts]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    ignored: int = 0
    seconds: float = 0.0

    @property
    def outputs(self) -> int:
        return sum(c.originals + c.augmented for c in self.counts.values())

    @property
    def sources(self) -> int:
        return sum(c.sources for c in self.counts.values())


ProgressCallback = Callable[[int], None]


def expand(
    recipe_path: str | Path,
    dataset_root: str | Path,
    output: str | Path,
    *,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    force: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExpandResult:
    started = time.perf_counter()
    recipe = load_recipe(recipe_path)
    dataset = scan(dataset_root)
    output = Path(output)
    check_output(dataset.root, output, force)
    items = plan(recipe, dataset)
    settings = Settings(
        recipe_json=recipe.model_dump_json(),
        source_root=str(dataset.root),
        output_root=str(output),
        max_pixels=max_pixels,
        partners=partner_lists(recipe, dataset),
    )
    _make_folders(output, items)
    if on_start:
        on_start(sum(len(i.outputs) + (1 if i.original_out else 0) for i in items))
    result = ExpandResult(output, output / MANIFEST_NAME, dataset.layout, _initial_counts(dataset))
    result.empty_classes, result.ignored = dataset.empty_classes, dataset.ignored
    writer = ManifestWriter(output)
    try:
        writer.write(header(recipe, {"layout": dataset.layout}))
        for skipped in dataset.skipped:
            _record(writer, result, _walk_skip_row(skipped, dataset), on_progress)
        chunks = _chunks(items, _chunk_size(len(items), workers or default_workers()))
        for rows_per_item in run_local(settings, chunks, workers or default_workers()):
            for rows in rows_per_item:
                for row in rows:
                    _record(writer, result, row, on_progress)
        writer.write(_footer(result))
        writer.commit()
    except OSError as exc:  # disk full, permission denied: name the path, leave no manifest behind
        writer.discard()
        raise OutputError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
    except BaseException:
        writer.discard()
        raise
    result.seconds = time.perf_counter() - started
    return result


def check_output(source_root: Path, output: Path, force: bool) -> None:
    source, target = source_root.resolve(), output.resolve()
    if target == source or target.is_relative_to(source):
        raise OutputError(f"output folder {output} is inside the dataset {source_root}; choose a folder outside it")
    if source.is_relative_to(target):
        raise OutputError(f"output folder {output} contains the dataset {source_root}; choose another folder")
    if output.exists() and not output.is_dir():
        raise OutputError(f"output path {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not force:
        what = "an expanded dataset" if (output / MANIFEST_NAME).exists() else "other files"
        raise OutputError(f"output folder {output} already holds {what}; use an empty folder or --force")


def plan(recipe: Recipe, dataset: Dataset) -> list[WorkItem]:
    """One work item per source, with every output path decided here."""
    width = max(2, len(str(max(recipe.copies - 1, 0))))
    shared_stems = _shared_stems(dataset.samples)
    items, seen = [], {}
    for sample in dataset.samples:
        augmented = sample.split is None or sample.split in recipe.augment_splits
        folder, name = os.path.split(sample.relpath)
        stem, suffix = os.path.splitext(name)
        if (folder, stem) in shared_stems:  # a.jpg and a.png side by side: keep both apart
            stem = f"{stem}_{suffix.lstrip('.').lower()}"
        out_suffix = output_suffix(suffix, recipe.format)
        outputs = (
            tuple((copy, f"{folder}/{stem}__aug{copy:0{width}d}{out_suffix}") for copy in range(recipe.copies))
            if augmented
            else ()
        )
        original = sample.relpath if (recipe.keep_originals or not augmented) else None
        item = WorkItem(sample.relpath, sample.label, sample.split, original, outputs)
        for path in ([original] if original else []) + [out for _, out in outputs]:
            if path in seen:
                raise DatasetError(f"two sources would write {path}: {seen[path]} and {sample.relpath}")
            seen[path] = sample.relpath
        items.append(item)
    return items


def partner_lists(recipe: Recipe, dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """Sources per class, for mixing transforms; empty when the recipe mixes nothing."""
    if not _uses_partners(recipe.transforms):
        return {}
    groups: dict[str, list[str]] = defaultdict(list)
    for sample in dataset.samples:
        groups[f"{sample.split}/{sample.label}"].append(sample.relpath)
    return {key: tuple(paths) for key, paths in groups.items()}


def _uses_partners(steps: list[Any]) -> bool:
    return any(_uses_partners(step.transforms) if isinstance(step, Block) else step.needs_partners for step in steps)


def _shared_stems(samples: list[Sample]) -> set[tuple[str, str]]:
    stems = Counter(os.path.splitext(s.relpath)[0] for s in samples)
    return {os.path.split(stem) for stem, count in stems.items() if count > 1}


def _chunk_size(count: int, workers: int) -> int:
    """Small enough to balance the workers and show progress, big enough to amortise the IPC."""
    return max(1, min(8, count // (workers * 8) or 1))


def _chunks(items: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _make_folders(output: Path, items: list[WorkItem]) -> None:
    folders = {os.path.dirname(p) for i in items for p in [i.original_out or ""] + [o for _, o in i.outputs]}
    for folder in sorted(folders):
        (output / folder).mkdir(parents=True, exist_ok=True)


def _initial_counts(dataset: Dataset) -> dict[tuple[str | None, str], ClassCounts]:
    counts: dict[tuple[str | None, str], ClassCounts] = defaultdict(ClassCounts)
    for sample in dataset.samples:
        counts[(sample.split, sample.label)].sources += 1
    return counts


def _walk_skip_row(skipped: Any, dataset: Dataset) -> dict[str, Any]:
    parts = skipped.relpath.split("/")
    split = parts[0] if dataset.layout == "split" and len(parts) > 1 else None
    label = parts[1 if split else 0] if len(parts) > (2 if split else 1) else None
    return {
        "type": "skipped",
        "source": skipped.relpath,
        "label": label,
        "split": split,
        "reason": skipped.reason,
        "message": skipped.message,
    }


def _record(writer: ManifestWriter, result: ExpandResult, row: dict[str, Any], progress) -> None:
    writer.write(row)
    key = (row.get("split"), row.get("label"))
    if row["type"] == "skipped":
        result.skipped.append(row)
        if row.get("label") is not None:
            result.counts[key].skipped += 1
        return
    counts = result.counts[key]
    if row["kind"] == "original":
        counts.originals += 1
    else:
        counts.augmented += 1
    if progress:
        progress(1)


def _footer(result: ExpandResult) -> dict[str, Any]:
    classes = {
        f"{split}/{label}" if split else label: vars(c)
        for (split, label), c in sorted(result.counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    }
    return {"type": "footer", "outputs": result.outputs, "skipped": len(result.skipped), "classes": classes}
