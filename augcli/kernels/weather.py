"""Weather and light kernels: fog, rain, snow, shadows, sun flare, brightness gradients.

They work on the colour channels as floats in [0, 1] (divided by the type's white, so 8-bit, 16-bit and
grey images get the same look) and carry alpha through untouched. Random layouts (drops, flakes, fog
density) come from a recorded `noise_seed`; everything else arrives as explicit params.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import colour_levels, keep_shape, lut, max_value, merge_alpha, split_alpha, to_dtype

# Rain on a real photo is darker overall; streaks are light grey, not white.
_RAIN_DIM = 0.85
_RAIN_SHADE = 0.8
_RAIN_OPACITY = 0.75
_RAIN_SHADES = (160, 190, 220, 250)  # streak brightness levels in the 8-bit mask
_RAIN_WEIGHT = np.rint(np.arange(256) * _RAIN_OPACITY).astype(np.uint8)  # streak mask -> weight, in bytes
_RAIN_LIGHT = np.rint(np.arange(256) * _RAIN_SHADE).astype(np.uint8)  # weight -> added light, in bytes
_SNOW_HAZE = 0.12
_FLAKE_SIZES = (0.5, 1.0, 1.6)  # radius multipliers: far, middle and near flakes
_FOG_SHADE = 0.85


def _unit(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, float]:
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    return color.astype(np.float32) / np.float32(white), alpha, white


def _back(values: np.ndarray, alpha: np.ndarray | None, image: np.ndarray, white: float) -> np.ndarray:
    return merge_alpha(to_dtype(values * np.float32(white), image.dtype), alpha)


def _per_pixel(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A (H, W) weight shaped to multiply an image of `like`'s layout."""
    return mask if like.ndim == 2 else mask[:, :, None]


