"""`augcli expand`: plan the outputs of a dataset, run the work, write the manifest.

The planner decides every output path up front (deterministic names keeping the source stem), the runner
(executor.py) runs chunks of sources and streams rows back in order, the run state (state.py: a local
journal, or manifest parts in object storage) records each finished chunk, and the manifest is committed
only when the run completes. Local and object-store outputs go through this one driver.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from hashlib import sha256
from pathlib import Path
from typing import Any

from augcli import storage
from augcli.balance import planned_counts
from augcli.balance import warnings as balance_warnings
from augcli.dataset import Dataset, scan
from augcli.errors import AugcliError, ExitCode, OutputError
from augcli.executor import Job, default_workers, run
from augcli.imageio import DEFAULT_MAX_PIXELS
from augcli.manifest import header, skipped_row
from augcli.planner import partner_lists, plan
from augcli.recipe import load_recipe
from augcli.resume import VERIFY_MODES
from augcli.split import split_for_recipe
from augcli.state import state_for
from augcli.worker import Settings, crashed, process_chunk


@dataclass
class ClassCounts:
    sources: int = 0
    originals: int = 0
    augmented: int = 0
    skipped: int = 0


@dataclass
class ExpandResult:
    output: Path | str
    manifest: Path | str
    layout: str
    counts: dict[tuple[str | None, str], ClassCounts]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. a class already above target_per_class
    ignored: int = 0
    seconds: float = 0.0
    objects: dict[str, dict[str, list[int]]] = field(
        default_factory=dict
    )  # annotated: split -> class -> [before, after]
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
    layout: str = "auto",
    verify: str = "size",
    on_start: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExpandResult:
    """Expand a dataset into `output` (a folder, or a URL such as s3://bucket/out), continuing an earlier
    unfinished or finished run of the same recipe there (state.py): verified work is kept, the rest is done,
    and the committed manifest is the one an uninterrupted run would write. `verify` says how an earlier
    run's outputs are checked before they are kept: "size" (each file exists with its recorded size) or
    "full" (each file re-hashed); sources are re-hashed either way (resume.py)."""
    started = time.perf_counter()
    if verify not in VERIFY_MODES:
        raise OutputError(f"--verify must be one of {', '.join(VERIFY_MODES)}, not {verify!r}")
    workers = workers or default_workers()
    recipe = load_recipe(recipe_path)
    dataset = split_for_recipe(scan(dataset_root, layout), recipe, workers, max_pixels)
    state = state_for(output)
    state.check(dataset.root, force)
    with state.lock():  # one writer per output folder: a second run is refused at once (lock.py)
        items = plan(recipe, dataset)
        partners = partner_lists(recipe, dataset)
        settings = Settings(recipe.model_dump_json(), str(dataset.root), str(state.output), max_pixels, partners)
        if dataset.annotations is not None:
            references = {s.relpath: (s.split, s.annotation) for s in dataset.samples} if partners else {}
            settings = replace(settings, annotations=dataset.annotations, references=references)
        result = ExpandResult(state.shown, state.manifest, dataset.layout, _initial_counts(dataset))
        result.empty_classes, result.ignored = dataset.empty_classes, dataset.ignored
        result.warnings = balance_warnings(recipe, dataset)
        result.objects = _objects_before(dataset)
        result.object_names = dataset.annotations.names if dataset.annotations is not None else []
        walk_rows = [_walk_skip_row(skipped, dataset) for skipped in dataset.skipped]
        try:
            reused = state.prepare(
                recipe,
                dataset,
                items,
                walk_rows,
                force,
                bool(settings.partners),
                job_run=lambda job, chunks: run(job, chunks, workers, scheduler),
                verify=verify,
            )
        except OSError as exc:
            raise state.error(exc) from None
        todo = [item for item in items if item.source not in reused]
        result.resumed, result.processed = len(reused), len(todo)
        if on_start:
            on_start(sum(len(item.paths()) for item in todo))
        writer = None
        results: Iterator[Any] | None = None
        try:
            writer = state.writer()
            writer.write(
                header(recipe, {"layout": dataset.layout, **_annotated(dataset), "counts": planned_counts(items)})
            )
            annotated = AnnotatedOutputs(dataset, items) if dataset.annotations is not None else None
            for row in walk_rows:
                _record(writer, result, row, on_progress)
                if strict and row["reason"] in STRICT_WALK_REASONS:
                    raise StrictStop(row)
            chunks = state.chunks(todo, workers)
            job = Job(process_chunk, settings, crashed, storage.get_options())
            results = run(job, chunks, workers, scheduler) if chunks else iter(())  # all verified: no pool
            fresh = _recorded(state, chunks, results)
            copied = getattr(reused, "lines", None) if annotated is None else None  # resume.Reused.lines
            for item in items:  # dataset order, whichever items were reused
                text = copied(item.source) if copied is not None else None
                if text is not None:  # kept rows of the last manifest, checked against the plan: copied as they are
                    writer.write_lines(text)
                    _count_kept(result, item)
                    continue
                rows = reused.get(item.source)
                for row in rows if rows is not None else next(fresh):
                    _record(writer, result, row, None if rows is not None else on_progress)
                    if annotated is not None:
                        annotated.add(row)
                    if strict and row["type"] == "skipped":
                        raise StrictStop(row)
            for _ in fresh:  # ends the run here: every chunk came back (zip strict), the pool or cluster stops now
                raise RuntimeError("the workers returned more chunks than were planned")
            for record in annotated.write(state.output) if annotated is not None else []:
                writer.write(record)
            writer.write(_footer(result))
            state.finish(writer)
        except OSError as exc:  # disk full, permission denied, a store refusing: the state keeps the work done
            _abandon(writer, state, results)
            raise state.error(exc) from None
        except BaseException:
            _abandon(writer, state, results)
            raise
        result.seconds = time.perf_counter() - started
        return result


def _recorded(state: Any, chunks: list, results: Iterator[list]) -> Iterator[list[dict[str, Any]]]:
    """Each item's rows as its chunk arrives, after the run state has recorded the chunk."""
    for chunk, rows in zip(chunks, results, strict=True):
        state.record(chunk, rows)
        yield from rows


def _annotated(dataset: Dataset) -> dict[str, Any]:
    """Header fields of an annotated dataset (its format and category names) or of one split by the recipe."""
    if dataset.split_from is not None:
        return {"split_from": dataset.split_from}
    if dataset.annotations is None:
        return {}
    return {"format": dataset.annotations.layout, "names": dataset.annotations.names}


class AnnotatedOutputs:
    """Collects every output's targets, in manifest order, for the files a format writes once per dataset
    (COCO's JSON per split, YOLO's data.yaml); each becomes a `dataset_file` record that audit verifies."""

    def __init__(self, dataset: Dataset, items: list[Any]) -> None:
        self.dataset, self.entries = dataset, []
        self.references = {item.source: (item.split, item.annotation) for item in items}

    def add(self, row: dict[str, Any]) -> None:
        from augcli.formats import AnnotatedSample
        from augcli.targets import Instance, Targets

        if row["type"] != "output":
            return
        split, annotation = self.references[row["source"]]
        targets = Targets([Instance.from_json(o) for o in row.get("objects", [])])
        sample = AnnotatedSample(row["source"], split, annotation)
        self.entries.append((row["split"], row["path"], row["width"], row["height"], targets, sample))

    def write(self, output: str) -> list[dict[str, Any]]:
        from augcli.formats import dataset_files

        files = sorted(dataset_files(self.dataset.annotations, self.entries).items())
        for rel, content in files:
            if not storage.is_url(output):
                (Path(output) / rel).parent.mkdir(parents=True, exist_ok=True)
            storage.write(output, rel, content)
        return [{"type": "dataset_file", "path": rel, "sha256": sha256(data).hexdigest()} for rel, data in files]


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


def _abandon(writer: Any, state: Any, results: Iterator[Any] | None) -> None:
    """Stop cleanly: no half manifest, the run state flushed, the workers stopped."""
    if writer is not None:
        writer.discard()
    state.close()
    if results is not None and hasattr(results, "close"):
        results.close()


def _objects_before(dataset: Dataset) -> dict[str, dict[str, list[int]]]:
    if dataset.annotations is None:
        return {}
    from augcli.instances import per_split

    names = dataset.annotations.names
    table: dict[str, dict[str, list[int]]] = {}
    for split, counter in per_split(dataset).items():
        row = table.setdefault(str(split or "-"), {})
        for category, count in sorted(counter.items()):
            row[names[category] if 0 <= category < len(names) else str(category)] = [count, 0]
    return table


def _class_name(result: ExpandResult, category: int) -> str:
    names = result.object_names
    return names[category] if 0 <= category < len(names) else str(category)


def _initial_counts(dataset: Dataset) -> dict[tuple[str | None, str], ClassCounts]:
    counts: dict[tuple[str | None, str], ClassCounts] = defaultdict(ClassCounts)
    for sample in dataset.samples:
        counts[(sample.split, sample.label)].sources += 1
    return counts


def _walk_skip_row(skipped: Any, dataset: Dataset) -> dict[str, Any]:
    parts = skipped.relpath.split("/")
    split = parts[0] if dataset.layout == "split" and len(parts) > 1 else None
    label = parts[1 if split else 0] if len(parts) > (2 if split else 1) else None
    return skipped_row(skipped.relpath, label, split, skipped.reason, skipped.message)


def _record(writer: Any, result: ExpandResult, row: dict[str, Any], progress) -> None:
    writer.write(row)
    key = (row.get("split"), row.get("label"))
    if row["type"] == "skipped":
        result.skipped.append(row)
        if row.get("label") is not None:
            result.counts[key].skipped += 1
        return
    for record in row.get("objects", []) if result.object_names else []:  # annotated outputs: objects written
        names = result.objects.setdefault(str(row.get("split") or "-"), {})
        names.setdefault(_class_name(result, record["category"]), [0, 0])[1] += 1
    counts = result.counts[key]
    if row["kind"] == "original":
        counts.originals += 1
    else:
        counts.augmented += 1
    if progress:
        progress(1)


def _count_kept(result: ExpandResult, item: Any) -> None:
    """Count a kept source's rows from its plan: resume.verify_chunk checked that they are exactly the planned
    outputs (paths, copies, kinds, label, split)."""
    counts = result.counts[(item.split, item.label)]
    counts.originals += bool(item.original_out)
    counts.augmented += len(item.outputs)


def _footer(result: ExpandResult) -> dict[str, Any]:
    classes = {
        f"{split}/{label}" if split else label: vars(c)
        for (split, label), c in sorted(result.counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    }
    return {"type": "footer", "outputs": result.outputs, "skipped": len(result.skipped), "classes": classes}
