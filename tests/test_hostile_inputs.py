"""Every hostile input of issue 6, generated here, run through `augcli expand` on the CLI.

One dataset holds all the per-file cases; the test asserts each file's outcome (written, with what it
holds, or skipped with which reason) and the summary message. Whole-dataset cases (bad roots, bad output
folders, --strict) have their own tests.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from augcli.cli import app
from augcli.imageio import decode
from augcli.manifest import read_records
from tests.conftest import make_dataset, textured, tree_bytes, write_image, write_recipe

RECIPE = "seed: 5\ncopies: 1\ntransforms:\n  - {name: rotate, angle_range: [-10, 10]}\n  - {name: hflip, p: 0.5}\n"


def run(runner, *args):
    return runner.invoke(app, [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args])


def pil_rgb(width: int = 56, height: int = 40, seed: int = 0) -> Image.Image:
    return Image.fromarray(textured(height, width, seed=seed)[:, :, ::-1].copy())


def pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring a huge image, and a few bytes of data: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose SOF0 header is patched to declare `width` x `height`."""
    data = bytearray(pil_bytes(pil_rgb(), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def build_hostile_dataset(root: Path, outside: Path) -> dict[str, tuple]:
    """Write the dataset; return the expected outcome per source: ("written", checks) or ("skipped", reason)."""
    a = root / "a"
    expected: dict[str, tuple] = {}
    jpeg = pil_bytes(pil_rgb(), "JPEG", quality=90)
    png = pil_bytes(pil_rgb(), "PNG")

    write(a / "empty.jpg", b"")
    expected["a/empty.jpg"] = ("skipped", "empty")
    write(a / "text.jpg", b"this is not an image\n" * 20)
    expected["a/text.jpg"] = ("skipped", "not_an_image")
    write(a / "truncated.jpg", jpeg[: len(jpeg) // 2])
    expected["a/truncated.jpg"] = ("skipped", "corrupt")
    write(a / "truncated.png", png[: len(png) // 2])
    expected["a/truncated.png"] = ("skipped", "corrupt")
    write(a / "bomb.png", png_claiming(200_000, 200_000))
    expected["a/bomb.png"] = ("skipped", "too_large")
    write(a / "bomb.jpg", jpeg_claiming(30_000, 30_000))
    expected["a/bomb.jpg"] = ("skipped", "too_large")

    write(a / "cmyk.jpg", pil_bytes(pil_rgb().convert("CMYK"), "JPEG", quality=95))
    expected["a/cmyk.jpg"] = ("written", {"channels": 3, "bit_depth": 8})
    write(a / "progressive.jpg", pil_bytes(pil_rgb(), "JPEG", progressive=True))
    expected["a/progressive.jpg"] = ("written", {"channels": 3})
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    write(a / "exif6.jpg", pil_bytes(pil_rgb(56, 40), "JPEG", exif=exif.tobytes()))
    expected["a/exif6.jpg"] = ("written", {"orientation": 6, "width": 40, "height": 56})
    write_image(a / "deep.png", textured(kind="rgb16"))
    expected["a/deep.png"] = ("written", {"bit_depth": 16, "channels": 3})
    write_image(a / "deep.tif", textured(kind="rgb16"))
    expected["a/deep.tif"] = ("written", {"bit_depth": 16, "channels": 3})
    write_image(a / "grey.png", textured(kind="gray"))
    expected["a/grey.png"] = ("written", {"channels": 1})
    palette = pil_rgb().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    write(a / "palette.png", pil_bytes(palette, "PNG", transparency=0))
    expected["a/palette.png"] = ("written", {"channels": 4})
    write_image(a / "rgba.png", textured(kind="rgba"))
    expected["a/rgba.png"] = ("written", {"channels": 4})
    frames = [pil_rgb(seed=n).convert("P") for n in range(3)]
    write(a / "anim.gif", pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0))
    expected["a/anim.gif"] = ("written", {"notes": ["first frame of 3"]})
    pages = [pil_rgb(seed=n) for n in range(2)]
    write(a / "pages.tiff", pil_bytes(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    expected["a/pages.tiff"] = ("written", {"notes": ["first frame of 2"]})
    write(a / "plain.bmp", pil_bytes(pil_rgb(), "BMP"))
    expected["a/plain.bmp"] = ("written", {"channels": 3})
    write(a / "plain.webp", pil_bytes(pil_rgb(), "WEBP", quality=90))
    expected["a/plain.webp"] = ("written", {"channels": 3})
    write(a / "UPPER.JPG", jpeg)
    expected["a/UPPER.JPG"] = ("written", {"suffix": ".jpg"})
    write(a / "with space ünï 日本.png", png)
    expected["a/with space ünï 日本.png"] = ("written", {})
    write(a / ".hidden.jpg", jpeg)  # hidden: ignored, like every dot-file
    write(a / "nested" / "deeper" / "inner.jpg", jpeg)
    expected["a/nested/deeper/inner.jpg"] = ("written", {"label": "a"})
    (root / "empty_class").mkdir(parents=True)
    write(outside / "secret.jpg", jpeg)
    os.symlink(outside / "secret.jpg", a / "escape.jpg")
    expected["a/escape.jpg"] = ("skipped", "symlink_outside")
    os.mkfifo(a / "pipe.jpg")  # cv2.imread would block on it forever
    expected["a/pipe.jpg"] = ("skipped", "not_a_file")
    bad_name = os.fsencode(a) + b"/latin1_\xe9.jpg"  # not valid UTF-8: cv2 given this path segfaults
    with open(bad_name, "wb") as handle:
        handle.write(jpeg)
    expected[os.fsdecode(b"a/latin1_\xe9.jpg")] = ("written", {})
    write_image(root / "b" / "fine.jpg", textured())
    expected["b/fine.jpg"] = ("written", {})
    return expected


@pytest.fixture
def hostile(tmp_path: Path):
    root = tmp_path / "data"
    return root, build_hostile_dataset(root, tmp_path / "outside")


def test_every_hostile_file_gets_its_outcome(runner, hostile, tmp_path: Path) -> None:
    root, expected = hostile
    before = tree_bytes(root)
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = run(runner, "expand", recipe, root, "-o", out, "--workers", "1", "-q")
    assert result.exit_code == 1, result.output  # finished, but some files were unreadable
    records = list(read_records(out / "manifest.jsonl"))
    assert records[-1]["type"] == "footer"
    skipped = {r["source"]: r for r in records if r["type"] == "skipped"}
    written: dict[str, list[dict]] = {}
    for r in records:
        if r["type"] == "output":
            written.setdefault(r["source"], []).append(r)
    assert set(skipped) | set(written) == set(expected), "every case is accounted for, nothing else"
    assert "a/.hidden.jpg" not in written and "a/.hidden.jpg" not in skipped
    for source, (outcome, detail) in expected.items():
        if outcome == "skipped":
            assert skipped[source]["reason"] == detail, (source, skipped[source])
            assert f"{source}: {detail}: " in result.output, source
            continue
        rows = written[source]
        assert [r["kind"] for r in rows] == ["original", "augmented"], source
        original, augmented = rows
        assert (out / original["path"]).read_bytes() == (root / source).read_bytes()
        for key, value in detail.items():
            if key == "suffix":
                assert augmented["path"].endswith(value), augmented["path"]
            else:
                assert augmented[key] == value, (source, key, augmented[key])
        decoded = cv2.imdecode(np.fromfile(out / augmented["path"], np.uint8), cv2.IMREAD_UNCHANGED)
        assert decoded is not None and decoded.shape[:2] == (augmented["height"], augmented["width"]), source
    assert "empty class folders: empty_class" in result.output
    assert f"{len(skipped)} files skipped" in result.output
    assert written["a/anim.gif"][1]["path"].endswith(".png"), "GIF is not written: PNG instead"
    cmyk = decode((root / "a" / "cmyk.jpg").read_bytes(), "cmyk.jpg").image  # the policy expand used
    assert np.abs(cmyk.astype(int) - textured(40, 56).astype(int)).mean() < 4, "CMYK colours must be right"
    assert tree_bytes(root) == before, "the input tree is never written to"
    assert not (tmp_path / "out" / "a" / "escape.jpg").exists()

    again = run(runner, "expand", recipe, root, "-o", tmp_path / "out2", "--workers", "1", "-q", "--keep-going")
    assert again.exit_code == 0, again.output


def test_exif_orientation_is_applied_to_16bit_and_alpha_images(runner, tmp_path: Path) -> None:
    """The orientation policy (apply, record) holds for the IMREAD_UNCHANGED paths too."""
    root = tmp_path / "data"
    exif = Image.Exif()
    exif[0x0112] = 8
    rgba = Image.fromarray(textured(40, 56, kind="rgba")[:, :, [2, 1, 0, 3]].copy(), "RGBA")
    write(root / "a" / "alpha.png", pil_bytes(rgba, "PNG", exif=exif.tobytes()))
    deep = textured(40, 56, kind="rgb16")
    ok, buffer = cv2.imencode(".png", deep)
    assert ok
    write(root / "a" / "deep.png", _with_png_exif(buffer.tobytes(), exif.tobytes()))
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\n")  # no transforms: the output is the upright source
    out = tmp_path / "out"
    assert run(runner, "expand", recipe, root, "-o", out, "-q", "--workers", "1").exit_code == 0
    rows = {r["source"]: r for r in read_records(out / "manifest.jsonl") if r.get("kind") == "augmented"}
    for source, channels, depth in (("a/alpha.png", 4, 8), ("a/deep.png", 3, 16)):
        row = rows[source]
        assert (row["orientation"], row["width"], row["height"]) == (8, 40, 56), row
        assert (row["channels"], row["bit_depth"]) == (channels, depth)
    image = cv2.imread(str(out / rows["a/deep.png"]["path"]), cv2.IMREAD_UNCHANGED)
    assert image.dtype == np.uint16 and np.array_equal(image, np.rot90(deep, 1))


def _with_png_exif(png: bytes, exif: bytes) -> bytes:
    """Insert an eXIf chunk after IHDR (OpenCV does not write one)."""
    body = exif[6:] if exif.startswith(b"Exif\0\0") else exif
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    end_of_ihdr = 8 + 8 + 13 + 4
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def test_bit_depth_8_converts_16bit_sources(runner, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_image(root / "a" / "deep.png", textured(kind="rgb16"))
    out = tmp_path / "out"
    recipe = write_recipe(tmp_path / "r.yaml", "copies: 1\nbit_depth: 8\n")
    assert run(runner, "expand", recipe, root, "-o", out, "-q", "--workers", "1").exit_code == 0
    rows = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]
    assert [(r["kind"], r["bit_depth"]) for r in rows] == [("original", 16), ("augmented", 8)]
    bad = write_recipe(tmp_path / "bad.yaml", "bit_depth: 12\n")
    result = run(runner, "expand", bad, root, "-o", tmp_path / "o2", "--workers", "1")
    assert result.exit_code == 2 and "bit_depth" in result.output


def test_strict_stops_at_the_first_unreadable_file(runner, tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "data", {"a": 3, "b": 3})
    write(root / "a" / "img_001.jpg", b"")  # the second source in dataset order
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    result = run(runner, "expand", recipe, root, "-o", out, "--workers", "1", "-q", "--strict")
    assert result.exit_code == 1
    assert "a/img_001.jpg: empty" in result.output and "--strict" in result.output
    assert not (out / "manifest.jsonl").exists()
    assert not (out / "b").exists() or not any((out / "b").iterdir()), "nothing after the bad file was kept"
    fixed = run(runner, "expand", recipe, root, "-o", out, "--workers", "1", "-q")
    assert fixed.exit_code == 1 and "resumed: 1 sources" in fixed.output


@pytest.mark.parametrize("case", ["missing", "file"])
def test_dataset_root_missing_or_a_file(runner, tmp_path: Path, case: str) -> None:
    root = tmp_path / "data"
    if case == "file":
        root.write_text("x")
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    result = run(runner, "expand", recipe, root, "-o", tmp_path / "out", "--workers", "1")
    assert result.exit_code == 2
    assert ("dataset folder not found" if case == "missing" else "dataset path is not a folder") in result.output
    assert not (tmp_path / "out").exists()


def test_output_inside_input_and_output_with_other_content(runner, tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "data", {"a": 2})
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    inside = run(runner, "expand", recipe, root, "-o", root / "a" / "out", "--workers", "1")
    assert inside.exit_code == 2 and "inside the dataset" in inside.output
    assert not (root / "a" / "out").exists()
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    refused = run(runner, "expand", recipe, root, "-o", out, "-q", "--workers", "1")
    assert refused.exit_code == 2 and "already holds other files" in refused.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    forced = run(runner, "expand", recipe, root, "-o", out, "-q", "--force", "--workers", "1")
    assert forced.exit_code == 0 and (out / "mine.txt").read_text() == "keep me"
