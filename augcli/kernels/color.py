"""Colour kernels: operations that mix or reweight colour channels. Alpha passes through untouched.

Grey (H, W) images have no colour: operations that only move colour between channels (channel
shuffle, channel dropout, sepia, saturation, hue) leave them unchanged, and shifts act on intensity.
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import colour_value, keep_shape, lut, lut_is_fast, max_value, merge_alpha, split_alpha


def apply_lut(color: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Map every value through one table (or one per channel, shape (levels, C)).

    8-bit images go through `_common.lut` (cv2.LUT's bytes, by SIMD); 16-bit images index a
    65,536-entry table with numpy."""
    if color.dtype == np.uint8:
        return lut(color, table)
    table = table.astype(color.dtype)
    if table.ndim == 1:
        return table[color]
    out = np.empty_like(color)
    for c in range(color.shape[2]):
        out[:, :, c] = table[:, c][color[:, :, c]]
    return out


_ALL_BYTES = np.arange(256, dtype=np.uint8).reshape(1, 256, 1)  # every 8-bit value, as a one-plane image


def linear_8bit(color: np.ndarray, scales: list[float], offsets: list[float]) -> np.ndarray:
    """out = rint(v * scale_c + offset_c), saturated, for an 8-bit image (one scale and offset per channel).

    cv2.transform with a diagonal matrix computes exactly that in SIMD, ~1.6x faster than cv2.LUT (a
    scalar lookup per byte) and with the same bytes as the table on every 8-bit value; 16-bit images
    keep their table (float32 there would be off by one on some large values). When `lut` has its SIMD
    path, one scale and offset for every channel is a 256-entry table looked up, faster still."""
    n = 1 if color.ndim == 2 else color.shape[2]
    if lut_is_fast(color) and len(set(scales)) == 1 and len(set(offsets)) == 1:
        # One table for every channel: cv2.transform's own bytes for each of the 256 values (the same
        # one-plane multiply-add as below), then a SIMD byte lookup, ~2.2x faster than the transform.
        table = cv2.transform(_ALL_BYTES, np.array([[scales[0], offsets[0]]]))
        return lut(color, table.reshape(256))
    if n > 1 and color.flags.c_contiguous and len(set(scales)) == 1 and len(set(offsets)) == 1:
        # Every channel alike: the image as one wide grey plane, one multiply-add per value instead of a
        # matrix product per pixel (~1.3x faster, the same bytes).
        flat = cv2.transform(color.reshape(color.shape[0], -1, 1), np.array([[scales[0], offsets[0]]]))
        return flat.reshape(color.shape)
    matrix = np.zeros((n, n + 1), dtype=np.float64)
    matrix[np.arange(n), np.arange(n)] = scales
    matrix[:, n] = offsets
    return keep_shape(cv2.transform(color, matrix), color)


_LEVELS: dict[np.dtype, np.ndarray] = {}


def levels(dtype: np.dtype) -> np.ndarray:
    """Every value an integer image can hold, as floats (the domain of a lookup table).

    Built once per type and read-only: callers derive new tables from it, never write into it."""
    dtype = np.dtype(dtype)
    table = _LEVELS.get(dtype)
    if table is None:
        table = np.arange(int(max_value(dtype)) + 1, dtype=np.float64)
        table.flags.writeable = False
        _LEVELS[dtype] = table
    return table


def mean_value(color: np.ndarray) -> float:
    """Mean of every colour value (all channels together).

    A contiguous image is summed as one wide plane: cv2.sumElems of that is about twice as fast as
    cv2.mean over three interleaved channels, and the sum is the same."""
    if color.flags.c_contiguous and color.ndim == 3:
        return cv2.sumElems(color.reshape(color.shape[0], -1))[0] / color.size
    n = 1 if color.ndim == 2 else color.shape[2]
    return float(np.mean(cv2.mean(color)[:n]))


def is_colour(color: np.ndarray) -> bool:
    return color.ndim == 3 and color.shape[2] >= 3


