"""`augcli expand` into object storage (`-o s3://bucket/expanded`): the same plan, work and manifest as a
local run, with manifest parts (parts.py) instead of the local journal, which needs an appendable file.

The driver decides every output path, runs fixed-size chunks (so the chunks, and the parts' keys, do not
depend on the worker count) on the local pool or a Dask cluster, and each chunk writes its outputs
straight to the store, then its part. At the end the driver merges the parts in chunk order into
`OUT/manifest.jsonl` (uploaded in one call when complete) and deletes `OUT/.augcli/`. A resumed or
retried run skips the chunks whose part exists. Re-running a finished run does the work again (each
object is overwritten with the same bytes): without parts nothing proves the objects are still intact
short of reading them all back (`augcli audit` does that).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from augcli import storage
from augcli.audit_checks import lexically_safe
from augcli.balance import planned_counts
from augcli.balance import warnings as balance_warnings
from augcli.dataset import Dataset, scan
from augcli.errors import OutputError
from augcli.executor import default_workers, run_local
from augcli.imageio import DEFAULT_MAX_PIXELS
from augcli.manifest import MANIFEST_NAME, ManifestWriter, header, library_versions
from augcli.parts import PARTS_DIR, chunk_key, existing_keys, read_part
from augcli.recipe import load_recipe
from augcli.worker import Settings, WorkItem, process_chunk

STATE_DIR = ".augcli"
RUN_FILE = f"{STATE_DIR}/run.json"
CHUNK = 8  # sources per chunk, whatever the worker count: a part's key must not depend on it


def expand_remote(
    recipe_path: str | Path,
    dataset_root: str | Path,
    output: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    force: bool = False,
    strict: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
):
    from augcli.expand import (
        STRICT_WALK_REASONS,
        ExpandResult,
        StrictStop,
        _footer,
        _initial_counts,
        _record,
        _walk_skip_row,
        partner_lists,
        plan,
    )

    started = time.perf_counter()
    output = output.rstrip("/")
    shown = storage.redact(output)
    recipe = load_recipe(recipe_path)
    dataset = scan(dataset_root)
    check_remote_output(str(dataset.root), output)
    items = [replace(item, stamp=_stamp(dataset, item.source)) for item in plan(recipe, dataset)]
    settings = Settings(
        recipe_json=recipe.model_dump_json(),
        source_root=str(dataset.root),
        output_root=output,
        max_pixels=max_pixels,
        partners=partner_lists(recipe, dataset),
        storage_options=storage.get_options(),
        parts=True,
    )
    result = ExpandResult(shown, storage.join(shown, MANIFEST_NAME), dataset.layout, _initial_counts(dataset))  # type: ignore[arg-type]
    result.empty_classes, result.ignored = dataset.empty_classes, dataset.ignored
    result.warnings = balance_warnings(recipe, dataset)
    walk_rows = [_walk_skip_row(skipped, dataset) for skipped in dataset.skipped]
    sha = recipe.sha256()
    chunks = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
    keys = [chunk_key(sha, chunk) for chunk in chunks]
    try:
        _prepare(output, shown, sha, items, set(keys), force)
        done = existing_keys(output) & set(keys)
    except OSError as exc:
        raise _output_error(exc, shown) from None
    todo = [chunk for chunk, key in zip(chunks, keys, strict=True) if key not in done]
    result.processed = sum(len(c) for c in todo)
    result.resumed = len(items) - result.processed
    if on_start:
        on_start(sum(len(i.outputs) + (1 if i.original_out else 0) for c in todo for i in c))
    results: Iterator[Any] | None = None
    with tempfile.TemporaryDirectory(prefix="augcli-manifest-") as local:
        writer = ManifestWriter(Path(local))
        try:
            writer.write(header(recipe, {"layout": dataset.layout, "counts": planned_counts(items)}))
            for row in walk_rows:
                _record(writer, result, row, on_progress)
                if strict and row["reason"] in STRICT_WALK_REASONS:
                    raise StrictStop(row)
            results = _run(settings, todo, workers or default_workers(), scheduler)
            for chunk, key in zip(chunks, keys, strict=True):
                fresh = key not in done
                rows = next(results) if fresh else read_part(output, key, chunk)
                if rows is None:  # a part that cannot be read back: do its chunk again, here
                    rows, fresh = process_chunk(settings, chunk), True
                for item_rows in rows:
                    for row in item_rows:
                        _record(writer, result, row, on_progress if fresh else None)
                        if strict and row["type"] == "skipped":
                            raise StrictStop(row)
            writer.write(_footer(result))
            manifest = writer.commit()
            storage.upload(manifest, output, MANIFEST_NAME)  # one object, visible only when complete
            _clear_state(output)
        except OSError as exc:  # a store refusing a write: name the place; the parts keep the work done
            _stop(writer, results)
            raise _output_error(exc, shown) from None
        except BaseException:
            _stop(writer, results)
            raise
    result.seconds = time.perf_counter() - started
    return result


def _run(settings: Settings, chunks: list[list[WorkItem]], workers: int, scheduler: str | None) -> Iterator[Any]:
    if not chunks:
        return iter(())
    if scheduler is None:
        return run_local(settings, iter(chunks), workers)
    from augcli.executor_dask import run_dask

    return run_dask(settings, iter(chunks), workers, scheduler)


def _stamp(dataset: Dataset, source: str) -> str:
    if source in dataset.stamps:
        return dataset.stamps[source]
    try:  # a local dataset: size and modification time, like make or rsync
        info = os.stat(storage.local_path(dataset.root) / source)
        return f"{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        return ""


def check_remote_output(source_root: str, output: str) -> None:
    """The output must not lie inside the dataset, nor contain it (same store only)."""
    if not storage.is_url(source_root):
        return
    (fs_out, out), (fs_src, src) = storage.filesystem(output), storage.filesystem(source_root)
    if fs_out.protocol != fs_src.protocol:
        return
    out, src = out.rstrip("/"), src.rstrip("/")
    if out == src or out.startswith(src + "/"):
        raise OutputError(
            f"output {storage.redact(output)} is inside the dataset {storage.redact(source_root)}; choose a place "
            "outside it"
        )
    if src.startswith(out + "/"):
        raise OutputError(f"output {storage.redact(output)} contains the dataset; choose another place")


def _prepare(output: str, shown: str, sha: str, items: list[WorkItem], keys: set[str], force: bool) -> None:
    """Settle what an earlier run left at `output` (continue it, or with --force replace it); record the plan."""
    versions = library_versions()
    previous = _previous(output)
    planned = {p for i in items for p in ([i.original_out] if i.original_out else []) + [o for _, o in i.outputs]}
    if previous is None:
        others = [name for name in _top_names(output) if name != STATE_DIR]
        if others and not force:
            raise OutputError(f"output {shown} already holds other files; use an empty place or --force")
    else:
        old_versions = previous.get("versions") or {}
        changed = [k for k, v in versions.items() if k != "python" and old_versions.get(k) != v]
        if previous.get("recipe_sha256") != sha or changed:
            why = "another recipe" if previous.get("recipe_sha256") != sha else "other library versions"
            created = _created_paths(output)
            if not force:
                raise OutputError(
                    f"output {shown} holds an expanded dataset made with {why}; mixing outputs of two runs is "
                    f"refused. Use --force to delete the {len(created)} files that run created and rebuild, "
                    "or choose another place"
                )
            storage.delete(output, sorted(created))
            storage.delete(output, [MANIFEST_NAME])
            _clear_state(output)
        else:  # the same recipe: outputs of sources no longer planned go (a current part lists planned ones only)
            storage.delete(output, sorted(_created_paths(output, keys) - planned))
    plan = {i.source: ([i.original_out] if i.original_out else []) + [p for _, p in i.outputs] for i in items}
    state = {"schema": 1, "recipe_sha256": sha, "versions": versions, "plan": plan}
    storage.write(output, RUN_FILE, (json.dumps(state, separators=(",", ":"), ensure_ascii=True) + "\n").encode())


def _previous(output: str) -> dict[str, Any] | None:
    """run.json of an unfinished run, else the header of a finished run's manifest, else None."""
    for rel in (RUN_FILE, MANIFEST_NAME):
        try:
            first = next(storage.lines(output, rel), b"")
        except Exception:  # noqa: BLE001  (missing, or not readable: counts as absent)
            continue
        try:
            record = json.loads(first)
        except ValueError:
            return {}  # unreadable: treated as another run's (refused without --force)
        return record if isinstance(record, dict) else {}
    return None


