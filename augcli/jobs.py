"""What a worker runs: a `Job` (a chunk function, the settings every chunk shares, and what stands for an
item whose worker died) and the per-process set-up. Shared by the local pool (executor.py) and the Dask
backend (executor_dask.py), which import this and never each other's internals."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

CRASHED_MESSAGE = "the worker process died while processing this file (a crash in a native decoder, or out of memory?)"


@dataclass(frozen=True)
class Job:
    fn: Callable[[Any, list], list]  # module-level (pickled by name): one result per item, in item order
    settings: Any  # picklable, shared by every chunk
    on_crash: Callable[[Any], Any]  # item -> its result when it killed its worker (runs in the driver)
    # Credentials and endpoints for URL roots (storage.py) reach the workers this way, never through a repr.
    storage_options: tuple[tuple[str, Any], ...] = field(default=(), repr=False)


_job: Job | None = None


def prepare_worker(job: Job) -> None:
    """Once per worker process (and in the driver for a serial run)."""
    global _job
    _job = job
    import cv2

    cv2.setNumThreads(1)  # N workers times OpenCV's own threads would oversubscribe the cores
    if job.storage_options:
        from augcli import storage

        storage.set_options(job.storage_options)


def run_chunk(chunk: list) -> list:
    assert _job is not None, "worker not initialised"
    return _job.fn(_job.settings, chunk)


def ordered(submit: Callable[[list], Any], chunks: Iterable[list], limit: int) -> Iterator[Any]:
    """`submit(chunk)` returns something with result()/cancel(); results in chunk order, `limit` in flight."""
    pending: deque[Any] = deque()
    try:
        for chunk in chunks:
            pending.append(submit(chunk))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # on error or Ctrl-C, do not start the chunks still queued
        for future in pending:
            future.cancel()
