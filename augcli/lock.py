"""One writer per local output folder: a second `expand` (or `tta`) on a folder in use is refused at once.

Without it, a second run on the same folder failed after a moment with a confusing error, or, with another
recipe, the two interleaved their files. The lock is `fcntl.flock` on `OUT/.augcli/lock`: the kernel drops
it when its process ends, however it ends, so a run killed with SIGKILL never blocks the resume that
follows (a stale file is simply locked again). The file records the holder's pid, command line and start
time, only so the refusal can name them; the lock itself is the flock, not the file's existence.

A finished or failed run removes the file, and `OUT/.augcli/` and `OUT` itself when it created them and
they are left empty, so the folder holds what it held before. Local file systems only: flock is not
reliable over some network file systems, and object stores (s3://) have no locks at all.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from augcli.errors import OutputError
from augcli.manifest import STATE_DIR

LOCK_NAME = "lock"
ATTEMPTS = 20  # a racing run may remove the folder between our mkdir and open: try again, a bounded number of times


def lock_path(output: Path) -> Path:
    return Path(output) / STATE_DIR / LOCK_NAME


@contextlib.contextmanager
def output_lock(output: str | Path, command: str = "expand") -> Iterator[Path]:
    """Hold the exclusive lock on local folder `output` for the block; raise OutputError naming the holder if
    another process has it. Creates `output` if needed. Yields the lock file's path."""
    output = Path(output)
    made_output = not output.exists()
    handle = _acquire(output, command)
    try:
        yield lock_path(output)
    finally:
        with contextlib.suppress(OSError):
            lock_path(output).unlink()  # while still holding it: a run that opens the path now gets a new file
        os.close(handle)
        for folder in [output / STATE_DIR] + ([output] if made_output else []):
            with contextlib.suppress(OSError):  # not empty (run files, outputs) or already gone: leave it
                folder.rmdir()


def refuse_if_locked(output: str | Path) -> None:
    """Raise the same OutputError as `output_lock` when another run holds `output`; creates nothing.

    For checks that run before the lock can be taken (the output folder may not exist yet, or may turn out to be
    inside the dataset), so the user is told about the running process rather than about the folder's contents."""
    path = lock_path(Path(output))
    try:
        handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no lock file (or unreadable): nobody to name; output_lock decides
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise _in_use(Path(output), handle) from None
        raise
    finally:
        os.close(handle)


def _acquire(output: Path, command: str) -> int:
    path = lock_path(output)
    for _ in range(ATTEMPTS):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            continue  # the folder was removed by a run finishing just now
        except OSError as exc:
            raise OutputError(f"cannot lock output folder {output}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                error = _in_use(output, handle)
                os.close(handle)
                raise error from None
            os.close(handle)
            raise OutputError(f"cannot lock output folder {output}: {exc.strerror or exc}") from None
        if _same_file(path, handle):
            _record_holder(handle, command)
            return handle
        os.close(handle)  # we locked a file the previous holder had already removed: lock the current one
    raise OutputError(f"cannot lock output folder {output}: it keeps being created and removed by other runs")


def _same_file(path: Path, handle: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle).st_ino
    except FileNotFoundError:
        return False


def _record_holder(handle: int, command: str) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": _command_line(command),
        "since": time.time(),
    }
    os.ftruncate(handle, 0)
    os.pwrite(handle, (json.dumps(holder) + "\n").encode("utf-8", "backslashreplace"), 0)


def _command_line(command: str) -> str:
    """This process's command line, or `augcli COMMAND` when it is a library call in another program. Values
    of --storage-option (credentials, perhaps) are left out: the line is shown to whoever runs a second time."""
    if not sys.argv or not sys.argv[0]:
        return f"augcli {command}"
    program = "python -m augcli" if sys.argv[0].endswith("__main__.py") else os.path.basename(sys.argv[0])
    shown, hide = [program], False
    argv = sys.argv[1:]
    for arg in argv:
        if hide:
            shown.append("KEY=...")
        elif arg.startswith("--storage-option="):
            shown.append("--storage-option=KEY=...")
        else:
            shown.append(arg)
        hide = arg == "--storage-option"
    return shlex.join(shown)


def _in_use(output: Path, handle: int) -> OutputError:
    holder = _read_holder(handle)
    pid = holder.get("pid")
    who = f"process {pid}" if isinstance(pid, int) else "another process"
    if holder.get("host") not in (None, socket.gethostname()):
        who += f" on {holder['host']}"
    if isinstance(holder.get("command"), str):
        who += f" ({holder['command']})"
    since = holder.get("since")
    if isinstance(since, (int, float)):
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
        who += f", running since {started} ({_duration(time.time() - since)} ago)"
    return OutputError(
        f"output folder {output} is in use by another augcli run: {who}. Wait for it to finish or stop it, "
        "then run again (a stopped or killed run's work is kept and resumed); or choose another folder"
    )


def _read_holder(handle: int) -> dict:
    try:
        data = json.loads(os.pread(handle, 65536, 0).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}  # being written at this instant, or not ours: the message says less
    return data if isinstance(data, dict) else {}


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
