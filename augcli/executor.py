"""Run chunks of work on a local process pool, streaming results back in submission order.

concurrent.futures rather than multiprocessing.Pool: Pool hangs forever when a worker dies, while
ProcessPoolExecutor raises BrokenProcessPool. Workers get the run's settings once (initializer) and
then only small lists of work items. At most a few chunks per worker are in flight, so the driver's
memory does not grow with the dataset.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from augcli.worker import Settings, WorkItem, process_chunk, skipped_row

_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    """One OpenCV thread per worker process: N workers times OpenCV's own threads oversubscribe cores."""
    global _settings
    _settings = settings
    import cv2

    cv2.setNumThreads(1)


def _init_pool_worker(settings: Settings) -> None:
    """Ctrl-C reaches the whole process group: only the driver handles it (it stops the pool cleanly).
    Never called in the driver itself (--workers 1), where Ctrl-C must keep working."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(settings)


def _run_chunk(items: list[WorkItem]) -> list[list[dict[str, Any]]]:
    assert _settings is not None, "worker not initialised"
    return process_chunk(_settings, items)


def pool_context() -> multiprocessing.context.BaseContext:
    """fork while the driver is single-threaded, else spawn.

    Spawned workers each re-import augcli (numpy, OpenCV, the transform registry): about 0.5 CPU-second
    per worker before any work, a large share of a run over a few hundred images. Forked workers start
    with all of it loaded. Forking is only safe while no other Python thread can hold a lock at the
    moment of the fork, so it is used only then (the CLI's progress bar runs without its monitor thread);
    CPython's ProcessPoolExecutor starts fork workers before its own manager thread for the same reason.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


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
    yield from _ordered_surviving_crashes(settings, chunks, workers, workers * in_flight_per_worker)


CRASHED_MESSAGE = "the worker process died while processing this file (a crash in a native decoder, or out of memory?)"


def _ordered_surviving_crashes(
    settings: Settings, chunks: Iterable[list[WorkItem]], workers: int, limit: int, fn: Callable | None = None
) -> Iterator[list[list[dict[str, Any]]]]:
    """Like `_ordered`, but a worker that dies (segfault, OOM kill) does not end the run.

    A dead worker breaks the whole pool and fails every pending chunk. The pool is rebuilt; the chunk at
    the head of the queue is re-run one item at a time in a fresh pool, so a poison file is isolated and
    becomes a `crashed_worker` skipped row; the other pending chunks are simply submitted again."""
    fn = fn or _run_chunk
    context = pool_context()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_pool_worker, initargs=(settings,))

    source = iter(chunks)
    again: deque[list[WorkItem]] = deque()
    pending: deque[tuple[list[WorkItem], Future]] = deque()
    pool = new_pool()
    try:
        while True:
            while len(pending) < limit:
                chunk = again.popleft() if again else next(source, None)
                if chunk is None:
                    break
                with _sigint_blocked():
                    pending.append((chunk, pool.submit(fn, chunk)))
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                rows = future.result()
            except BrokenProcessPool:
                again = deque(c for c, _ in pending) + again
                pending.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool, rows = _isolate(new_pool, chunk, fn)
            yield rows
    finally:  # on error or Ctrl-C, do not start the chunks still queued
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Worker processes are started inside `submit`; one started while Ctrl-C arrives would die with a
    traceback before its initializer runs. A blocked signal stays blocked through fork and exec, so workers
    started here never receive SIGINT, while the driver gets a Ctrl-C that arrived meanwhile as soon as
    it is unblocked (nothing is lost)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _isolate(new_pool: Callable[[], ProcessPoolExecutor], chunk: list[WorkItem], fn: Callable):
    """Run a chunk that broke the pool one item at a time; items that kill their worker become skipped rows."""
    pool, rows = new_pool(), []
    for item in chunk:
        try:
            with _sigint_blocked():
                future = pool.submit(fn, [item])
            rows.extend(future.result())
        except BrokenProcessPool:
            pool.shutdown(wait=True, cancel_futures=True)
            pool = new_pool()
            rows.append([skipped_row(item, "crashed_worker", CRASHED_MESSAGE)])
    return pool, rows


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