def brightness_contrast(image: np.ndarray, *, brightness: float, contrast: float) -> np.ndarray:
    """out = (in - mean) * (1 + contrast) + mean + brightness * white.

    Contrast pivots on the image's mean grey level, as PIL's ImageEnhance and torchvision do, so a
    contrast change alone does not also brighten or darken the picture.
    """
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    mean = mean_value(color)
    # (v - mean) * (1 + contrast) + mean + brightness * white, as one scale and one offset.
    scale, offset = 1.0 + contrast, mean * -contrast + brightness * white
    if color.dtype == np.uint8:
        n = 1 if color.ndim == 2 else color.shape[2]
        return merge_alpha(linear_8bit(color, [scale] * n, [offset] * n), alpha)
    lut = levels(image.dtype) * scale
    lut += offset
    return merge_alpha(apply_lut(color, np.clip(np.rint(lut, out=lut), 0, white, out=lut)), alpha)


def _hsv_luts(hue_shift: float, saturation: float, value: float, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    lv = levels(dtype)
    white = max_value(dtype)
    hue = np.mod(lv + hue_shift / 2.0, 180.0) if dtype == np.uint8 else lv
    sat = np.clip(np.rint(lv * (1.0 + saturation)), 0, white)
    val = np.clip(np.rint(lv * (1.0 + value)), 0, white)
    return np.rint(hue), sat, val


def hue_saturation_value(image: np.ndarray, *, hue_shift: float, saturation: float, value: float) -> np.ndarray:
    """Shift hue by degrees; scale saturation and value by (1 + factor). Grey images take the value part only."""
    if hue_shift == 0 and saturation == 0 and value == 0:
        return image.copy()  # the HSV round trip itself is lossy; zero strength must be the identity
    color, alpha = split_alpha(image)
    if not is_colour(color):
        _, _, val_lut = _hsv_luts(0.0, 0.0, value, image.dtype)
        return merge_alpha(apply_lut(color, val_lut), alpha)
    if image.dtype == np.uint8:
        hsv = cv2.cvtColor(color, cv2.COLOR_BGR2HSV)
        luts = _hsv_luts(hue_shift, saturation, value, np.dtype(np.uint8))
        # Only the planes that change go through a table (a hue-only shift touches a third of the values).
        for index, (amount, table) in enumerate(zip((hue_shift, saturation, value), luts, strict=True)):
            if amount != 0:
                cv2.insertChannel(lut(cv2.extractChannel(hsv, index), table, inplace=True), hsv, index)
        return merge_alpha(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), alpha)
    white = max_value(image.dtype)
    hsv = cv2.cvtColor(color.astype(np.float32) / white, cv2.COLOR_BGR2HSV)
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + hue_shift, 360.0)
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * (1.0 + saturation), 0.0, 1.0)
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] * (1.0 + value), 0.0, 1.0)
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * white
    return merge_alpha(np.clip(np.rint(bgr), 0, white).astype(image.dtype), alpha)


