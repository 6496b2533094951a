"""safe_rotate and piecewise_affine against their definitions: expand keeps every pixel, crop_valid shows no
fill, a quarter turn is rot90, scale 0 is the identity, targets follow (spatial.MATRICES / DENSE)."""

from __future__ import annotations

import numpy as np
import pytest

from augcli.carry import follow
from augcli.kernels import geometry as g
from augcli.kernels import warps as k
from augcli.pipeline import context_for
from augcli.spatial import DENSE, MATRICES, Tally, map_points, rasterize
from augcli.targets import Instance, Targets, TargetSettings
from augcli.transforms import REGISTRY, ApplyContext
from tests.conftest import IMAGE_KINDS, textured

CORNER_COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def marked(height: int = 30, width: int = 50) -> np.ndarray:
    image = np.full((height, width, 3), 90, dtype=np.uint8)
    # 3 x 3 blocks: a rotated block holds a disc of radius 1.5, so some output pixel centre samples it.
    places = [(0, 0), (0, width - 3), (height - 3, width - 3), (height - 3, 0)]
    for (y, x), colour in zip(places, CORNER_COLOURS, strict=True):
        image[y : y + 3, x : x + 3] = colour
    return image


@pytest.mark.parametrize("angle", [7.5, -33.0, 90.0, 135.0, -179.0])
def test_expand_canvas_holds_every_pixel(angle: float) -> None:
    image = marked()
    spec = REGISTRY["safe_rotate"](mode="expand", interpolation="nearest", border_mode="constant", fill=0)
    out = spec.apply(image, {"angle": angle}, ApplyContext())
    height, width = out.shape[:2]
    matrix = MATRICES["safe_rotate"](spec, {"angle": angle}, 50, 30)
    extent = np.array([[-0.5, -0.5], [49.5, -0.5], [49.5, 29.5], [-0.5, 29.5]])
    moved = map_points(matrix, extent)
    assert (moved >= -0.5 - 1e-6).all() and (moved[:, 0] <= width - 0.5 + 1e-6).all()
    assert (moved[:, 1] <= height - 0.5 + 1e-6).all(), "the rotated corners lie on the canvas"
    assert max(width, height) <= 60 and min(width, height) >= 29, "no larger than the rotated bounds need"
    for colour in CORNER_COLOURS:
        assert (out.reshape(-1, 3) == colour).all(axis=1).any(), f"corner pixel {colour} lost at {angle} degrees"
    assert (out == 90).all(axis=2).sum() >= (image == 90).all(axis=2).sum() * 0.97, "the picture is all there"


def test_expand_quarter_turn_is_rot90() -> None:
    image = textured(31, 52)
    spec = REGISTRY["safe_rotate"](mode="expand", interpolation="nearest")
    np.testing.assert_array_equal(spec.apply(image, {"angle": 90.0}, ApplyContext()), g.rot90(image, k=1))


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("shape", [(48, 64), (64, 48), (31, 77), (5, 5)])
@pytest.mark.parametrize("angle", [3.0, -27.0, 45.0, 90.0, 121.0, -170.0])
def test_crop_valid_has_no_fill_pixels(kind: str, shape: tuple[int, int], angle: float) -> None:
    flat = textured(*shape, kind=kind)
    flat[...] = np.iinfo(flat.dtype).max // 2 + 7
    spec = REGISTRY["safe_rotate"](mode="crop_valid", border_mode="constant", fill=0)
    out = spec.apply(flat, {"angle": angle}, ApplyContext())
    assert out.shape == flat.shape
    np.testing.assert_array_equal(out, flat)  # a fill of 0 would show anywhere it leaked in


def test_crop_valid_keeps_the_largest_rectangle() -> None:
    w, h = k.largest_valid_rectangle(100, 60, 0.0)
    assert (w, h) == (100, 60)
    w, h = k.largest_valid_rectangle(100, 60, 90.0)
    assert np.allclose((w, h), (60, 100))
    w, h = k.largest_valid_rectangle(100, 100, 45.0)
    assert np.allclose((w, h), (100 / np.sqrt(2), 100 / np.sqrt(2)))


def test_piecewise_affine_scale_zero_is_identity_and_otherwise_moves_pixels() -> None:
    image = textured()
    spec = REGISTRY["piecewise_affine"]()
    same = spec.apply(image, {"scale": 0.0, "noise_seed": 5}, ApplyContext())
    assert same.tobytes() == image.tobytes()
    moved = spec.apply(image, {"scale": 0.05, "noise_seed": 5}, ApplyContext())
    assert moved.shape == image.shape and np.abs(moved.astype(int) - image).mean() > 2


def test_piecewise_affine_field_is_affine_on_each_triangle() -> None:
    dx, dy = k.piecewise_affine_field(41, 41, rows=3, cols=3, scale=0.05, noise_seed=2)  # cells of 20 px
    for field in (dx, dy):
        lower = field[0:20, 0:20]  # the top-left cell; its upper-left triangle is u + v <= 1
        y, x = np.mgrid[0:20, 0:20]
        inside = (x + y) <= 20
        design = np.stack([np.ones(inside.sum()), x[inside], y[inside]], axis=1)
        coef, *_ = np.linalg.lstsq(design, lower[inside], rcond=None)
        assert np.allclose(design @ coef, lower[inside], atol=1e-9)


@pytest.mark.parametrize("name", ["safe_rotate", "piecewise_affine"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3)])
def test_tiny_images_at_the_bounds(name: str, shape: tuple[int, int]) -> None:
    cls = REGISTRY[name]
    image = textured(*shape)
    extremes = (
        {f: (lo, lo) for f, (lo, _) in _bounds(cls).items()},
        {f: (hi, hi) for f, (_, hi) in _bounds(cls).items()},
    )
    for settings in extremes:
        for mode in ["expand", "crop_valid"] if name == "safe_rotate" else [None]:
            spec = cls(**settings, **({"mode": mode} if mode else {}))
            for seed in range(3):
                params = spec.sample(np.random.default_rng(seed), context_for(image))
                out = spec.apply(image, params, ApplyContext())
                assert out.dtype == image.dtype and out.ndim == image.ndim and out.size > 0


def _bounds(cls) -> dict[str, tuple[float, float]]:
    return {
        name: tuple(info.json_schema_extra["bounds"])
        for name, info in cls.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and "bounds" in info.json_schema_extra
    }


def test_piecewise_affine_targets_follow_within_the_dense_tolerance() -> None:
    assert "piecewise_affine" in DENSE and "safe_rotate" in MATRICES
    width, height = 96, 72
    ring = np.array([[20.0, 14.0], [60.0, 10.0], [70.0, 40.0], [38.0, 56.0], [16.0, 36.0]])
    mask = rasterize([ring], (width, height), 3)
    image = np.dstack([mask * 60] * 3).astype(np.uint8)
    targets = Targets([Instance(0, [16.0, 10.0, 70.0, 56.0], [ring.reshape(-1).tolist()], key=0)], mask)
    spec = REGISTRY["piecewise_affine"](scale_range=(0.04, 0.06), border_mode="constant")
    settings = TargetSettings(min_area=0, min_visibility=0, ignore=255)
    for seed in range(5):
        params = spec.sample(np.random.default_rng(seed), context_for(image))
        out = spec.apply(image, params, ApplyContext())
        moved = follow(spec, params, targets, (width, height), (width, height), settings, Tally())
        ys, xs = np.nonzero(moved.mask == 3)
        expected = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert np.allclose(moved.instances[0].box, expected, atol=3.0)
        assert out.shape == image.shape
