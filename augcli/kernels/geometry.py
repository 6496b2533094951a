"""Geometric kernels: flips, right-angle and arbitrary rotation, affine maps, crops.

Every warp takes a border mode and fill so uncovered pixels are filled the way the user chose.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import BORDER_MODES, INTERPOLATIONS, fill_value, keep_shape


def hflip(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def vflip(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[::-1])


def rot90(image: np.ndarray, *, k: int) -> np.ndarray:
    """Rotate by k quarter turns counter-clockwise (numpy's convention)."""
    return np.ascontiguousarray(np.rot90(image, k % 4))


def transpose(image: np.ndarray) -> np.ndarray:
    axes = (1, 0) if image.ndim == 2 else (1, 0, 2)
    return np.ascontiguousarray(image.transpose(axes))


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
    out = cv2.warpAffine(
        image,
        np.asarray(matrix, dtype=np.float64),
        size or (width, height),
        flags=INTERPOLATIONS[interpolation],
        borderMode=BORDER_MODES[border_mode],
        borderValue=fill_value(fill, image),
    )
    return keep_shape(out, image)


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
