"""`augcli expand` and `augcli audit` on object storage, against a real S3-compatible server.

moto's standalone server (a real HTTP server, `pip install 'augcli[s3,test-remote]'`) runs on 127.0.0.1 and a
free port for the session. The CLI finds it the way a user's would find theirs: `AWS_ENDPOINT_URL` and the
`AWS_*` credentials in the environment, or `--storage-option`. The reference for "correct" is always a local
run on the same files: the tree and manifest read back from the bucket must equal it byte for byte.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from augcli.cli import app
from tests.conftest import REPO, make_dataset, tree_bytes, write_recipe

SECRET = "sEcReT-9f3b1c-DO-NOT-LEAK"  # a distinctive dummy: it must appear nowhere we print or record
KEY_ID = "AKIAAUGCLITESTKEY"
BUCKET = "augcli-test"

RECIPE = """
seed: 5
copies: 2
transforms:
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-15, 15], p: 0.8}
  - {name: gaussian_noise, p: 0.5}
  - {name: blend, p: 0.4}  # reads partner sources of the class: through storage too
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def endpoint():
    pytest.importorskip("s3fs")
    pytest.importorskip("moto")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the CLI's captured stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint, monkeypatch):
    """The environment a user of a private S3-compatible store sets, and a client of our own to look."""
    import s3fs

    from augcli import storage

    for name, value in {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storage.set_options(())
    fs = s3fs.S3FileSystem(key=KEY_ID, secret=SECRET, endpoint_url=endpoint, skip_instance_cache=True)
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    yield fs
    storage.set_options(())


@pytest.fixture
def cli(s3, endpoint):
    """The CLI in this process, with the store named by --storage-option. Pool workers may be forked from a
    forkserver started once per process (possibly by an earlier test, before `s3` set the environment, and
    then without it), so in this process only the run's settings reliably reach them. `aws_cli` covers
    credentials and endpoint from the environment, in a process of its own as a user runs it."""
    options = ["--storage-option", f"endpoint_url={endpoint}", "--storage-option", f"key={KEY_ID}"]
    options += ["--storage-option", f"secret={SECRET}"]
    return lambda *args: invoke(*args, *options)


def aws_cli(*args: str) -> subprocess.CompletedProcess:
    """`augcli` as a user runs it: a new process whose credentials and endpoint come from the environment."""
    command = [sys.executable, "-m", "augcli", *[str(a) for a in args]]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=dict(os.environ), timeout=300)


@pytest.fixture(scope="module")
def local_data(tmp_path_factory) -> Path:
    # 26 sources: chunks of 8 give 4 parts; a hidden file and a text file are ignored as locally.
    root = make_dataset(tmp_path_factory.mktemp("data") / "ds", {"train/ants": 10, "train/bees": 10, "val/ants": 4})
    (root / "train" / "ants" / ".hidden.jpg").write_bytes(b"not listed")
    (root / "train" / "bees" / "notes.txt").write_text("ignored")
    (root / "train" / "bees" / "nested").mkdir()
    (root / "train" / "bees" / "nested" / "a.jpg").write_bytes((root / "train" / "bees" / "img_000.jpg").read_bytes())
    (root / "train" / "bees" / "zz.jpg").write_bytes((root / "train" / "bees" / "img_001.jpg").read_bytes())
    return root


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("recipe") / "recipe.yaml", RECIPE)


