"""Interrupted runs and re-runs: what an earlier run left in OUT, and what a new run may reuse.

While a run is in progress, OUT/.augcli/ holds `run.json` (one line with the recipe hash and library
versions, then one line per planned source with the paths it will write) and `journal.jsonl` (one line
per finished source with its manifest rows and the sizes of its files, written a chunk at a time as each
chunk comes back, fsync'd every few seconds rather than per file: fsync per file made whole runs
1.4-2.7x slower). The manifest is committed (renamed into place) only at the end, and the state folder
is then removed, so a finished OUT holds the dataset and the manifest only. A killed run leaves the last
committed manifest (if any), the journal, and perhaps stray temporary files, which the next start sweeps.

A re-run reuses a source's previous rows only when they are verifiably what a fresh run would write:
same planned paths, same source bytes (sha256, re-read), every output file present, and (for recipes that
mix images of a class) the same class members. "Present" is checked by `--verify`: `size` (the default)
stats each file and compares its size with the one the journal recorded (a file the manifest alone lists,
with no recorded size, is re-hashed), `full` re-hashes every file against its recorded sha256. The checks
run in the workers (a `Job` through executor.run), and the driver keeps no row in memory: it remembers
where each source's rows are in the old manifest or journal and reads them back when it writes them.
Everything not reused is redone, and files an earlier run created that the new run does not keep are
deleted. Nothing else is ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from augcli.errors import ManifestError, OutputError
from augcli.manifest import (
    MANIFEST_NAME,
    STATE_DIR,
    dumps,
    lexically_safe,
    library_versions,
    read_records,
    safe_output_path,
)
from augcli.planner import WorkItem

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
STATE_SCHEMA = 2  # 2: run.json is JSON lines (a header, then one line per planned source); 1 was one document
FSYNC_SECONDS = 2.0
VERIFY_MODES = ("size", "full")
VERIFY_CHUNK = 64  # sources per verification chunk: a stat or a hash each, so bigger than expand's chunks
# Skipped by dataset.scan (dataset._link_problem), not sources.
WALK_REASONS = {"outside_class", "symlink_outside", "not_a_file", "symlink_dir", "symlink_loop", "symlink_broken"}
# Temporary names written by imageio.write_atomic (".name.PID.tmp") and ManifestWriter (".name.tmp").
TEMP_NAME = re.compile(r"^\..+?(\.\d+)?\.tmp$")
MANIFEST, JOURNAL = 0, 1  # where an earlier run's rows of a source are

Rows = list[dict[str, Any]]
Members = dict[tuple[str | None, str | None], set[str]]


@dataclass
class Previous:
    """What earlier augcli runs left in an output folder: the run's identity, and where its rows are.

    Rows are streamed from the files (`entries`), never all held: a million-output run must not need
    gigabytes to be continued."""

    out: Path
    recipe_sha256: str | None
    versions: dict[str, str] | None
    manifest_rows: bool = False  # the committed manifest's rows belong to this run (same recipe as its state)
    manifest_other: bool = False  # a manifest of another recipe under a newer unfinished run: files only
    unfinished: bool = False  # run.json exists

    def entries(self) -> Iterator[tuple[int, int, str, Rows, dict[str, Any]]]:
        """(where, offset, source, rows, extra), parsed, in the order later ones win: the manifest, then the
        journal (deleting a run, class members; `settle` reads the rows unparsed)."""
        if self.manifest_rows or self.manifest_other:
            yield from _manifest_entries(self.out / MANIFEST_NAME)
        if self.unfinished:
            yield from _journal_entries(state_dir(self.out) / JOURNAL_FILE)

    def planned(self) -> Iterator[tuple[str, str | None, str | None, list[str]]]:
        """(source, split, label, paths) an unfinished run meant to write."""
        if self.unfinished:
            yield from _plan_entries(state_dir(self.out) / RUN_FILE)

    def created_paths(self) -> Iterator[str]:
        """Every output path an earlier run wrote or was about to write (with repeats)."""
        for _source, _split, _label, paths in self.planned():
            yield from (p for p in paths if isinstance(p, str))
        for _where, _offset, _source, rows, _extra in self.entries():
            yield from _row_paths(rows)

    def members(self) -> Members:
        """Sources per class of the earlier run (for recipes that mix images of a class)."""
        if self.unfinished:
            return class_members((s, split, label) for s, split, label, _ in self.planned())
        return class_members(
            (source, rows[0].get("split"), rows[0].get("label"))
            for _w, _o, source, rows, _e in self.entries()
            if rows and rows[0].get("reason") not in WALK_REASONS
        )


def state_dir(out: Path) -> Path:
    return out / STATE_DIR


def holds_run(out: Path) -> bool:
    return (out / MANIFEST_NAME).is_file() or (state_dir(out) / RUN_FILE).is_file()


def find_previous(out: Path) -> Previous | None:
    """The committed manifest overlaid with the journal of an unfinished run; None if neither exists.

    Raises ManifestError if the committed manifest cannot be read (its header; a bad row is found when
    the rows are streamed)."""
    manifest, run_file = out / MANIFEST_NAME, state_dir(out) / RUN_FILE
    if not manifest.is_file() and not run_file.is_file():
        return None
    previous = Previous(out, None, None)
    if manifest.is_file():
        header = next(read_records(manifest), None)
        if header is None:
            raise ManifestError(f"{manifest}: empty")
        previous.recipe_sha256, previous.versions = header.get("recipe_sha256"), header.get("versions")
        previous.manifest_rows = True
    state = _run_header(run_file)
    if state is not None:
        previous.unfinished = True
        if previous.manifest_rows and state.get("recipe_sha256") != previous.recipe_sha256:
            # A manifest of another recipe under a newer unfinished run: its rows cannot be reused, but its
            # files are still ones augcli created.
            previous.manifest_rows, previous.manifest_other = False, True
        previous.recipe_sha256, previous.versions = state.get("recipe_sha256"), state.get("versions")
    return previous


def _manifest_entries(path: Path) -> Iterator[tuple[int, int, str, Rows, dict[str, Any]]]:
    """A manifest's rows grouped by source (a source's rows are consecutive), parsed, with the offset of the
    group: `_manifest_groups`, whose lines are parsed here."""
    for start, _count, source, lines in _manifest_groups(path):
        yield MANIFEST, start, source, [_manifest_row(path, line) for line in lines], {}


def _manifest_row(path: Path, line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise ManifestError(f"{path}: a row is not valid JSON: {line[:80]!r}") from None
    if not isinstance(record, dict):
        raise ManifestError(f"{path}: not a manifest record: {line[:80]!r}")
    return record


def _journal_entries(path: Path) -> Iterator[tuple[int, int, str, Rows, dict[str, Any]]]:
    """A journal's entries, parsed: `_journal_lines`. A torn last line (killed mid-write) or any unreadable
    line is ignored: its source is simply done again."""
    for offset, _source, line in _journal_lines(path):
        entry = _entry(line)
        if entry is not None:
            yield JOURNAL, offset, entry["source"], entry["rows"], entry


# A manifest row starts with its type (manifest.dumps keeps the order output_row and skipped_row give), and
# a JSON string cannot hold an unescaped quote, so the first `"source":"` of a row line is its source key.
ROW_START = (b'{"type":"output",', b'{"type":"skipped",')
SOURCE_KEY = re.compile(rb'"source":("(?:[^"\\]|\\.)*")')


def _source_of(line: bytes) -> str | None:
    match = SOURCE_KEY.search(line)
    if match is None:
        return None
    if b"\\" not in match[1]:
        return match[1][1:-1].decode("ascii", "replace")
    try:
        source = json.loads(match[1])
    except ValueError:
        return None
    return source if isinstance(source, str) else None


def _manifest_groups(path: Path) -> Iterator[tuple[int, int, str, list[bytes]]]:
    """(offset, line count, source, lines) of each run of consecutive rows of one source, found without
    parsing the rows (the workers parse and check them; a line misread here only fails its check there)."""
    source, lines, start, offset = None, [], 0, 0
    with open(path, "rb") as handle:
        for line in handle:
            here, offset = offset, offset + len(line)
            row_source = _source_of(line) if line.startswith(ROW_START) else None
            if row_source != source and source is not None:
                yield start, len(lines), source, lines
                source, lines = None, []
            if row_source is not None:
                if source is None:
                    source, start = row_source, here
                lines.append(line)
    if source is not None:
        yield start, len(lines), source, lines


def _journal_lines(path: Path) -> Iterator[tuple[int, str, bytes]]:
    """(offset, source, line) of each journal line, unparsed (a torn line fails its check in the worker)."""
    offset = 0
    try:
        with open(path, "rb") as handle:
            for line in handle:
                here, offset = offset, offset + len(line)
                source = _source_of(line) if line.startswith(b'{"source":"') else None
                if source is not None:
                    yield here, source, line
    except FileNotFoundError:
        return


def _entry(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if isinstance(entry, dict) and isinstance(entry.get("source"), str) and isinstance(entry.get("rows"), list):
        return entry
    return None


def read_journal(path: Path) -> dict[str, Rows]:
    """Entries by source, last wins (tests and tools; a run streams them instead)."""
    return {source: rows for _w, _o, source, rows, _e in _journal_entries(path)}


def _row_paths(rows: Rows) -> Iterator[str]:
    return (
        r["path"] for r in rows if isinstance(r, dict) and r.get("type") == "output" and isinstance(r.get("path"), str)
    )


def _run_header(path: Path) -> dict[str, Any] | None:
    """run.json's first line; {} if it is torn or unreadable (an unfinished run whose settings are unknown)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        data = json.loads(first)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _plan_entries(path: Path) -> Iterator[tuple[str, str | None, str | None, list[str]]]:
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except OSError:
        return
    with handle:
        for number, line in enumerate(handle):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            if number == 0:  # schema 1: the whole plan in the one document
                plan = entry.get("plan") if isinstance(entry.get("plan"), dict) else {}
                for source, e in plan.items():
                    if isinstance(e, dict) and isinstance(e.get("paths"), list):
                        yield source, e.get("split"), e.get("label"), e["paths"]
            elif isinstance(entry.get("source"), str) and isinstance(entry.get("paths"), list):
                yield entry["source"], entry.get("split"), entry.get("label"), entry["paths"]