def rgb_shift(image: np.ndarray, *, r_shift: float, g_shift: float, b_shift: float) -> np.ndarray:
    """Add a constant (a fraction of white) to each colour channel; grey images get the mean of the three."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    shifts = [b_shift, g_shift, r_shift] if is_colour(color) else [(r_shift + g_shift + b_shift) / 3.0]
    if color.dtype == np.uint8 and (color.ndim == 2 or color.shape[2] == len(shifts)):
        return merge_alpha(linear_8bit(color, [1.0] * len(shifts), [s * white for s in shifts]), alpha)
    lv = levels(image.dtype)[:, None]
    lut = np.clip(np.rint(lv + np.asarray(shifts)[None, :] * white), 0, white)
    return merge_alpha(apply_lut(color, lut if len(shifts) > 1 else lut[:, 0]), alpha)


def channel_shuffle(image: np.ndarray, *, order: list[int]) -> np.ndarray:
    """Reorder the colour channels (`order[i]` is the input channel that becomes channel i)."""
    color, alpha = split_alpha(image)
    if not is_colour(color) or list(order) == list(range(len(order))):
        return image.copy()
    out = np.empty_like(color)
    pairs = [v for i, source in enumerate(order) for v in (int(source), i)]
    cv2.mixChannels([color], [out], pairs)  # ~4x faster than numpy's fancy indexing or split/merge
    return merge_alpha(out, alpha)


LUMA_BGR = np.array([0.114, 0.587, 0.299])  # ITU-R BT.601, the weights of cv2.COLOR_BGR2GRAY


def grey_plane(color: np.ndarray) -> np.ndarray:
    """Luma (ITU-R BT.601, OpenCV's weights) of a BGR image; a grey image is its own."""
    if not is_colour(color):
        return color if color.ndim == 2 else color[:, :, 0]
    return cv2.cvtColor(color, cv2.COLOR_BGR2GRAY)


def grayscale(image: np.ndarray, *, keep_channels: bool = True) -> np.ndarray:
    """Luma in every colour channel (keep_channels) or a single grey plane.

    Colour with alpha always keeps four channels (grey, grey, grey, alpha): common formats have no
    grey-with-alpha layout OpenCV can write."""
    color, alpha = split_alpha(image)
    if not is_colour(color):
        return image.copy()
    grey = grey_plane(color)
    if not keep_channels and alpha is None:
        return grey
    return merge_alpha(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), alpha)  # faster than cv2.merge of three


SEPIA_BGR = np.array([[0.131, 0.534, 0.272], [0.168, 0.686, 0.349], [0.189, 0.769, 0.393]])


def sepia(image: np.ndarray, *, strength: float) -> np.ndarray:
    """Blend towards the classic sepia matrix by `strength` (0 keeps); grey images are unchanged."""
    color, alpha = split_alpha(image)
    if not is_colour(color) or strength == 0:
        return image.copy()
    matrix = (1.0 - strength) * np.eye(3) + strength * SEPIA_BGR
    return merge_alpha(cv2.transform(color, matrix), alpha)


def channel_dropout(image: np.ndarray, *, channels: list[int], fill: float | list[float]) -> np.ndarray:
    """Set the listed colour channels to `fill` (a colour on the 8-bit scale, see `colour_value`: one
    value, or one per channel of which the dropped ones are used); grey images are unchanged."""
    color, alpha = split_alpha(image)
    if not is_colour(color) or not channels:
        return image.copy()
    # Per-channel scalar masks: AND clears the dropped channels, OR sets them to the fill (one SIMD pass
    # each; numpy's strided channel assignment was ~3x slower).
    white = max_value(image.dtype)
    values = colour_value(fill, color)
    n = color.shape[2]
    if color.shape[0] * color.shape[1] == 1:  # OpenCV's binding reads a one-pixel array as a scalar
        out = color.copy()
        out[:, :, channels] = np.asarray([values[c] for c in channels], dtype=color.dtype)
        return merge_alpha(out, alpha)
    keep = tuple(0.0 if c in channels else white for c in range(n)) + (0.0,) * (4 - n)
    out = cv2.bitwise_and(color, keep)
    if any(values[c] for c in channels):
        fills = tuple(values[c] if c in channels else 0.0 for c in range(n)) + (0.0,) * (4 - n)
        out = cv2.bitwise_or(out, fills, dst=out)
    return merge_alpha(out, alpha)


def fancy_pca(image: np.ndarray, *, alphas: list[float]) -> np.ndarray:
    """AlexNet's PCA lighting: add sum_i alpha_i * sigma_i * v_i, from the image's own colour covariance.

    sigma_i are the standard deviations along the principal axes v_i of the pixels scaled to [0, 1]
    (as in fb.resnet.torch's `Lighting`); a grey image has one axis, so only its intensity moves."""
    color, alpha = split_alpha(image)
    n = 1 if color.ndim == 2 else color.shape[2]
    white = max_value(image.dtype)
    cov = covariance(color) / (white * white)
    eigvals, eigvecs = np.linalg.eigh(cov)
    shift = eigvecs @ (np.asarray(alphas[:n], dtype=np.float64) * np.sqrt(np.clip(eigvals, 0, None)))
    if color.dtype == np.uint8:
        return merge_alpha(linear_8bit(color, [1.0] * n, [float(v) * white for v in shift]), alpha)
    lut = np.clip(np.rint(levels(image.dtype)[:, None] + shift[None, :] * white), 0, white)
    return merge_alpha(apply_lut(color, lut if n > 1 else lut[:, 0]), alpha)


