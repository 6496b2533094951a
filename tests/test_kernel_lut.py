"""`_common.lut`, the one 8-bit table lookup, gives cv2.LUT's bytes on every layout, with and without
stringzilla, and never writes into an array it was not told it owns."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from augcli.kernels import _common, color, policy, tone, weather

SHAPES = [(1, 1), (1, 1, 1), (1, 1, 3), (1, 1, 4), (37, 52), (37, 52, 1), (37, 52, 3), (37, 52, 4), (5, 300, 3)]


@pytest.fixture(params=["stringzilla", "cv2"])
def backend(request, monkeypatch):
    """Run a test once on the SIMD path and once as an install without stringzilla would."""
    if request.param == "cv2":
        monkeypatch.setattr(_common, "_sz", None)
    elif _common._sz is None:
        pytest.skip("stringzilla is not installed")
    return request.param


def reference(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """cv2.LUT with the table laid out as OpenCV wants it, and the channel axis it drops put back."""
    if table.ndim == 2:
        table = np.ascontiguousarray(table.reshape(256, 1, table.shape[1]))
    out = cv2.LUT(image, table)
    return out[:, :, None] if image.ndim == 3 and out.ndim == 2 else out


def views(rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
    """A contiguous image, a column-strided view, a channel-strided view (colour of BGRA) and a flipped one."""
    base = rng.integers(0, 256, shape, dtype=np.uint8)
    wide = rng.integers(0, 256, (shape[0], shape[1] * 2, *shape[2:]), dtype=np.uint8)
    found = [base, wide[:, ::2], base[::-1]]
    if len(shape) == 3 and shape[2] == 3:
        found.append(np.dstack([base, base[:, :, :1]])[:, :, :3])
    return found


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(4))
def test_one_table_is_cv2_lut(backend: str, shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, 256, dtype=np.uint8)
    for image in views(rng, shape):
        before = image.copy()
        out = _common.lut(image, table)
        expected = reference(image, table)
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.array_equal(out, expected)
        assert np.array_equal(image, before)  # the input is never written
        assert not np.shares_memory(out, image)


@pytest.mark.parametrize("shape", [s for s in SHAPES if len(s) == 3 and s[2] > 1])
@pytest.mark.parametrize("seed", range(4))
def test_one_table_per_channel_is_cv2_lut(backend: str, shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 256, (256, shape[2]), dtype=np.uint8)
    for image in views(rng, shape):
        before = image.copy()
        assert np.array_equal(_common.lut(image, table), reference(image, table))
        assert np.array_equal(image, before)


def test_float_tables_and_single_column_tables(backend: str) -> None:
    """Tables of whole numbers in another type (the kernels' float tables) and a (256, 1) column."""
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    table = rng.integers(0, 256, 256).astype(np.float64)
    assert np.array_equal(_common.lut(image, table), reference(image, table.astype(np.uint8)))
    grey = image[:, :, 0].copy()
    assert np.array_equal(_common.lut(grey, table[:, None]), reference(grey, table.astype(np.uint8)))


def test_inplace_writes_only_when_asked(backend: str) -> None:
    rng = np.random.default_rng(3)
    table = rng.integers(0, 256, 256, dtype=np.uint8)
    image = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    expected = reference(image, table)
    owned = image.copy()
    out = _common.lut(owned, table, inplace=True)
    assert np.array_equal(out, expected)
    if backend == "stringzilla":
        assert out is owned  # the caller's own buffer was reused
    frozen = image.copy()
    frozen.flags.writeable = False  # a read-only array is never written, even when asked
    assert np.array_equal(_common.lut(frozen, table, inplace=True), expected)
    assert np.array_equal(frozen, image)


def test_empty_image_gives_empty(backend: str) -> None:
    empty = np.zeros((0, 5, 3), dtype=np.uint8)
    out = _common.lut(empty, np.arange(256, dtype=np.uint8))
    assert out.shape == empty.shape and out.dtype == np.uint8


@pytest.mark.parametrize("shape", [(1, 1, 3), (37, 52), (37, 52, 3), (37, 52, 4)])
def test_kernels_give_the_same_bytes_on_both_paths(monkeypatch, shape: tuple[int, ...]) -> None:
    """Every kernel routed through the lookup (directly or by `lut_is_fast`) is unchanged without stringzilla."""
    if _common._sz is None:
        pytest.skip("stringzilla is not installed")
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    calls = [
        lambda im: tone.gamma(im, gamma=0.7),
        lambda im: tone.tone_curve(im, low_shift=0.1, high_shift=-0.05),
        lambda im: tone.solarize(im, threshold=0.4),
        lambda im: tone.solarize(im, threshold=0.0),
        lambda im: tone.auto_contrast(im, cutoff=1.0),
        lambda im: color.brightness_contrast(im, brightness=0.1, contrast=-0.2),
        lambda im: color.brightness_contrast(im, brightness=0.5, contrast=0.5),
        lambda im: color.hue_saturation_value(im, hue_shift=12.0, saturation=0.2, value=-0.1),
        lambda im: color.rgb_shift(im, r_shift=0.1, g_shift=-0.1, b_shift=0.05),
        lambda im: color.color_jitter(
            im, order=["brightness", "contrast", "saturation", "hue"], brightness=1.2, contrast=0.8, saturation=1, hue=5
        ),
        lambda im: weather.rain(im, angle=10.0, density=0.5, length=0.1, noise_seed=3),
        lambda im: policy.solarize_from(im, threshold=0.5),
        lambda im: policy.equalize_pil(im),
    ]
    fast = [call(image.copy()) for call in calls]
    monkeypatch.setattr(_common, "_sz", None)
    for call, out in zip(calls, fast, strict=True):
        before = image.copy()
        plain = call(image)
        assert np.array_equal(image, before)
        assert out.shape == plain.shape and np.array_equal(out, plain)


def test_wider_types_never_take_the_byte_path() -> None:
    """A 16-bit image is refused as cv2.LUT refuses it, never translated byte by byte."""
    image = np.arange(12, dtype=np.uint16).reshape(3, 4)
    assert not _common.lut_is_fast(image)
    with pytest.raises(cv2.error):
        _common.lut(image, np.arange(256, dtype=np.uint8))