def sweep_temporaries(out: Path) -> int:
    """Delete the hidden temporary files a killed run leaves (never a final name). Returns the count."""
    removed = 0
    for dirpath, _dirnames, filenames in os.walk(out, followlinks=False):
        for name in filenames:
            if TEMP_NAME.match(name):
                Path(dirpath, name).unlink(missing_ok=True)
                removed += 1
    return removed


# --- verification: the driver checks the plan, the workers check the files ----------------------------------


def planned_files(item: WorkItem, rows: Rows, sizes: list[Any] | None) -> tuple | None:
    """The files to check if `rows` are what processing `item` now would produce, as far as the plan tells:
    (path, recorded size or None, sha256) per file; None when the rows cannot be reused whatever the files hold."""
    if not rows or any(not isinstance(r, dict) or r.get("type") != "output" for r in rows):
        return None  # skipped sources are cheap to retry and may have been fixed
    planned = ([(None, item.original_out)] if item.original_out else []) + list(item.outputs)
    if [(r.get("copy"), r.get("path")) for r in rows] != planned:
        return None
    if [r.get("kind") for r in rows] != ["original"] * bool(item.original_out) + ["augmented"] * len(item.outputs):
        return None
    if any(
        r.get("source") != item.source or r.get("label") != item.label or r.get("split") != item.split for r in rows
    ):
        return None
    if any(r.get("source_sha256") != rows[0].get("source_sha256") for r in rows):
        return None
    if not isinstance(sizes, list) or len(sizes) != len(rows):
        sizes = [None] * len(rows)
    files = [(r["path"], _size(s, r), r.get("sha256")) for r, s in zip(rows, sizes, strict=True)]
    notes = [
        (a.get("path"), None, a.get("sha256")) for r in rows for a in r.get("annotations", []) if isinstance(a, dict)
    ]
    if sorted(str(p) for p, _, _ in notes) != sorted(item.annotation_files):
        return None  # an annotated source's label files must be the planned ones too
    return tuple(files + notes)


