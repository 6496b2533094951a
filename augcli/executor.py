"""Run chunks of work on a local process pool, streaming results back in submission order.

concurrent.futures rather than multiprocessing.Pool: Pool hangs forever when a worker dies, while
ProcessPoolExecutor raises BrokenProcessPool. Workers get the run's settings once (initializer) and
then only small lists of work items. At most a few chunks per worker are in flight, so the driver's
memory does not grow with the dataset.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from augcli.worker import Settings, WorkItem, process_chunk

_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    """One OpenCV thread per worker process: N workers times OpenCV's own threads oversubscribe cores."""
    global _settings
    _settings = settings
    import cv2

    cv2.setNumThreads(1)


def _run_chunk(items: list[WorkItem]) -> list[list[dict[str, Any]]]:
    assert _settings is not None, "worker not initialised"
    return process_chunk(_settings, items)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_local(
    settings: Settings,
    chunks: Iterable[list[WorkItem]],
    workers: int,
    in_flight_per_worker: int = 4,
) -> Iterator[list[list[dict[str, Any]]]]:
    """Yield each chunk's rows in the order the chunks were given."""
    if workers <= 1:
        _init_worker(settings)
        for chunk in chunks:
            yield _run_chunk(chunk)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a parent holding threads (tqdm, OpenCV)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings,)) as pool:
        yield from _ordered(pool.submit, _run_chunk, chunks, workers * in_flight_per_worker)


def _ordered(submit: Callable[..., Future], fn: Callable, chunks: Iterable, limit: int) -> Iterator[Any]:
    pending: deque[Future] = deque()
    try:
        for chunk in chunks:
            pending.append(submit(fn, chunk))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # on error or Ctrl-C, do not start the chunks still queued
        for future in pending:
            future.cancel()
