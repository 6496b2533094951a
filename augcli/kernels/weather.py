"""Weather and light kernels: fog, rain, snow, shadows, sun flare, brightness gradients.

They work on the colour channels as floats in [0, 1] (divided by the type's white, so 8-bit, 16-bit and
grey images get the same look) and carry alpha through untouched. Random layouts (drops, flakes, fog
density) come from a recorded `noise_seed`; everything else arrives as explicit params.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import max_value, merge_alpha, split_alpha, to_dtype

# Rain on a real photo is darker overall; streaks are light grey, not white.
_RAIN_DIM = 0.85
_RAIN_SHADE = 0.8
_RAIN_OPACITY = 0.75
_RAIN_SHADES = (160, 190, 220, 250)  # streak brightness levels in the 8-bit mask
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


def _tone(bgr: tuple[float, float, float], like: np.ndarray) -> np.ndarray | float:
    """A BGR colour (fractions of white), or its luma for a grey image."""
    if like.ndim == 2:
        return float(0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2])
    return np.asarray(bgr[: like.shape[2]], dtype=np.float32)


def _blur(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float mask. Wide blurs run on a reduced copy (area-averaged, so the mass of
    small blobs is kept) and are enlarged back: the same soft result at a fraction of the cost."""
    factor = int(sigma // 3)
    height, width = mask.shape
    if factor < 2 or min(height, width) < 4 * factor:
        return cv2.GaussianBlur(mask, (0, 0), sigma)
    small = cv2.resize(mask, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


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
    color, alpha, white = _unit(image)
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
    weight = _per_pixel(mask.astype(np.float32) * np.float32(_RAIN_OPACITY / 255.0), color)
    dimmed = color * np.float32(_RAIN_DIM)
    return _back(dimmed * (1 - weight) + np.float32(_RAIN_SHADE) * weight, alpha, image, white)


def snow(image: np.ndarray, *, density: float, flake_size: float, noise_seed: int) -> np.ndarray:
    """Soft white flakes, `density` per 100 x 100 pixels with radius about `flake_size` of the shorter
    side, over a light haze."""
    if density == 0:
        return image.copy()
    color, alpha, white = _unit(image)
    height, width = color.shape[:2]
    rng = np.random.default_rng(noise_seed)
    count = max(1, round(density * height * width / 10_000))
    radius = max(1.0, flake_size * min(height, width))
    xs = rng.integers(0, width, count)
    ys = rng.integers(0, height, count)
    sizes = rng.integers(0, len(_FLAKE_SIZES), count)
    shades = rng.uniform(0.6, 1.0, count).astype(np.float32)
    # Flakes are Gaussian blobs (drawn circles of a pixel or two look like crosses): one impulse per
    # flake, blurred per size class, scaled so each blob peaks at its shade.
    mask = np.zeros((height, width), np.float32)
    for index, factor in enumerate(_FLAKE_SIZES):
        chosen = sizes == index
        if not chosen.any():
            continue
        sigma = max(0.6, radius * factor / 1.5)
        impulses = np.zeros((height, width), np.float32)
        np.add.at(impulses, (ys[chosen], xs[chosen]), shades[chosen] * np.float32(2 * math.pi * sigma * sigma))
        mask += _blur(impulses, sigma)
    weight = _per_pixel(np.clip(mask, 0, 1), color)
    hazy = color * np.float32(1 - _SNOW_HAZE) + np.float32(_SNOW_HAZE)
    return _back(hazy * (1 - weight) + weight, alpha, image, white)


def shadow(image: np.ndarray, *, polygons: list[list[list[int]]], darkness: float) -> np.ndarray:
    """Darken the inside of each [[x, y], ...] polygon by `darkness` (0 none, 1 black), with soft edges."""
    if not polygons or darkness == 0:
        return image.copy()
    color, alpha, white = _unit(image)
    height, width = color.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.asarray(p, dtype=np.int32) for p in polygons], 255, cv2.LINE_AA)
    soft = _blur(mask.astype(np.float32) / np.float32(255.0), max(0.5, 0.01 * min(height, width)))
    weight = _per_pixel(1 - np.float32(darkness) * soft, color)
    return _back(color * weight, alpha, image, white)


def sun_flare(
    image: np.ndarray,
    *,
    x: float,
    y: float,
    radius: float,
    intensity: float,
    halos: list[list[float]],
    color: tuple[float, float, float] = (0.85, 0.95, 1.0),
) -> np.ndarray:
    """A bright glow of `radius` pixels at (x, y) plus faint halo discs [x, y, radius, strength], added
    with a screen blend (light adds up but never exceeds white). `color` is BGR, fractions of white."""
    if intensity == 0:
        return image.copy()
    base, alpha, white = _unit(image)
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
    light = _per_pixel(np.clip(light, 0, 1), base) * _tone(color, base)
    return _back(1 - (1 - base) * (1 - light), alpha, image, white)


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