def _size(recorded: Any, row: dict[str, Any]) -> int | None:
    """The size the journal recorded, else one the row carries; None: the file is re-hashed."""
    for size in (recorded, row.get("bytes")):
        if isinstance(size, int) and not isinstance(size, bool):
            return size
    return None


@dataclass(frozen=True)
class Check:
    """What every verification chunk shares (executor.Job settings)."""

    output: str
    source_root: str
    full: bool  # re-hash every file, not only those without a recorded size


def verify_chunk(check: Check, entries: list[tuple]) -> list[tuple[int, int, bool]]:
    """(key, tag, verified) per entry `(key, tag, item, where, lines)`: the rows parsed and checked against
    the plan, then their files and the source on disk. Runs in a worker."""
    out = Path(check.output)
    parents: dict[str, bool] = {}
    results = []
    for key, tag, item, where, lines in entries:
        files, sha = _planned_from_lines(item, where, lines)
        ok = files is not None and sha is not None and _verified(check, out, parents, files)
        if ok:  # the source last: its bytes must still be the ones the rows were made from
            ok = source_sha256(check.source_root, item.source) == sha
        results.append((key, tag, ok))
    return results


def _planned_from_lines(item: WorkItem, where: int, lines: list[bytes]) -> tuple[tuple | None, Any]:
    try:
        if where == JOURNAL:
            entry = _entry(lines[0])
            rows, sizes = (entry["rows"], entry.get("bytes")) if entry is not None else ([], None)
        else:
            rows, sizes = [json.loads(line) for line in lines], None
    except ValueError:
        return None, None
    files = planned_files(item, rows, sizes)
    return files, rows[0].get("source_sha256") if files is not None else None


