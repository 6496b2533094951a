"""Timing and memory of a whole subprocess: wall time, CPU time and peak resident memory.

CPU time is the RUSAGE_CHILDREN difference around the run: user + system seconds of the process and of
every descendant it (or they) waited for, pool and cluster workers included.
Peak memory is sampled every 20 ms with psutil: the largest sum of RSS over the process and all its
children (a pool's workers are alive together, so their memory adds up), and the largest RSS of the
process alone (the driver: what grows with the dataset, while workers are bounded by their chunk).
Without psutil the tree figure falls back to getrusage(RUSAGE_CHILDREN), the peak of the single largest
process, and the driver figure is 0.

With `terminal=True` stderr goes to a 120-column pseudo-terminal (the CLI draws its progress bar only on a
terminal) and every update written there is kept with the time it arrived, for the ETA's accuracy.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

ENV = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}  # albumentations 2.0.8 queries PyPI on import otherwise


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float  # the whole process tree
    stdout: str
    cpu_seconds: float  # user + system of the whole process tree (every descendant that was waited for)
    driver_peak_mb: float = 0.0  # the process alone
    stderr_updates: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, text)


def run(command: list[str], timeout: float = 3600, terminal: bool = False) -> Run:
    """Run to completion; raise with its stderr if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    stderr = _Terminal(start) if terminal else None
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=stderr.slave if stderr else subprocess.PIPE,
        text=True,
        env={**ENV, "COLUMNS": "120"} if terminal else ENV,
        start_new_session=terminal,
    )
    peaks = [0.0, 0.0]  # tree, driver
    done = threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(process.pid, peaks, done), daemon=True)
    sampler.start()
    if stderr:
        stderr.start()
    stdout, errors = process.communicate(timeout=timeout)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    done.set()
    sampler.join()
    updates = stderr.finish() if stderr else []
    if process.returncode != 0:
        errors = errors or "\n".join(text for _, text in updates[-20:])
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stdout[-2000:]}\n{errors[-2000:]}")
    if not peaks[0]:  # no psutil: the largest single process (kilobytes on Linux), if it beat earlier runs
        peaks[0] = max(after.ru_maxrss, before.ru_maxrss) * 1024
    return Run(seconds, peaks[0] / 2**20, stdout, cpu, peaks[1] / 2**20, updates)


class _Terminal:
    """A pseudo-terminal for a child's stderr, read on a thread, each update timestamped."""

    def __init__(self, start: float) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.start_time, self.updates = start, []
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))  # 0 columns draws nothing
        self.thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        os.close(self.slave)  # the child holds it now
        self.thread.start()

    def finish(self) -> list[tuple[float, str]]:
        self.thread.join()
        return self.updates

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                block = os.read(self.master, 65536)
            except OSError:  # EIO: the process and its workers closed the terminal
                break
            if not block:
                break
            now = time.perf_counter() - self.start_time
            buffer += block
            *complete, buffer = re.split(rb"[\r\n]", buffer)
            self.updates.extend((now, text.decode(errors="replace")) for text in complete if text.strip())
        if buffer.strip():
            self.updates.append((time.perf_counter() - self.start_time, buffer.decode(errors="replace")))
        os.close(self.master)


def _sample_tree(pid: int, peaks: list[float], done: threading.Event) -> None:
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
            driver = root.memory_info().rss
            total = driver
            for process in root.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
        except psutil.NoSuchProcess:
            return
        peaks[0], peaks[1] = max(peaks[0], total), max(peaks[1], driver)
        done.wait(0.02)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
