"""`augcli expand --scheduler` on a real Dask cluster, through the CLI, on real image files.

One cluster serves the whole session, started as a user starts one: `dask scheduler` and `dask worker
--nworkers 2 --nthreads 1`, each a process of its own; the tests pass its address as `--scheduler tcp://...`.
Lost workers are real: a test-only worker plugin (`tests/dask_faults.py`) makes a worker process `os._exit` on
marked files, and the nannies restart them.

Not a `LocalCluster` inside the test process: after the crash tests, closing one at the end of the session
sometimes waited forever on a nanny (seen once in two full runs, and in CI, which it held to its time
limit). Processes of our own are stopped with a deadline, then killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import REPO, make_dataset, textured, tree_bytes, write_image, write_recipe

RECIPE = """
seed: 11
copies: 2
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-20, 20], p: 0.8}
  - {name: gaussian_noise, p: 0.5}
"""


@pytest.fixture(scope="session")
def crash_flags(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("crash-flags")


@pytest.fixture(scope="session")
def cluster(crash_flags, tmp_path_factory):
    distributed = pytest.importorskip("distributed")

    from tests.dask_faults import CrashOnSource

    logs = tmp_path_factory.mktemp("cluster")
    scheduler_file = str(logs / "scheduler.json")  # the scheduler picks a free port and writes it here
    # A task is given up (KilledWorker) after 2 worker deaths instead of 4: the same paths, fewer restarts.
    # PYTHONPATH: the workers unpickle the test plugin, `tests.dask_faults`.
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1", "PYTHONPATH": str(REPO)}
    file = ["--scheduler-file", scheduler_file]
    commands = {
        "scheduler": ["dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0", *file],
        "workers": ["dask_worker", *file, "--nworkers", "2", "--nthreads", "1", "--memory-limit", "0"],
    }
    processes = []
    try:
        for name, (module, *args) in commands.items():
            command = [sys.executable, "-m", f"distributed.cli.{module}", *args]
            with (logs / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
                # A session of their own: the group is stopped as one, nannies and worker processes included.
                processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True))
        with distributed.Client(scheduler_file=scheduler_file, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            client.register_plugin(CrashOnSource(str(crash_flags)))
            address = client.scheduler.address
        yield address
    finally:
        for process in reversed(processes):  # workers first: they leave the scheduler instead of losing it
            stop_group(process)


def stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (a graceful close), then SIGKILL to the whole group if it is still there after `grace`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group, even after the leader exited
    process.wait(timeout=grace)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "ds", {"train/ants": 7, "train/bees": 7, "val/ants": 2})


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("recipe") / "recipe.yaml", RECIPE)


@pytest.fixture(scope="module")
def reference(dataset, recipe, tmp_path_factory) -> dict[str, bytes]:
    """The local, single-process expansion every cluster run must reproduce byte for byte."""
    return expand_tree(recipe, dataset, tmp_path_factory.mktemp("ref") / "out", "--workers", "1")


def expand(recipe: Path, dataset: Path, out: Path, *options: str):
    from typer.testing import CliRunner

    return CliRunner().invoke(app, ["expand", str(recipe), str(dataset), "-o", str(out), "-q", *options])


def expand_tree(recipe: Path, dataset: Path, out: Path, *options: str) -> dict[str, bytes]:
    result = expand(recipe, dataset, out, *options)
    assert result.exit_code == 0, result.output
    return tree_bytes(out)


def test_pool_and_cluster_outputs_are_byte_identical(cluster, dataset, recipe, reference, tmp_path) -> None:
    assert len(reference) == 1 + 14 * 3 + 2  # manifest, train originals and copies, val originals
    two = expand_tree(recipe, dataset, tmp_path / "two", "--workers", "2")
    on_cluster = expand_tree(recipe, dataset, tmp_path / "cluster", "--scheduler", cluster)
    assert two == reference
    assert on_cluster == reference


def test_local_cluster_started_by_augcli(dataset, recipe, reference, tmp_path) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    assert expand_tree(recipe, dataset, out, "--scheduler", "local-cluster", "--workers", "2") == reference


def test_worker_killed_mid_run_is_retried_with_the_same_result(cluster, crash_flags, recipe, tmp_path) -> None:
    data = make_dataset(tmp_path / "ds", {"train/ants": 5, "train/bees": 5})
    write_image(data / "train" / "bees" / "crash_once_bee.jpg", textured(seed=77))
    reference = expand_tree(recipe, data, tmp_path / "ref", "--workers", "1")
    assert expand_tree(recipe, data, tmp_path / "cluster", "--scheduler", cluster) == reference
    assert (crash_flags / "crash_once_bee.jpg.crashed").exists(), "a worker process really died"


def test_poison_file_is_isolated_and_reported(cluster, recipe, tmp_path) -> None:
    # 24 sources and --workers 1 make chunks of 3, so the poison file shares its chunk with innocent ones.
    data = make_dataset(tmp_path / "ds", {"train/ants": 12, "train/bees": 11})
    write_image(data / "train" / "bees" / "crash_always_bee.jpg", textured(seed=99))
    reference = expand_tree(recipe, data, tmp_path / "ref", "--workers", "1")

    result = expand(recipe, data, tmp_path / "cluster", "--scheduler", cluster, "--workers", "1")
    assert result.exit_code == 1, result.output  # finished, with one file reported
    assert "crashed_worker" in result.output
    records = list(read_records(tmp_path / "cluster" / "manifest.jsonl"))
    skipped = [r for r in records if r["type"] == "skipped"]
    assert [(r["source"], r["reason"]) for r in skipped] == [("train/bees/crash_always_bee.jpg", "crashed_worker")]
    expected = [
        r
        for r in read_records(tmp_path / "ref" / "manifest.jsonl")
        if r["type"] == "output" and r["source"] != "train/bees/crash_always_bee.jpg"
    ]
    assert [r for r in records if r["type"] == "output"] == expected
    written = tree_bytes(tmp_path / "cluster")
    assert {k: v for k, v in reference.items() if k in written and k != "manifest.jsonl"} == {
        k: v for k, v in written.items() if k != "manifest.jsonl"
    }


def test_worker_version_mismatch_is_refused_before_any_work(cluster, dataset, recipe, tmp_path, monkeypatch) -> None:
    import augcli.executor_dask as executor_dask

    real = executor_dask.runtime_versions()
    monkeypatch.setattr(executor_dask, "runtime_versions", lambda: {**real, "opencv": "0.0.1"})
    result = expand(recipe, dataset, tmp_path / "out", "--scheduler", cluster)
    assert result.exit_code == 2, result.output
    assert "opencv" in result.output and "0.0.1" in result.output and real["opencv"] in result.output
    assert cluster.rsplit(":", 1)[0] in result.output  # names the worker
    assert not (tmp_path / "out" / "manifest.jsonl").exists()
    assert not list((tmp_path / "out").rglob("*.jpg")), "no image is written before the check"


def test_scheduler_without_the_extra_says_what_to_install(dataset, recipe, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import distributed` meets without the extra
    result = expand(recipe, dataset, tmp_path / "out", "--scheduler", "local-cluster")
    assert result.exit_code == 2
    assert "pip install 'augcli[dask]'" in result.output
    assert not (tmp_path / "out").exists(), "nothing is written before the check"


def test_malformed_scheduler_is_a_usage_error(dataset, recipe, tmp_path) -> None:
    result = expand(recipe, dataset, tmp_path / "out", "--scheduler", "my-cluster")
    assert result.exit_code == 2
    assert "tcp://host:8786" in result.output


def test_help_and_local_runs_do_not_import_dask() -> None:
    code = (
        "import sys\n"
        "from augcli.cli import app\n"
        "import augcli.expand\n"
        "try:\n"
        "    app(['expand', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--scheduler" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_local_cluster_workers_keep_glibc_malloc_defaults() -> None:
    # The nanny's MALLOC_TRIM_THRESHOLD_ made every image buffer fault in afresh (about 1.8x the pool's CPU per
    # output). A fresh process: a cluster started with Dask's defaults (the session fixture) leaves the
    # setting in its parent's environment, where every later worker would inherit it.
    pytest.importorskip("distributed")
    code = (
        "import os\n"
        "from augcli.executor_dask import LOCAL_CLUSTER, _client, _distributed\n"
        "os.environ.pop('MALLOC_TRIM_THRESHOLD_', None)\n"
        "with _client(_distributed(), LOCAL_CLUSTER, 1) as client:\n"
        "    found = client.run(lambda: sorted(k for k in os.environ if k.startswith('MALLOC_')))\n"
        "print(list(found.values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[[]]"


def test_a_local_cluster_that_does_not_close_does_not_hold_the_run() -> None:
    # A LocalCluster whose workers were restarted sometimes never finishes closing; the manifest is written
    # after the close, so augcli gives it CLOSE_TIMEOUT and goes on. A fresh process: the hung close is faked.
    pytest.importorskip("distributed")
    code = (
        "import asyncio, time\n"
        "import distributed\n"
        "from augcli import executor_dask\n"
        "executor_dask.CLOSE_TIMEOUT = 2\n"
        "real = distributed.LocalCluster._close\n"
        "async def never(self):\n"
        "    await asyncio.Event().wait()\n"
        "distributed.LocalCluster._close = never\n"
        "with executor_dask._client(distributed, executor_dask.LOCAL_CLUSTER, 1) as client:\n"
        "    started = time.monotonic()\n"
        "print(f'closed after {time.monotonic() - started:.1f}')\n"
        "distributed.LocalCluster._close = real  # the exit of the process closes it for real\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    seconds = float(done.stdout.strip().splitlines()[-1].split()[-1])
    assert 2 <= seconds < 10
    assert "did not close within 2 s" in done.stderr
