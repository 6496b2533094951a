"""Erasing kernels: replace rectangles of the picture (random erasing, cutout)."""

from __future__ import annotations

import numpy as np

from augcli.kernels._common import max_value, merge_alpha, split_alpha


def erase(
    image: np.ndarray,
    *,
    boxes: list[list[int]],
    fill: float | list[float] = 0,
    noise_seed: int | None = None,
) -> np.ndarray:
    """Fill each [x, y, width, height] box with a constant, or with uniform noise when `noise_seed` is set."""
    color, alpha = split_alpha(image)
    out = color.copy()
    rng = np.random.default_rng(noise_seed) if noise_seed is not None else None
    white = max_value(image.dtype)
    for x, y, w, h in boxes:
        region = out[y : y + h, x : x + w]
        if rng is not None:
            region[...] = rng.integers(0, int(white) + 1, size=region.shape, dtype=np.int64).astype(image.dtype)
        elif isinstance(fill, (int, float)) or region.ndim == 2:
            region[...] = fill if isinstance(fill, (int, float)) else fill[0]
        else:
            region[...] = np.resize(np.asarray(fill, dtype=np.float64), region.shape[2]).astype(image.dtype)
    return merge_alpha(out, alpha)
