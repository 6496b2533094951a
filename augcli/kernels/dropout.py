"""Erasing kernels: replace rectangles of the picture (random erasing, cutout)."""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import colour_value, max_value, merge_alpha, split_alpha


def erase(
    image: np.ndarray,
    *,
    boxes: list[list[int]],
    fill: float | list[float] = 0,
    noise_seed: int | None = None,
) -> np.ndarray:
    """Fill each [x, y, width, height] box with a constant colour (8-bit scale, see `colour_value`), or
    with uniform noise when `noise_seed` is set."""
    color, alpha = split_alpha(image)
    out = color.copy()
    white = max_value(image.dtype)
    values = colour_value(fill, color)
    # One value for every channel (black, white, grey) is set as a scalar: numpy then writes each row as one
    # run, where assigning a per-channel array steps through every pixel (~20x slower on a large box).
    value = image.dtype.type(values[0]) if len(set(values)) == 1 else np.asarray(values, dtype=image.dtype)
    if noise_seed is not None:
        # OpenCV's generator draws straight into the image's type (numpy drew int64 and converted, ~5x
        # slower); its state is per thread, so it is seeded from the recorded seed here, in this call.
        cv2.setRNGSeed(int(noise_seed))
    for x, y, w, h in boxes:
        region = out[y : y + h, x : x + w]
        if noise_seed is not None:
            noise = np.empty(region.shape, image.dtype)
            if noise.size:
                cv2.randu(noise.reshape(noise.shape[0], -1), 0, int(white) + 1)
            region[...] = noise
        else:
            region[...] = value
    return merge_alpha(out, alpha)


def grid_boxes(height: int, width: int, *, unit: int, hole: int, offset_x: int, offset_y: int) -> list[list[int]]:
    """The [x, y, width, height] holes of a grid: a `hole`-pixel square at the top left of every
    `unit`-pixel cell, the grid shifted by the offsets (cells cut by the image edge keep their part)."""
    boxes = []
    for y in range(offset_y - unit, height, unit):
        for x in range(offset_x - unit, width, unit):
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + hole, width), min(y + hole, height)
            if x1 > x0 and y1 > y0:
                boxes.append([x0, y0, x1 - x0, y1 - y0])
    return boxes


def grid_dropout(
    image: np.ndarray,
    *,
    unit: int,
    hole: int,
    offset_x: int,
    offset_y: int,
    fill: float | list[float] = 0,
    noise_seed: int | None = None,
) -> np.ndarray:
    """Erase a regular grid of square holes (GridMask, Chen et al. 2020)."""
    height, width = image.shape[:2]
    boxes = grid_boxes(height, width, unit=unit, hole=hole, offset_x=offset_x, offset_y=offset_y)
    return erase(image, boxes=boxes, fill=fill, noise_seed=noise_seed)