def _created_paths(output: str, skip_keys: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """Every output path an earlier run listed (its plan, its manifest, its parts but those of `skip_keys`),
    vetted as relative."""
    paths: set[str] = set()
    for rel in (RUN_FILE, MANIFEST_NAME):
        try:
            for line in storage.lines(output, rel):
                record = _json_or_none(line)
                if not isinstance(record, dict):
                    continue
                if isinstance(record.get("plan"), dict):
                    paths.update(p for v in record["plan"].values() if isinstance(v, list) for p in v)
                if record.get("type") == "output":
                    paths.add(record.get("path"))
        except FileNotFoundError:
            continue
    for rel in storage.list_files(storage.join(output, PARTS_DIR)):
        if rel.removesuffix(".jsonl") in skip_keys:
            continue
        try:
            text = storage.read(storage.join(output, PARTS_DIR), rel).decode("ascii", "replace")
        except Exception:  # noqa: BLE001
            continue
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                paths.update(r.get("path") for r in entry["rows"] if r.get("type") == "output")
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
    return {p for p in paths if isinstance(p, str) and lexically_safe(p) and not p.startswith(STATE_DIR + "/")}


def _json_or_none(line: bytes):
    try:
        return json.loads(line)
    except ValueError:  # a torn or foreign line: nothing to learn from it
        return None


def _top_names(output: str) -> list[str]:
    fs, path = storage.filesystem(output)
    fs.invalidate_cache()
    try:
        return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(path, detail=False)]
    except FileNotFoundError:
        return []


def _clear_state(output: str) -> None:
    parts = sorted(storage.list_files(storage.join(output, PARTS_DIR)))
    storage.delete(output, [f"{PARTS_DIR}/{rel}" for rel in parts] + [RUN_FILE])


def _stop(writer: ManifestWriter, results: Iterator[Any] | None) -> None:
    writer.discard()
    if results is not None and hasattr(results, "close"):
        results.close()


def _output_error(exc: OSError, shown: str) -> OutputError:
    return OutputError(
        f"storage error at {shown}: {storage.describe(exc)}. The work done so far is kept: fix the cause and run "
        "the same command again to continue"
    )
