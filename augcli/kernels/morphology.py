"""Morphological kernels: erode, dilate, open and close with a rectangular, elliptic or cross element.

Grey-level morphology: erosion takes each neighbourhood's minimum, dilation its maximum, per channel. Alpha is
kept. Beyond the border OpenCV's default applies (the border never wins a minimum or a maximum).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, merge_alpha, split_alpha

OPERATIONS = {
    "erode": cv2.MORPH_ERODE,
    "dilate": cv2.MORPH_DILATE,
    "open": cv2.MORPH_OPEN,
    "close": cv2.MORPH_CLOSE,
}
SHAPES = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}


def structuring_element(shape: str, size: int) -> np.ndarray:
    """The size x size structuring element (uint8, 1 inside), anchored at its centre (size // 2)."""
    return _element(shape, size).copy()


@functools.cache
def _element(shape: str, size: int) -> np.ndarray:
    """structuring_element, built once per shape and size; read-only, as cv2.morphologyEx only reads it."""
    element = cv2.getStructuringElement(SHAPES[shape], (size, size))
    element.flags.writeable = False
    return element


def morphology(image: np.ndarray, *, op: str, shape: str, size: int) -> np.ndarray:
    """Apply `op` (erode, dilate, open, close) with a `shape` element of side `size` (1 keeps the image)."""
    if size <= 1:
        return image.copy()
    color, alpha = split_alpha(image)
    out = cv2.morphologyEx(color, OPERATIONS[op], _element(shape, size))
    return merge_alpha(keep_shape(out, color), alpha)
