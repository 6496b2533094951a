"""Every entry of a dataset tree has exactly one outcome (issue 13): an output, a skipped row with a reason,
or the documented ignore rule (hidden names; files without an image extension, counted in the summary).

A generated hostile tree goes through `augcli expand` on the CLI; the test lists the tree itself (files and
symlinks, without following any link) and checks the three sets of the run cover it exactly. Folders are
containers: their entries are accounted for one by one, and a class folder with no image is named in the
summary as an empty class (a nested folder holding nothing has nothing to lose).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from augcli.cli import app
from augcli.entries import IMAGE_EXTENSIONS
from augcli.manifest import read_records
from augcli.textsafe import printable
from tests.conftest import textured, write_recipe

RECIPE = "seed: 2\ncopies: 1\ntransforms:\n  - {name: hflip, p: 0.5}\n"


def jpeg(seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(textured(64, 80, seed=seed)[:, :, ::-1].copy()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def entropy_corrupted(data: bytes) -> bytes:
    """Bytes flipped inside the entropy-coded scan: decodes to a damaged image, libjpeg only warns."""
    damaged = bytearray(data)
    for index in range(data.index(b"\xff\xda") + 40, len(data) - 40, 97):
        damaged[index] ^= 0x55
    return bytes(damaged)


def put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def build_tree(root: Path, outside: Path) -> dict[str, str]:
    """The hostile tree; returns the reason expected for the entries that must be skipped."""
    good = jpeg()
    put(outside / "secret.jpg", good)
    put(outside / "cls" / "x.jpg", good)
    a = root / "a"
    put(a / "ok.jpg", good)
    put(a / "UPPER.PNG", _png())
    put(a / "nested" / "deeper" / "inner.JPEG", jpeg(1))
    (a / "nested" / "empty_leaf").mkdir()
    put(a / "notes.txt", b"a note")  # ignored: not an image extension
    put(a / "data.json", b"{}")
    put(a / ".hidden.jpg", good)  # ignored: hidden
    put(a / ".cache" / "x.jpg", good)
    put(a / "entropy.jpg", entropy_corrupted(good))  # written, with a decoder note
    skipped = {}
    put(a / "corrupt.jpg", b"this is not an image" * 10)
    skipped["a/corrupt.jpg"] = "not_an_image"
    put(a / "truncated.jpg", good[: len(good) // 2])
    skipped["a/truncated.jpg"] = "corrupt"
    put(a / "empty.jpg", b"")
    skipped["a/empty.jpg"] = "empty"
    os.mkfifo(a / "pipe.jpg")
    skipped["a/pipe.jpg"] = "not_a_file"
    os.symlink("ok.jpg", a / "in_link.jpg")  # a file link inside the root: taken
    os.symlink(outside / "secret.jpg", a / "out_link.jpg")
    skipped["a/out_link.jpg"] = "symlink_outside"
    os.symlink("../b", a / "dir_in")
    skipped["a/dir_in"] = "symlink_dir"
    os.symlink(outside, a / "dir_out")
    skipped["a/dir_out"] = "symlink_outside"
    os.symlink("..", a / "nested" / "loop")
    skipped["a/nested/loop"] = "symlink_loop"
    os.symlink("self.jpg", a / "self.jpg")
    skipped["a/self.jpg"] = "symlink_loop"
    os.symlink("selfdir", a / "selfdir")  # a loop without an image name: reported all the same
    skipped["a/selfdir"] = "symlink_loop"
    os.symlink("nowhere.jpg", a / "dangling.jpg")
    skipped["a/dangling.jpg"] = "symlink_broken"
    put(root / "b" / "fine.png", _png())
    os.symlink(outside / "cls", root / "linked_class")  # a whole class folder that is a link
    skipped["linked_class"] = "symlink_outside"
    os.symlink("b", root / "alias_class")
    skipped["alias_class"] = "symlink_dir"
    (root / "empty_class").mkdir()
    put(root / "text_only" / "readme.md", b"# nothing to see")  # a class folder without images
    put(root / "loose.jpg", good)
    skipped["loose.jpg"] = "outside_class"
    put(root / "README.txt", b"about this dataset")
    put(root / ".git" / "config", b"[core]")
    with contextlib.suppress(OSError):  # a file system refusing names that are not UTF-8: nothing to account for
        put(Path(os.fsdecode(os.fsencode(a) + b"/latin1_\xe9.jpg")), good)
    return skipped


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(textured(40, 56, seed=3)).save(buffer, "PNG")
    return buffer.getvalue()


def tree_entries(root: Path) -> tuple[set[str], set[str]]:
    """Every file and symlink under root (links not followed), and every real folder."""
    entries, folders = set(), set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel == "." else f"{rel}/"
        for name in dirnames:
            (entries if os.path.islink(os.path.join(dirpath, name)) else folders).add(prefix + name)
        entries.update(prefix + name for name in filenames)
    return entries, folders


def ignored_by_rule(root: Path, rel: str) -> bool:
    """README: hidden names are ignored; so are files without an image extension, but a link that leads to
    no file (a folder, a loop, nothing) is reported whatever its name."""
    if any(part.startswith(".") for part in rel.split("/")):
        return True
    path = root / rel
    dead_end_link = path.is_symlink() and not path.is_file()
    return not dead_end_link and os.path.splitext(rel)[1].lower() not in IMAGE_EXTENSIONS


def test_every_entry_of_a_hostile_tree_has_exactly_one_outcome(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    expected_skips = build_tree(root, tmp_path / "outside")
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 1, result.output  # finished; some entries could not be used
    records = list(read_records(out / "manifest.jsonl"))
    outputs = {r["source"] for r in records if r["type"] == "output"}
    skipped = {r["source"]: r for r in records if r["type"] == "skipped"}
    entries, folders = tree_entries(root)
    ignored = {rel for rel in entries if ignored_by_rule(root, rel)}

    assert outputs | set(skipped) | ignored == entries, "every entry is accounted for, and nothing else"
    assert not outputs & set(skipped) and not (outputs | set(skipped)) & ignored, "exactly one outcome each"
    for rel, reason in expected_skips.items():
        assert skipped[rel]["reason"] == reason, (rel, skipped[rel])
        assert f"  {rel}: {reason}: " in result.output, rel  # and a summary line
    assert {"a/in_link.jpg", "a/entropy.jpg", "a/ok.jpg", "a/nested/deeper/inner.JPEG"} <= outputs
    visible_ignored = {rel for rel in ignored if not any(p.startswith(".") for p in rel.split("/"))}
    assert f"{len(visible_ignored)} non-image files ignored" in result.output
    if os.fsdecode(b"a/latin1_\xe9.jpg") in entries:
        assert os.fsdecode(b"a/latin1_\xe9.jpg") in outputs

    classes = {f for f in folders if "/" not in f and not f.startswith(".")}
    with_images = {source.split("/")[0] for source in outputs}
    empty = sorted(classes - with_images)
    assert empty == ["empty_class", "text_only"]
    assert f"empty class folders: {', '.join(empty)}" in result.output

    notes = {r["source"]: r["notes"] for r in records if r["type"] == "output" and r["kind"] == "augmented"}
    assert any(n.startswith("decoder warning: Corrupt JPEG data") for n in notes["a/entropy.jpg"]), notes
    assert notes["a/ok.jpg"] == [], "a clean JPEG gets no note"
    assert "Corrupt JPEG data" not in result.output.replace("decoder warning", ""), "captured, not printed raw"


def test_walk_reasons_are_not_taken_for_class_members_on_resume(runner, tmp_path: Path) -> None:
    """Rows of links the walk reported are not sources: with a recipe that mixes images of a class, a re-run
    would otherwise see the class's members change and redo every source of it."""
    root = tmp_path / "data"
    for n in range(2):
        put(root / "a" / f"{n}.jpg", jpeg(n))
    put(root / "b" / "b.jpg", jpeg(5))
    os.symlink("../b", root / "a" / "dir_in")
    os.symlink("self.jpg", root / "a" / "self.jpg")
    os.symlink("nowhere.jpg", root / "a" / "dangling.jpg")
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", "seed: 2\ncopies: 1\ntransforms:\n  - {name: blend}\n")
    first = runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(out), "-q", "--keep-going"])
    assert first.exit_code == 0 and "3 files skipped" in first.output, first.output
    again = runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(out), "-q", "--keep-going"])
    assert "resumed: 3 sources already done were verified and kept; 0 processed" in again.output, again.output


@pytest.mark.parametrize("layout", ["flat", "split"])
def test_a_class_folder_that_is_a_link_is_reported_not_dropped(runner, tmp_path: Path, layout: str) -> None:
    root = tmp_path / "data"
    base = root / "train" if layout == "split" else root
    put(base / "cats" / "c.jpg", jpeg())
    os.symlink("cats", base / "dogs")
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(tmp_path / "out"), "-q"])
    rel = "train/dogs" if layout == "split" else "dogs"
    assert result.exit_code == 1 and f"  {printable(rel)}: symlink_dir: " in result.output, result.output
    assert not (tmp_path / "out" / rel).exists()