def _gain_offset(color: np.ndarray, gain: np.ndarray, scale: float, offset: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel compositing: out = v * gain * scale + offset * white / 255, rounded once and saturated.

    `gain` and `offset` are (H, W) uint8 planes shared by the colour channels: the layer masks are
    quantised to bytes (finer than a rendered streak, flake or shadow edge can show) and every bit depth
    uses the same planes, so a 16-bit result is the 8-bit one times 257 to within one level. On 8-bit
    images OpenCV's multiply and add run in SIMD on the bytes (the offset is a whole number there, so
    the product's rounding is the only one); the float32 version of the blend cost ~10x more."""
    if color.dtype == np.uint8:
        if color.ndim == 3:
            gain = _spread(gain, color.shape[2])
            offset = None if offset is None else _spread(offset, color.shape[2])
        out = cv2.multiply(color, gain, scale=scale, dst=gain)  # into buffers already made: no fresh pages
        if offset is not None:
            out = cv2.add(out, offset, dst=out)
        return keep_shape(out, color)
    white = max_value(color.dtype)
    values = color.astype(np.float32) * _per_pixel(gain.astype(np.float32) * np.float32(scale), color)
    if offset is not None:
        values += _per_pixel(offset.astype(np.float32) * np.float32(white / 255.0), color)
    return to_dtype(values, color.dtype)


def _spread(plane: np.ndarray, n: int) -> np.ndarray:
    """One (H, W) plane repeated into n channels (GRAY2BGR is the fast way for three)."""
    if n == 3:
        return cv2.cvtColor(plane, cv2.COLOR_GRAY2BGR)
    return plane[:, :, None] if n == 1 else cv2.merge([plane] * n)


def _blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a mask (float, or bytes), 3 sigma each side. Wide blurs run on a reduced copy
    (area-averaged, so the mass of small blobs is kept) and are enlarged back: the same soft result at a
    fraction of the cost. Two 1-D passes with the Gaussian taps (sepFilter2D) beat cv2.GaussianBlur,
    whose 8-bit path is bit-exact fixed point and about 3x slower on a byte mask."""
    factor = int(sigma // 3)
    height, width = mask.shape
    if factor < 2 or min(height, width) < 4 * factor:
        return _gaussian(mask, sigma)
    small = cv2.resize(mask, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    small = _gaussian(small, sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _gaussian(plane: np.ndarray, sigma: float) -> np.ndarray:
    taps = cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma, ktype=cv2.CV_32F)
    return cv2.sepFilter2D(plane, -1, taps, taps, borderType=cv2.BORDER_REFLECT_101)


def _smooth_noise(height: int, width: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a coarse random grid enlarged with cubic interpolation."""
    aspect = width / max(height, 1)
    grid = rng.random((cells + 2, max(2, round(cells * aspect)) + 2), dtype=np.float32)
    big = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    low, high = float(big.min()), float(big.max())
    return (big - low) / (high - low) if high > low else np.zeros_like(big)


def fog(image: np.ndarray, *, intensity: float, noise_seed: int) -> np.ndarray:
    """Blend towards light grey by `intensity`, with patchy density (between half and all of it)."""
    if intensity == 0:
        return image.copy()
    color, alpha, white = _unit(image)
    height, width = color.shape[:2]
    density = _smooth_noise(height, width, 4, np.random.default_rng(noise_seed))
    weight = _per_pixel(np.float32(intensity) * (0.5 + 0.5 * density), color)
    return _back(color * (1 - weight) + np.float32(_FOG_SHADE) * weight, alpha, image, white)


def rain(image: np.ndarray, *, density: float, length: float, angle: float, noise_seed: int) -> np.ndarray:
    """Dim the scene and draw light, anti-aliased streaks: `density` streaks per 100 x 100 pixels,
    `length` a fraction of the image height, slanted `angle` degrees from vertical."""
    if density == 0:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    rng = np.random.default_rng(noise_seed)
    count = max(1, round(density * height * width / 10_000))
    streak = max(2.0, length * height)
    thickness = max(1, round(min(height, width) / 500))
    dx, dy = math.sin(math.radians(angle)), math.cos(math.radians(angle))
    mask = np.zeros((height, width), np.uint8)
    starts_x = rng.uniform(-abs(dx) * streak, width + abs(dx) * streak, count)
    starts_y = rng.uniform(-streak, height, count)
    lengths = streak * rng.uniform(0.6, 1.4, count)
    shades = rng.integers(0, len(_RAIN_SHADES), count)
    # Segments as (count, 2, 2) points with 4 bits of sub-pixel precision (anti-aliased lines); one
    # polylines call per shade instead of a Python loop over tens of thousands of streaks.
    starts = np.stack([starts_x, starts_y], axis=1)
    ends = starts + lengths[:, None] * np.array([dx, dy])
    segments = np.rint(np.stack([starts, ends], axis=1) * 16).astype(np.int32)
    for index, shade in enumerate(_RAIN_SHADES):
        chosen = segments[shades == index]
        if len(chosen):
            cv2.polylines(mask, list(chosen), False, shade, thickness, cv2.LINE_AA, shift=4)
    # out = v * DIM * (1 - w) + SHADE * white * w, with w = mask * OPACITY / 255 (in bytes). Fixed
    # tables: a byte lookup on one plane is faster than OpenCV's scalar multiply. The mask is ours: in place.
    weight8 = lut(mask, _RAIN_WEIGHT, inplace=True)
    shade8 = lut(weight8, _RAIN_LIGHT)
    return merge_alpha(_gain_offset(color, cv2.bitwise_not(weight8), _RAIN_DIM / 255.0, shade8), alpha)


def snow(image: np.ndarray, *, density: float, flake_size: float, noise_seed: int) -> np.ndarray:
    """Soft white flakes, `density` per 100 x 100 pixels with radius about `flake_size` of the shorter
    side, over a light haze."""
    if density == 0:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    rng = np.random.default_rng(noise_seed)
    count = max(1, round(density * height * width / 10_000))
    radius = max(1.0, flake_size * min(height, width))
    xs = rng.integers(0, width, count)
    ys = rng.integers(0, height, count)
    sizes = rng.integers(0, len(_FLAKE_SIZES), count)
    shades = rng.uniform(0.6, 1.0, count).astype(np.float32)
    # Flakes are Gaussian blobs (drawn circles of a pixel or two look like crosses), each peaking at its
    # shade, summed where they overlap.
    mask = np.zeros((height, width), np.float32)
    for index, factor in enumerate(_FLAKE_SIZES):
        chosen = sizes == index
        if not chosen.any():
            continue
        sigma = max(0.6, radius * factor / 1.5)
        reach = math.ceil(3 * sigma)
        if np.count_nonzero(chosen) * (2 * reach + 1) ** 2 <= height * width // 2:
            where, value = _gaussian_stamps(ys[chosen], xs[chosen], shades[chosen], sigma, reach, height, width)
            np.add.at(mask.reshape(-1), where, value)
            continue
        # Many or wide flakes: one impulse per flake, blurred (cheaper than stamping every blob then).
        impulses = np.zeros((height, width), np.float32)
        np.add.at(impulses, (ys[chosen], xs[chosen]), shades[chosen] * np.float32(2 * math.pi * sigma * sigma))
        mask += _blur(impulses, sigma)
    # out = hazy * (1 - w) + white * w, hazy = v * (1 - HAZE) + HAZE * white, w = clip(mask, 0, 1) in bytes
    weight8 = cv2.convertScaleAbs(mask, alpha=255.0)  # mask >= 0: rounds and saturates into [0, 255]
    lift8 = cv2.convertScaleAbs(weight8, alpha=1 - _SNOW_HAZE, beta=_SNOW_HAZE * 255.0)
    gain = (1 - _SNOW_HAZE) / 255.0
    return merge_alpha(_gain_offset(color, cv2.bitwise_not(weight8), gain, lift8), alpha)


def _gaussian_stamps(ys, xs, shades, sigma: float, reach: int, height: int, width: int):
    """(flat pixel index, value) of a Gaussian blob of `sigma` peaking at each shade, cut at 3 sigma and
    at the image edge. Sparse flakes cost a few hundred values each this way instead of a full-image
    blur per size class (several times faster on a photo)."""
    offsets = np.arange(-reach, reach + 1)
    profile = np.exp(-(offsets * offsets) / (2.0 * sigma * sigma)).astype(np.float32)
    rows = ys[:, None] + offsets[None, :]  # (n, k)
    cols = xs[:, None] + offsets[None, :]
    row_weight = np.where((rows >= 0) & (rows < height), profile[None, :], np.float32(0)) * shades[:, None]
    col_weight = np.where((cols >= 0) & (cols < width), profile[None, :], np.float32(0))
    index = np.clip(rows, 0, height - 1)[:, :, None] * width + np.clip(cols, 0, width - 1)[:, None, :]
    value = row_weight[:, :, None] * col_weight[:, None, :]  # zero wherever the blob leaves the image
    return index.ravel(), value.ravel()


def shadow(image: np.ndarray, *, polygons: list[list[list[int]]], darkness: float) -> np.ndarray:
    """Darken the inside of each [[x, y], ...] polygon by `darkness` (0 none, 1 black), with soft edges."""
    if not polygons or darkness == 0:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.asarray(p, dtype=np.int32) for p in polygons], 255, cv2.LINE_AA)
    # The edge is softened on the byte mask itself: no float copy of the mask, and the gain below is
    # quantised to bytes anyway.
    soft8 = _blur(mask, max(0.5, 0.01 * min(height, width)))
    # out = v * (1 - darkness * soft), soft = soft8 / 255, the gain in bytes
    gain8 = cv2.convertScaleAbs(soft8, alpha=-darkness, beta=255.0)  # >= 0: abs changes nothing
    return merge_alpha(_gain_offset(color, gain8, 1 / 255.0), alpha)


