"""Rotation without lost or invented pixels (safe rotate) and the piecewise affine grid warp.

`safe_rotate_matrix` is the one definition of the safe rotation: the kernel warps with it and the targets
follow it (spatial.MATRICES), so boxes move exactly with the pixels.
"""

from __future__ import annotations

import math

import numpy as np

from augcli.kernels.distort import displace
from augcli.kernels.geometry import affine_matrix, warp_affine

# OpenCV warps resolve coordinates to 1/32 px: the valid crop keeps this much more away from its edges.
_FIXED_POINT_MARGIN = 1.0 / 16.0


def largest_valid_rectangle(width: float, height: float, angle: float) -> tuple[float, float]:
    """Width and height of the largest axis-aligned rectangle, centred, inside a width x height rectangle
    rotated by `angle` degrees (the classic closed form: two corners touch the long sides, or four touch)."""
    if width <= 0 or height <= 0:
        return 0.0, 0.0
    a = math.radians(angle)
    sin, cos = abs(math.sin(a)), abs(math.cos(a))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2.0 * sin * cos * long_side or abs(sin - cos) < 1e-10:
        x = 0.5 * short_side
        w, h = (x / sin, x / cos) if width >= height else (x / cos, x / sin)
    else:
        cos_2a = cos * cos - sin * sin
        w, h = (width * cos - height * sin) / cos_2a, (height * cos - width * sin) / cos_2a
    return max(0.0, w), max(0.0, h)


def safe_rotate_matrix(width: int, height: int, *, angle: float, mode: str) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 matrix (input pixel centre -> output pixel centre) and output (width, height).

    expand: the canvas grows to the rotated picture's bounds, which it holds whole, centred.
    crop_valid: the largest centred axis-aligned rectangle holding only picture pixels (shrunk so that
    interpolation never reaches past the last pixel centre) is scaled to the input size."""
    rotation = np.vstack([affine_matrix(width, height, angle=angle), [0.0, 0.0, 1.0]])
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a = math.radians(angle)
    sin, cos = abs(math.sin(a)), abs(math.cos(a))
    if mode == "expand":
        # 1e-6: a quarter turn's cos is 6e-17, not 0, and must not add a pixel.
        out_w = max(1, math.ceil(width * cos + height * sin - 1e-6))
        out_h = max(1, math.ceil(width * sin + height * cos - 1e-6))
        shift = np.array([[1.0, 0.0, (out_w - 1) / 2.0 - cx], [0.0, 1.0, (out_h - 1) / 2.0 - cy], [0, 0, 1.0]])
        return (shift @ rotation)[:2], (out_w, out_h)
    if mode != "crop_valid":
        raise ValueError(f"unknown safe_rotate mode {mode!r}")
    # Pixel extents give the valid region; half a pixel less per side keeps every sample between pixel
    # centres (moving each side in by m moves the corners in by at least m from any rotated edge).
    valid_w, valid_h = largest_valid_rectangle(width, height, angle)
    margin = 0.5 + _FIXED_POINT_MARGIN
    crop_w, crop_h = max(valid_w - 2 * margin, 1e-3), max(valid_h - 2 * margin, 1e-3)
    sx, sy = width / crop_w, height / crop_h  # crop extent -> output extent (cv2.resize's half-pixel map)
    zoom = np.array([[sx, 0.0, cx - sx * cx], [0.0, sy, cy - sy * cy], [0, 0, 1.0]])
    return (zoom @ rotation)[:2], (width, height)


def safe_rotate(
    image: np.ndarray,
    *,
    angle: float,
    mode: str,
    border_mode: str = "constant",
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    if angle == 0:
        return image.copy()
    height, width = image.shape[:2]
    matrix, size = safe_rotate_matrix(width, height, angle=angle, mode=mode)
    return warp_affine(image, matrix, border_mode=border_mode, fill=fill, interpolation=interpolation, size=size)


def piecewise_affine_field(
    height: int, width: int, *, rows: int, cols: int, scale: float, noise_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Displacement (dx, dy) of every output pixel, in pixels.

    A rows x cols grid of control points spans the image (corners included); each point moves by a normal
    draw of standard deviation `scale` (a fraction of the width for x, of the height for y). Each grid cell
    is cut into two triangles along its main diagonal, and inside a triangle the displacement is the affine
    interpolation of its three corners': the map is affine on every triangle (a piecewise affine warp)."""
    rng = np.random.default_rng(noise_seed)
    jitter = rng.normal(0.0, scale, size=(rows, cols, 2))
    node_dx, node_dy = jitter[:, :, 0] * width, jitter[:, :, 1] * height

    def cells(size: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
        position = np.arange(size, dtype=np.float64) * (nodes - 1) / max(size - 1, 1)
        index = np.minimum(np.floor(position).astype(np.intp), nodes - 2)
        return index, position - index

    ix, u = cells(width, cols)
    iy, v = cells(height, rows)
    u, v = u[None, :], v[:, None]
    lower = (u + v) <= 1.0

    def interpolate(node: np.ndarray) -> np.ndarray:
        d00, d10 = node[iy][:, ix], node[iy][:, ix + 1]
        d01, d11 = node[iy + 1][:, ix], node[iy + 1][:, ix + 1]
        first = d00 + u * (d10 - d00) + v * (d01 - d00)
        second = d11 + (1.0 - u) * (d01 - d11) + (1.0 - v) * (d10 - d11)
        return np.where(lower, first, second)

    return interpolate(node_dx), interpolate(node_dy)


def piecewise_affine(
    image: np.ndarray,
    *,
    rows: int,
    cols: int,
    scale: float,
    noise_seed: int,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Output pixel p is read from p + field(p) (see `piecewise_affine_field`); scale 0 is an exact copy."""
    if scale == 0:
        return image.copy()
    height, width = image.shape[:2]
    dx, dy = piecewise_affine_field(height, width, rows=rows, cols=cols, scale=scale, noise_seed=noise_seed)
    return displace(image, dx, dy, border_mode=border_mode, fill=fill, interpolation=interpolation)