@pytest.fixture(scope="module")
def reference(local_data, recipe, tmp_path_factory) -> dict[str, bytes]:
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("ref") / "out"
    result = CliRunner().invoke(app, ["expand", str(recipe), str(local_data), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    return tree_bytes(out)


def upload(fs, local: Path, prefix: str) -> str:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{BUCKET}/{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())
    return f"s3://{BUCKET}/{prefix}"


def download(fs, url: str) -> dict[str, bytes]:
    base = url[len("s3://") :]
    fs.invalidate_cache()
    return {p[len(base) + 1 :]: fs.cat_file(p) for p in sorted(fs.find(base))}


def invoke(*args: str):
    from typer.testing import CliRunner

    return CliRunner().invoke(app, [str(a) for a in args])


def no_secret(*texts: str | bytes) -> None:
    for text in texts:
        blob = text if isinstance(text, bytes) else text.encode()
        assert SECRET.encode() not in blob


def test_s3_to_s3_is_byte_identical_to_a_local_run_and_audits_alike(
    s3, local_data, recipe, reference, tmp_path
) -> None:
    data = upload(s3, local_data, "t1/data")
    out = f"s3://{BUCKET}/t1/out"
    result = aws_cli("expand", recipe, data, "-o", out, "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "s3://augcli-test/t1/out/manifest.jsonl" in result.stdout
    written = download(s3, out)
    assert written == reference, "same files, same bytes, same manifest; no .augcli/ state left behind"
    assert b'"name":"blend"' in reference["manifest.jsonl"], "partner sources were read from the store"
    no_secret(result.stdout, result.stderr, *written.values())

    # The audit of the objects finds what the audit of the same files on disk finds (the synthetic images
    # are alike, so near-duplicates across splits are found: leakage, exit 4), and hashes every object.
    for rel, blob in written.items():
        (tmp_path / "local" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "local" / rel).write_bytes(blob)
    remote = aws_cli("audit", out, "--source", data, "--workers", "2", "--format", "json", "--replay", "6")
    local = invoke(
        "audit", tmp_path / "local", "--source", local_data, "--workers", "1", "--format", "json", "--replay", "6"
    )
    assert remote.returncode == local.exit_code == 4, remote.stdout + remote.stderr
    remote_report, local_report = json.loads(remote.stdout), json.loads(local.output)
    assert remote_report["files_hashed"] == len(reference) - 1
    assert remote_report["replayed"] == remote_report["replay_matched"] == 6
    assert remote_report["target"] == out and remote_report["manifest"] == f"{out}/manifest.jsonl"
    for key in ("target", "manifest"):
        del remote_report[key], local_report[key]
    assert remote_report == local_report
    assert {f["check"] for f in remote_report["findings"]} == {"near_duplicate"}
    no_secret(remote.stdout, remote.stderr)

    # Tampering is caught on objects as on files: a changed output, an unlisted object, a changed source.
    s3.pipe_file(f"{BUCKET}/t1/out/train/ants/img_000__aug00.jpg", b"tampered")
    s3.pipe_file(f"{BUCKET}/t1/out/train/ants/extra.jpg", reference["train/ants/img_001.jpg"])
    s3.pipe_file(f"{BUCKET}/t1/data/val/ants/img_000.jpg", reference["val/ants/img_001.jpg"])
    audit = aws_cli("audit", out, "--source", data, "--near-dup-threshold", "-1")
    assert audit.returncode == 3, audit.stdout + audit.stderr
    for finding in ("img_000__aug00.jpg", "extra.jpg", "val/ants/img_000.jpg"):
        assert finding in audit.stdout


def test_interrupted_run_resumes_skipping_finished_chunks(s3, cli, local_data, recipe, reference, monkeypatch) -> None:
    import augcli.expand as executor  # expand's chunk function, as the runner is handed it

    data = upload(s3, local_data, "t2/data")
    out = f"s3://{BUCKET}/t2/out"
    real, calls = executor.process_chunk, []

    def stop_after_two(settings, items):
        if len(calls) == 2:
            raise KeyboardInterrupt  # what Ctrl-C does between chunks
        calls.append([i.source for i in items])
        return real(settings, items)

    monkeypatch.setattr(executor, "process_chunk", stop_after_two)
    result = cli("expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert result.exit_code == 130, result.output
    parts = [p for p in s3.find(f"{BUCKET}/t2/out/.augcli/parts")]
    assert len(parts) == 2, "each finished chunk left its manifest part"
    assert not s3.exists(f"{BUCKET}/t2/out/manifest.jsonl"), "no manifest until the run completes"

    done_first, calls[:] = [s for chunk in calls for s in chunk], []
    monkeypatch.setattr(executor, "process_chunk", lambda s, i: calls.append([x.source for x in i]) or real(s, i))
    result = cli("expand", recipe, data, "-o", out, "--workers", "1", "-q")
    assert result.exit_code == 0, result.output
    again = [s for chunk in calls for s in chunk]
    assert len(calls) == 2 and not set(again) & set(done_first), "only the unfinished chunks are run again"
    assert "resumed: 16 sources already done were verified and kept; 10 processed" in result.output
    assert download(s3, out) == reference


def test_storage_options_on_the_command_line_are_never_echoed(s3, endpoint, local_data, recipe, monkeypatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name)
    data = upload(s3, local_data, "t3/data")
    options = ["--storage-option", f"endpoint_url={endpoint}", "--storage-option", f"key={KEY_ID}"]
    options += ["--storage-option", f"secret={SECRET}"]
    result = invoke("expand", recipe, data, "-o", f"s3://{BUCKET}/t3/out", "--workers", "2", "-q", *options)
    assert result.exit_code == 0, result.output
    manifest = s3.cat_file(f"{BUCKET}/t3/out/manifest.jsonl")
    no_secret(result.output, manifest)

    bad = invoke("expand", recipe, data, "-o", f"s3://{BUCKET}/t3/other", *options, "--storage-option", "nope=1")
    assert bad.exit_code == 2
    assert "nope" in bad.output
    no_secret(bad.output)
    # A secret in the URL itself is stripped before anything is printed.
    missing = invoke(
        "expand", recipe, f"s3://user:{SECRET}@{BUCKET}/t3/missing", "-o", f"s3://{BUCKET}/t3/o2", *options
    )
    assert missing.exit_code == 2
    no_secret(missing.output)


def test_local_dataset_to_s3_and_s3_dataset_to_local_folder(s3, cli, local_data, recipe, reference, tmp_path) -> None:
    out = f"s3://{BUCKET}/t4/out"
    assert cli("expand", recipe, local_data, "-o", out, "--workers", "2", "-q").exit_code == 0
    assert download(s3, out) == reference
    data = upload(s3, local_data, "t4/data")
    result = cli("expand", recipe, data, "-o", tmp_path / "local", "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    assert tree_bytes(tmp_path / "local") == reference


def test_a_finished_s3_run_refuses_another_recipe_unless_forced(s3, cli, local_data, recipe, tmp_path) -> None:
    data = upload(s3, local_data, "t5/data")
    out = f"s3://{BUCKET}/t5/out"
    assert cli("expand", recipe, data, "-o", out, "-q").exit_code == 0
    other = write_recipe(tmp_path / "other.yaml", RECIPE.replace("copies: 2", "copies: 1"))
    refused = cli("expand", other, data, "-o", out, "-q")
    assert refused.exit_code == 2 and "another recipe" in refused.output
    assert cli("expand", other, data, "-o", out, "-q", "--force").exit_code == 0
    keys = set(download(s3, out))
    assert "train/ants/img_000__aug00.jpg" in keys and "train/ants/img_000__aug01.jpg" not in keys
    inside = cli("expand", recipe, data, "-o", f"{data}/out", "-q")
    assert inside.exit_code == 2 and "inside the dataset" in inside.output


def test_missing_extra_names_the_install_command(local_data, recipe, tmp_path, monkeypatch) -> None:
    from augcli import storage

    storage._filesystem.cache_clear()
    monkeypatch.setitem(sys.modules, "s3fs", None)  # what `import s3fs` meets without the extra
    if "fsspec.registry" in sys.modules:  # fsspec remembers an implementation it imported before
        monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    try:
        result = invoke("expand", recipe, local_data, "-o", "s3://bucket/out", "-q")
    finally:
        storage._filesystem.cache_clear()
    assert result.exit_code == 2
    assert "pip install 'augcli[s3]'" in result.output
    assert list(local_data.parent.iterdir()) == [local_data], "nothing is written before the check"


def test_local_cluster_writes_to_s3(s3, cli, local_data, recipe, reference) -> None:
    pytest.importorskip("distributed")
    data = upload(s3, local_data, "t6/data")
    out = f"s3://{BUCKET}/t6/out"
    result = cli("expand", recipe, data, "-o", out, "--scheduler", "local-cluster", "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    assert download(s3, out) == reference


def test_local_runs_never_import_fsspec(sample_copy, tmp_path) -> None:
    code = (
        "import sys\n"
        "from augcli.cli import app\n"
        "try:\n"
        f"    app(['expand', 'configs/default.yaml', {str(sample_copy)!r}, '-o', {str(tmp_path / 'out')!r},"
        " '--workers', '1', '-q'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fsspec', 's3fs', 'botocore')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "manifest.jsonl").is_file()


def test_rerun_after_a_source_is_removed_matches_a_local_run(s3, cli, local_data, recipe, tmp_path) -> None:
    import shutil

    data = upload(s3, local_data, "t7/data")
    out = f"s3://{BUCKET}/t7/out"
    assert cli("expand", recipe, data, "-o", out, "-q").exit_code == 0
    s3.rm(f"{BUCKET}/t7/data/train/ants/img_003.jpg")
    smaller = Path(shutil.copytree(local_data, tmp_path / "smaller"))
    (smaller / "train" / "ants" / "img_003.jpg").unlink()
    assert invoke("expand", recipe, smaller, "-o", tmp_path / "ref", "-q", "--workers", "1").exit_code == 0

    result = cli("expand", recipe, data, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert download(s3, out) == tree_bytes(tmp_path / "ref"), "the removed source's outputs are deleted"


def test_audit_of_nothing_and_of_a_manifest_object_alone(s3, cli, local_data, recipe) -> None:
    data = upload(s3, local_data, "t8/data")
    out = f"s3://{BUCKET}/t8/out"
    missing = cli("audit", out, "--workers", "1")
    assert missing.exit_code == 2 and "nothing to audit" in missing.output
    s3.pipe_file(f"{BUCKET}/t8/out/stray.txt", b"not a dataset")
    no_manifest = cli("audit", out, "--workers", "1")
    assert no_manifest.exit_code == 3 and "holds no manifest.jsonl" in no_manifest.output
    s3.rm(f"{BUCKET}/t8/out/stray.txt")

    assert cli("expand", recipe, data, "-o", out, "-q", "--workers", "1").exit_code == 0
    alone = cli("audit", f"{out}/manifest.jsonl", "--workers", "1", "--near-dup-threshold", "-1")
    assert alone.exit_code == 0, alone.output
    assert "manifest only" in alone.output
