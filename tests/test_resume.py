"""Interrupted runs and re-runs: SIGKILL and Ctrl-C mid-run, resume, added sources, recipe changes, a full
disk, and a worker process that dies. The reference for "correct" is always an uninterrupted run: the
resumed output folder must equal it byte for byte (manifest included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from augcli.cli import app
from augcli.manifest import read_records
from augcli.resume import JOURNAL_FILE, STATE_DIR, read_journal
from tests.conftest import REPO, make_dataset, textured, tree_bytes, write_image, write_recipe

RECIPE = """
seed: 9
copies: 6
transforms:
  - {name: rotate, angle_range: [-10, 10]}
  - {name: gaussian_noise}
  - {name: hflip, p: 0.5}
"""


def run(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


def start_expand(recipe: Path, data: Path, out: Path) -> subprocess.Popen:
    """A real `augcli expand` in its own process group (so a kill reaches its workers too, as a kill of
    the job would)."""
    command = [sys.executable, "-m", "augcli", "expand", str(recipe), str(data), "-o", str(out), "--workers", "2"]
    return subprocess.Popen(
        command + ["-q"], cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def journal_entries(out: Path) -> int:
    try:
        return (out / STATE_DIR / JOURNAL_FILE).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for_journal(process: subprocess.Popen, out: Path, entries: int, deadline_s: float = 120) -> None:
    """Poll (no fixed sleep decides anything) until the journal holds `entries` lines."""
    deadline = time.monotonic() + deadline_s
    while journal_entries(out) < entries:
        assert process.poll() is None, f"the run ended before it could be interrupted: {process.communicate()}"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.005)


def assert_no_torn_files(out: Path, reference: dict[str, bytes]) -> int:
    """Every file under a final name is complete (equal to the uninterrupted run's file); returns how many."""
    count = 0
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if path.is_dir() or rel.startswith(STATE_DIR + "/") or path.name.startswith("."):
            continue
        assert path.read_bytes() == reference[rel], f"{rel} is torn or wrong"
        count += 1
    return count


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    data = make_dataset(tmp_path / "data", {"a": 60, "b": 60}, size=(48, 64))
    return data, write_recipe(tmp_path / "r.yaml", RECIPE)


def test_sigkill_then_ctrl_c_then_resume_is_byte_identical(runner, dataset, tmp_path: Path) -> None:
    data, recipe = dataset
    reference_out = tmp_path / "reference"
    assert run(runner, "expand", recipe, data, "-o", reference_out, "--workers", "2", "-q").exit_code == 0
    reference = tree_bytes(reference_out)
    out = tmp_path / "out"

    killed = start_expand(recipe, data, out)
    wait_for_journal(killed, out, 14)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert not (out / "manifest.jsonl").exists(), "a killed first run has no manifest yet"
    journal = read_journal(out / STATE_DIR / JOURNAL_FILE)
    assert 14 <= len(journal) < 120
    manifest_rows = {r["path"]: r for r in read_records(reference_out / "manifest.jsonl") if r["type"] == "output"}
    for rows in journal.values():  # every journaled row is exactly the uninterrupted run's row
        assert all(row == manifest_rows[row["path"]] for row in rows)
    assert assert_no_torn_files(out, reference) >= 14 * 7

    interrupted = start_expand(recipe, data, out)
    wait_for_journal(interrupted, out, len(journal) + 14)
    os.killpg(interrupted.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground job
    stdout, stderr = interrupted.communicate(timeout=60)
    assert interrupted.returncode == 130, stderr
    assert "Run the same command again to resume" in stderr and "Traceback" not in stderr
    assert assert_no_torn_files(out, reference) > 0

    done = run(runner, "expand", recipe, data, "-o", out, "--workers", "2", "-q")
    assert done.exit_code == 0, done.output
    assert "resumed: " in done.output
    resumed = int(done.output.split("resumed: ")[1].split()[0])
    assert len(journal) + 14 <= resumed < 120
    assert tree_bytes(out) == reference, "the resumed folder differs from an uninterrupted run"


def test_added_sources_are_the_only_ones_processed(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 5, "b": 4})
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE.replace("copies: 6", "copies: 2"))
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q").exit_code == 0
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    before.pop(out / "manifest.jsonl")

    unchanged = run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert "resumed: 9 sources already done were verified and kept; 0 processed" in unchanged.output

    write_image(data / "a" / "new_1.jpg", textured(seed=501))
    write_image(data / "b" / "new_2.jpg", textured(seed=502))
    (data / "b" / "img_000.jpg").unlink()  # a removed source: its outputs go too
    again = run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert again.exit_code == 0, again.output
    assert "resumed: 8 sources already done were verified and kept; 2 processed" in again.output
    for path, stamp in before.items():
        if path.name.startswith("img_000") and path.parent.name == "b":
            assert not path.exists(), f"{path} belongs to a removed source"
        else:
            assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp, f"{path} was rewritten"
    fresh = tmp_path / "fresh"
    assert run(runner, "expand", recipe, data, "-o", fresh, "--workers", "1", "-q").exit_code == 0
    assert tree_bytes(out) == tree_bytes(fresh), "an updated folder equals a fresh run on the new dataset"


