"""Blur kernels."""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, merge_alpha, split_alpha


def gaussian_blur(image: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian blur with a kernel wide enough for the sigma (3 sigma each side). Alpha is not blurred."""
    if sigma <= 0:
        return image.copy()
    color, alpha = split_alpha(image)
    ksize = 2 * math.ceil(3 * sigma) + 1
    # The same Gaussian taps as cv2.GaussianBlur, applied as two float 1-D passes: ~20% faster than
    # GaussianBlur's bit-exact fixed-point 8-bit path (results differ by one level on ~0.2% of pixels).
    taps = cv2.getGaussianKernel(ksize, sigma, ktype=cv2.CV_32F)
    blurred = cv2.sepFilter2D(color, -1, taps, taps, borderType=cv2.BORDER_REFLECT_101)
    return merge_alpha(keep_shape(blurred, color), alpha)


def _convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    color, alpha = split_alpha(image)
    out = cv2.filter2D(color, -1, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT_101)
    return merge_alpha(keep_shape(out, color), alpha)


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised anti-aliased line `length` pixels long through the centre, at `angle` degrees
    (0 is horizontal, counter-clockwise positive)."""
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), dtype=np.float32)
    centre = (size - 1) / 2
    half = (length - 1) / 2
    dx, dy = math.cos(math.radians(angle)) * half, -math.sin(math.radians(angle)) * half
    shift = 8  # sub-pixel precision for cv2.line: coordinates in 1/256 pixel
    scale = 1 << shift
    start = (round((centre - dx) * scale), round((centre - dy) * scale))
    end = (round((centre + dx) * scale), round((centre + dy) * scale))
    cv2.line(kernel, start, end, 1.0, thickness=1, lineType=cv2.LINE_AA, shift=shift)
    total = float(kernel.sum())
    if total <= 0:
        kernel[int(centre), int(centre)] = 1.0
        total = 1.0
    return kernel / total


def motion_blur(image: np.ndarray, *, length: int, angle: float) -> np.ndarray:
    """Blur along a straight line, as a camera moving during the exposure (length 1 keeps the image)."""
    if length <= 1:
        return image.copy()
    return _convolve(image, motion_kernel(length, angle))


def disc_kernel(radius: int, alias_blur: float) -> np.ndarray:
    """A normalised flat disc of the given radius, its edge softened by a small Gaussian (Defocus)."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    kernel = (x * x + y * y <= radius * radius).astype(np.float32)
    if alias_blur > 0:
        ksize = 2 * math.ceil(3 * alias_blur) + 1
        kernel = cv2.GaussianBlur(kernel, (ksize, ksize), alias_blur, borderType=cv2.BORDER_CONSTANT)
    return kernel / float(kernel.sum())


def defocus(image: np.ndarray, *, radius: int, alias_blur: float) -> np.ndarray:
    """Out-of-focus blur: convolve with a disc (radius 0 keeps the image)."""
    if radius <= 0:
        return image.copy()
    return _convolve(image, disc_kernel(radius, alias_blur))


def median_blur(image: np.ndarray, *, size: int) -> np.ndarray:
    """Median of each size x size neighbourhood (odd size; 1 keeps the image).

    OpenCV's median filter takes 16-bit images only for sizes 3 and 5; larger 16-bit sizes use a
    numpy sliding window, row band by row band to bound memory. Both repeat the edge pixel beyond the
    border (OpenCV's BORDER_REPLICATE), so 8- and 16-bit images get the same edges."""
    if size <= 1:
        return image.copy()
    if size % 2 == 0:
        raise ValueError(f"median_blur needs an odd size, got {size}")
    color, alpha = split_alpha(image)
    if color.dtype == np.uint8 or size <= 5:
        out = cv2.medianBlur(np.ascontiguousarray(color), size)
    else:
        out = _median_numpy(color, size)
    return merge_alpha(keep_shape(out, color), alpha)


def _median_numpy(color: np.ndarray, size: int) -> np.ndarray:
    r = size // 2
    pad = ((r, r), (r, r)) + ((0, 0),) * (color.ndim - 2)
    padded = np.pad(color, pad, mode="edge")  # what cv2.medianBlur does: the 8-bit path must agree
    out = np.empty_like(color)
    band = 64
    for top in range(0, color.shape[0], band):
        rows = padded[top : top + min(band, color.shape[0] - top) + 2 * r]
        windows = np.lib.stride_tricks.sliding_window_view(rows, (size, size), axis=(0, 1))
        flat = windows.reshape(windows.shape[: color.ndim] + (size * size,))
        out[top : top + flat.shape[0]] = np.median(flat, axis=-1).astype(color.dtype)
    return out
