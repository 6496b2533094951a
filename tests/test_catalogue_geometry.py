"""The geometric, distortion, weather and erasing transforms checked against their definitions.

Specs are built from recipe dicts (as a user writes them) and run through sample() then apply(); the
registry-wide contract tests (every image kind, params, determinism) live in test_transform_contract.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from augcli.cli import app
from augcli.kernels import distort, dropout, geometry, weather
from augcli.pipeline import context_for, plain
from augcli.recipe import recipe_from_dict
from augcli.transforms import ApplyContext
from tests.conftest import CONFIGS, IMAGE_KINDS, textured

BORDER_MODES = ["constant", "edge", "reflect", "symmetric", "wrap"]


def spec(step: dict):
    return recipe_from_dict({"transforms": [step]}).transforms[0]


def run(step: dict, image: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Sample then apply one step, the way the pipeline does."""
    transform = spec(step)
    params = plain(transform.sample(np.random.default_rng(seed), context_for(image, "cls/a.png", "cls")))
    return transform.apply(image, params, ApplyContext()), params


# --- definitions: involutions and zero strength -------------------------------------------------


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_transpose_twice_is_identity_and_swaps_axes(kind: str) -> None:
    image = textured(kind=kind)
    once, _ = run({"name": "transpose"}, image)
    assert once.shape[:2] == (image.shape[1], image.shape[0])
    np.testing.assert_array_equal(once[3, 5], image[5, 3])
    twice, _ = run({"name": "transpose"}, once)
    np.testing.assert_array_equal(twice, image)


ZERO_STRENGTH = [
    {"name": "perspective", "scale_range": [0, 0]},
    {"name": "optical_distortion", "k_range": [0, 0]},
    {"name": "elastic_transform", "alpha_range": [0, 0]},
    {"name": "grid_distortion", "distort_range": [0, 0]},
    {"name": "pad", "amount_range": [0, 0]},
    {"name": "stretch", "scale_x_range": [1, 1], "scale_y_range": [1, 1]},
    {"name": "stretch", "scale_x_range": [1, 1], "scale_y_range": [1, 1], "keep_size": False},
    {"name": "scale", "scale_range": [1, 1]},
    {
        "name": "shift_scale_rotate",
        "shift_x_range": [0, 0],
        "shift_y_range": [0, 0],
        "scale_range": [1, 1],
        "angle_range": [0, 0],
    },
    {"name": "translate", "translate_x_range": [0, 0], "translate_y_range": [0, 0]},
    {"name": "shear", "shear_x_range": [0, 0], "shear_y_range": [0, 0]},
    {"name": "downscale", "scale_range": [1, 1]},
    {"name": "center_crop", "width_fraction_range": [1, 1], "height_fraction_range": [1, 1]},
    {"name": "fog", "intensity_range": [0, 0]},
    {"name": "rain", "density_range": [0, 0]},
    {"name": "snow", "density_range": [0, 0]},
    {"name": "shadow", "darkness_range": [0, 0]},
    {"name": "sun_flare", "intensity_range": [0, 0]},
    {"name": "brightness_gradient", "strength_range": [0, 0]},
    {"name": "coarse_dropout", "holes_range": [0, 0]},
    {"name": "grid_dropout", "ratio_range": [0, 0]},
]


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("step", ZERO_STRENGTH, ids=lambda s: s["name"])
def test_zero_strength_is_identity(step: dict, kind: str) -> None:
    image = textured(kind=kind)
    out, _ = run(step, image, seed=3)
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("step", ZERO_STRENGTH, ids=lambda s: s["name"])
def test_default_strength_changes_the_image(step: dict) -> None:
    """The counterpart of the identity test: the defaults are not accidentally a no-op."""
    image = textured(96, 128)
    changed = [not np.array_equal(run({"name": step["name"]}, image, seed)[0], image) for seed in range(4)]
    assert any(changed)


# --- border modes and padding -------------------------------------------------------------------


@pytest.mark.parametrize("mode", BORDER_MODES)
def test_pad_border_modes_equal_numpy_pad(mode: str) -> None:
    tiny = (np.arange(20, dtype=np.uint8).reshape(4, 5) * 13) % 251
    sides = {"top": 2, "bottom": 1, "left": 3, "right": 0}
    out = geometry.pad(tiny, **sides, border_mode=mode, fill=0)
    np.testing.assert_array_equal(out, np.pad(tiny, ((2, 1), (3, 0)), mode=mode))


