"""Noise kernels. The noise field is drawn from a generator seeded by a recorded `noise_seed`, so the
kernel stays deterministic given its params and a manifest row can be replayed exactly."""

from __future__ import annotations

import numpy as np

from augcli.kernels._common import max_value, merge_alpha, split_alpha, to_dtype


def gaussian_noise(image: np.ndarray, *, sigma: float, noise_seed: int, per_channel: bool = True) -> np.ndarray:
    """Add zero-mean normal noise with standard deviation `sigma` (a fraction of white)."""
    color, alpha = split_alpha(image)
    rng = np.random.default_rng(noise_seed)
    shape = color.shape if per_channel or color.ndim == 2 else color.shape[:2] + (1,)
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma * max_value(image.dtype))
    return merge_alpha(to_dtype(color.astype(np.float32) + noise, image.dtype), alpha)


def salt_and_pepper(image: np.ndarray, *, amount: float, salt_ratio: float, noise_seed: int) -> np.ndarray:
    """Set a fraction `amount` of pixels to white (salt) or black (pepper), all colour channels alike."""
    color, alpha = split_alpha(image)
    rng = np.random.default_rng(noise_seed)
    draws = rng.random(color.shape[:2], dtype=np.float32)
    out = color.copy()
    salt = draws < amount * salt_ratio
    pepper = (draws >= amount * salt_ratio) & (draws < amount)
    out[salt] = max_value(image.dtype)
    out[pepper] = 0
    return merge_alpha(out, alpha)
