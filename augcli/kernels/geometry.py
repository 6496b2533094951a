"""Geometric kernels: flips, right-angle and arbitrary rotation, affine maps, crops.

Every warp takes a border mode and fill so uncovered pixels are filled the way the user chose.
"""

from __future__ import annotations

import math

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


def hflip(image: np.ndarray) -> np.ndarray:
    # cv2.flip is a vectorised copy; numpy's reversed-stride copy of a 3-channel image is ~30x slower.
    return keep_shape(cv2.flip(image, 1), image)


def vflip(image: np.ndarray) -> np.ndarray:
    # cv2.flip: 27 us on the benchmark's photos against numpy's image[::-1].copy() 44 us (OpenCV 5.1).
    return keep_shape(cv2.flip(image, 0), image)


# Quarter turns counter-clockwise (numpy's convention) as OpenCV rotate codes: same pixels, ~10x faster.
_ROTATE_CODES = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def rot90(image: np.ndarray, *, k: int) -> np.ndarray:
    """Rotate by k quarter turns counter-clockwise (numpy's convention)."""
    if k % 4 == 0:
        return image.copy()
    return keep_shape(cv2.rotate(image, _ROTATE_CODES[k % 4]), image)


def transpose(image: np.ndarray) -> np.ndarray:
    """Swap rows and columns. cv2.transpose gives numpy's `image.transpose(1, 0, ...)` about 4x faster."""
    return keep_shape(cv2.transpose(image), image)


def affine_matrix(
    width: int,
    height: int,
    *,
    angle: float = 0.0,
    scale: float = 1.0,
    translate_x: float = 0.0,
    translate_y: float = 0.0,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
) -> np.ndarray:
    """2x3 matrix about the image centre: rotate (degrees, counter-clockwise), scale, shear (degrees),
    then translate by a fraction of the width and height."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a = math.radians(angle)
    rotation = np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    shear = np.array([[1.0, math.tan(math.radians(shear_x))], [math.tan(math.radians(shear_y)), 1.0]])
    linear = scale * rotation @ shear
    centre = np.array([cx, cy])
    offset = centre - linear @ centre + np.array([translate_x * width, translate_y * height])
    return np.hstack([linear, offset[:, None]])


def warp_affine(
    image: np.ndarray,
    matrix: np.ndarray,
    *,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    height, width = image.shape[:2]
    flags, matrix = INTERPOLATIONS[interpolation], np.asarray(matrix, dtype=np.float64)
    border, value = BORDER_MODES[border_mode], fill_value(fill, image)

    def warp(im: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(im, matrix, size or (width, height), flags=flags, borderMode=border, borderValue=value)

    return keep_shape(warp_fast(warp, single_pixel_safe(image, flags, border), flags), image)


def rotate(
    image: np.ndarray, *, angle: float, border_mode: str, fill: float | list[float] = 0, interpolation: str = "linear"
) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = affine_matrix(width, height, angle=angle)
    return warp_affine(image, matrix, border_mode=border_mode, fill=fill, interpolation=interpolation)


def affine(
    image: np.ndarray,
    *,
    scale: float,
    translate_x: float,
    translate_y: float,
    shear_x: float,
    shear_y: float,
    angle: float = 0.0,
    border_mode: str,
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = affine_matrix(
        width,
        height,
        angle=angle,
        scale=scale,
        translate_x=translate_x,
        translate_y=translate_y,
        shear_x=shear_x,
        shear_y=shear_y,
    )
    return warp_affine(image, matrix, border_mode=border_mode, fill=fill, interpolation=interpolation)


def resize(image: np.ndarray, *, width: int, height: int, interpolation: str = "linear") -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image.copy()
    out = cv2.resize(image, (width, height), interpolation=INTERPOLATIONS[interpolation])
    return keep_shape(out, image)


def crop(image: np.ndarray, *, x: int, y: int, width: int, height: int) -> np.ndarray:
    return image[y : y + height, x : x + width].copy()


def crop_and_resize(
    image: np.ndarray,
    *,
    x: int,
    y: int,
    width: int,
    height: int,
    out_width: int,
    out_height: int,
    interpolation: str = "linear",
) -> np.ndarray:
    region = image[y : y + height, x : x + width]
    out = cv2.resize(region, (out_width, out_height), interpolation=INTERPOLATIONS[interpolation])
    return keep_shape(out, image)


def stretch(
    image: np.ndarray,
    *,
    scale_x: float,
    scale_y: float,
    keep_size: bool = True,
    border_mode: str = "reflect",
    fill: float | list[float] = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """Scale x and y independently. With `keep_size` the picture is zoomed about the centre inside the
    same frame (zooming out uncovers a border); without it the output is round(w * sx) x round(h * sy)."""
    height, width = image.shape[:2]
    if not keep_size:
        out_width, out_height = max(1, round(width * scale_x)), max(1, round(height * scale_y))
        return resize(image, width=out_width, height=out_height, interpolation=interpolation)
    if scale_x == 1 and scale_y == 1:
        return image.copy()
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    matrix = np.array([[scale_x, 0.0, cx - scale_x * cx], [0.0, scale_y, cy - scale_y * cy]])
    return warp_affine(image, matrix, border_mode=border_mode, fill=fill, interpolation=interpolation)


def pad(
    image: np.ndarray,
    *,
    top: int,
    bottom: int,
    left: int,
    right: int,
    border_mode: str,
    fill: float | list[float] = 0,
) -> np.ndarray:
    """Add borders; every mode but `constant` is numpy.pad itself (which also handles pads wider than
    the image), so the semantics are the definition rather than a re-implementation."""
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    if border_mode != "constant":
        return np.ascontiguousarray(np.pad(image, widths, mode=border_mode))
    out = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=fill_value(fill, image))
    return keep_shape(out, image)


def downscale(image: np.ndarray, *, scale: float, down_interpolation: str = "area", interpolation: str = "linear"):
    """Shrink by `scale`, then enlarge back to the input size: the loss of detail of a low-resolution capture."""
    height, width = image.shape[:2]
    small_width, small_height = max(1, round(width * scale)), max(1, round(height * scale))
    if (small_width, small_height) == (width, height):
        return image.copy()
    small = resize(image, width=small_width, height=small_height, interpolation=down_interpolation)
    return resize(small, width=width, height=height, interpolation=interpolation)
