"""Pieces of `augcli audit` that look at one thing: a manifest line, a row, a file.

The manifest is data that may be corrupted or crafted, so lines are parsed one by one (a bad line is a
finding, not a crash), rows are checked against a schema of required keys and types (unknown keys are
allowed: newer writers may add some), and paths are vetted before anything is opened. File inspection
(`inspect_files`) runs in worker processes: it gets small picklable jobs and returns hashes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from augcli.executor import _ordered

HEX64 = re.compile(r"[0-9a-f]{64}")
TRAIN = "train"

# key -> accepted types (None means null is allowed). Checked on every row of that type.
OUTPUT_SCHEMA: dict[str, tuple] = {
    "path": (str,),
    "kind": (str,),
    "source": (str,),
    "source_sha256": (str,),
    "label": (str,),
    "split": (str, type(None)),
    "sha256": (str,),
    "transforms": (list,),
    "width": (int,),
    "height": (int,),
}
SKIPPED_SCHEMA: dict[str, tuple] = {"source": (str,), "reason": (str,)}
STEP_SCHEMA: dict[str, tuple] = {"name": (str,), "step": (str,), "params": (dict,)}


def manifest_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, problem) for every line; streams, never raises on content."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg})"
                continue
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield number, None, "not a manifest record (an object with a 'type')"
                continue
            yield number, record, ""


def schema_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with a row's shape; empty when it is well-formed."""
    kind = record["type"]
    schema = OUTPUT_SCHEMA if kind == "output" else SKIPPED_SCHEMA if kind == "skipped" else {}
    problems = _missing_or_mistyped(record, schema)
    if kind != "output" or problems:
        return problems
    if record["kind"] not in ("original", "augmented"):
        problems.append(f"kind must be 'original' or 'augmented', not {record['kind']!r}")
    for key in ("sha256", "source_sha256"):
        if not HEX64.fullmatch(record[key]):
            problems.append(f"{key} is not a sha256 hex digest")
    for index, step in enumerate(record["transforms"]):
        if not isinstance(step, dict):
            problems.append(f"transforms[{index}] is not an object")
        else:
            problems += [f"transforms[{index}]: {p}" for p in _missing_or_mistyped(step, STEP_SCHEMA)]
    if record["kind"] == "augmented":
        sources = record.get("sources")
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            problems.append("sources must be a list of paths")
    return problems


def _missing_or_mistyped(record: dict[str, Any], schema: dict[str, tuple]) -> list[str]:
    problems = []
    for key, types in schema.items():
        if key not in record:
            problems.append(f"missing key {key!r}")
        elif not isinstance(record[key], types) or (isinstance(record[key], bool) and bool not in types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            problems.append(f"{key!r} must be {names}, not {type(record[key]).__name__}")
    return problems


def place(rel: str, layout: str) -> tuple[str | None, str | None]:
    """(split, label) a dataset-relative path implies: split/label/... or label/..."""
    parts = rel.split("/")
    if layout == "split":
        return (parts[0], parts[1]) if len(parts) > 2 else (parts[0], None)
    return None, (parts[0] if len(parts) > 1 else None)


def lexically_safe(rel: Any) -> bool:
    """The part of manifest.safe_output_path that needs no file system (manifest-only audits)."""
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        return False
    parts = rel.replace("\\", "/").split("/")
    return not (rel.startswith(("/", "\\")) or os.path.isabs(rel) or ".." in parts or parts[0].endswith(":"))


def recipe_findings(header: dict[str, Any], wanted: Any, where: str) -> tuple[Any, list[str]]:
    """The header's recipe (None if unusable) and what is wrong with it.

    Tampering: the stored recipe, dumped as expand dumps it, must hash to `recipe_sha256`. Staleness: compared
    with `wanted` (the --recipe file) after both are validated by this augcli, so a recipe field added by a
    newer augcli (its default filled in on both sides) does not count as a difference."""
    from augcli.recipe import recipe_from_dict

    stored = header.get("recipe")
    problems = []
    text = json.dumps(stored, sort_keys=True, separators=(",", ":"))
    if hashlib.sha256(text.encode()).hexdigest() != header.get("recipe_sha256"):
        problems.append("the header's recipe does not hash to its recipe_sha256 (edited header)")
    try:
        recipe = recipe_from_dict(stored, where)
    except Exception as exc:  # noqa: BLE001  (RecipeError, or worse: the header is damaged)
        return None, [*problems, f"the header's recipe does not validate: {exc}"]
    if wanted is not None:
        ours, theirs = wanted.model_dump(mode="json"), recipe.model_dump(mode="json")
        keys = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        if keys:
            problems.append(
                f"made with another recipe (sha256 {str(header.get('recipe_sha256'))[:12]}, --recipe has "
                f"{wanted.sha256()[:12]}); keys that differ: {', '.join(keys)}"
            )
    return recipe, problems


# --- work done in worker processes ------------------------------------------------------------------------

Job = tuple[str, str, Any]  # (root, relative path, caller's data passed through untouched)
Inspected = tuple[Any, str | None, int | None, str]  # (caller's data, sha256, dhash, problem)


def inspect_files(jobs: list[Job], max_pixels: int, storage_options: tuple = ()) -> list[Inspected]:
    """sha256 and dHash of each file; a missing or undecodable file gives a problem instead. A root may be a
    URL (storage.py; `storage_options` reach worker processes this way)."""
    from augcli import storage
    from augcli.errors import ImageReadError
    from augcli.imageio import decode
    from augcli.phash import dhash

    if storage_options:
        storage.set_options(storage_options)
    results: list[Inspected] = []
    for root, rel, data in jobs:
        try:
            content = storage.read(root, rel)
        except ImageReadError as exc:
            results.append((data, None, None, exc.reason))
            continue
        sha = hashlib.sha256(content).hexdigest()
        try:
            image_hash: int | None = dhash(decode(content, rel, max_pixels).image)
        except ImageReadError:
            image_hash = None  # still hashed; just not comparable by appearance
        results.append((data, sha, image_hash, ""))
    return results


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def run_ordered(fn: Callable, batches: Iterable[list], workers: int, *args: Any) -> Iterator[Any]:
    """fn(batch, *args) for each batch on a spawn process pool, results in batch order, few in flight."""
    if workers <= 1:
        for batch in batches:
            yield fn(batch, *args)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        yield from _ordered(lambda f, b: pool.submit(f, b, *args), fn, batches, workers * 4)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