def unverified(entry: tuple) -> tuple[int, int, bool]:
    """A verification whose worker died: not verified, the source is redone (executor.Job.on_crash)."""
    return entry[0], entry[1], False


def _verified(check: Check, out: Path, parents: dict[str, bool], files: tuple) -> bool:
    for rel, size, expected in files:
        path = _inside(out, parents, rel)
        if path is None:
            return False
        try:
            info = os.lstat(path)
        except OSError:
            return False
        if not stat.S_ISREG(info.st_mode):
            return False  # augcli writes regular files; a link or anything else is redone
        if check.full or size is None:
            if _digest(path) != expected:
                return False
        elif info.st_size != size:
            return False
    return True


def _inside(out: Path, parents: dict[str, bool], rel: Any) -> str | None:
    """`out/rel` if that stays inside `out` (manifest.safe_output_path, with each folder resolved once)."""
    if not lexically_safe(rel):
        return None
    folder = os.path.dirname(rel)
    if folder not in parents:
        try:
            parents[folder] = safe_output_path(out, folder or ".") is not None
        except ManifestError:
            parents[folder] = False
    return os.path.join(out, rel) if parents[folder] else None


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def source_sha256(source_root: Path | str, rel: str) -> str | None:
    """A source's sha256; the dataset may be a URL (storage.py)."""
    from augcli import storage

    if not storage.is_url(source_root):
        return _digest(os.path.join(source_root, rel))
    try:
        return hashlib.sha256(storage.read(str(source_root), rel)).hexdigest()
    except Exception:  # noqa: BLE001  (missing or unreadable: not reusable, the source is redone)
        return None


def class_members(entries: Iterable[tuple[str, str | None, str | None]]) -> Members:
    members: Members = defaultdict(set)
    for source, split, label in entries:
        members[(split, label)].add(source)
    return members


def remove_created(out: Path, paths: Iterable[str]) -> list[str]:
    """Delete files an earlier run created (paths from its manifest, journal or plan), then any folder
    left empty by that. Unsafe paths are refused, not followed. Returns the paths refused."""
    refused, folders = [], set()
    for rel in sorted(set(paths)):
        if isinstance(rel, str) and not os.path.lexists(os.path.join(out, rel)):
            continue  # planned but never written (most of an interrupted run's plan): nothing to check
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
    """run.json, streamed: a header line, then one line per planned source (no whole-plan document in memory)."""
    folder = state_dir(out)
    folder.mkdir(exist_ok=True)
    temp = folder / f".{RUN_FILE}.tmp"
    with open(temp, "w", encoding="ascii", newline="\n") as handle:
        handle.write(dumps({"schema": STATE_SCHEMA, "recipe_sha256": recipe_sha256, "versions": versions}) + "\n")
        for i in items:
            handle.write(dumps({"source": i.source, "split": i.split, "label": i.label, "paths": i.paths()}) + "\n")
    os.replace(temp, folder / RUN_FILE)


