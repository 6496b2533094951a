"""Test-only fault injection for Dask workers: a worker plugin that makes the worker process die.

Registered on the test cluster by `tests/test_dask.py`, never imported by augcli. The process exits with
`os._exit` (no cleanup, no exception, as on a segfault in a native decoder or the OOM killer), so the
scheduler sees a lost worker exactly as it would in production. The scheduler re-sends plugins to the
workers the nannies restart, so every worker process carries it.

Triggers are file names, so no other test can hit them:
- a source named `crash_always*` kills every worker that processes it (a poison file);
- a source named `crash_once*` kills the first worker that processes it (a flag file in `flags` remembers).
"""

from __future__ import annotations

import os
from pathlib import Path

from distributed import WorkerPlugin


class CrashOnSource(WorkerPlugin):
    name = "augcli-test-crash-on-source"

    def __init__(self, flags: str) -> None:
        self.flags = flags

    def setup(self, worker) -> None:
        import augcli.worker as unit

        original = unit.process_item
        flags = Path(self.flags)

        def process_item(settings, recipe, item):
            name = os.path.basename(item.source)
            if name.startswith("crash_always"):
                os._exit(70)
            if name.startswith("crash_once"):
                flag = flags / f"{name}.crashed"
                if not flag.exists():
                    flag.touch()
                    os._exit(70)
            return original(settings, recipe, item)

        unit.process_item = process_item