def covariance(color: np.ndarray) -> np.ndarray:
    """Channel covariance (C, C) of an integer image from exact sums, in OpenCV (numpy's BLAS dot was
    slow and contended here). Products are exact in float64 and the sums stay exact below 2**53."""
    planes = [color] if color.ndim == 2 else cv2.split(color)
    n = color.shape[0] * color.shape[1]
    sums = [cv2.sumElems(p)[0] for p in planes]
    cov = np.empty((len(planes), len(planes)), dtype=np.float64)
    for i in range(len(planes)):
        for j in range(i, len(planes)):
            cross = cv2.sumElems(cv2.multiply(planes[i], planes[j], dtype=cv2.CV_64F))[0]
            cov[i, j] = cov[j, i] = (cross - sums[i] * sums[j] / n) / max(n - 1, 1)
    return cov


def jitter_brightness(color: np.ndarray, factor: float) -> np.ndarray:
    white = max_value(color.dtype)
    if color.dtype == np.uint8:
        n = 1 if color.ndim == 2 else color.shape[2]
        return linear_8bit(color, [factor] * n, [0.0] * n)
    return apply_lut(color, np.clip(np.rint(levels(color.dtype) * factor), 0, white))


def jitter_contrast(color: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level (torchvision's adjust_contrast)."""
    white = max_value(color.dtype)
    if is_colour(color):  # the grey's mean from the channel sums: no grey plane to build
        sums = cv2.sumElems(color)[:3]
        mean = float(np.dot(LUMA_BGR, sums)) / (color.shape[0] * color.shape[1])
    else:
        mean = float(cv2.mean(grey_plane(color))[0])
    if color.dtype == np.uint8:
        n = 1 if color.ndim == 2 else color.shape[2]
        return linear_8bit(color, [factor] * n, [mean * (1.0 - factor)] * n)
    return apply_lut(color, np.clip(np.rint(levels(color.dtype) * factor + mean * (1.0 - factor)), 0, white))


def jitter_saturation(color: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the pixel's own grey (torchvision's adjust_saturation); grey images are unchanged."""
    if not is_colour(color) or factor == 1:
        return color
    if color.shape[2] == 3:
        # Grey is a fixed mix of B, G, R, so the blend is one 3x3 colour matrix: a single SIMD pass
        # instead of grey plane, three-channel copy and addWeighted (the grey is not rounded first).
        matrix = factor * np.eye(3) + (1.0 - factor) * np.tile(LUMA_BGR, (3, 1))
        return cv2.transform(color, matrix)
    grey = grey_plane(color)
    return cv2.addWeighted(color, factor, cv2.merge([grey] * color.shape[2]), 1.0 - factor, 0.0)


def color_jitter(
    image: np.ndarray, *, order: list[str], brightness: float, contrast: float, saturation: float, hue: float
) -> np.ndarray:
    """torchvision's ColorJitter: brightness, contrast, saturation factors (1 keeps) and a hue shift in
    degrees, applied in the recorded `order`."""
    color, alpha = split_alpha(image)
    out = color
    for step in order:
        if step == "brightness" and brightness != 1:
            out = jitter_brightness(out, brightness)
        elif step == "contrast" and contrast != 1:
            out = jitter_contrast(out, contrast)
        elif step == "saturation":
            out = jitter_saturation(out, saturation)
        elif step == "hue" and hue != 0 and is_colour(out):
            out = hue_saturation_value(out, hue_shift=hue, saturation=0.0, value=0.0)
    return merge_alpha(out.copy() if out is color else out, alpha)