def clear_state(out: Path) -> None:
    folder = state_dir(out)
    for name in (JOURNAL_FILE, RUN_FILE, f".{JOURNAL_FILE}.tmp", f".{RUN_FILE}.tmp"):
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (a user's file?) or already gone: leave it
        folder.rmdir()


class Journal:
    """Append-only record of finished sources. Started from the entries a run reuses (copied as they are
    on disk, and an empty entry for each earlier entry it does not reuse, so a stale row can never come
    back), so the journal alone (with run.json) describes everything the current attempt has done."""

    def __init__(self, out: Path, reused: Reused | None = None) -> None:
        folder = state_dir(out)
        self.root, self.path = str(out), folder / JOURNAL_FILE
        temp = folder / f".{JOURNAL_FILE}.tmp"
        with open(temp, "wb") as handle:
            for line in reused.journal_lines() if reused is not None else ():
                handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        self._handle: IO[str] | None = open(self.path, "a", encoding="ascii", newline="\n")  # noqa: SIM115
        self._synced = time.monotonic()

    def append(self, entries: list[tuple[str, Rows]]) -> None:
        """One chunk's entries in one write: a killed run loses at most the chunk being written, whose
        sources are then simply done again (a torn last line is ignored)."""
        assert self._handle is not None
        self._handle.write("".join(self._line(source, rows) for source, rows in entries))
        self._handle.flush()  # survives the process being killed; fsync (power loss) only every few seconds
        if time.monotonic() - self._synced > FSYNC_SECONDS:
            os.fsync(self._handle.fileno())
            self._synced = time.monotonic()

    def _line(self, source: str, rows: Rows) -> str:
        return dumps({"source": source, "rows": rows, "bytes": [self._size(row) for row in rows]}) + "\n"

    def _size(self, row: dict[str, Any]) -> int | None:
        """The size of a file just written, for the stat-and-size check of a resume: the row's own, else
        (an annotated row's label files have none) a stat."""
        if row.get("type") != "output":
            return None
        if isinstance(row.get("bytes"), int):
            return row["bytes"]
        try:
            return os.stat(os.path.join(self.root, row["path"])).st_size
        except OSError:
            return None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class Reused:
    """The items whose earlier rows are kept, found by `settle`. Holds where each one's rows are on disk
    (an offset in the old manifest or journal: 9 bytes per source), never the rows themselves."""

    def __init__(self, out: Path, items: list[WorkItem]) -> None:
        self.out, self.items = out, items
        self.index = {item.source: i for i, item in enumerate(items)}
        self.where = bytearray(b"\xff" * len(items))  # MANIFEST, JOURNAL, or 255: no earlier entry
        self.offset = array("q", bytes(8 * len(items)))
        self.row_count = array("I", bytes(4 * len(items)))  # a manifest entry's row count
        self.kept = bytearray(len(items))
        self.count = 0
        self.matched = True  # False: the earlier run shares not one source with this one
        self._files: dict[int, IO[bytes]] = {}

    def open(self, previous: Previous) -> None:
        if previous.manifest_rows:
            self._files[MANIFEST] = open(self.out / MANIFEST_NAME, "rb")  # noqa: SIM115
        if previous.unfinished:
            with contextlib.suppress(FileNotFoundError):
                self._files[JOURNAL] = open(state_dir(self.out) / JOURNAL_FILE, "rb")  # noqa: SIM115

    def __len__(self) -> int:
        return self.count

    def __contains__(self, source: object) -> bool:
        index = self.index.get(source)  # type: ignore[arg-type]
        return index is not None and bool(self.kept[index])

    def get(self, source: str) -> Rows | None:
        index = self.index.get(source)
        return self.rows(index) if index is not None and self.kept[index] else None

    def rows(self, index: int) -> Rows:
        return self._read(index)[1]

    def lines(self, source: str) -> str | None:
        """A kept source's rows as the committed manifest holds them (verified lines, not parsed again), or
        None when its rows are elsewhere (the journal) or not kept, or not ASCII as augcli writes them."""
        index = self.index.get(source)
        if index is None or not self.kept[index] or self.where[index] != MANIFEST:
            return None
        try:
            text = b"".join(self._read_lines(index)).decode("ascii")
        except UnicodeDecodeError:
            return None
        return text if text.endswith("\n") else None

    def _read_lines(self, index: int) -> list[bytes]:
        handle = self._files[MANIFEST]
        handle.seek(self.offset[index])
        return [handle.readline() for _ in range(self.row_count[index])]

    def _read(self, index: int) -> tuple[list[bytes], Rows]:
        """The raw lines and the rows of the entry at `index`'s recorded place."""
        handle = self._files[self.where[index]]
        handle.seek(self.offset[index])
        if self.where[index] == JOURNAL:
            line = handle.readline()
            entry = _entry(line)
            return [line], entry["rows"] if entry else []
        lines = self._read_lines(index)
        return lines, [json.loads(line) for line in lines]

    def journal_lines(self) -> Iterator[bytes]:
        """The new journal's start: each kept entry of the old journal, copied as it is, and an empty entry
        for every earlier entry that is not kept, so that its stale rows never come back. Kept rows of the
        committed manifest are not copied: the manifest stays in place until this run commits its own, and
        a resume reads it before the journal."""
        for index in range(len(self.items)):
            if self.where[index] == 255 or (self.kept[index] and self.where[index] == MANIFEST):
                continue
            if self.kept[index]:
                yield self._read(index)[0][0]
            else:
                yield b'{"source":' + dumps(self.items[index].source).encode("ascii") + b',"rows":[]}\n'

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


def previous_run(out: Path, recipe_sha256: str, versions: dict[str, str], force: bool) -> Previous | None:
    """The earlier run in `out` that this run may continue, or None (nothing there, or rebuilt with --force).

    Refuses, without --force, a run of another recipe or other output-deciding library versions; with
    --force, deletes the files that run created (and only those) so the new run starts clean. (A run of
    other sources is found, and refused alike, by `settle`.)"""
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
    why = _difference(previous, recipe_sha256, versions)
    if why is None:
        return previous
    refuse_or_rebuild(out, previous, why, force)
    return None


def refuse_or_rebuild(out: Path, previous: Previous, why: str, force: bool) -> None:
    if not force:
        count = len(set(previous.created_paths()))
        raise OutputError(
            f"output folder {out} holds an expanded dataset {why}; mixing outputs of two runs is refused. "
            f"Use --force to delete the {count} files that run created and rebuild, or choose another folder"
        )
    remove_created(out, previous.created_paths())
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    clear_state(out)


def _difference(previous: Previous, recipe_sha256: str, versions: dict[str, str]) -> str | None:
    if previous.recipe_sha256 != recipe_sha256:
        return f"made with another recipe (sha256 {str(previous.recipe_sha256)[:12]}, this one {recipe_sha256[:12]})"
    old = previous.versions or {}
    changed = [f"{k} {old.get(k)} -> {v}" for k, v in versions.items() if k != "python" and old.get(k) != v]
    if changed:
        return f"made with other library versions ({', '.join(changed)}), which may encode different bytes"
    return None


def settle(
    out: Path,
    previous: Previous,
    items: list[WorkItem],
    extra_sources: set[str],
    changed_classes: set[tuple[str | None, str]],
    job_run: Any,
    check: Check,
) -> Reused:
    """Find the reusable items (the plan checked here, the files by `job_run(verify job, chunks)` in the
    workers), then delete the files of the earlier run that this one does not keep."""
    from augcli.executor import Job

    reused = Reused(out, items)
    reused.open(previous)
    doomed: list[str] = []  # files of entries not kept: deleted unless a kept item plans the same path
    matched = any_rows = False

    def raw_entries() -> Iterator[tuple[int, int, int, str, list[bytes]]]:
        if previous.manifest_rows:
            for offset, count, source, lines in _manifest_groups(out / MANIFEST_NAME):
                yield MANIFEST, offset, count, source, lines
        if previous.unfinished:
            for offset, source, line in _journal_lines(state_dir(out) / JOURNAL_FILE):
                yield JOURNAL, offset, 1, source, [line]

    def tasks() -> Iterator[list[tuple]]:
        nonlocal matched, any_rows
        chunk: list[tuple] = []
        for where, offset, count, source, lines in raw_entries():
            any_rows = True
            index = reused.index.get(source)
            if index is None:
                matched = matched or source in extra_sources
                doomed.extend(_paths_of(where, lines))
                continue
            matched = True
            if reused.where[index] != 255:  # a later entry of the same source wins; the earlier one's files go
                doomed.extend(_row_paths(reused.rows(index)))
            reused.where[index], reused.offset[index], reused.row_count[index] = where, offset, count
            item = items[index]
            if (item.split, item.label) in changed_classes:
                continue
            chunk.append((index, _tag(where, offset), item, where, lines))
            if len(chunk) >= VERIFY_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    job = Job(verify_chunk, check, unverified)
    for results in job_run(job, tasks()):
        for index, tag, ok in results:
            if ok and tag == _tag(reused.where[index], reused.offset[index]):  # still the latest entry
                reused.kept[index] = 1
    reused.count = sum(reused.kept)
    if any_rows and not matched:  # not one source in common: another dataset's run (the caller refuses it)
        reused.matched = False
        return reused
    remover = _Remover(out, items, reused.kept)
    remover.extend(doomed)
    if previous.manifest_other:
        for _w, _o, _s, rows, _e in _manifest_entries(out / MANIFEST_NAME):
            remover.extend(_row_paths(rows))
    for index in range(len(items)):
        if reused.where[index] != 255 and not reused.kept[index]:
            remover.extend(_row_paths(reused.rows(index)))
    for source, _split, _label, paths in previous.planned():
        index = reused.index.get(source)
        if index is None or not reused.kept[index]:
            remover.extend(p for p in paths if isinstance(p, str))
    remover.flush()
    return reused


class _Remover:
    """Deletes files of an earlier run in batches, except paths a kept item plans (looked up in a sorted
    array of 8-byte path hashes, built only when there is something to delete)."""

    BATCH = 4096

    def __init__(self, out: Path, items: list[WorkItem], kept: bytearray) -> None:
        self.out, self.items, self.kept = out, items, kept
        self.keys: array | None = None
        self.batch: list[str] = []

    def extend(self, paths: Iterable[str]) -> None:
        for path in paths:
            if self.keys is None:
                keys = sorted(_key(p) for i, item in enumerate(self.items) if self.kept[i] for p in item.paths())
                self.keys = array("q", keys)
            if not _has(self.keys, _key(path)):
                self.batch.append(path)
                if len(self.batch) >= self.BATCH:
                    self.flush()

    def flush(self) -> None:
        if self.batch:
            remove_created(self.out, self.batch)
            self.batch = []


def _paths_of(where: int, lines: list[bytes]) -> list[str]:
    try:
        if where == JOURNAL:
            entry = _entry(lines[0])
            return list(_row_paths(entry["rows"])) if entry is not None else []
        return list(_row_paths([json.loads(line) for line in lines]))
    except ValueError:
        return []


def _tag(where: int, offset: int) -> int:
    return offset * 2 + where


def _key(path: str) -> int:
    digest = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _has(keys: array, key: int) -> bool:
    at = bisect_left(keys, key)
    return at < len(keys) and keys[at] == key


def prepare_local(
    output: Path,
    recipe: Any,
    dataset: Any,
    items: list[WorkItem],
    walk_rows: Rows,
    force: bool,
    mixes: bool,
    job_run: Any,
    verify: str = "size",
) -> Reused:
    """Settle what an earlier run left in `output`; record this run's plan. Returns the reused items."""
    versions = library_versions()
    previous = previous_run(output, recipe.sha256(), versions, force)
    output.mkdir(parents=True, exist_ok=True)
    if previous is None:
        reused = Reused(output, items)
    else:
        sweep_temporaries(output)
        changed: set[tuple[str | None, str]] = set()
        if mixes:  # outputs that mix in other images of their class depend on the class's members
            now = class_members((s.relpath, s.split, s.label) for s in dataset.samples)
            before = previous.members()
            changed = {key for key in now if now[key] != before.get(key, set())}
        walked = {r["source"] for r in walk_rows}
        check = Check(str(output), str(dataset.root), verify == "full")
        try:
            reused = settle(output, previous, items, walked, changed, job_run, check)
        except ManifestError as exc:
            if not force:
                raise OutputError(
                    f"output folder {output} holds a manifest that cannot be read ({exc}); move it away, "
                    "or use --force to write beside it"
                ) from None
            reused = Reused(output, items)
        if not reused.matched:  # not one source in common: another dataset's run
            reused.close()
            refuse_or_rebuild(output, previous, "of other source files", force)
            reused = Reused(output, items)
    write_run_state(output, recipe.sha256(), versions, items)
    for folder in sorted({os.path.dirname(p) for item in items for p in item.paths()}):
        (output / folder).mkdir(parents=True, exist_ok=True)
    return reused
