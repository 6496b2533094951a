"""File names reach human-readable output escaped (issue 13, defect 8), the manifest keeps them exact.

A name holding an escape sequence must not colour the terminal, one holding a newline must not split a line,
one that is not valid UTF-8 must neither crash a writer nor print mojibake. Each output is driven through the
CLI with such names: expand's summary, tta's summary, audit's text report, preview captions and page, errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from augcli.cli import app
from augcli.manifest import read_records
from augcli.textsafe import printable
from tests.conftest import textured, write_image, write_recipe

RECIPE = "seed: 3\ncopies: 1\nformat: png\ntransforms:\n  - {name: hflip, p: 0.5}\n"
ESC_NAME = "red\x1b[31mALERT\x1b[0m.jpg"
NEWLINE_NAME = "two\nlines.jpg"
TAB_NAME = "tab\there.jpg"
RAW_NAME = os.fsdecode(b"latin1_\xe9.jpg")  # not valid UTF-8: a surrogate escape in Python


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é 日本 ok.jpg", "plain é 日本 ok.jpg"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("del\x7f nul\x00", "del\\x7f nul\\x00"),
        (os.fsdecode(b"x\xe9\xff"), "x\\xe9\\xff"),
        ("c1\x85 bidi\u202e zw\u200b", "c1\\u0085 bidi\\u202e zw\\u200b"),
        ("\U000e0041", "\\U000e0041"),
    ],
)
def test_printable_escapes_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown, "a second pass changes nothing (no double escaping)"
    assert printable(text).isprintable()
    shown.encode("utf-8")  # always encodable, even from undecodable bytes


def hostile_names_dataset(root: Path) -> dict[str, bytes]:
    """Class `cl\\x1bass` with readable images under hostile names, and unreadable ones (listed as skipped)."""
    folder = root / "cl\x1bass"
    write_image(folder / "fine.png", textured(seed=1))
    for index, name in enumerate([ESC_NAME, NEWLINE_NAME, TAB_NAME, RAW_NAME]):
        write_image(folder / name, textured(seed=10 + index))
        (folder / f"broken_{name}").write_bytes(b"not an image")
    return {"esc": b"\x1b", "newline_in_row": b"two\nlines"}


def assert_no_raw_controls(text: str) -> None:
    for line in text.splitlines():
        assert "\x1b" not in line and "\t" not in line and "\r" not in line, repr(line)
        line.encode("utf-8")  # no surrogates: the text can be written to any UTF-8 terminal
    assert "two\nlines" not in text


def test_expand_summary_escapes_names_and_the_manifest_keeps_them(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    hostile_names_dataset(root)
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    result = runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 1, result.output  # the broken_* files are skipped
    assert_no_raw_controls(result.output)
    for name in (ESC_NAME, NEWLINE_NAME, TAB_NAME, RAW_NAME):
        line = f"  cl\\x1bass/{printable('broken_' + name)}: not_an_image: "
        assert line in result.output, (line, result.output)
    assert "cl\\x1bass" in result.output.splitlines()[1], "the class column of the table is escaped too"
    assert "broken_latin1_\\xe9.jpg" in result.output
    records = list(read_records(out / "manifest.jsonl"))
    sources = {r["source"] for r in records if r["type"] in ("output", "skipped")}
    assert f"cl\x1bass/{NEWLINE_NAME}" in sources and f"cl\x1bass/broken_{RAW_NAME}" in sources, "exact names"
    assert (out / f"cl\x1bass/{RAW_NAME}").read_bytes() == (root / f"cl\x1bass/{RAW_NAME}").read_bytes()


def test_audit_text_escapes_names_json_keeps_them(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_image(root / "a" / "x.png", textured(seed=2))
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    assert runner.invoke(app, ["expand", str(recipe), str(root), "-o", str(out), "-q"]).exit_code == 0
    for name in (ESC_NAME, NEWLINE_NAME, TAB_NAME, RAW_NAME):  # unlisted files: orphan findings name them
        (out / "a" / name).write_bytes(b"stray")
    text = runner.invoke(app, ["audit", str(out), "--near-dup-threshold", "-1"])
    assert text.exit_code == 3, text.output
    assert_no_raw_controls(text.output)
    orphans = [line for line in text.output.splitlines() if " orphan " in line]
    assert len(orphans) == 4, text.output
    for name in (ESC_NAME, NEWLINE_NAME, TAB_NAME, RAW_NAME):
        assert any(f"a/{printable(name)}: " in line for line in orphans), name
    machine = runner.invoke(app, ["audit", str(out), "--format", "json", "--near-dup-threshold", "-1"])
    paths = {f["path"] for f in json.loads(machine.stdout)["findings"] if f["check"] == "orphan"}
    assert f"a/{ESC_NAME}" in paths and f"a/{NEWLINE_NAME}" in paths and f"a/{RAW_NAME}" in paths


def test_tta_summary_escapes_skipped_names(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_image(root / "a" / "ok.png", textured(seed=4))
    (root / "a" / f"broken_{ESC_NAME}").write_bytes(b"")
    (root / "a" / f"broken_{NEWLINE_NAME}").write_bytes(b"")
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = runner.invoke(app, ["tta", str(recipe), str(root), "-o", str(tmp_path / "out"), "-q", "--views", "hflip"])
    assert result.exit_code == 1, result.output
    assert_no_raw_controls(result.output)
    assert f"a/broken_{printable(NEWLINE_NAME)}: empty: " in result.output


def test_preview_captions_and_page_escape_names(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    hostile_names_dataset(root)
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    page = tmp_path / "page"
    result = runner.invoke(
        app, ["preview", str(recipe), str(root), "--html", "-o", str(page), "--per-class", "9", "--copies", "1"]
    )
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.output)
    assert "not shown: cl\\x1bass/broken_two\\nlines.jpg: not_an_image" in result.output
    index = (page / "index.html").read_bytes().decode("utf-8")  # undecodable names did not break the page
    assert "\x1b" not in index and "two\nlines" not in index
    assert "cl\\x1bass: latin1_\\xe9.jpg" in index, "caption of the non-UTF-8 name"
    assert "red\\x1b[31mALERT\\x1b[0m.jpg" in index
    details = [json.loads(_unescape(d)) for d in _between(index, "<pre>", "</pre>")]
    assert f"cl\x1bass/{RAW_NAME}" in {d["source"] for d in details}, "details keep the exact name"
    sheet = runner.invoke(app, ["preview", str(recipe), str(root), "-o", str(tmp_path / "s.png"), "--copies", "1"])
    assert sheet.exit_code == 0 and (tmp_path / "s.png").stat().st_size > 0, sheet.output


def test_error_messages_naming_files_are_escaped(runner, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    missing = tmp_path / "gone\x1b[2J\nnow"
    result = runner.invoke(app, ["expand", str(recipe), str(missing), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert_no_raw_controls(result.output)
    assert "gone\\x1b[2J\\nnow" in result.output


def _between(text: str, start: str, end: str) -> list[str]:
    return [part.split(end, 1)[0] for part in text.split(start)[1:]]


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