def sun_flare(
    image: np.ndarray,
    *,
    x: float,
    y: float,
    radius: float,
    intensity: float,
    halos: list[list[float]],
    color: float | list[float] = (216.75, 242.25, 255.0),
) -> np.ndarray:
    """A bright glow of `radius` pixels at (x, y) plus faint halo discs [x, y, radius, strength], added
    with a screen blend (light adds up but never exceeds white). `color` is a colour on the 8-bit scale
    (`colour_levels`: blue, green, red; grey images take its luma), whatever the image's depth."""
    if intensity == 0:
        return image.copy()
    base, alpha = split_alpha(image)
    white = max_value(image.dtype)
    height, width = base.shape[:2]
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    spread = np.float32(2 * max(radius / 2, 0.5) ** 2)
    # The Gaussian glow is separable: an outer product of two 1-D profiles.
    light = np.float32(intensity) * np.outer(np.exp(-((ys - y) ** 2) / spread), np.exp(-((xs - x) ** 2) / spread))
    for hx, hy, hr, strength in halos:
        # Each halo only touches its bounding box.
        x0, x1 = max(0, math.floor(hx - hr)), min(width, math.ceil(hx + hr) + 1)
        y0, y1 = max(0, math.floor(hy - hr)), min(height, math.ceil(hy + hr) + 1)
        if x1 <= x0 or y1 <= y0 or hr <= 0:
            continue
        distance = np.sqrt((xs[None, x0:x1] - hx) ** 2 + (ys[y0:y1, None] - hy) ** 2)
        light[y0:y1, x0:x1] += np.float32(strength) * np.clip((hr - distance) / np.float32(0.3 * hr), 0, 1)
    np.clip(light, 0, 1, out=light)
    # Screen blend: out = white - (white - v) * (1 - light * tone), the per-channel gains in bytes.
    levels = colour_levels(color, 1 if base.ndim == 2 else base.shape[2])  # the tone, on the 8-bit scale
    gains = [cv2.convertScaleAbs(light, alpha=-level, beta=255.0) for level in levels]  # >= 0
    gain = gains[0] if base.ndim == 2 else (gains[0][:, :, None] if len(gains) == 1 else cv2.merge(gains))
    if base.dtype == np.uint8:
        dark = cv2.multiply(cv2.bitwise_not(base), gain, scale=1 / 255.0, dst=gain)
        return merge_alpha(keep_shape(cv2.bitwise_not(dark, dst=dark), base), alpha)
    dark = (np.float32(white) - base.astype(np.float32)) * (gain.astype(np.float32) / np.float32(255.0))
    return merge_alpha(to_dtype(np.float32(white) - dark, base.dtype), alpha)


def brightness_gradient(image: np.ndarray, *, mode: str, strength: float, angle: float = 0.0) -> np.ndarray:
    """Multiply by a smooth gain: `vignette` darkens by `strength` * r^2 (r = 1 at the corners);
    `linear` darkens by `strength` * t, t running 0 to 1 across the image towards `angle` degrees
    (0 = to the right, 90 = down). A negative strength brightens instead."""
    if strength == 0:
        return image.copy()
    color, alpha, white = _unit(image)
    height, width = color.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    xs = (np.arange(width, dtype=np.float32) - np.float32(cx))[None, :]
    ys = (np.arange(height, dtype=np.float32) - np.float32(cy))[:, None]
    if mode == "vignette":
        ramp = (xs * xs + ys * ys) / np.float32(max(cx * cx + cy * cy, 1e-6))
    else:
        along = xs * np.float32(math.cos(math.radians(angle))) + ys * np.float32(math.sin(math.radians(angle)))
        low, high = float(along.min()), float(along.max())
        ramp = (along - low) / np.float32(high - low) if high > low else np.zeros_like(along)
    gain = _per_pixel(1 - np.float32(strength) * ramp, color)
    return _back(color * gain, alpha, image, white)
