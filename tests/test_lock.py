"""One writer per output folder (issue 13, defect 9): a second run is refused at once, naming the first; a
lock left by a killed run never blocks; a finished run leaves no trace of the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from augcli.cli import app
from augcli.errors import ExitCode, OutputError
from augcli.lock import _command_line, lock_path, output_lock
from augcli.manifest import read_records
from tests.conftest import make_dataset, write_recipe

RECIPE = "seed: 1\ncopies: 1\ntransforms:\n  - {name: hflip, p: 0.5}\n"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = make_dataset(tmp_path / "data", {"a": 2, "b": 2})
    return data, write_recipe(tmp_path / "r.yaml", RECIPE), tmp_path / "out"


def test_a_second_expand_process_is_refused_at_once_naming_the_first(setup) -> None:
    data, recipe, out = setup
    with output_lock(out):  # this test process is "the first run"
        second = subprocess.run(
            [sys.executable, "-m", "augcli", "expand", str(recipe), str(data), "-o", str(out), "-q"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == ExitCode.USAGE, second.stderr
        assert f"output folder {out} is in use by another augcli run: process {os.getpid()}" in second.stderr
        assert "running since" in second.stderr
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [".augcli", ".augcli/lock"]
    assert not out.exists(), "the lock created the folder; released, it leaves nothing behind"


def test_tta_and_expand_refuse_a_folder_in_use_also_with_force(runner, setup) -> None:
    data, recipe, out = setup
    assert runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q"]).exit_code == 0
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert ".augcli" not in before, "a finished run leaves no lock or state folder"
    with output_lock(out):
        for args in (["expand", "--force"], ["tta"], ["tta", "--force"]):
            command, *flags = args
            result = runner.invoke(app, [command, str(recipe), str(data), "-o", str(out), "-q", *flags])
            assert result.exit_code == ExitCode.USAGE, (args, result.output)
            assert f"in use by another augcli run: process {os.getpid()}" in result.output, args
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    audit = runner.invoke(app, ["audit", str(out), "--near-dup-threshold", "-1"])
    assert audit.exit_code == 0 and "run_state" not in audit.output, audit.output


def test_a_lock_left_by_a_killed_run_does_not_block(runner, setup) -> None:
    data, recipe, out = setup
    holder = textwrap.dedent(
        f"""
        import sys
        from augcli.lock import output_lock
        with output_lock({str(out)!r}):
            print("locked", flush=True)
            sys.stdin.read()  # hold until killed
        """
    )
    child = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        refused = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q"])
        assert refused.exit_code == ExitCode.USAGE and f"process {child.pid}" in refused.output, refused.output
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdin.close()
        child.stdout.close()
    assert f'"pid": {child.pid}' in lock_path(out).read_text(), "the killed run's lock file is still there"
    result = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert read_records(out / "manifest.jsonl") is not None and not (out / ".augcli").exists()


def test_a_lock_file_naming_a_dead_process_is_taken_over(runner, setup) -> None:
    """Only the kernel's flock counts, never the file's presence or the pid written in it."""
    data, recipe, out = setup
    assert runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q"]).exit_code == 0
    lock_path(out).parent.mkdir()
    lock_path(out).write_text('{"pid": 999999999, "command": "augcli expand (gone)"}\n')
    result = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q"])
    assert result.exit_code == 0 and "resumed: 4 sources" in result.output, result.output
    assert not (out / ".augcli").exists()


def test_the_lock_is_released_and_cleaned_up_when_the_block_fails(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    (existing / "keep.txt").parent.mkdir()
    (existing / "keep.txt").write_text("x")
    for folder in (tmp_path / "new", existing):
        with pytest.raises(RuntimeError), output_lock(folder):
            assert lock_path(folder).is_file()
            raise RuntimeError("the run failed")
        with output_lock(folder):  # released: taken again at once
            pass
    assert not (tmp_path / "new").exists()
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_the_same_folder_cannot_be_locked_twice_even_in_one_process(tmp_path: Path) -> None:
    first = output_lock(tmp_path / "out")
    second = output_lock(tmp_path / "out")
    with first, pytest.raises(OutputError, match=f"process {os.getpid()}"), second:
        pass


def test_the_recorded_command_line_hides_storage_option_values(monkeypatch) -> None:
    argv = ["/venv/bin/augcli", "expand", "r.yaml", "s3://b/d", "-o", "out", "--storage-option", "key=SECRET"]
    monkeypatch.setattr(sys, "argv", [*argv, "--storage-option=secret=SECRET2"])
    shown = _command_line("expand")
    assert "SECRET" not in shown and shown.startswith("augcli expand r.yaml s3://b/d -o out --storage-option")
