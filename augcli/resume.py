"""Interrupted runs and re-runs: what an earlier run left in OUT, and what a new run may reuse.

While a run is in progress, OUT/.augcli/ holds `run.json` (the recipe hash, library versions and the
plan: every source and the paths it will write) and `journal.jsonl` (one line per finished source with
its manifest rows, flushed as each chunk comes back, fsync'd every few seconds rather than per file:
fsync per file made whole runs 1.4-2.7x slower). The manifest is committed (renamed into place) only
at the end, and the state folder is then removed, so a finished OUT holds the dataset and the manifest
only. A killed run leaves the last committed manifest (if any), the journal, and perhaps stray
temporary files, which the next start sweeps.

A re-run reuses a source's previous rows only when they are verifiably what a fresh run would write:
same planned paths, same source bytes (sha256), every output file present with the recorded sha256,
and (for recipes that mix images of a class) the same class members. Everything else is redone, and
files an earlier run created that the new run does not keep are deleted. Nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from augcli.errors import ManifestError, OutputError
from augcli.manifest import MANIFEST_NAME, STATE_DIR, dumps, library_versions, read_records, safe_output_path
from augcli.planner import WorkItem

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
STATE_SCHEMA = 1
FSYNC_SECONDS = 2.0
# Skipped by dataset.scan (dataset._link_problem), not sources.
WALK_REASONS = {"outside_class", "symlink_outside", "not_a_file", "symlink_dir", "symlink_loop", "symlink_broken"}
# Temporary names written by imageio.write_atomic (".name.PID.tmp") and ManifestWriter (".name.tmp").
TEMP_NAME = re.compile(r"^\..+?(\.\d+)?\.tmp$")

Rows = list[dict[str, Any]]


@dataclass
class Previous:
    """What earlier augcli runs left in an output folder."""

    recipe_sha256: str | None
    versions: dict[str, str] | None
    rows: dict[str, Rows] = field(default_factory=dict)  # source -> its rows, last attempt wins
    planned: set[str] = field(default_factory=set)  # paths an unfinished run meant to write
    members: dict[tuple[str | None, str | None], set[str]] = field(default_factory=dict)  # sources per class

    def created_paths(self) -> set[str]:
        """Every output path an earlier run wrote or was about to write."""
        paths = set(self.planned)
        for rows in self.rows.values():
            paths.update(r["path"] for r in rows if r.get("type") == "output" and isinstance(r.get("path"), str))
        return paths


def state_dir(out: Path) -> Path:
    return out / STATE_DIR


def holds_run(out: Path) -> bool:
    return (out / MANIFEST_NAME).is_file() or (state_dir(out) / RUN_FILE).is_file()


def find_previous(out: Path) -> Previous | None:
    """The committed manifest overlaid with the journal of an unfinished run; None if neither exists.

    Raises ManifestError if the committed manifest cannot be read."""
    manifest, run_file = out / MANIFEST_NAME, state_dir(out) / RUN_FILE
    if not manifest.is_file() and not run_file.is_file():
        return None
    previous = Previous(None, None)
    if manifest.is_file():
        for record in read_records(manifest):
            if record["type"] == "header":
                previous.recipe_sha256, previous.versions = record.get("recipe_sha256"), record.get("versions")
            elif record["type"] in ("output", "skipped") and isinstance(record.get("source"), str):
                previous.rows.setdefault(record["source"], []).append(record)
        previous.members = class_members(
            (source, rows[0].get("split"), rows[0].get("label"))
            for source, rows in previous.rows.items()
            if rows[0].get("reason") not in WALK_REASONS
        )
    state = _read_json(run_file)
    if state is not None:
        if state.get("recipe_sha256") != previous.recipe_sha256 and previous.rows:
            # A manifest of another recipe under a newer unfinished run: its rows cannot be reused, but its
            # files are still ones augcli created.
            previous.planned = previous.created_paths()
            previous.rows = {}
        previous.recipe_sha256, previous.versions = state.get("recipe_sha256"), state.get("versions")
        plan = state.get("plan") if isinstance(state.get("plan"), dict) else {}
        entries = [(s, e) for s, e in plan.items() if isinstance(e, dict) and isinstance(e.get("paths"), list)]
        previous.planned |= {p for _, e in entries for p in e["paths"] if isinstance(p, str)}
        previous.members = class_members((s, e.get("split"), e.get("label")) for s, e in entries)
        previous.rows.update(read_journal(state_dir(out) / JOURNAL_FILE))
    return previous


def read_journal(path: Path) -> dict[str, Rows]:
    """Entries by source, last wins. A torn last line (killed mid-write) or any unreadable line is ignored:
    its source is simply done again."""
    entries: dict[str, Rows] = {}
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if (
                    isinstance(entry, dict)
                    and isinstance(entry.get("source"), str)
                    and isinstance(entry.get("rows"), list)
                ):
                    entries[entry["source"]] = entry["rows"]
    except FileNotFoundError:
        pass
    return entries


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError):
        return {}  # torn or unreadable: an unfinished run whose settings are unknown
    return data if isinstance(data, dict) else {}


def sweep_temporaries(out: Path) -> int:
    """Delete the hidden temporary files a killed run leaves (never a final name). Returns the count."""
    removed = 0
    for dirpath, _dirnames, filenames in os.walk(out, followlinks=False):
        for name in filenames:
            if TEMP_NAME.match(name):
                Path(dirpath, name).unlink(missing_ok=True)
                removed += 1
    return removed


def reusable(item: WorkItem, rows: Rows | None, out: Path, source_root: Path, class_changed: bool) -> bool:
    """Are `rows` exactly what processing `item` now would produce? (Checked, not trusted.)"""
    if not rows or class_changed or any(r.get("type") != "output" for r in rows):
        return False  # skipped sources are cheap to retry and may have been fixed
    planned = ([(None, item.original_out)] if item.original_out else []) + list(item.outputs)
    if [(r.get("copy"), r.get("path")) for r in rows] != planned:
        return False
    if any(r.get("label") != item.label or r.get("split") != item.split for r in rows):
        return False
    if rows[0].get("source_sha256") != source_sha256(source_root, item.source):
        return False
    files = [(r["path"], r.get("sha256")) for r in rows]
    files += [(a.get("path"), a.get("sha256")) for r in rows for a in r.get("annotations", []) if isinstance(a, dict)]
    if sorted(p for p, _ in files[len(rows) :]) != sorted(item.annotation_files):
        return False  # an annotated source's label files must be the planned ones too
    try:
        return all(file_sha256(safe_output_path(out, path)) == sha for path, sha in files)
    except ManifestError:
        return False


def source_sha256(source_root: Path | str, rel: str) -> str | None:
    """A source's sha256; the dataset may be a URL (storage.py)."""
    from augcli import storage

    if not storage.is_url(source_root):
        return file_sha256(Path(source_root) / rel)
    try:
        return hashlib.sha256(storage.read(str(source_root), rel)).hexdigest()
    except Exception:  # noqa: BLE001  (missing or unreadable: not reusable, the source is redone)
        return None


