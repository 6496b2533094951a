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

from augcli.balance import plan_classes, planned_counts
from augcli.balance import warnings as balance_warnings
from augcli.dataset import Dataset, Sample, scan
from augcli.errors import AugcliError, DatasetError, ExitCode, OutputError
from augcli.executor import default_workers, run_local
from augcli.imageio import DEFAULT_MAX_PIXELS, output_suffix
from augcli.lock import output_lock, refuse_if_locked
from augcli.manifest import MANIFEST_NAME, ManifestWriter, header, library_versions
from augcli.recipe import Block, Recipe, load_recipe
from augcli.resume import (
    STATE_DIR,
    Journal,
    class_members,
    clear_state,
    holds_run,
    previous_run,
    remove_created,
    reusable_rows,
    sweep_temporaries,
    write_run_state,
)
from augcli.storage import get_options, is_url, local_path
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
    warnings: list[str] = field(default_factory=list)  # e.g. a class already above target_per_class
    ignored: int = 0
    seconds: float = 0.0
    resumed: int = 0  # sources whose outputs an earlier run made, verified and kept
    processed: int = 0  # sources processed by this run

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
    scheduler: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    force: bool = False,
    strict: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExpandResult:
    """Expand a dataset into `output`, continuing an earlier unfinished or finished run of the same recipe
    there (see resume.py): verified work is kept, the rest is done, and the committed manifest is the one
    an uninterrupted run would write. An output URL (s3://...) is written by expand_remote.py."""
    if is_url(output):
        from augcli.expand_remote import expand_remote

        return expand_remote(
            recipe_path,
            dataset_root,
            str(output),
            workers=workers,
            scheduler=scheduler,
            max_pixels=max_pixels,
            force=force,
            strict=strict,
            on_start=on_start,
            on_progress=on_progress,
        )
    started = time.perf_counter()
    recipe = load_recipe(recipe_path)
    dataset = scan(dataset_root)
    output = local_path(output)
    check_output(dataset.root, output, force, resume=True)
    with output_lock(output):  # one writer per folder: a second run is refused at once (lock.py)
        items = plan(recipe, dataset)
        settings = Settings(
            recipe_json=recipe.model_dump_json(),
            source_root=str(dataset.root),
            output_root=str(output),
            max_pixels=max_pixels,
            partners=partner_lists(recipe, dataset),
            storage_options=get_options(),  # for a dataset URL
        )
        result = ExpandResult(output, output / MANIFEST_NAME, dataset.layout, _initial_counts(dataset))
        result.empty_classes, result.ignored = dataset.empty_classes, dataset.ignored
        result.warnings = balance_warnings(recipe, dataset)
        walk_rows = [_walk_skip_row(skipped, dataset) for skipped in dataset.skipped]
        try:
            reused = _prepare(output, recipe, dataset, items, walk_rows, force, bool(settings.partners))
            journal = Journal(output, reused)
        except OSError as exc:
            raise _output_error(exc, output) from None
        todo = [item for item in items if item.source not in reused]
        result.resumed, result.processed = len(reused), len(todo)
        if on_start:
            on_start(sum(len(i.outputs) + (1 if i.original_out else 0) for i in todo))
        writer: ManifestWriter | None = None
        results: Iterator[list[list[dict[str, Any]]]] | None = None
        try:
            writer = ManifestWriter(output)
            writer.write(header(recipe, {"layout": dataset.layout, "counts": planned_counts(items)}))
            for row in walk_rows:
                _record(writer, result, row, on_progress)
                if strict and row["reason"] in STRICT_WALK_REASONS:
                    raise StrictStop(row)
            chunks = _chunks(todo, _chunk_size(len(todo), workers or default_workers()))
            if not todo:  # all verified: start no pool or cluster
                results = iter(())
            elif scheduler is None:
                results = run_local(settings, chunks, workers or default_workers())
            else:  # "local-cluster" or a Dask scheduler address; the Dask extra is optional, so imported here
                from augcli.executor_dask import run_dask

                results = run_dask(settings, chunks, workers or default_workers(), scheduler)
            fresh = (rows for rows_per_item in results for rows in rows_per_item)
            for item in items:  # dataset order, whichever items were reused
                rows = reused.get(item.source)
                if rows is None:
                    rows = next(fresh)
                    journal.append(item.source, rows)
                for row in rows:
                    _record(writer, result, row, None if item.source in reused else on_progress)
                    if strict and row["type"] == "skipped":
                        raise StrictStop(row)
            writer.write(_footer(result))
            writer.commit()
            journal.close()
            clear_state(output)
        except OSError as exc:  # disk full, permission denied: name the path; the journal keeps the work done
            _abandon(writer, journal, results)
            raise _output_error(exc, output) from None
        except BaseException:
            _abandon(writer, journal, results)
            raise
        result.seconds = time.perf_counter() - started
        return result


STRICT_WALK_REASONS = {"not_a_file"}  # with --strict, these stop the run like an unreadable image


class StrictStop(AugcliError):
    """--strict: the first unreadable source stops the run (exit 1); the work done is kept for a re-run."""

    exit_code = ExitCode.FAILURES

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        super().__init__(
            f"{row['source']}: {row['reason']} ({row['message']}); stopped at the first unreadable file "
            "(--strict). Fix or remove it and run the same command again to continue"
        )


