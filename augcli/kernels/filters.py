"""More blur-type kernels: box blur, unsharp mask, glass blur and zoom blur. Alpha is never filtered.

Gaussian smoothing is `blur.gaussian_blur`'s, so every Gaussian in the catalogue has the same taps and border.
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, max_value, merge_alpha, split_alpha, to_dtype
from augcli.kernels.blur import gaussian_blur
from augcli.kernels.noise import round_into


def box_blur(image: np.ndarray, *, size: int) -> np.ndarray:
    """Mean of each size x size neighbourhood (cv2.blur, mirrored border without repeating the edge pixel;
    size 1 keeps the image)."""
    if size <= 1:
        return image.copy()
    color, alpha = split_alpha(image)
    out = cv2.blur(color, (size, size), borderType=cv2.BORDER_REFLECT_101)
    return merge_alpha(keep_shape(out, color), alpha)


def unsharp_mask(image: np.ndarray, *, sigma: float, amount: float, threshold: float = 0.0) -> np.ndarray:
    """out = v + amount * (v - gaussian(v, sigma)) where |v - gaussian| is at least `threshold` (a fraction of
    white), else v. Amount 0 or sigma 0 keeps the image."""
    if amount == 0 or sigma <= 0:
        return image.copy()
    color, alpha = split_alpha(image)
    values = color.astype(np.float32)
    detail = values - gaussian_blur(values, sigma=sigma)
    if threshold > 0:
        detail[np.abs(detail) < np.float32(threshold * max_value(image.dtype))] = 0
    return merge_alpha(to_dtype(values + np.float32(amount) * detail, image.dtype), alpha)


def local_shuffle(image: np.ndarray, *, max_delta: int, rng: np.random.Generator) -> np.ndarray:
    """Permute pixels locally: along each row, then each column, pixels are reordered by their position plus
    uniform jitter in [-max_delta, max_delta]. The result is a permutation of the pixels (every pixel kept
    once, whole, with all its channels) and a pixel moves at most 2 * max_delta along each axis."""
    if max_delta <= 0:
        return image
    height, width = image.shape[:2]
    out = image
    for axis, length, shape in ((1, width, (height, width)), (0, height, (height, width))):
        index = np.arange(length, dtype=np.float64)
        keys = (index[None, :] if axis == 1 else index[:, None]) + rng.uniform(-max_delta, max_delta, shape)
        order = np.argsort(keys, axis=axis, kind="stable")
        if out.ndim == 3:
            order = order[:, :, None]
        out = np.take_along_axis(out, order, axis=axis)
    return out


def glass_blur(image: np.ndarray, *, sigma: float, max_delta: int, iterations: int, noise_seed: int) -> np.ndarray:
    """Frosted-glass look (Hendrycks & Dietterich 2019): Gaussian blur, shuffle pixels locally
    `iterations` times (`local_shuffle`, seeded by `noise_seed`), blur again."""
    color, alpha = split_alpha(image)
    out = gaussian_blur(color, sigma=sigma)
    rng = np.random.default_rng(noise_seed)
    for _ in range(iterations):
        out = local_shuffle(out, max_delta=max_delta, rng=rng)
    out = gaussian_blur(np.ascontiguousarray(out), sigma=sigma)
    return merge_alpha(np.ascontiguousarray(out), alpha)


def zoom_blur(image: np.ndarray, *, zoom: float, steps: int) -> np.ndarray:
    """Radial blur: the mean of the image and `steps` copies magnified about the centre by factors evenly
    spaced up to 1 + zoom (zoom 0 keeps the image). Beyond the edge the edge pixel repeats."""
    if zoom <= 0 or steps < 1:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    # Bilinear warps of BGR run ~1.8x faster as BGRA (warp_fast), so a colour image is widened once and every
    # zoom warped and summed in BGRA. cv2.accumulate adds each zoom into the float32 total in one pass (the
    # sums of integers are exact in float32, so the result is the same as summing astype(float32) copies).
    wide = color.ndim == 3 and color.shape[2] == 3
    source = cv2.cvtColor(color, cv2.COLOR_BGR2BGRA) if wide else color
    total = source.astype(np.float32)
    for step in range(1, steps + 1):
        factor = 1.0 + zoom * step / steps
        matrix = np.array([[factor, 0, cx * (1 - factor)], [0, factor, cy * (1 - factor)]], dtype=np.float64)
        zoomed = cv2.warpAffine(
            source, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        cv2.accumulate(zoomed, total)
    total /= np.float32(steps + 1)
    out = round_into(total, image.dtype)
    if wide:
        out = cv2.cvtColor(out, cv2.COLOR_BGRA2BGR)
    return merge_alpha(keep_shape(out, color), alpha)