def test_changed_or_damaged_outputs_are_redone(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 4})
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 2\nseed: 1\ntransforms: [{name: hflip, p: 0.5}]\n")
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "-q", "--workers", "1").exit_code == 0
    reference = tree_bytes(out)
    (out / "a" / "img_001__aug01.jpg").write_bytes(b"damaged")
    (out / "a" / "img_002__aug00.jpg").unlink()
    (out / "a" / ".img_003__aug00.jpg.4242.tmp").write_bytes(b"stray temp of a killed run")
    again = run(runner, "expand", recipe, data, "-o", out, "-q", "--workers", "1")
    assert "resumed: 2 sources already done were verified and kept; 2 processed" in again.output
    assert tree_bytes(out) == reference


def test_recipe_change_is_refused_then_rebuilt_with_force(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 3, "b": 2})
    first = write_recipe(tmp_path / "r1.yaml", "seed: 1\ncopies: 3\n")
    second = write_recipe(tmp_path / "r2.yaml", "seed: 2\ncopies: 1\nformat: png\n")
    out = tmp_path / "out"
    assert run(runner, "expand", first, data, "-o", out, "-q", "--workers", "1").exit_code == 0
    (out / "notes.txt").write_text("the user's own file")
    before = tree_bytes(out)
    refused = run(runner, "expand", second, data, "-o", out, "-q", "--workers", "1")
    assert refused.exit_code == 2
    assert "made with another recipe" in refused.output and "--force" in refused.output
    assert tree_bytes(out) == before, "a refused run changes nothing"
    rebuilt = run(runner, "expand", second, data, "-o", out, "-q", "--force", "--workers", "1")
    assert rebuilt.exit_code == 0, rebuilt.output
    fresh = tmp_path / "fresh"
    assert run(runner, "expand", second, data, "-o", fresh, "-q", "--workers", "1").exit_code == 0
    expected = tree_bytes(fresh) | {"notes.txt": b"the user's own file"}
    assert tree_bytes(out) == expected, "old outputs removed, the user's file kept, nothing else"


def test_full_disk_names_the_path_and_the_run_resumes(runner, tmp_path: Path, monkeypatch) -> None:
    import augcli.imageio as imageio

    data = make_dataset(tmp_path / "data", {"a": 6})
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE.replace("copies: 6", "copies: 2"))
    reference_out = tmp_path / "reference"
    assert run(runner, "expand", recipe, data, "-o", reference_out, "--workers", "1", "-q").exit_code == 0
    real_replace, calls = os.replace, {"n": 0}

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(imageio.os, "replace", failing_replace)
    out = tmp_path / "out"
    full = run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert full.exit_code == 2
    assert "No space left on device" in full.output and str(out / "a") in full.output
    assert "run the same command again" in full.output
    monkeypatch.setattr(imageio.os, "replace", real_replace)
    done = run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert done.exit_code == 0 and "resumed: 2 sources" in done.output  # 2 of 6 were journaled
    assert tree_bytes(out) == tree_bytes(reference_out)


def crash_on_poison(items):
    """A chunk function for the pool that dies like a segfaulting decoder on sources named poison*."""
    from augcli import executor

    if any(Path(item.source).name.startswith("poison") for item in items):
        os._exit(70)
    return executor.run_chunk(items)


def test_a_worker_that_dies_is_isolated_to_its_file(tmp_path: Path) -> None:
    from augcli.executor import Job, _ordered_surviving_crashes
    from augcli.planner import WorkItem
    from augcli.recipe import Recipe
    from augcli.worker import Settings, crashed, process_chunk

    data = make_dataset(tmp_path / "data", {"a": 6})
    write_image(data / "a" / "poison.jpg", textured(seed=99))
    (tmp_path / "out" / "a").mkdir(parents=True)
    sources = sorted(p.relative_to(data).as_posix() for p in (data / "a").iterdir())
    items = [WorkItem(s, "a", None, original_out=s) for s in sources]
    settings = Settings(Recipe().model_dump_json(), str(data), str(tmp_path / "out"), 10**8)
    chunks = [items[i : i + 3] for i in range(0, len(items), 3)]
    job = Job(process_chunk, settings, crashed)
    results = list(_ordered_surviving_crashes(job, chunks, 2, 4, fn=crash_on_poison))
    rows = [row for chunk in results for item_rows in chunk for row in item_rows]
    assert [r["source"] for r in rows] == sources, "every item once, in order"
    crashed = [r for r in rows if r["type"] == "skipped"]
    assert [(r["source"], r["reason"]) for r in crashed] == [("a/poison.jpg", "crashed_worker")]
    assert all((tmp_path / "out" / r["path"]).is_file() for r in rows if r["type"] == "output")


