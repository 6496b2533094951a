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


# ---------------------------------------------------------------- colour values: one scale, validated at load

ERASERS = {
    # settings that erase the whole image, so every output pixel is the fill
    "random_erasing": "area_range: [1, 1], aspect_range: [1, 1]",
    "coarse_dropout": "holes_range: [1, 1], hole_width_range: [1, 1], hole_height_range: [1, 1]",
    "grid_dropout": "cell_size_range: [0.5, 0.5], ratio_range: [1, 1]",
}


def expand(runner, tmp_path: Path, data: Path, step: str, name: str = "out"):
    recipe = write_recipe(
        tmp_path / f"{name}.yaml", f"format: png\ncopies: 1\nkeep_originals: false\ntransforms:\n  - {step}\n"
    )
    out = tmp_path / name
    result = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q", "--workers", "1"])
    return result, out


def square_sources(root: Path) -> Path:
    """8-bit colour, 16-bit colour, grey and colour with alpha, square so random_erasing can cover them."""
    base = textured(16, 16, seed=3)
    images = {
        "rgb.png": base,
        "rgb16.png": base.astype(np.uint16) * 257,
        "grey.png": cv2.cvtColor(base, cv2.COLOR_BGR2GRAY),
        "rgba.png": textured(16, 16, kind="rgba", seed=3),
    }
    for name, image in images.items():
        (root / "a").mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(root / "a" / name), image)
    return root


@pytest.mark.parametrize("name", sorted(ERASERS))
@pytest.mark.parametrize("fill", ["300", "[300, -20, 256]", "-1", "[0, 0]"])
def test_out_of_range_erasing_fill_is_a_recipe_error_naming_the_key(runner, tmp_path, name: str, fill: str) -> None:
    """Was: [300, -20, 256] wrapped to [44, 236, 0] and 300 failed on every image (exit 1)."""
    data = square_sources(tmp_path / "data")
    result, out = expand(runner, tmp_path, data, f"{{name: {name}, {ERASERS[name]}, fill: {fill}}}")
    assert result.exit_code == 2, result.output
    assert "transforms[0].fill" in result.output and ("0-255" in result.output or "a colour is" in result.output)
    assert not (out / "manifest.jsonl").exists()


@pytest.mark.parametrize("name", sorted(ERASERS))
def test_erasing_fill_is_on_the_8bit_scale_at_every_depth(runner, tmp_path, name: str) -> None:
    data = square_sources(tmp_path / "data")
    result, out = expand(runner, tmp_path, data, f"{{name: {name}, {ERASERS[name]}, fill: [255, 0, 128]}}")
    assert result.exit_code == 0, result.output
    rows = {r["source"]: r for r in read_records(out / "manifest.jsonl") if r.get("type") == "output"}
    luma = 0.114 * 255 + 0.299 * 128  # a grey image takes the colour's BT.601 luma
    expected = {
        "a/rgb.png": [255, 0, 128],
        "a/rgb16.png": [65535, 0, 32896],  # 128 is mid-grey at 16 bits too: x 257
        "a/grey.png": round(luma),
        "a/rgba.png": [255, 0, 128],  # alpha is not erased
    }
    for source, value in expected.items():
        image = cv2.imread(str(out / rows[source]["path"]), cv2.IMREAD_UNCHANGED)
        colour = image[:, :, :3] if image.ndim == 3 else image
        assert (colour == np.asarray(value, dtype=image.dtype)).all(), (source, np.unique(colour))
    alpha = cv2.imread(str(out / rows["a/rgba.png"]["path"]), cv2.IMREAD_UNCHANGED)[:, :, 3]
    np.testing.assert_array_equal(alpha, cv2.imread(str(data / "a" / "rgba.png"), cv2.IMREAD_UNCHANGED)[:, :, 3])


COLOUR_STEPS = {
    # one setting per colour-valued parameter; each turns a black image's touched pixels into the colour
    "rotate": "{name: rotate, angle_range: [45, 45], border_mode: constant, interpolation: nearest, FILL}",
    "pad": "{name: pad, amount_range: [0.25, 0.25], border_mode: constant, FILL}",
    "channel_dropout": "{name: channel_dropout, count_range: [2, 2], FILL}",
    "pixel_dropout": "{name: pixel_dropout, rate_range: [1, 1], FILL}",
    "random_erasing": "{name: random_erasing, " + ERASERS["random_erasing"] + ", FILL}",
}


