"""Light and optics kernels: colour temperature (Planckian jitter), illumination patterns, chromatic aberration.

Colour channels are scaled as floats and rounded once; alpha is carried through untouched. Grey images have no
colour to tint or to split: Planckian jitter and chromatic aberration leave them unchanged.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import _LUMA_BGR, keep_shape, merge_alpha, split_alpha, to_dtype
from augcli.kernels.color import linear_8bit
from augcli.kernels.weather import brightness_gradient

REFERENCE_KELVIN = 6500.0  # daylight white: the temperature that leaves an image unchanged


def blackbody_rgb(kelvin: float) -> tuple[float, float, float]:
    """The (red, green, blue) of a black body at `kelvin`, 0-255, by Tanner Helland's fit to Mitchell
    Charity's blackbody table ("How to Convert Temperature (K) to RGB: Algorithm and Sample Code", 2012,
    https://tannerhelland.com/2012/09/18/convert-temperature-rgb-algorithm-code.html), valid 1000-40000 K."""
    t = kelvin / 100.0
    if t <= 66:
        red = 255.0
        green = 99.4708025861 * math.log(t) - 161.1195681661
    else:
        red = 329.698727446 * (t - 60) ** -0.1332047592
        green = 288.1221695283 * (t - 60) ** -0.0755148492
    if t >= 66:
        blue = 255.0
    elif t <= 19:
        blue = 0.0
    else:
        blue = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return tuple(min(255.0, max(0.0, v)) for v in (red, green, blue))  # type: ignore[return-value]


def planckian_gains(kelvin: float) -> tuple[float, float, float]:
    """Per-channel gains in OpenCV order (blue, green, red): the black body's colour at `kelvin` relative to
    its colour at 6500 K, scaled so a grey pixel keeps its BT.601 luma. 6500 K gives exactly (1, 1, 1)."""
    red, green, blue = blackbody_rgb(kelvin)
    ref_red, ref_green, ref_blue = blackbody_rgb(REFERENCE_KELVIN)
    gains = (blue / ref_blue, green / ref_green, red / ref_red)
    luma = sum(w * g for w, g in zip(_LUMA_BGR, gains, strict=True))
    return tuple(g / luma for g in gains)  # type: ignore[return-value]


def planckian_jitter(image: np.ndarray, *, kelvin: float) -> np.ndarray:
    """Re-light the scene as if by a black body at `kelvin` instead of 6500 K daylight: each colour channel
    multiplied by `planckian_gains` (grey images unchanged)."""
    color, alpha = split_alpha(image)
    if color.ndim == 2 or kelvin == REFERENCE_KELVIN:
        return image.copy()
    if color.dtype == np.uint8 and color.shape[2] == 3:
        # One SIMD pass of cv2.transform with a diagonal matrix (rounded and saturated as the float formula is),
        # instead of a float32 copy, a multiply, a rint, a clip and a cast: ~4x faster on photos.
        return merge_alpha(linear_8bit(color, list(planckian_gains(kelvin)), [0.0, 0.0, 0.0]), alpha)
    gains = np.asarray(planckian_gains(kelvin), dtype=np.float32)
    return merge_alpha(to_dtype(color.astype(np.float32) * gains, image.dtype), alpha)


def illumination(
    image: np.ndarray,
    *,
    mode: str,
    intensity: float,
    angle: float = 0.0,
    corner: int = 0,
    center_x: float = 0.5,
    center_y: float = 0.5,
    sigma: float = 0.3,
) -> np.ndarray:
    """Multiply by 1 + intensity * pattern, pattern 0 to 1 (a negative intensity darkens):
    `linear` rises across the image towards `angle` degrees (0 right, 90 down; brightness_gradient's ramp);
    `corner` is 1 at corner 0 top-left, 1 top-right, 2 bottom-right or 3 bottom-left, falling linearly to 0 at
    the opposite corner; `gaussian` is a spot at (center_x, center_y) (fractions of width and height) with
    standard deviation `sigma` times the longer side."""
    if intensity == 0:
        return image.copy()
    if mode == "linear":
        return brightness_gradient(image, mode="linear", strength=-intensity, angle=angle)
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    if mode == "corner":
        x0 = 0.0 if corner in (0, 3) else width - 1.0
        y0 = 0.0 if corner in (0, 1) else height - 1.0
        distance = np.sqrt((xs - np.float32(x0)) ** 2 + (ys - np.float32(y0)) ** 2)
        pattern = 1 - distance / np.float32(max(math.hypot(width - 1, height - 1), 1e-6))
    elif mode == "gaussian":
        spread = np.float32(2 * (max(sigma * max(width, height), 1e-3)) ** 2)
        dx = (xs - np.float32(center_x * (width - 1))) ** 2 / spread
        dy = (ys - np.float32(center_y * (height - 1))) ** 2 / spread
        pattern = np.exp(-dy) * np.exp(-dx)  # separable: (H, 1) x (1, W)
    else:
        raise ValueError(f"illumination mode must be linear, corner or gaussian, got {mode!r}")
    gain = 1 + np.float32(intensity) * pattern
    values = color.astype(np.float32) * (gain if color.ndim == 2 else gain[:, :, None])
    return merge_alpha(to_dtype(values, image.dtype), alpha)


def chromatic_aberration(image: np.ndarray, *, red_scale: float, blue_scale: float) -> np.ndarray:
    """Lateral chromatic aberration: the red and blue channels magnified about the image centre by
    1 + red_scale and 1 + blue_scale (a colour fringe growing towards the edges), green kept. Bilinear,
    the edge pixel repeating beyond the border. Grey images are unchanged."""
    color, alpha = split_alpha(image)
    if color.ndim == 2 or (red_scale == 0 and blue_scale == 0):
        return image.copy()
    height, width = color.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    planes = list(cv2.split(color))
    for index, scale in ((2, red_scale), (0, blue_scale)):
        if scale == 0:
            continue
        factor = 1.0 + scale
        matrix = np.array([[factor, 0, cx * (1 - factor)], [0, factor, cy * (1 - factor)]], dtype=np.float64)
        warped = cv2.warpAffine(planes[index], matrix, (width, height), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        planes[index] = warped.reshape(height, width)
    return merge_alpha(keep_shape(cv2.merge(planes), color), alpha)