def file_sha256(path: Path) -> str | None:
    try:
        if not path.is_file():
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def class_members(
    entries: Iterable[tuple[str, str | None, str | None]],
) -> dict[tuple[str | None, str | None], set[str]]:
    members: dict[tuple[str | None, str | None], set[str]] = defaultdict(set)
    for source, split, label in entries:
        members[(split, label)].add(source)
    return members


def remove_created(out: Path, paths: Iterable[str]) -> list[str]:
    """Delete files an earlier run created (paths from its manifest, journal or plan), then any folder
    left empty by that. Unsafe paths are refused, not followed. Returns the paths refused."""
    refused, folders = [], set()
    for rel in sorted(paths):
        try:
            path = safe_output_path(out, rel)
        except ManifestError:
            refused.append(rel)
            continue
        if path.is_file() and not path.is_symlink():
            path.unlink()
            folders.add(path.parent)
    real_out = out.resolve()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder.resolve() != real_out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return refused


def write_run_state(out: Path, recipe_sha256: str, versions: dict[str, str], items: list[WorkItem]) -> None:
    folder = state_dir(out)
    folder.mkdir(exist_ok=True)
    plan = {
        i.source: {
            "split": i.split,
            "label": i.label,
            "paths": i.paths(),
        }
        for i in items
    }
    state = {"schema": STATE_SCHEMA, "recipe_sha256": recipe_sha256, "versions": versions, "plan": plan}
    temp = folder / f".{RUN_FILE}.tmp"
    temp.write_text(dumps(state) + "\n", encoding="ascii")
    os.replace(temp, folder / RUN_FILE)


