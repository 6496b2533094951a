"""The fast paths of kernels give the results of their plain definitions.

Each fast path (one wide plane instead of a matrix per pixel, BGRA warps, scalar fills, cached tables,
rng.random() for Generator.uniform) is checked against the straightforward formula it replaced, so a
speed-up can never quietly change an output.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from augcli.kernels import _common, color, dropout, filters, lighting, morphology, tone
from augcli.transforms.base import uniform
from tests.conftest import IMAGE_KINDS, textured

ALL_8BIT = np.arange(256, dtype=np.uint8).reshape(16, 16)


def off_only_at_ties(out: np.ndarray, exact: np.ndarray) -> None:
    """`out` is rint(exact) saturated, except where exact is within float noise of a .5 tie."""
    reference = np.clip(np.rint(exact), 0, 255)
    differ = out.astype(np.float64) != reference
    assert np.all(np.abs(np.abs(exact[differ] - np.floor(exact[differ])) - 0.5) < 1e-4)


@pytest.mark.parametrize("seed", range(20))
def test_linear_8bit_one_plane_and_per_channel_paths_are_the_formula(seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = np.dstack([ALL_8BIT] * 3)
    scale, offset = float(rng.uniform(0, 3)), float(rng.uniform(-300, 300))
    same = color.linear_8bit(image, [scale] * 3, [offset] * 3)  # one wide plane
    assert same.shape == image.shape and same.dtype == np.uint8
    off_only_at_ties(same[:, :, 0], ALL_8BIT * scale + offset)
    assert np.array_equal(same[:, :, 0], same[:, :, 1]) and np.array_equal(same[:, :, 0], same[:, :, 2])
    scales, offsets = list(rng.uniform(0, 3, 3)), list(rng.uniform(-300, 300, 3))
    mixed = color.linear_8bit(image, scales, offsets)  # a 3x4 matrix
    for c in range(3):
        off_only_at_ties(mixed[:, :, c], ALL_8BIT * scales[c] + offsets[c])
    strided = np.dstack([image, image[:, :, :1]])[:, :, :3]  # not contiguous: the matrix path
    assert np.array_equal(color.linear_8bit(strided, [scale] * 3, [offset] * 3), same)


@pytest.mark.parametrize("kelvin", [1500.0, 3000.0, 9000.0, 40000.0])
def test_planckian_jitter_8bit_is_the_rounded_gain(kelvin: float) -> None:
    image = np.dstack([ALL_8BIT] * 3)
    out = lighting.planckian_jitter(image, kelvin=kelvin)
    for c, gain in enumerate(lighting.planckian_gains(kelvin)):
        off_only_at_ties(out[:, :, c], ALL_8BIT * gain)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_zoom_blur_is_the_rounded_mean_of_plain_warps(kind: str) -> None:
    """The BGRA warps and cv2.accumulate give the bytes of warping the image itself and summing in float32."""
    image = textured(37, 52, kind=kind)
    colour = image[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else image
    height, width = colour.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    zoom, steps = 0.25, 5
    total = colour.astype(np.float32)
    for step in range(1, steps + 1):
        f = 1.0 + zoom * step / steps
        matrix = np.array([[f, 0, cx * (1 - f)], [0, f, cy * (1 - f)]])
        warped = cv2.warpAffine(
            colour, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        total += warped.reshape(colour.shape).astype(np.float32)
    expected = _common.to_dtype(total / np.float32(steps + 1), image.dtype)
    out = filters.zoom_blur(image, zoom=zoom, steps=steps)
    assert out.shape == image.shape and out.dtype == image.dtype
    np.testing.assert_array_equal(out[:, :, :3] if out.shape != colour.shape else out, expected)


def test_uniform_is_generator_uniform_draw_for_draw() -> None:
    ours, numpy_s = np.random.default_rng(11), np.random.default_rng(11)
    for low, high in [(-0.2, 0.2), (0.01, 0.05), (-15, 15), (0.5, 1.5), (3, 3)]:
        for _ in range(500):
            expected = float(low) if low == high else float(numpy_s.uniform(low, high))
            assert uniform(ours, (low, high)) == expected
    assert ours.random() == numpy_s.random()  # and the streams stay in step


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(3, 3), (3, 3, 1), (3, 3, 3), (3, 3, 4)])
def test_colour_value_is_the_rounded_clipped_scaled_colour(dtype, shape) -> None:
    image = np.zeros(shape, dtype)
    white = float(np.iinfo(dtype).max)
    for colour in [0, 255, 127.5, 0.5, 254.5, 3.3, [10, 20.5, 30], [1, 2, 3, 4], [7], [0.5, 1.5, 2.5]]:
        levels = np.asarray(_common.colour_levels(colour, _common.channels(image)), dtype=np.float64)
        expected = tuple(float(v) for v in _common.to_dtype(levels * (white / 255.0), image.dtype))
        assert _common.colour_value(colour, image) == expected


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_erase_with_one_value_for_all_channels_is_the_per_channel_fill(kind: str) -> None:
    image = textured(kind=kind)
    boxes = [[3, 4, 20, 11], [40, 30, 30, 30], [0, 0, 0, 5]]
    for fill in (0, 255, 99.6, [5, 5, 5]):
        out = dropout.erase(image, boxes=boxes, fill=fill)
        expected = image.copy()
        colour = expected[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else expected  # alpha is kept
        values = np.asarray(_common.colour_value(fill, colour), dtype=image.dtype)
        for x, y, w, h in boxes:
            colour[y : y + h, x : x + w] = values if image.ndim == 3 else values[0]
        np.testing.assert_array_equal(out, expected)


def test_structuring_element_is_cv2s_and_a_fresh_writable_copy() -> None:
    first = morphology.structuring_element("ellipse", 5)
    np.testing.assert_array_equal(first, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    first[:] = 0  # the caller owns it: the next one is intact
    np.testing.assert_array_equal(
        morphology.structuring_element("ellipse", 5), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    )


@pytest.mark.parametrize("seed", range(10))
def test_tone_curve_table_is_the_bezier_formula(seed: int) -> None:
    """The Horner evaluation gives the table of the Bezier formula on every 8- and 16-bit level."""
    low_shift, high_shift = np.random.default_rng(seed).uniform(-1 / 3, 1 / 3, 2)
    low, high = 1 / 3 + low_shift, 2 / 3 + high_shift
    for ramp in (np.arange(256, dtype=np.uint8).reshape(16, 16), np.arange(65536, dtype=np.uint16).reshape(256, 256)):
        white = float(np.iinfo(ramp.dtype).max)
        t = ramp.astype(np.float64) / white
        bezier = 3 * (1 - t) ** 2 * t * low + 3 * (1 - t) * t**2 * high + t**3
        expected = np.clip(np.rint(bezier * white), 0, white).astype(ramp.dtype)
        np.testing.assert_array_equal(tone.tone_curve(ramp, low_shift=low_shift, high_shift=high_shift), expected)
