"""Run chunks of work on a Dask cluster, streaming results back in submission order.

The same `executor.Job` as the local pool (`fn(settings, chunk)`), so outputs are
byte-identical whatever runs them. The settings travel to every worker once (scattered); each task then
carries only a chunk of small work items. At most a few chunks per worker thread are in flight, so the
driver's memory does not grow with the dataset, and results are merged in the order chunks were given.

Failures, by kind:
- an exception inside a chunk (a flaky network read, later) is retried `retries` times by Dask;
- a worker process lost mid-chunk (killed, crashed, out of memory) has its chunk rescheduled on another
  worker by the scheduler, up to its `distributed.scheduler.allowed-failures` (3 by default);
- a chunk that kills every worker it lands on (`KilledWorker`) holds a poison file: its items are re-run
  one at a time, the ones that still kill their worker become `crashed_worker` skipped rows, and the job
  completes.

`distributed` is imported only when a scheduler is asked for: the core install does not need it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from augcli.errors import ClusterError, WorkerVersionError
from augcli.jobs import Job, ordered

LOCAL_CLUSTER = "local-cluster"
CLOSE_TIMEOUT = 30.0  # seconds; a clean close of a local cluster takes well under one
INSTALL_HINT = "pip install 'augcli[dask]'"

# Dask settings for the clusters augcli starts itself (`--scheduler local-cluster`).
LOCAL_CLUSTER_CONFIG = {
    # The nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536. Any MALLOC_*_ setting also turns off glibc's
    # sliding mmap threshold, so every decoded or rendered image (more than 128 KiB) is mmapped and unmapped
    # again, and its pages fault in afresh: measured, 9.7 ms of CPU per output against the pool's 5.4 ms;
    # 7.6 ms without it. None leaves glibc's defaults, as the local pool's workers have them.
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # A stack sample every 10 ms for a dashboard nobody sees (augcli starts none): half the worker's context
    # switches.
    "distributed.worker.profile.enabled": False,
    # Every server (the scheduler, each nanny and worker) checks its event loop every 20 ms and polls psutil
    # every 500 ms; the driver's loop thread took about 1 CPU-s of a 8 s run. With equal chunks on one thread
    # per worker, the scheduler's queue balances them; stealing has nothing to move. Together: 7.82 -> 7.25 ms
    # of CPU per output (pool 5.25).
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.work-stealing": False,
}


def require_dask(scheduler: str) -> None:
    """Fail early, before anything is written, if `scheduler` cannot be used on this install."""
    if scheduler != LOCAL_CLUSTER and ":" not in scheduler:
        raise ClusterError(
            f"--scheduler {scheduler!r}: expected {LOCAL_CLUSTER} or a scheduler address such as tcp://host:8786"
        )
    _distributed()


def run_dask(
    job: Job,
    chunks: Iterable[list],
    workers: int,
    scheduler: str,
    in_flight_per_worker: int = 4,
    retries: int = 2,
) -> Iterator[list]:
    """Yield each chunk's results in the order the chunks were given (like the local pool)."""
    require_dask(scheduler)
    distributed = _distributed()
    with _client(distributed, scheduler, workers) as client:
        check_versions(client)
        # A task, not `client.scatter`: scattered data dies with the workers holding it (a poison file can
        # kill them all), a task's result is recomputed. Workers fetch it from each other, once per worker.
        job_future = client.submit(_identity, job, pure=False)
        threads = sum(client.nthreads().values()) or workers

        def submit(items: list) -> _ChunkTask:
            return _ChunkTask(client, job_future, job.on_crash, items, retries, distributed.KilledWorker)

        yield from ordered(submit, chunks, max(1, threads) * in_flight_per_worker)


def _identity(value):
    return value


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--scheduler needs the Dask extra: {INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def _client(distributed, scheduler: str, workers: int):
    if scheduler == LOCAL_CLUSTER:
        # One thread per worker process: OpenCV is not the GIL's friend, and processes isolate crashes.
        import dask

        # No memory limit, like the local pool (the pixel budget refuses decompression bombs before decoding):
        # no memory monitor polling each worker every 100 ms, no spilling of results that are a few rows.
        with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read by each nanny when it is made, here
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=0,
                dashboard_address=None,
                silence_logs=40,
            )
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            _close(cluster, CLOSE_TIMEOUT)
        return
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except (OSError, ValueError) as exc:  # OSError includes the connect timeout
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {scheduler} has no workers (waited 60 s)") from None
        yield client


def _close(cluster, timeout: float) -> None:
    """Close a cluster augcli started, without waiting forever: after workers died and were restarted, a
    LocalCluster's close sometimes never returns (seen in about one session in ten of the crash tests), and
    the run's manifest is written after it. Worker processes that are left end with this process."""
    try:
        cluster.close(timeout=timeout)
    except TimeoutError:
        print(f"augcli: the local Dask cluster did not close within {timeout:g} s; going on", file=sys.stderr)


def runtime_versions() -> dict[str, str]:
    """The libraries that decide the output bytes (and the Python that unpickles the work)."""
    from augcli.manifest import library_versions

    versions = library_versions()  # the same record a manifest header holds, so drift is named alike
    versions["python"] = ".".join(versions["python"].split(".")[:2])  # a patch release pickles the same
    return versions


def _worker_versions() -> dict[str, str]:
    # Runs on the workers; a separate name so a test can stand in for the driver's side only.
    return runtime_versions()


def check_versions(client) -> None:
    """Refuse to start when any worker would compute different bytes than this machine."""
    expected = runtime_versions()
    found = client.run(_worker_versions, on_error="return")
    problems = []
    for worker, versions in sorted(found.items()):
        if isinstance(versions, BaseException):
            problems.append(f"{worker}: cannot run augcli ({type(versions).__name__}: {versions})")
            continue
        diffs = [
            f"{lib} {versions.get(lib)} (driver {want})" for lib, want in expected.items() if versions.get(lib) != want
        ]
        if diffs:
            problems.append(f"{worker}: " + ", ".join(diffs))
    if problems:
        raise WorkerVersionError(
            "Dask workers differ from this machine, so outputs would not be reproducible; install the same versions"
            " on every worker:\n  " + "\n  ".join(problems)
        )


def _run_chunk(job: Job, items: list) -> list:
    from augcli.jobs import prepare_worker, run_chunk

    prepare_worker(job)  # cheap when repeated: the same job object per worker process after the first fetch
    return run_chunk(items)


class _ChunkTask:
    """One chunk's future, with `result()` isolating a poison file instead of failing the whole job."""

    def __init__(self, client, job_future, on_crash, items: list, retries: int, killed: type) -> None:
        self.client, self.job, self.on_crash, self.items = client, job_future, on_crash, items
        self.retries, self.killed = retries, killed
        self.future = self._submit(items)

    def _submit(self, items: list):
        return self.client.submit(_run_chunk, self.job, items, pure=False, retries=self.retries)

    def result(self) -> list:
        try:
            return self.future.result()
        except self.killed:
            # Even a one-item chunk is re-run: an innocent chunk queued on the worker a poison one kills dies
            # with it and can be blamed. One at a time, so the re-runs are never queued behind each other.
            return [self._one(item) for item in self.items]

    def _one(self, item: Any) -> Any:
        try:
            return self._submit([item]).result()[0]
        except self.killed:
            return self.on_crash(item)

    def cancel(self) -> bool:
        return self.future.cancel()