def clear_state(out: Path) -> None:
    folder = state_dir(out)
    for name in (JOURNAL_FILE, RUN_FILE, f".{JOURNAL_FILE}.tmp", f".{RUN_FILE}.tmp"):
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (a user's file?) or already gone: leave it
        folder.rmdir()


class Journal:
    """Append-only record of finished sources. Started from the entries a run reuses, so the journal
    alone (with run.json) describes everything the current attempt has done."""

    def __init__(self, out: Path, reused: dict[str, Rows]) -> None:
        folder = state_dir(out)
        self.path = folder / JOURNAL_FILE
        temp = folder / f".{JOURNAL_FILE}.tmp"
        with open(temp, "w", encoding="ascii", newline="\n") as handle:
            for source, rows in reused.items():
                handle.write(dumps({"source": source, "rows": rows}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        self._handle: IO[str] | None = open(self.path, "a", encoding="ascii", newline="\n")  # noqa: SIM115
        self._synced = time.monotonic()

    def append(self, source: str, rows: Rows) -> None:
        assert self._handle is not None
        self._handle.write(dumps({"source": source, "rows": rows}) + "\n")
        self._handle.flush()  # survives the process being killed; fsync (power loss) only every few seconds
        if time.monotonic() - self._synced > FSYNC_SECONDS:
            os.fsync(self._handle.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def previous_run(
    out: Path, recipe_sha256: str, versions: dict[str, str], sources: set[str], force: bool
) -> Previous | None:
    """The earlier run in `out` that this run may continue, or None (nothing there, or rebuilt with --force).

    Refuses, without --force, a run of another recipe, other output-deciding library versions, or other
    sources; with --force, deletes the files that run created (and only those) so the new run starts clean."""
    if not out.is_dir():
        return None
    try:
        previous = find_previous(out)
    except ManifestError as exc:
        if not force:
            raise OutputError(
                f"output folder {out} holds a manifest that cannot be read ({exc}); move it away, "
                "or use --force to write beside it"
            ) from None
        return None
    if previous is None:
        return None
    why = _difference(previous, recipe_sha256, versions, sources)
    if why is None:
        return previous
    created = previous.created_paths()
    if not force:
        raise OutputError(
            f"output folder {out} holds an expanded dataset {why}; mixing outputs of two runs is refused. "
            f"Use --force to delete the {len(created)} files that run created and rebuild, or choose another folder"
        )
    remove_created(out, created)
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    clear_state(out)
    return None


def _difference(previous: Previous, recipe_sha256: str, versions: dict[str, str], sources: set[str]) -> str | None:
    if previous.recipe_sha256 != recipe_sha256:
        return f"made with another recipe (sha256 {str(previous.recipe_sha256)[:12]}, this one {recipe_sha256[:12]})"
    old = previous.versions or {}
    changed = [f"{k} {old.get(k)} -> {v}" for k, v in versions.items() if k != "python" and old.get(k) != v]
    if changed:
        return f"made with other library versions ({', '.join(changed)}), which may encode different bytes"
    if previous.rows and not set(previous.rows) & sources:
        return "of other source files"
    return None


def reusable_rows(
    items: list[WorkItem],
    previous: Previous | None,
    out: Path,
    source_root: Path,
    changed_classes: set[tuple[str | None, str]],
) -> dict[str, Rows]:
    """Previous rows of the items that need no work, by source, verified against the files on disk."""
    if previous is None:
        return {}
    return {
        item.source: previous.rows[item.source]
        for item in items
        if item.source in previous.rows
        and reusable(item, previous.rows[item.source], out, source_root, (item.split, item.label) in changed_classes)
    }


def prepare_local(
    output: Path, recipe: Any, dataset: Any, items: list[WorkItem], walk_rows: Rows, force: bool, mixes: bool
) -> dict[str, Rows]:
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
    for folder in sorted({os.path.dirname(p) for item in items for p in item.paths()}):
        (output / folder).mkdir(parents=True, exist_ok=True)
    return reused