@pytest.mark.parametrize("name", sorted(COLOUR_STEPS))
def test_every_fill_uses_the_same_units(runner, tmp_path, name: str) -> None:
    """fill: 128 is mid-grey on 8- and 16-bit images for every transform (channel and pixel dropout used to
    take a fraction of white, erasing a raw value: near black on 16 bits)."""
    root = tmp_path / "data" / "a"
    root.mkdir(parents=True)
    cv2.imwrite(str(root / "b8.png"), np.zeros((16, 16, 3), np.uint8))
    cv2.imwrite(str(root / "b16.png"), np.zeros((16, 16, 3), np.uint16))
    result, out = expand(runner, tmp_path, tmp_path / "data", COLOUR_STEPS[name].replace("FILL", "fill: 128"))
    assert result.exit_code == 0, result.output
    for row in read_records(out / "manifest.jsonl"):
        if row.get("type") == "output":
            image = cv2.imread(str(out / row["path"]), cv2.IMREAD_UNCHANGED)
            mid = 128 if image.dtype == np.uint8 else 128 * 257
            assert set(np.unique(image)) <= {0, mid} and (image == mid).any(), (row["source"], np.unique(image))
    result, _ = expand(runner, tmp_path, tmp_path / "data", COLOUR_STEPS[name].replace("FILL", "fill: 1.5e3"), "bad")
    assert result.exit_code == 2 and "transforms[0].fill" in result.output, result.output


def test_sun_flare_colour_is_on_the_8bit_scale_and_validated() -> None:
    from augcli.errors import RecipeError
    from augcli.recipe import recipe_from_dict

    with pytest.raises(RecipeError, match=r"transforms\[0\]\.color: colour values are on the 8-bit scale"):
        recipe_from_dict({"transforms": [{"name": "sun_flare", "color": [0.85, 0.95, 300]}]})
    spec = recipe_from_dict({"transforms": [{"name": "sun_flare", "color": [0, 0, 255]}]}).transforms[0]
    black = np.zeros((9, 9, 3), np.uint8)
    params = {"x": 4.0, "y": 4.0, "radius": 50.0, "intensity": 1.0, "halos": []}
    out = spec.apply(black, params, None)
    assert tuple(out[4, 4]) == (0, 0, 255), "a full-strength flare of pure red gives red"
    deep = spec.apply(black.astype(np.uint16), params, None)
    assert tuple(deep[4, 4]) == (0, 0, 65535)


def test_colour_value_rules() -> None:
    from augcli.kernels._common import colour_value

    colour = np.zeros((1, 1, 3), np.uint8)
    assert colour_value(128, colour) == (128, 128, 128)
    assert colour_value([128], colour.astype(np.uint16)) == (32896, 32896, 32896)
    assert colour_value([10, 20, 30], np.zeros((1, 1, 4), np.uint8)) == (10, 20, 30, 255)  # opaque unless given
    assert colour_value([10, 20, 30, 40], np.zeros((1, 1, 4), np.uint8)) == (10, 20, 30, 40)
    assert colour_value(7, np.zeros((1, 1, 4), np.uint8)) == (7, 7, 7, 7)  # one number: every channel
    assert colour_value([10, 20, 30, 40], colour) == (10, 20, 30)
    assert colour_value([255, 0, 0], np.zeros((1, 1), np.uint8)) == (round(0.114 * 255),)  # grey: luma
    assert colour_value(127.5, colour) == (128, 128, 128)  # rounded, half to even
    assert colour_value(300, colour) == (255, 255, 255), "clipped, never wrapped, if validation is bypassed"


# ---------------------------------------------------------------- output sizes are validated, not failed on


@pytest.mark.parametrize("name", ["random_resized_crop", "random_crop", "center_crop"])
@pytest.mark.parametrize("size", ["[0, 10]", "[10, 0]", "[-3, 10]", "[70000, 10]"])
def test_impossible_output_size_is_a_recipe_error(runner, tmp_path, name: str, size: str) -> None:
    """random_resized_crop accepted size [0, 10] and then failed inside cv2.resize on every image."""
    data = square_sources(tmp_path / "data")
    result, out = expand(runner, tmp_path, data, f"{{name: {name}, size: {size}}}")
    assert result.exit_code == 2, result.output
    assert "transforms[0].size" in result.output, result.output
    assert not (out / "manifest.jsonl").exists()


