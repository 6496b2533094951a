"""Non-affine warps: perspective, lens (optical), grid and elastic distortion.

Each builds a sampling map (where every output pixel is read from) and resamples once with the chosen
border mode, fill and interpolation. Zero strength returns an exact copy: a resample with an identity
map is not guaranteed bit-exact, and "no distortion" must mean no change.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from augcli.kernels._common import (
    BORDER_MODES,
    INTERPOLATIONS,
    fill_value,
    keep_shape,
    single_pixel_safe,
    warp_fast,
)

# cv2.remap and warpPerspective have no area filter; linear is what "area" degrades to.
_WARP_INTERPOLATION = {**INTERPOLATIONS, "area": cv2.INTER_LINEAR}


def remap(
    image: np.ndarray,
    map_x: np.ndarray,
    map_y: np.ndarray,
    *,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Output pixel (y, x) takes the input at (map_y[y, x], map_x[y, x])."""
    flags, border, value = _WARP_INTERPOLATION[interpolation], BORDER_MODES[border_mode], fill_value(fill, image)
    map_x, map_y = map_x.astype(np.float32, copy=False), map_y.astype(np.float32, copy=False)

    def warp(im: np.ndarray) -> np.ndarray:
        return cv2.remap(im, map_x, map_y, flags, borderMode=border, borderValue=value)

    return keep_shape(warp_fast(warp, single_pixel_safe(image, flags, border), flags), image)


def perspective(
    image: np.ndarray,
    *,
    corners: list[list[float]],
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Move the four corners (top-left, top-right, bottom-right, bottom-left) by [dx, dy], given as
    fractions of the width and height, and warp the picture with the homography that does so."""
    if not any(dx or dy for dx, dy in corners):
        return image.copy()
    height, width = image.shape[:2]
    src = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    dst = src + np.array(corners, dtype=np.float32) * np.array([width, height], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    flags, border, value = _WARP_INTERPOLATION[interpolation], BORDER_MODES[border_mode], fill_value(fill, image)

    def warp(im: np.ndarray) -> np.ndarray:
        return cv2.warpPerspective(im, matrix, (width, height), flags=flags, borderMode=border, borderValue=value)

    return keep_shape(warp_fast(warp, single_pixel_safe(image, flags, border), flags), image)


def optical_distortion(
    image: np.ndarray,
    *,
    k: float,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Radial lens distortion about the centre: a point at normalised radius r (1 at the corners) is read
    from radius r * (1 + k r^2). k > 0 gives barrel distortion (lines bow outwards), k < 0 pincushion."""
    if k == 0:
        return image.copy()
    height, width = image.shape[:2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    norm = max(np.hypot(cx, cy), 1e-6)
    # dx depends on the column only and dy on the row only: build the two axes once and broadcast,
    # so the full-size work is one pass for the factor and two per map (not ~20 passes over mgrid).
    dx = (np.arange(width, dtype=np.float32) - np.float32(cx)) / np.float32(norm)
    dy = (np.arange(height, dtype=np.float32) - np.float32(cy)) / np.float32(norm)
    factor = (np.float32(k) * dy * dy)[:, None] + (np.float32(k) * dx * dx)[None, :]
    factor += np.float32(1.0)
    map_x = factor * (dx * np.float32(norm))[None, :]
    map_x += np.float32(cx)
    map_y = np.multiply(factor, (dy * np.float32(norm))[:, None], out=factor)
    map_y += np.float32(cy)
    return remap(image, map_x, map_y, border_mode=border_mode, fill=fill, interpolation=interpolation)


def _grid_axis(size: int, steps: list[float]) -> np.ndarray:
    """Source coordinate for each output coordinate along one axis: the axis is cut into len(steps)
    equal cells, cell i is read from a stretch of relative length (1 + steps[i]), rescaled to the axis."""
    lengths = np.maximum(1.0 + np.asarray(steps, dtype=np.float64), 1e-3)
    source_edges = np.concatenate([[0.0], np.cumsum(lengths)]) / lengths.sum() * (size - 1)
    output_edges = np.linspace(0.0, size - 1, len(steps) + 1)
    return np.interp(np.arange(size, dtype=np.float64), output_edges, source_edges)


def grid_distortion(
    image: np.ndarray,
    *,
    x_steps: list[float],
    y_steps: list[float],
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Cut the image into a grid of bands and stretch or squeeze each band (albumentations' GridDistortion);
    the outer edges stay fixed, so nothing is uncovered."""
    if not any(x_steps) and not any(y_steps):
        return image.copy()
    height, width = image.shape[:2]
    map_x = np.broadcast_to(_grid_axis(width, x_steps)[None, :], (height, width))
    map_y = np.broadcast_to(_grid_axis(height, y_steps)[:, None], (height, width))
    return remap(image, map_x, map_y, border_mode=border_mode, fill=fill, interpolation=interpolation)


def elastic_field(height: int, width: int, *, alpha: float, sigma: float, noise_seed: int):
    """Simard et al. (2003): uniform noise in [-1, 1] per pixel and axis, smoothed by a Gaussian of
    `sigma`, scaled so the root-mean-square displacement is `alpha`. Both are fractions of the shorter side.

    The noise is drawn on a grid about four pixels per sigma and smoothed there, then enlarged: a full
    resolution blur with sigma of tens of pixels would cost seconds per image for the same field."""
    short = min(height, width)
    sigma_px = max(sigma * short, 0.5)
    step = max(1.0, sigma_px / 4.0)
    grid_h, grid_w = max(2, int(np.ceil(height / step)) + 1), max(2, int(np.ceil(width / step)) + 1)
    rng = np.random.default_rng(noise_seed)
    fields = []
    for _ in range(2):
        noise = rng.uniform(-1.0, 1.0, (grid_h, grid_w)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), sigma_px / step, borderType=cv2.BORDER_REFLECT_101)
        fields.append(cv2.resize(smooth, (width, height), interpolation=cv2.INTER_CUBIC))
    dx, dy = fields
    rms = float(np.sqrt(np.mean(dx * dx + dy * dy) / 2.0)) or 1.0
    scale = alpha * short / rms
    return dx * scale, dy * scale


def elastic_transform(
    image: np.ndarray,
    *,
    alpha: float,
    sigma: float,
    noise_seed: int,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Displace every pixel by a smooth random field (see `elastic_field`)."""
    if alpha == 0:
        return image.copy()
    height, width = image.shape[:2]
    dx, dy = elastic_field(height, width, alpha=alpha, sigma=sigma, noise_seed=noise_seed)
    return displace(image, dx, dy, border_mode=border_mode, fill=fill, interpolation=interpolation)


def displace(image: np.ndarray, dx: np.ndarray, dy: np.ndarray, **warp: Any) -> np.ndarray:
    """Output pixel p reads the input at p + (dx, dy)[p]: the remap of every displacement-field warp."""
    height, width = image.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return remap(image, x + dx, y + dy, **warp)