def _prepare(
    output: Path,
    recipe: Recipe,
    dataset: Dataset,
    items: list[WorkItem],
    walk_rows: list[dict[str, Any]],
    force: bool,
    mixes: bool,
) -> dict[str, list[dict[str, Any]]]:
    """Settle what an earlier run left in `output`; record this run's plan. Returns the reusable rows."""
    versions = library_versions()
    sources = {s.relpath for s in dataset.samples} | {r["source"] for r in walk_rows}
    previous = previous_run(output, recipe.sha256(), versions, sources, force)
    output.mkdir(parents=True, exist_ok=True)
    changed: set[tuple[str | None, str]] = set()
    if previous is not None:
        sweep_temporaries(output)
        if mixes:  # outputs that mix in other images of their class depend on the class's members
            now = class_members((s.relpath, s.split, s.label) for s in dataset.samples)
            changed = {key for key in now if now[key] != previous.members.get(key, set())}
    reused = reusable_rows(items, previous, output, dataset.root, changed)
    if previous is not None:  # files the earlier run made that this one does not keep
        kept = {row["path"] for rows in reused.values() for row in rows}
        remove_created(output, previous.created_paths() - kept)
    write_run_state(output, recipe.sha256(), versions, items)
    _make_folders(output, items)
    return reused


def _abandon(writer: ManifestWriter | None, journal: Journal, results: Iterator[Any] | None) -> None:
    """Stop cleanly: no half manifest, the journal flushed, the workers stopped."""
    if writer is not None:
        writer.discard()
    journal.close()
    if results is not None and hasattr(results, "close"):
        results.close()


def _output_error(exc: OSError, output: Path) -> OutputError:
    return OutputError(
        f"cannot write {exc.filename or output}: {exc.strerror or exc}. "
        "The work done so far is kept: fix the cause and run the same command again to continue"
    )


def check_output(source_root: Path, output: Path, force: bool, *, resume: bool = False) -> None:
    """Refuse unusable output folders. With `resume` (expand), a folder holding an earlier augcli run is
    accepted: the caller continues or, with --force, rebuilds it (resume.previous_run)."""
    if not is_url(source_root):  # a dataset in object storage can neither hold nor contain a local folder
        _check_nesting(source_root, output)
    refuse_if_locked(output)  # a run in progress there: say so, not that the folder holds files
    if output.exists() and not output.is_dir():
        raise OutputError(f"output path {output} exists and is not a folder")
    if resume and holds_run(output):
        return
    if output.is_dir() and any(e.name != STATE_DIR for e in output.iterdir()) and not force:
        what = "an expanded dataset" if (output / MANIFEST_NAME).exists() else "other files"
        raise OutputError(f"output folder {output} already holds {what}; use an empty folder or --force")


def _check_nesting(source_root: Path, output: Path) -> None:
    source, target = source_root.resolve(), output.resolve()
    if target == source or target.is_relative_to(source):
        raise OutputError(f"output folder {output} is inside the dataset {source_root}; choose a folder outside it")
    if source.is_relative_to(target):
        raise OutputError(f"output folder {output} contains the dataset {source_root}; choose another folder")


def plan(recipe: Recipe, dataset: Dataset) -> list[WorkItem]:
    """One work item per source, with every output path decided here (copies per source: balance.py)."""
    classes = plan_classes(recipe, dataset)
    copies = {source: n for c in classes for source, n in zip(c.sources, c.copies, strict=True)}
    keep = {(c.split, c.label): c.keep_originals for c in classes}
    width = max(2, len(str(max(max(copies.values(), default=recipe.copies) - 1, 0))))
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
            tuple((copy, f"{folder}/{stem}__aug{copy:0{width}d}{out_suffix}") for copy in range(copies[sample.relpath]))
            if augmented
            else ()
        )
        original = sample.relpath if (keep[(sample.split, sample.label)] or not augmented) else None
        item = WorkItem(sample.relpath, sample.label, sample.split, original, outputs)
        for path in ([original] if original else []) + [out for _, out in outputs]:
            if path in seen:
                raise DatasetError(f"two sources would write {path}: {seen[path]} and {sample.relpath}")
            seen[path] = sample.relpath
        items.append(item)
    return items


def partner_lists(recipe: Recipe, dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """Sources per class, for mixing transforms; empty when the recipe mixes nothing."""
    if not any(_uses_partners(steps) for steps in recipe.step_lists()):
        return {}
    groups: dict[Any, list[str]] = defaultdict(list)
    pool_of: dict[str, Any] = {}  # "split/label" -> the group its partners come from (recipe.partner_policy)
    for sample in dataset.samples:
        pool = sample.split if recipe.partner_policy == "same_split" else (sample.split, sample.label)
        groups[pool].append(sample.relpath)
        pool_of[f"{sample.split}/{sample.label}"] = pool
    pools = {pool: tuple(paths) for pool, paths in groups.items()}  # one tuple per pool: pickled once
    return {key: pools[pool] for key, pool in pool_of.items()}


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