def test_random_resized_crop_gives_the_asked_size(runner, tmp_path) -> None:
    data = square_sources(tmp_path / "data")
    result, out = expand(runner, tmp_path, data, "{name: random_resized_crop, size: [1, 7]}")
    assert result.exit_code == 0, result.output
    for row in read_records(out / "manifest.jsonl"):
        if row.get("type") == "output":
            assert (row["width"], row["height"]) == (1, 7)


# ---------------------------------------------------------------- median_blur edges at every bit depth


def median_reference(image: np.ndarray, size: int) -> np.ndarray:
    """The definition: median of each window over the image with its edge pixels repeated outwards."""
    r = size // 2
    padded = np.pad(image, ((r, r), (r, r)) + ((0, 0),) * (image.ndim - 2), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(0, 1))
    return np.median(windows.reshape(windows.shape[: image.ndim] + (-1,)), axis=-1).astype(image.dtype)


@pytest.mark.parametrize("kind", ["rgb", "gray", "rgba"])
@pytest.mark.parametrize("size", [3, 5, 7, 9, 15])
def test_median_blur_edges_are_the_same_at_8_and_16_bits(kind: str, size: int) -> None:
    """16-bit images with size >= 7 (a numpy path: OpenCV's 16-bit median stops at 5) mirrored the edge where
    8-bit images repeat it; the median commutes with x 257, so the results must match exactly."""
    from augcli.kernels.blur import median_blur

    image = textured(23, 31, kind=kind, seed=size)
    eight = median_blur(image, size=size)
    sixteen = median_blur(image.astype(np.uint16) * 257, size=size)
    np.testing.assert_array_equal(sixteen, eight.astype(np.uint16) * 257)
    colour = image[:, :, :3] if kind == "rgba" else image
    np.testing.assert_array_equal((eight[:, :, :3] if kind == "rgba" else eight), median_reference(colour, size))


@pytest.mark.parametrize("shape", [(200, 1, 3), (1, 200, 3), (1, 1, 3)])
def test_random_resized_crop_fallback_box_is_never_empty(shape) -> None:
    """The fallback centre crop rounded to zero pixels on a one-pixel-wide image with ratios far from its own."""
    from augcli.pipeline import context_for
    from augcli.transforms import REGISTRY, ApplyContext

    image = np.zeros(shape, np.uint8)
    for ratio in ([5, 10], [0.1, 0.2]):
        spec = REGISTRY["random_resized_crop"](ratio_range=ratio, scale_range=[0.01, 0.01])
        params = spec.sample(np.random.default_rng(0), context_for(image))
        assert params["width"] >= 1 and params["height"] >= 1, params
        assert spec.apply(image, params, ApplyContext()).shape == shape


# ---------------------------------------------------------------- found by tests/test_properties.py


def test_cubic_reflect_warps_of_one_pixel_wide_images_end() -> None:
    """OpenCV's bicubic warps looped forever on BORDER_REFLECT_101 when an axis is one pixel long; run in a
    child process so a regression fails on its timeout instead of hanging the suite."""
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from augcli.kernels import distort, geometry\n"
        "for shape in [(1, 1, 3), (1, 17), (17, 1, 4)]:\n"
        "    image = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)\n"
        "    options = dict(border_mode='reflect', interpolation='cubic')\n"
        "    out = geometry.rotate(image, angle=30, **options)\n"
        "    assert out.shape == image.shape\n"
        "    assert (out == image).all() or shape[0] * shape[1] > 1\n"
        "    assert distort.optical_distortion(image, k=0.5, **options).shape == image.shape\n"
        "    corners = [[0.1, 0.1], [0, 0], [0, 0], [0, 0]]\n"
        "    assert distort.perspective(image, corners=corners, **options).shape == image.shape\n"
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_channel_dropout_on_a_one_pixel_image(dtype) -> None:
    """OpenCV's binding read a 1x1 array as a scalar: channel_dropout returned a (4, 1) float64 array."""
    from augcli.kernels.color import channel_dropout

    image = np.array([[[10, 20, 30, 40]]], dtype=dtype)
    out = channel_dropout(image, channels=[0, 2], fill=255)
    white = np.iinfo(dtype).max
    np.testing.assert_array_equal(out, np.array([[[white, 20, white, 40]]], dtype=dtype))