@pytest.mark.parametrize("mode", BORDER_MODES)
def test_pad_wider_than_the_image_still_follows_numpy(mode: str) -> None:
    tiny = np.array([[1, 2, 3], [4, 5, 6]], np.uint16) * 1000
    out = geometry.pad(tiny, top=5, bottom=4, left=7, right=6, border_mode=mode, fill=0)
    np.testing.assert_array_equal(out, np.pad(tiny, ((5, 4), (7, 6)), mode=mode))


def test_pad_constant_uses_a_per_channel_fill() -> None:
    image = textured(kind="rgba")
    out = geometry.pad(image, top=1, bottom=0, left=0, right=2, border_mode="constant", fill=[1, 2, 3, 4])
    assert out.shape == (image.shape[0] + 1, image.shape[1] + 2, 4)
    assert tuple(out[0, 0]) == (1, 2, 3, 4) and tuple(out[-1, -1]) == (1, 2, 3, 4)
    np.testing.assert_array_equal(out[1:, :-2], image)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_pad_output_size_and_resize_back(kind: str) -> None:
    image = textured(kind=kind)
    out, params = run({"name": "pad", "amount_range": [0.1, 0.3]}, image)
    assert out.shape[:2] == (
        image.shape[0] + params["top"] + params["bottom"],
        image.shape[1] + params["left"] + params["right"],
    )
    np.testing.assert_array_equal(
        out[params["top"] : params["top"] + image.shape[0], params["left"] :][:, : image.shape[1]], image
    )
    back, _ = run({"name": "pad", "amount_range": [0.1, 0.3], "resize_back": True}, image)
    assert back.shape == image.shape


@pytest.mark.parametrize("mode", BORDER_MODES)
def test_translate_border_modes_match_numpy_pad(mode: str) -> None:
    """A whole-pixel translation uncovers a strip filled exactly as numpy.pad would fill it."""
    tiny = (np.arange(48, dtype=np.uint8).reshape(6, 8) * 7) % 251
    step = {
        "name": "translate",
        "translate_x_range": [0.25, 0.25],
        "translate_y_range": [0, 0],
        "border_mode": mode,
        "interpolation": "nearest",
    }
    out, _ = run(step, tiny)
    np.testing.assert_array_equal(out, np.pad(tiny, ((0, 0), (2, 0)), mode=mode)[:, :8])


# --- crops and output shape rules ---------------------------------------------------------------


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_center_crop_size_and_position_exact(kind: str) -> None:
    image = textured(48, 64, kind=kind)
    out, params = run({"name": "center_crop", "size": [20, 10]}, image)
    assert out.shape[:2] == (10, 20)
    assert (params["x"], params["y"]) == (22, 19)
    np.testing.assert_array_equal(out, image[19:29, 22:42])
    back, _ = run({"name": "center_crop", "size": [20, 10], "resize_back": True}, image)
    assert back.shape == image.shape


def test_crop_fractions_and_clamping() -> None:
    image = textured(50, 80)
    out, _ = run(
        {"name": "center_crop", "width_fraction_range": [0.5, 0.5], "height_fraction_range": [0.2, 0.2]}, image
    )
    assert out.shape[:2] == (10, 40)
    out, _ = run({"name": "random_crop", "size": [500, 30]}, image)
    assert out.shape[:2] == (30, 80)


def test_random_crop_is_a_window_of_the_input() -> None:
    image = textured(50, 80)
    seen = set()
    for seed in range(10):
        out, p = run({"name": "random_crop", "size": [32, 24]}, image, seed)
        assert out.shape[:2] == (24, 32)
        np.testing.assert_array_equal(out, image[p["y"] : p["y"] + 24, p["x"] : p["x"] + 32])
        assert 0 <= p["x"] <= 48 and 0 <= p["y"] <= 26
        seen.add((p["x"], p["y"]))
    assert len(seen) > 5


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_scale_and_stretch_output_sizes(kind: str) -> None:
    image = textured(40, 60, kind=kind)
    out, _ = run(
        {"name": "stretch", "scale_x_range": [1.5, 1.5], "scale_y_range": [0.5, 0.5], "keep_size": False}, image
    )
    assert out.shape[:2] == (20, 90)
    out, _ = run({"name": "scale", "scale_range": [0.33, 0.33], "keep_size": False}, image)
    assert out.shape[:2] == (13, 20)
    for name in ("scale", "stretch", "downscale", "perspective", "elastic_transform", "shift_scale_rotate"):
        assert run({"name": name}, image)[0].shape == image.shape, name


