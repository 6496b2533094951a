"""Timing and memory of a whole subprocess: wall time and the peak resident memory of its process tree.

CPU time is the RUSAGE_CHILDREN difference around the run: user + system seconds of the process and of
every descendant it (or they) waited for, pool and cluster workers included.
Peak memory is the largest sum of RSS over the process and all its children, sampled every 20 ms with
psutil (a pool's workers are alive together, so their memory adds up). Without psutil it falls back
to getrusage(RUSAGE_CHILDREN), the peak of the single largest process.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass

ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}  # albumentations 2.0.8 queries PyPI on import otherwise


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str
    cpu_seconds: float  # user + system of the whole process tree (every descendant that was waited for)


def run(command: list[str], timeout: float = 900) -> Run:
    """Run to completion; raise with its stderr if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    baseline = before.ru_maxrss
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    peak = [0.0]
    done = threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(process.pid, peak, done), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate(timeout=timeout)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stderr[-2000:]}")
    if not peak[0]:  # no psutil: the largest single process (kilobytes on Linux), if it beat earlier runs
        peak[0] = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, baseline) * 1024
    return Run(seconds, peak[0] / 2**20, stdout, cpu)


def _sample_tree(pid: int, peak: list[float], done: threading.Event) -> None:
    try:
        import psutil
    except ImportError:
        return
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not done.is_set():
        total = 0
        try:
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
        except psutil.NoSuchProcess:
            return
        peak[0] = max(peak[0], total)
        done.wait(0.02)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
