"""Mixing kernels: combine the current image with partner images already loaded by the caller.

`conform()` brings a partner to the current image's size, bit depth and colour layout. Only colour
is mixed: the current image's alpha plane is kept as it is.
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import merge_alpha, split_alpha


def conform(other: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`other`'s colour part with `like`'s height, width, dtype and colour channels (grey <-> BGR,
    8 <-> 16 bit by the factor 257). Any alpha of `other` is dropped."""
    color, _ = split_alpha(other)
    target, _ = split_alpha(like)
    if target.ndim == 2 and color.ndim == 3:
        color = cv2.cvtColor(color, cv2.COLOR_BGR2GRAY)
    elif target.ndim == 3 and color.ndim == 2:
        color = cv2.cvtColor(color, cv2.COLOR_GRAY2BGR)
    if color.dtype != target.dtype:
        if target.dtype == np.uint16:
            color = color.astype(np.uint16) * np.uint16(257)
        else:
            color = np.rint(color / 257.0).astype(np.uint8)
    height, width = target.shape[:2]
    if color.shape[:2] != (height, width):
        shrink = color.shape[0] * color.shape[1] > height * width
        color = cv2.resize(color, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.ascontiguousarray(color)


def blend(image: np.ndarray, partner: np.ndarray, *, weight: float) -> np.ndarray:
    """(1 - weight) * image + weight * partner (mixup), on colour; alpha from `image`."""
    color, alpha = split_alpha(image)
    mixed = cv2.addWeighted(color, 1.0 - weight, conform(partner, image), weight, 0.0)
    return merge_alpha(mixed, alpha)


def cutmix(image: np.ndarray, partner: np.ndarray, *, box: list[int]) -> np.ndarray:
    """Paste the partner's pixels inside `box` = [x0, y0, x1, y1] (end-exclusive) onto the image."""
    color, alpha = split_alpha(image)
    x0, y0, x1, y1 = box
    out = color.copy()
    out[y0:y1, x0:x1] = conform(partner, image)[y0:y1, x0:x1]
    return merge_alpha(out, alpha)


def mosaic(image: np.ndarray, partners: list[np.ndarray], *, center: list[int]) -> np.ndarray:
    """A 2 x 2 mosaic split at `center` = [x, y]: the image top left, the three partners top right,
    bottom left, bottom right, each resized (not cropped) to its tile."""
    color, alpha = split_alpha(image)
    cx, cy = center
    height, width = color.shape[:2]
    out = np.empty_like(color)
    tiles = [(0, 0, cx, cy), (cx, 0, width, cy), (0, cy, cx, height), (cx, cy, width, height)]
    for source, (x0, y0, x1, y1) in zip([color, *partners], tiles, strict=True):
        if x1 <= x0 or y1 <= y0:
            continue
        like = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = conform(source, like)
    return merge_alpha(out, alpha)
