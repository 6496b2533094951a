"""The one runner: chunks of work run serially, on a local process pool or on a Dask cluster, and their
results come back in the order the chunks were given, with few chunks in flight.

A `Job` names a module-level function `fn(settings, chunk) -> [result per item]`, the settings every chunk
shares (sent to each worker once), and what stands for an item whose worker died (`on_crash`, called in
the driver). Every command that touches pixels (expand, tta, audit's hashing and replay) runs through
`run()`, so all of them isolate a poison file the same way and set up their workers the same way.

concurrent.futures rather than multiprocessing.Pool: Pool hangs forever when a worker dies, while
ProcessPoolExecutor raises BrokenProcessPool, so the pool can be rebuilt and the poison file isolated.
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

from augcli.jobs import Job, prepare_worker, run_chunk


def run(job: Job, chunks: Iterable[list], workers: int, scheduler: str | None = None) -> Iterator[list]:
    """Yield each chunk's results in the order the chunks were given."""
    if scheduler is not None:  # "local-cluster" or a Dask scheduler address; the Dask extra is optional
        from augcli.executor_dask import run_dask

        return run_dask(job, chunks, workers, scheduler)
    if workers <= 1:
        return _serial(job, chunks)
    return _ordered_surviving_crashes(job, chunks, workers, workers * 4)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def chunked(items: list, size: int) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def balanced_size(count: int, workers: int, most: int = 8) -> int:
    """Small enough to keep every worker busy and show progress, big enough to amortise the IPC."""
    return max(1, min(most, count // (workers * 8) or 1))


def _init_pool_worker(job: Job) -> None:
    """Ctrl-C reaches the whole process group: only the driver handles it (it stops the pool cleanly).
    Never called in the driver itself (--workers 1), where Ctrl-C must keep working."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_worker(job)


# --- the local pool ---------------------------------------------------------------------------------------


def _serial(job: Job, chunks: Iterable[list]) -> Iterator[list]:
    prepare_worker(job)
    for chunk in chunks:
        yield run_chunk(chunk)


def pool_context() -> multiprocessing.context.BaseContext:
    """fork while the driver is single-threaded (OpenCV's threads are stopped meanwhile: `_no_opencv_threads`),
    else spawn.

    Spawned workers each re-import augcli (numpy, OpenCV, the transform registry): about 0.5 CPU-second
    per worker before any work, a large share of a run over a few hundred images. Forked workers start
    with all of it loaded. Forking is only safe while no other Python thread can hold a lock at the
    moment of the fork, so it is used only then (the CLI's progress bar runs without its monitor thread);
    CPython's ProcessPoolExecutor starts fork workers before its own manager thread for the same reason.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _no_opencv_threads() -> Iterator[None]:
    """OpenCV's own pool threads (started once the driver has run a parallel kernel) are invisible to
    `threading`, and a child forked beside them can wait forever on a pool that does not exist in it. One
    OpenCV thread while the pool runs joins them (the driver decodes nothing meanwhile); the setting is put
    back afterwards, for a library caller's own process."""
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def _ordered_surviving_crashes(
    job: Job, chunks: Iterable[list], workers: int, limit: int, fn: Callable = run_chunk
) -> Iterator[list]:
    with _no_opencv_threads():
        yield from _surviving_crashes(job, chunks, workers, limit, fn)


def _surviving_crashes(job: Job, chunks: Iterable[list], workers: int, limit: int, fn: Callable) -> Iterator[list]:
    """Results in chunk order; a worker that dies (segfault, OOM kill) does not end the run.

    A dead worker breaks the whole pool and fails every pending chunk. The pool is rebuilt; the chunk at
    the head of the queue is re-run one item at a time in a fresh pool, so a poison file is isolated and
    becomes `job.on_crash(item)`; the other pending chunks are simply submitted again."""
    context = pool_context()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_pool_worker, initargs=(job,))

    source = iter(chunks)
    again: deque[list] = deque()
    pending: deque[tuple[list, Future]] = deque()
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
                results = future.result()
            except BrokenProcessPool:
                again = deque(c for c, _ in pending) + again
                pending.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool, results = _isolate(new_pool, chunk, fn, job.on_crash)
            yield results
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


def _isolate(new_pool: Callable[[], ProcessPoolExecutor], chunk: list, fn: Callable, on_crash: Callable):
    """Run a chunk that broke the pool one item at a time; an item that kills its worker gets `on_crash`."""
    pool, results = new_pool(), []
    for item in chunk:
        try:
            with _sigint_blocked():
                future = pool.submit(fn, [item])
            results.extend(future.result())
        except BrokenProcessPool:
            pool.shutdown(wait=True, cancel_futures=True)
            pool = new_pool()
            results.append(on_crash(item))
    return pool, results
