"""Where an expand run keeps its progress, behind one small interface, so expand has one driver.

- `LocalState`: a local output folder. The plan and a journal of finished sources live in OUT/.augcli/
  (resume.py); the manifest is written under a temporary name in OUT and renamed into place.
- `RemoteState`: an object-store output (s3://...). An object cannot be appended to, so each finished chunk
  of 8 sources leaves one manifest part (parts.py); the manifest is written locally and uploaded in one
  call when complete.

Either way a killed run leaves no manifest that lies, and the same command continues the work.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from augcli import storage
from augcli.errors import OutputError
from augcli.executor import balanced_size, chunked
from augcli.manifest import MANIFEST_NAME, STATE_DIR, ManifestWriter
from augcli.planner import WorkItem

Rows = list[dict[str, Any]]
REMOTE_CHUNK = 8  # sources per chunk, whatever the worker count: a part's key must not depend on it


def state_for(output: str | Path) -> LocalState | RemoteState:
    return RemoteState(str(output)) if storage.is_url(output) else LocalState(storage.local_path(output))


class LocalState:
    def __init__(self, output: Path) -> None:
        self.output, self.shown, self.manifest = output, output, output / MANIFEST_NAME
        self.journal: Any = None
        self.reused: Any = None

    def check(self, dataset_root: Any, force: bool) -> None:
        check_output(dataset_root, self.output, force, resume=True)

    def lock(self):
        from augcli.lock import output_lock

        return output_lock(self.output)

    def prepare(
        self, recipe: Any, dataset: Any, items: list[WorkItem], walk_rows: Rows, force: bool, mixes: bool, **run: Any
    ):
        """Settle what an earlier run left in the output (its files checked in the workers: `run` gives
        `job_run(job, chunks)` and `verify`); record this run's plan. Returns the reused items (resume.Reused:
        `in`, `len`, `get(source)` reads a source's rows back from disk)."""
        from augcli.resume import Journal, prepare_local

        self.reused = prepare_local(self.output, recipe, dataset, items, walk_rows, force, mixes, **run)
        self.journal = Journal(self.output, self.reused)
        return self.reused

    def chunks(self, todo: list[WorkItem], workers: int) -> list[list[WorkItem]]:
        return chunked(todo, balanced_size(len(todo), workers))

    def writer(self) -> ManifestWriter:
        return ManifestWriter(self.output)

    def record(self, chunk: list[WorkItem], rows: list[Rows]) -> None:
        self.journal.append([(item.source, item_rows) for item, item_rows in zip(chunk, rows, strict=True)])

    def finish(self, writer: ManifestWriter) -> None:
        from augcli.resume import clear_state

        writer.commit()
        self.close()
        clear_state(self.output)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        if self.reused is not None:
            self.reused.close()

    def error(self, exc: OSError) -> OutputError:
        return OutputError(
            f"cannot write {exc.filename or self.output}: {exc.strerror or exc}. "
            "The work done so far is kept: fix the cause and run the same command again to continue"
        )


class RemoteState:
    def __init__(self, output: str) -> None:
        self.output = output.rstrip("/")
        self.shown = storage.redact(self.output)
        self.manifest = storage.join(self.shown, MANIFEST_NAME)
        self.sha, self.stamps = "", {}
        self._local = tempfile.TemporaryDirectory(prefix="augcli-manifest-")

    def check(self, dataset_root: Any, force: bool) -> None:
        from augcli.parts import check_remote_output

        check_remote_output(str(dataset_root), self.output)

    def lock(self):
        return contextlib.nullcontext()  # an object store has no lock to take: README "Remote storage"

    def prepare(
        self, recipe: Any, dataset: Any, items: list[WorkItem], walk_rows: Rows, force: bool, mixes: bool, **run: Any
    ):
        """Continue (or with --force replace) an earlier run at the output; the rows of chunks whose part
        exists and reads back are reused (`run` is not needed: a part is written only for finished work)."""
        from augcli.parts import chunk_key, existing_keys, prepare_remote, read_part, stamp_of

        self.sha = recipe.sha256()
        self.stamps = {item.source: stamp_of(dataset, item.source) for item in items}
        keyed = [(chunk, chunk_key(self.sha, chunk)) for chunk in chunked(self._stamped(items), REMOTE_CHUNK)]
        prepare_remote(self.output, self.shown, self.sha, items, {key for _, key in keyed}, force)
        done = existing_keys(self.output)
        reused: dict[str, Rows] = {}
        for chunk, key in keyed:
            rows = read_part(self.output, key, chunk) if key in done else None
            if rows is not None:  # a part that cannot be read back: its chunk is done again
                reused.update((item.source, item_rows) for item, item_rows in zip(chunk, rows, strict=True))
        return reused

    def chunks(self, todo: list[WorkItem], workers: int) -> list[list[WorkItem]]:
        # Whole chunks are reused or redone, so cutting what is left into 8s gives back the keyed chunks.
        return chunked(todo, REMOTE_CHUNK)

    def writer(self) -> ManifestWriter:
        return ManifestWriter(Path(self._local.name))

    def record(self, chunk: list[WorkItem], rows: list[Rows]) -> None:
        from augcli.parts import write_part

        write_part(self.output, self.sha, self._stamped(chunk), rows)

    def finish(self, writer: ManifestWriter) -> None:
        from augcli.parts import clear_parts

        storage.upload(writer.commit(), self.output, MANIFEST_NAME)  # one object, visible only when complete
        clear_parts(self.output)
        self.close()

    def close(self) -> None:
        self._local.cleanup()

    def error(self, exc: OSError) -> OutputError:
        return OutputError(
            f"storage error at {self.shown}: {storage.describe(exc)}. The work done so far is kept: fix the cause "
            "and run the same command again to continue"
        )

    def _stamped(self, items: list[WorkItem]) -> list[WorkItem]:
        return [replace(item, stamp=self.stamps.get(item.source, "")) for item in items]


def check_output(source_root: Any, output: Path, force: bool, *, resume: bool = False) -> None:
    """Refuse unusable local output folders. With `resume` (expand), a folder holding an earlier augcli run is
    accepted: the caller continues or, with --force, rebuilds it (resume.previous_run)."""
    from augcli.lock import refuse_if_locked
    from augcli.resume import holds_run

    if not storage.is_url(source_root):  # a dataset in object storage can neither hold nor contain a local folder
        _check_nesting(Path(source_root), output)
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