def test_scale_in_frame_zooms_about_the_centre() -> None:
    image = np.zeros((41, 41), np.uint8)
    image[20, 30] = 255  # 10 px right of the centre
    out, _ = run({"name": "scale", "scale_range": [2, 2], "interpolation": "nearest"}, image)
    assert out[20, 40] == 255 and out[20, 30] == 0


def test_downscale_loses_detail_but_keeps_mean() -> None:
    image = textured(64, 64, kind="gray")
    out, _ = run({"name": "downscale", "scale_range": [0.25, 0.25]}, image)
    assert out.shape == image.shape
    assert abs(float(out.mean()) - float(image.mean())) < 3
    assert np.abs(np.diff(out.astype(int), axis=1)).mean() < np.abs(np.diff(image.astype(int), axis=1)).mean()


# --- distortions ---------------------------------------------------------------------------------


def _line_rows(image: np.ndarray) -> tuple[float, float]:
    """Row (weighted) of a bright horizontal line at the centre column and near the left edge."""
    rows = np.arange(image.shape[0], dtype=float)

    def row_at(column: int) -> float:
        weights = image[:, column].astype(float)
        return float((rows * weights).sum() / weights.sum())

    return row_at(image.shape[1] // 2), row_at(20)


def test_optical_distortion_barrel_and_pincushion() -> None:
    """A line above the centre bows away from the centre (barrel, k > 0) or towards it (pincushion)."""
    image = np.zeros((101, 151), np.uint8)
    image[25, :] = 255
    barrel = distort.optical_distortion(image, k=0.5, border_mode="constant")
    pincushion = distort.optical_distortion(image, k=-0.5, border_mode="constant")
    middle, edge = _line_rows(barrel)
    assert middle < edge - 2  # the middle of the line is farther from the centre (row 50) than its ends
    middle, edge = _line_rows(pincushion)
    assert middle > edge + 2
    assert barrel[50, 75] == image[50, 75]  # the centre does not move


def test_perspective_moves_corners_by_the_given_fractions() -> None:
    image = np.zeros((101, 201), np.uint8)
    image[0, 0] = 255
    image[:2, :2] = 255
    corners = [[0.1, 0.2], [0, 0], [0, 0], [0, 0]]
    out = distort.perspective(image, corners=corners, border_mode="constant", interpolation="nearest")
    ys, xs = np.nonzero(out)
    assert abs(xs.min() - 20) <= 1 and abs(ys.min() - 20) <= 1


def test_grid_distortion_keeps_corners_and_edges_in_place() -> None:
    image = textured(60, 80, kind="gray")
    out = distort.grid_distortion(
        image, x_steps=[0.4, -0.3, 0.2, -0.1], y_steps=[-0.3, 0.3, 0, 0.1], border_mode="reflect"
    )
    for y, x in ((0, 0), (0, 79), (59, 0), (59, 79)):
        assert out[y, x] == image[y, x]
    assert not np.array_equal(out, image)


def test_elastic_field_is_seeded_and_scaled() -> None:
    dx, dy = distort.elastic_field(120, 200, alpha=0.05, sigma=0.05, noise_seed=4)
    rms = float(np.sqrt(np.mean(dx**2 + dy**2) / 2))
    assert abs(rms - 0.05 * 120) < 1e-3
    again = distort.elastic_field(120, 200, alpha=0.05, sigma=0.05, noise_seed=4)
    np.testing.assert_array_equal(dx, again[0])
    other = distort.elastic_field(120, 200, alpha=0.05, sigma=0.05, noise_seed=5)
    assert not np.array_equal(dx, other[0])
    # smooth: neighbouring displacements differ far less than the displacement itself
    assert np.abs(np.diff(dx, axis=1)).mean() < 0.2 * np.abs(dx).mean()


# --- weather and light ---------------------------------------------------------------------------

WEATHER = ["fog", "rain", "snow", "shadow", "sun_flare", "brightness_gradient"]


@pytest.mark.parametrize("name", WEATHER)
def test_weather_looks_the_same_in_16_bit(name: str) -> None:
    """Intensities scale with the type's white: the 16-bit result is the 8-bit one times 257."""
    image8 = textured(60, 80)
    image16 = image8.astype(np.uint16) * 257
    out8, params = run({"name": name}, image8, seed=2)
    out16 = spec({"name": name}).apply(image16, params, ApplyContext())
    assert np.abs(out16.astype(float) / 257 - out8.astype(float)).max() <= 1.0


@pytest.mark.parametrize("name", WEATHER)
def test_weather_on_grey_matches_the_grey_of_colour(name: str) -> None:
    import cv2

    colour = textured(60, 80)
    grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    out_colour, params = run({"name": name}, colour, seed=2)
    out_grey = spec({"name": name}).apply(grey, params, ApplyContext())
    assert out_grey.shape == grey.shape
    assert np.abs(out_grey.astype(float) - cv2.cvtColor(out_colour, cv2.COLOR_BGR2GRAY)).mean() < 1.5


def test_fog_at_defaults_keeps_the_picture() -> None:
    image = textured(120, 160, kind="gray")
    for seed in range(5):
        out, params = run({"name": "fog"}, image, seed)
        assert 0.25 <= params["intensity"] <= 0.5
        assert out.std() > 0.4 * image.std()  # contrast lowered, not wiped out
        assert out.mean() > image.mean()


def test_rain_streaks_are_visible() -> None:
    image = np.full((200, 300, 3), 90, np.uint8)
    out, _ = run({"name": "rain"}, image)
    brighter = (out.astype(int) - int(90 * 0.85)).max(axis=2) > 30
    assert 0.01 < brighter.mean() < 0.3


def test_shadow_only_darkens() -> None:
    image = textured(80, 100)
    out, params = run({"name": "shadow", "darkness_range": [0.5, 0.5]}, image)
    assert (out <= image).all()
    assert (out.astype(int) < image.astype(int) - 20).any()
    assert all(len(polygon) >= 4 for polygon in params["polygons"])


def test_brightness_gradient_vignette_darkens_corners_not_centre() -> None:
    image = np.full((51, 51), 200, np.uint8)
    out = weather.brightness_gradient(image, mode="vignette", strength=0.5, angle=0)
    assert out[25, 25] == 200 and out[0, 0] == 100
    linear = weather.brightness_gradient(image, mode="linear", strength=0.5, angle=0)
    assert linear[10, 0] == 200 and linear[10, 50] == 100  # darkens towards the right


def test_sun_flare_brightens_around_its_centre() -> None:
    image = np.full((100, 100, 3), 60, np.uint8)
    out = weather.sun_flare(image, x=30, y=20, radius=20, intensity=0.9, halos=[])
    assert out[20, 30].min() > 200 and out[90, 90].max() <= 61


# --- erasing -------------------------------------------------------------------------------------


def test_coarse_dropout_hole_count_and_sizes() -> None:
    image = np.full((100, 200, 3), 255, np.uint8)
    step = {
        "name": "coarse_dropout",
        "holes_range": [3, 5],
        "hole_width_range": [0.1, 0.1],
        "hole_height_range": [0.2, 0.2],
    }
    for seed in range(5):
        out, params = run(step, image, seed)
        assert 3 <= len(params["boxes"]) <= 5
        assert all(w == 20 and h == 20 for _, _, w, h in params["boxes"])
        assert (out == 0).all(axis=2).sum() >= 20 * 20


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_grid_dropout_erases_the_expected_share(kind: str) -> None:
    image = textured(100, 100, kind=kind) | 1  # no pixel is 0 before erasing
    out = dropout.grid_dropout(image, unit=10, hole=5, offset_x=3, offset_y=7, fill=0)
    colour = out if out.ndim == 2 else out[:, :, :3]
    erased = (colour == 0) if colour.ndim == 2 else (colour == 0).all(axis=2)
    assert erased.mean() == pytest.approx(0.25, abs=0.01)
    assert erased[7:12, 3:8].all() and not erased[12:17, 8:13].any()
    if kind == "rgba":
        np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])


# --- example recipes run end to end --------------------------------------------------------------


@pytest.mark.parametrize("config", ["distortion.yaml", "weather.yaml", "erasing.yaml", "geometric.yaml"])
def test_family_config_expands_sample_data(config: str, runner, sample_copy, tmp_path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["expand", str(CONFIGS / config), str(sample_copy), "-o", str(out), "--workers", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    augmented = [row for row in rows if row.get("kind") == "augmented"]
    assert augmented and all(row["transforms"] for row in augmented)  # every recipe always applies a step
    assert rows[-1]["type"] == "footer"


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_transpose_matches_numpy(kind: str) -> None:
    image = textured(kind=kind)
    np.testing.assert_array_equal(geometry.transpose(image), np.swapaxes(image, 0, 1))
