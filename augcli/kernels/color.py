"""Colour and tone kernels. They change colour channels only: an alpha plane passes through untouched."""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import max_value, merge_alpha, split_alpha


def _apply_lut(color: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every value through a table: cv2.LUT for 8-bit (fast path), numpy indexing for 16-bit."""
    if color.dtype == np.uint8:
        return cv2.LUT(color, lut.astype(np.uint8))
    return lut.astype(color.dtype)[color]


def _levels(dtype: np.dtype) -> np.ndarray:
    return np.arange(int(max_value(dtype)) + 1, dtype=np.float64)


def brightness_contrast(image: np.ndarray, *, brightness: float, contrast: float) -> np.ndarray:
    """out = (in - mean) * (1 + contrast) + mean + brightness * white.

    Contrast pivots on the image's mean grey level, as PIL's ImageEnhance and torchvision do, so a
    contrast change alone does not also brighten or darken the picture.
    """
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    mean = float(np.mean(cv2.mean(color)[: 1 if color.ndim == 2 else color.shape[2]]))
    levels = _levels(image.dtype)
    lut = np.clip(np.rint((levels - mean) * (1.0 + contrast) + mean + brightness * white), 0, white)
    return merge_alpha(_apply_lut(color, lut), alpha)


def _hsv_luts(hue_shift: float, saturation: float, value: float, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    levels = _levels(dtype)
    white = max_value(dtype)
    hue = np.mod(levels + hue_shift / 2.0, 180.0) if dtype == np.uint8 else levels
    sat = np.clip(np.rint(levels * (1.0 + saturation)), 0, white)
    val = np.clip(np.rint(levels * (1.0 + value)), 0, white)
    return np.rint(hue), sat, val


def hue_saturation_value(image: np.ndarray, *, hue_shift: float, saturation: float, value: float) -> np.ndarray:
    """Shift hue by degrees; scale saturation and value by (1 + factor). Grey images take the value part only."""
    if hue_shift == 0 and saturation == 0 and value == 0:
        return image.copy()  # the HSV round trip itself is lossy; zero strength must be the identity
    color, alpha = split_alpha(image)
    if color.ndim == 2 or color.shape[2] == 1:
        _, _, val_lut = _hsv_luts(0.0, 0.0, value, image.dtype)
        return merge_alpha(_apply_lut(color, val_lut), alpha)
    if image.dtype == np.uint8:
        hsv = cv2.cvtColor(color, cv2.COLOR_BGR2HSV)
        h, s, v = cv2.split(hsv)
        hue_lut, sat_lut, val_lut = _hsv_luts(hue_shift, saturation, value, np.dtype(np.uint8))
        hsv = cv2.merge([_apply_lut(h, hue_lut), _apply_lut(s, sat_lut), _apply_lut(v, val_lut)])
        return merge_alpha(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), alpha)
    white = max_value(image.dtype)
    hsv = cv2.cvtColor(color.astype(np.float32) / white, cv2.COLOR_BGR2HSV)
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + hue_shift, 360.0)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * (1.0 + saturation), 0.0, 1.0)
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] * (1.0 + value), 0.0, 1.0)
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * white
    return merge_alpha(np.clip(np.rint(bgr), 0, white).astype(image.dtype), alpha)