def test_manifest_paths_cannot_leave_the_output(tmp_path: Path) -> None:
    from augcli.errors import ManifestError
    from augcli.manifest import safe_output_path

    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", out / "a" / "link")
    assert safe_output_path(out, "a/x.jpg") == out / "a" / "x.jpg"
    for bad in ["/etc/passwd", "../secret/x", "a/../../secret", "a/link/x.jpg", "", None, 3]:
        with pytest.raises(ManifestError):
            safe_output_path(out, bad)


def test_a_forged_manifest_cannot_delete_files_outside(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 2})
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\n")
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "-q", "--workers", "1").exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    lines = (out / "manifest.jsonl").read_text().splitlines()
    forged = json.loads(lines[1]) | {"path": "../victim.txt"}
    (out / "manifest.jsonl").write_text("\n".join([lines[0], json.dumps(forged), *lines[2:]]) + "\n")
    other = write_recipe(tmp_path / "r2.yaml", "copies: 2\n")
    assert run(runner, "expand", other, data, "-o", out, "-q", "--force", "--workers", "1").exit_code == 0
    assert victim.read_text() == "precious"


def test_mixing_recipes_redo_the_classes_whose_members_changed(runner, tmp_path: Path) -> None:
    """A mixed copy depends on the other images of its class: adding one redoes that class only."""
    data = make_dataset(tmp_path / "data", {"a": 3, "b": 3})
    recipe = write_recipe(tmp_path / "r.yaml", "seed: 4\ncopies: 2\ntransforms:\n  - {name: blend}\n")
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q").exit_code == 0
    write_image(data / "a" / "new.jpg", textured(seed=77))
    again = run(runner, "expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert "resumed: 3 sources already done were verified and kept; 4 processed" in again.output
    fresh = tmp_path / "fresh"
    assert run(runner, "expand", recipe, data, "-o", fresh, "--workers", "1", "-q").exit_code == 0
    assert tree_bytes(out) == tree_bytes(fresh)


# --- what a resume checks, and how (issue 18): sizes by default, hashes with --verify full ----------------------

SMALL = "copies: 2\nseed: 3\ntransforms: [{name: hflip, p: 0.5}, {name: gaussian_noise}]\n"


def interrupted_run(runner, tmp_path: Path, workers: int = 1) -> tuple[Path, Path, Path, dict[str, bytes]]:
    """A run stopped by --strict at its last source (an unreadable file), leaving a journal of the other four
    (with the sizes of their files), and an uninterrupted reference run of the four good sources."""
    data = make_dataset(tmp_path / "data", {"a": 4})
    recipe = write_recipe(tmp_path / "r.yaml", SMALL)
    reference_out = tmp_path / "reference"
    assert run(runner, "expand", recipe, data, "-o", reference_out, "--workers", workers, "-q").exit_code == 0
    (data / "a" / "zz_unreadable.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    stopped = run(runner, "expand", recipe, data, "-o", out, "--workers", workers, "-q", "--strict")
    assert stopped.exit_code == 1 and "--strict" in stopped.output
    journal = read_journal(out / STATE_DIR / JOURNAL_FILE)
    done = sorted(source for source, rows in journal.items() if rows[0]["type"] == "output")
    assert done == [f"a/img_00{n}.jpg" for n in range(4)], "the four good sources are journaled"
    lines = (out / STATE_DIR / JOURNAL_FILE).read_text().splitlines()
    sizes = [json.loads(line)["bytes"] for line in lines if '"type":"output"' in line]
    assert all(isinstance(s, int) and s > 0 for entry in sizes for s in entry), "each file's size is recorded"
    return data, recipe, out, tree_bytes(reference_out)


def resumed_count(output: str) -> int:
    return int(output.split("resumed: ")[1].split()[0])


def without_unreadable(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if k != "manifest.jsonl"}


def test_a_truncated_output_is_redone_by_its_size(runner, tmp_path: Path) -> None:
    data, recipe, out, reference = interrupted_run(runner, tmp_path)
    damaged = out / "a" / "img_001__aug01.jpg"
    damaged.write_bytes(reference["a/img_001__aug01.jpg"][:-100])  # same name, a shorter file
    again = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q", "--keep-going")
    assert again.exit_code == 0, again.output
    assert "resumed: 3 sources already done were verified and kept; 2 processed" in again.output
    assert without_unreadable(tree_bytes(out)) == without_unreadable(reference)


def test_a_same_size_change_is_caught_only_by_verify_full(runner, tmp_path: Path) -> None:
    data, recipe, out, reference = interrupted_run(runner, tmp_path)
    tampered = out / "a" / "img_002__aug00.jpg"
    original = reference["a/img_002__aug00.jpg"]
    tampered.write_bytes(original[:-3] + bytes(b ^ 0xFF for b in original[-3:-2]) + original[-2:])
    assert tampered.stat().st_size == len(original) and tampered.read_bytes() != original

    sized = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q", "--keep-going", "--strict")
    assert sized.exit_code == 1, "still stopped at the unreadable file, after checking the four others"
    assert tampered.read_bytes() != original, "the default size check keeps a file of the recorded size"

    full = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q", "--keep-going", "--verify", "full")
    assert full.exit_code == 0, full.output
    assert "resumed: 3 sources already done were verified and kept; 2 processed" in full.output
    assert tampered.read_bytes() == original
    assert without_unreadable(tree_bytes(out)) == without_unreadable(reference)


def test_a_modified_source_is_redone_in_a_journal_and_after_a_finished_run(runner, tmp_path: Path) -> None:
    data, recipe, out, _reference = interrupted_run(runner, tmp_path)
    write_image(data / "a" / "img_003.jpg", textured(seed=4242))  # changed after its outputs were journaled
    again = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q", "--keep-going")
    assert "resumed: 3 sources already done were verified and kept; 2 processed" in again.output
    (data / "a" / "zz_unreadable.jpg").unlink()
    write_image(data / "a" / "img_000.jpg", textured(seed=4343))  # and after the run finished
    last = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q")
    assert "resumed: 3 sources already done were verified and kept; 1 processed" in last.output
    fresh = tmp_path / "fresh"
    assert run(runner, "expand", recipe, data, "-o", fresh, "--workers", 1, "-q").exit_code == 0
    assert tree_bytes(out) == tree_bytes(fresh)


def test_verification_runs_in_the_workers_through_the_runner(runner, tmp_path: Path, monkeypatch) -> None:
    import augcli.expand as expand_module
    from augcli.resume import verify_chunk

    data, recipe, out, reference = interrupted_run(runner, tmp_path, workers=2)
    (data / "a" / "zz_unreadable.jpg").unlink()
    (out / "a" / "img_000__aug00.jpg").write_bytes(b"truncated")
    real_run, jobs = expand_module.run, []

    def recording_run(job, chunks, workers, scheduler=None):
        jobs.append((job.fn, workers))
        return real_run(job, chunks, workers, scheduler)

    monkeypatch.setattr(expand_module, "run", recording_run)
    done = run(runner, "expand", recipe, data, "-o", out, "--workers", 2, "-q")
    assert done.exit_code == 0, done.output
    assert (verify_chunk, 2) in jobs, "the files were checked by the runner's pool"
    assert "resumed: 3 sources already done were verified and kept; 1 processed" in done.output
    assert tree_bytes(out) == reference

    again = run(runner, "expand", recipe, data, "-o", out, "--workers", 2, "-q", "--verify", "full")
    assert "resumed: 4 sources already done were verified and kept; 0 processed" in again.output
    assert tree_bytes(out) == reference
    refused = run(runner, "expand", recipe, data, "-o", out, "--verify", "quick")
    assert refused.exit_code != 0 and "--verify must be one of size, full" in refused.output


def test_a_finished_runs_outputs_are_checked_by_the_size_its_rows_record(runner, tmp_path: Path) -> None:
    """Output rows carry `bytes`, so re-running a finished run stats its files instead of hashing them:
    a shorter file is redone by default, a same-size change only with --verify full."""
    data = make_dataset(tmp_path / "data", {"a": 3})
    recipe = write_recipe(tmp_path / "r.yaml", SMALL)
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q").exit_code == 0
    reference = tree_bytes(out)
    rows = [r for r in read_records(out / "manifest.jsonl") if r.get("type") == "output"]
    assert rows and all(r["bytes"] == len(reference[r["path"]]) for r in rows)
    same_size, shorter = (out / rows[0]["path"]), (out / rows[-1]["path"])
    original = same_size.read_bytes()
    same_size.write_bytes(original[:-3] + bytes(b ^ 0xFF for b in original[-3:-2]) + original[-2:])
    shorter.write_bytes(reference[rows[-1]["path"]][:-50])

    sized = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q")
    assert sized.exit_code == 0, sized.output
    assert shorter.read_bytes() == reference[rows[-1]["path"]], "the size check redid the shorter file's source"
    assert same_size.read_bytes() != original, "a file of the recorded size is kept by the default check"

    full = run(runner, "expand", recipe, data, "-o", out, "--workers", 1, "-q", "--verify", "full")
    assert full.exit_code == 0, full.output
    assert tree_bytes(out) == reference
