"""Kernels checked against definitions: involutions, identities, numpy.pad border semantics."""

from __future__ import annotations

import numpy as np
import pytest

from augcli.kernels import blur, color, dropout, geometry, noise
from tests.conftest import IMAGE_KINDS, textured


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_flips_are_involutions(kind: str) -> None:
    image = textured(kind=kind)
    np.testing.assert_array_equal(geometry.hflip(geometry.hflip(image)), image)
    np.testing.assert_array_equal(geometry.vflip(geometry.vflip(image)), image)
    assert not np.array_equal(geometry.hflip(image), image)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_rot90_four_times_is_identity(kind: str) -> None:
    image = textured(kind=kind)
    out = image
    for _ in range(4):
        out = geometry.rot90(out, k=1)
    np.testing.assert_array_equal(out, image)
    assert geometry.rot90(image, k=1).shape[:2] == image.shape[1::-1][:2]


def test_rot90_matches_numpy_convention() -> None:
    tiny = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(geometry.rot90(tiny, k=1), np.rot90(tiny))


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_zero_strength_is_identity(kind: str) -> None:
    image = textured(kind=kind)
    for out in (
        geometry.rotate(image, angle=0.0, border_mode="reflect"),
        geometry.affine(image, scale=1, translate_x=0, translate_y=0, shear_x=0, shear_y=0, border_mode="edge"),
        color.brightness_contrast(image, brightness=0.0, contrast=0.0),
        color.hue_saturation_value(image, hue_shift=0.0, saturation=0.0, value=0.0),
        noise.gaussian_noise(image, sigma=0.0, noise_seed=1),
        noise.salt_and_pepper(image, amount=0.0, salt_ratio=0.5, noise_seed=1),
        blur.gaussian_blur(image, sigma=0.0),
        dropout.erase(image, boxes=[]),
    ):
        np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("kind", ["rgb", "rgb16"])
def test_small_hue_shift_changes_little(kind: str) -> None:
    image = textured(kind=kind)
    out = color.hue_saturation_value(image, hue_shift=2.0, saturation=0.0, value=0.0)
    white = 255 if kind == "rgb" else 65535
    assert 0 < np.abs(out.astype(int) - image.astype(int)).mean() < 0.05 * white


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_border_modes_match_numpy_pad(mode: str) -> None:
    """Shift a tiny array right and down by 2 pixels: the uncovered strip must be what numpy.pad makes."""
    tiny = (np.arange(30, dtype=np.uint8).reshape(5, 6) * 7) % 251
    shifted = geometry.warp_affine(
        tiny, np.array([[1.0, 0, 2], [0, 1.0, 2]]), border_mode=mode, fill=0, interpolation="nearest"
    )
    padded = np.pad(tiny, ((2, 0), (2, 0)), mode=mode)[:5, :6]
    np.testing.assert_array_equal(shifted, padded)


def test_rotate_fill_constant_uses_fill_value() -> None:
    image = np.full((20, 20, 3), 100, np.uint8)
    out = geometry.rotate(image, angle=45, border_mode="constant", fill=[1, 2, 3])
    assert tuple(out[0, 0]) == (1, 2, 3)


def test_brightness_contrast_on_known_values() -> None:
    flat = np.array([[100, 100], [100, 100]], np.uint8)
    assert color.brightness_contrast(flat, brightness=0.1, contrast=0.0)[0, 0] == 100 + round(25.5)
    ramp = np.array([[50, 150]], np.uint8)  # mean 100: contrast pivots about it
    np.testing.assert_array_equal(color.brightness_contrast(ramp, brightness=0, contrast=1.0), [[0, 200]])


def test_hue_shift_of_180_degrees_swaps_complementary_colours() -> None:
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 2] = 255
    out = color.hue_saturation_value(red, hue_shift=180, saturation=0, value=0)
    assert out[0, 0, 2] < 10 and out[0, 0, 0] > 245 and out[0, 0, 1] > 245  # cyan


def test_salt_and_pepper_fraction() -> None:
    image = np.full((200, 200), 128, np.uint8)
    out = noise.salt_and_pepper(image, amount=0.1, salt_ratio=0.5, noise_seed=3)
    changed = (out != 128).mean()
    assert 0.08 < changed < 0.12
    assert set(np.unique(out)) == {0, 128, 255}


def test_gaussian_noise_sigma_is_relative_to_white() -> None:
    image = np.full((200, 200), 32768, np.uint16)
    out = noise.gaussian_noise(image, sigma=0.01, noise_seed=5)
    assert abs(out.astype(float).std() - 655.35) < 30


def test_erase_fills_box_only() -> None:
    image = textured()
    out = dropout.erase(image, boxes=[[5, 6, 10, 4]], fill=[1, 2, 3])
    assert (out[6:10, 5:15] == [1, 2, 3]).all()
    out[6:10, 5:15] = image[6:10, 5:15]
    np.testing.assert_array_equal(out, image)
