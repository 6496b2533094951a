"""Manifest parts: how a run into object storage records progress, since an object cannot be appended to.

Each chunk writes its outputs, then one part object `OUT/.augcli/parts/<key>.jsonl` holding its manifest
rows. The key is a hash of the recipe and of the chunk's items (sources, their size and ETag or mtime,
labels, splits, planned output paths): a part exists only for work that is complete, and only for the
same recipe and inputs. The driver merges the parts in chunk order into `OUT/manifest.jsonl`, so a
resumed or retried run skips the chunks whose part exists and still writes the manifest an uninterrupted
run writes. Local outputs keep the journal of resume.py instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from augcli import storage
from augcli.errors import OutputError
from augcli.manifest import MANIFEST_NAME, STATE_DIR, dumps, lexically_safe, library_versions

PARTS_DIR = f"{STATE_DIR}/parts"
RUN_FILE = f"{STATE_DIR}/run.json"
PARTS_SCHEMA = 1

Rows = list[list[dict[str, Any]]]


def chunk_key(recipe_sha256: str, items: Sequence[Any]) -> str:
    described = [[i.source, i.stamp, i.label, i.split, i.original_out, [list(o) for o in i.outputs]] for i in items]
    text = json.dumps([PARTS_SCHEMA, recipe_sha256, described], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def part_rel(key: str) -> str:
    return f"{PARTS_DIR}/{key}.jsonl"


def write_part(output_root: str, recipe_sha256: str, items: Sequence[Any], rows: Rows) -> None:
    """One object, one call: the rows of each item on its own line."""
    key = chunk_key(recipe_sha256, items)
    text = "".join(dumps({"source": item.source, "rows": r}) + "\n" for item, r in zip(items, rows, strict=True))
    storage.write(output_root, part_rel(key), text.encode("ascii"))


def read_part(output_root: str, key: str, items: Sequence[Any]) -> Rows | None:
    """The rows a part holds for `items`, or None if it is missing or does not match them (then redo)."""
    try:
        text = storage.read(output_root, part_rel(key)).decode("ascii")
        entries = [json.loads(line) for line in text.splitlines()]
    except Exception:  # noqa: BLE001  (missing, torn by hand, not JSON: the chunk is simply done again)
        return None
    if [e.get("source") if isinstance(e, dict) else None for e in entries] != [i.source for i in items]:
        return None
    rows = [e.get("rows") for e in entries]
    return rows if all(isinstance(r, list) for r in rows) else None


def existing_keys(output_root: str) -> set[str]:
    listing = storage.list_files(storage.join(output_root, PARTS_DIR))
    return {rel[: -len(".jsonl")] for rel in listing if rel.endswith(".jsonl") and "/" not in rel}


def stamp_of(dataset: Any, source: str) -> str:
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


def prepare_remote(output: str, shown: str, sha: str, items: list[Any], keys: set[str], force: bool) -> None:
    """Settle what an earlier run left at `output` (continue it, or with --force replace it); record the plan."""
    versions = library_versions()
    previous = _previous(output)
    planned = {p for i in items for p in i.paths()}
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
            clear_parts(output)
        else:  # the same recipe: outputs of sources no longer planned go (a current part lists planned ones only)
            storage.delete(output, sorted(_created_paths(output, keys) - planned))
    plan = {i.source: i.paths() for i in items}
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


def clear_parts(output: str) -> None:
    parts = sorted(storage.list_files(storage.join(output, PARTS_DIR)))
    storage.delete(output, [f"{PARTS_DIR}/{rel}" for rel in parts] + [RUN_FILE])
