"""Noise kernels. The noise field is drawn from a generator seeded by a recorded `noise_seed`, so the
kernel stays deterministic given its params and a manifest row can be replayed exactly."""

from __future__ import annotations

import math

import cv2
import numpy as np

from augcli.kernels._common import colour_value, keep_shape, max_value, merge_alpha, split_alpha, to_dtype


def gaussian_noise(image: np.ndarray, *, sigma: float, noise_seed: int, per_channel: bool = True) -> np.ndarray:
    """Add zero-mean normal noise with standard deviation `sigma` (a fraction of white)."""
    color, alpha = split_alpha(image)
    if color.dtype not in _CV_DEPTHS:
        rng = np.random.default_rng(noise_seed)
        shape = color.shape if per_channel or color.ndim == 2 else color.shape[:2] + (1,)
        noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma * max_value(image.dtype))
        return merge_alpha(to_dtype(color.astype(np.float32) + noise, image.dtype), alpha)
    # OpenCV's generator is ~3x faster than numpy's normal draws, and cv2.add rounds and saturates in
    # one pass. Its generator is per-thread state, so it is re-seeded from the recorded seed right here.
    bands = 1 if color.ndim == 2 else color.shape[2]
    noise = np.empty(color.shape[:2] + ((bands,) if per_channel and color.ndim == 3 else ()), np.float32)
    cv2.setRNGSeed(int(noise_seed))
    cv2.randn(noise.reshape(noise.shape[0], -1), 0.0, sigma * max_value(image.dtype))  # one channel: one scalar
    if noise.ndim == 2 and color.ndim == 3:
        noise = np.repeat(noise[:, :, None], bands, axis=2)
    out = keep_shape(cv2.add(color, noise, dtype=_CV_DEPTHS[color.dtype]), color)
    return merge_alpha(out, alpha)


_CV_DEPTHS = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U}


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


def round_into(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round (half to even) and saturate float values into an 8/16-bit type in one OpenCV pass
    (the same result as _common.to_dtype, several times faster)."""
    # OpenCV 5 takes an array of at most 4 values as a scalar and answers with a (4, 1) array.
    if dtype not in (np.uint8, np.uint16) or values.size <= 4:
        return to_dtype(values, dtype)
    out = cv2.add(values, 0.0, dtype=cv2.CV_8U if dtype == np.uint8 else cv2.CV_16U)
    return keep_shape(out, values)


def cv_normal(shape: tuple[int, ...], sigma: float = 1.0, mean: float = 0.0) -> np.ndarray:
    """Normal draws from OpenCV's generator (about 3x faster than numpy's); seed it first with
    cv2.setRNGSeed(noise_seed), in the same call, since its state is per thread."""
    out = np.empty(shape, dtype=np.float32)
    cv2.randn(out.reshape(shape[0], -1), float(mean), float(sigma))
    return out


def cv_uniform(shape: tuple[int, ...]) -> np.ndarray:
    """Uniform float32 draws in [0, 1) from OpenCV's generator (seeded as for cv_normal)."""
    out = np.empty(shape, dtype=np.float32)
    cv2.randu(out.reshape(shape[0], -1), 0.0, 1.0)
    return out


def poisson_table(lam: float, resolution: int = 1 << 16) -> np.ndarray:
    """Poisson quantiles at `resolution` evenly spaced probabilities: indexing it with uniform integers
    samples the distribution (exact up to 1/65536 in probability) in one lookup per draw."""
    top = int(lam + 12.0 * math.sqrt(lam) + 12.0)
    k = np.arange(top + 1, dtype=np.float64)
    cdf = np.cumsum(np.exp(k * math.log(lam) - lam - np.array([math.lgamma(v + 1.0) for v in k])))
    probabilities = (np.arange(resolution, dtype=np.float64) + 0.5) / resolution
    return np.searchsorted(cdf, probabilities, side="right").astype(np.float32)


def poisson_field(lam: float, shape: tuple[int, ...]) -> np.ndarray:
    """Poisson draws with one mean for a whole field, from OpenCV's generator (seed it first)."""
    if lam <= 0:
        return np.zeros(shape, dtype=np.float32)
    if lam > 500:  # the normal limit is exact enough here, and the table would be long
        return np.maximum(cv_normal(shape, math.sqrt(lam)) + np.float32(lam), 0)
    index = np.empty(shape, dtype=np.uint16)
    cv2.randu(index.reshape(shape[0], -1), 0, 65536)
    return poisson_table(lam)[index]


SHOT_EXACT_BELOW = 20.0  # expected photons under which the normal approximation of Poisson is poor


def shot_noise(image: np.ndarray, *, photons: float, noise_seed: int) -> np.ndarray:
    """Shot noise: a pixel at white collects `photons` photons (fewer: noisier), out = count * white / photons.

    Counts are Poisson draws where fewer than 20 photons are expected and the normal limit
    N(lambda, lambda) above (skewness under 0.23 there), which is several times faster on photos."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    lam = color.astype(np.float32) * np.float32(photons / white)
    cv2.setRNGSeed(int(noise_seed))
    counts = lam + np.sqrt(lam) * cv_normal(lam.shape)
    dark = lam < SHOT_EXACT_BELOW
    counts[dark] = np.random.default_rng(noise_seed).poisson(lam[dark].astype(np.float64))
    return merge_alpha(round_into(counts * np.float32(white / photons), image.dtype), alpha)


def iso_noise(image: np.ndarray, *, intensity: float, color_shift: float, noise_seed: int) -> np.ndarray:
    """Camera sensor noise (albumentations' ISONoise): Poisson luminance noise plus normal hue jitter.

    Grey images take the luminance part only."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    unit = color.astype(np.float32) / np.float32(white)
    colour = unit.ndim == 3 and unit.shape[2] >= 3
    hls = cv2.cvtColor(unit, cv2.COLOR_BGR2HLS) if colour else unit
    lum = hls[:, :, 1] if colour else hls
    stddev = float(cv2.meanStdDev(lum)[1][0, 0])
    cv2.setRNGSeed(int(noise_seed))
    lum_noise = poisson_field(stddev * intensity * 255.0, lum.shape) / np.float32(255.0)
    lum += lum_noise * (1.0 - lum)
    if colour:
        hue_noise = cv_normal(lum.shape, color_shift * 360.0 * intensity)
        hue = hls[:, :, 0]
        hue += hue_noise
        hue -= np.float32(360.0) * np.floor(hue / np.float32(360.0))  # wrap; np.mod is far slower
        unit = cv2.cvtColor(hls, cv2.COLOR_HLS2BGR)
    else:
        unit = lum
    return merge_alpha(round_into(unit * np.float32(white), image.dtype), alpha)


def multiplicative_noise(image: np.ndarray, *, sigma: float, noise_seed: int, per_channel: bool = True) -> np.ndarray:
    """Speckle noise: out = in * (1 + n) with n normal, standard deviation `sigma`."""
    color, alpha = split_alpha(image)
    per_value = per_channel or color.ndim == 2
    cv2.setRNGSeed(int(noise_seed))
    factor = cv_normal(color.shape if per_value else color.shape[:2], sigma, mean=1.0)  # 1 + n in the draw
    if not per_value:
        bands = color.shape[2]
        factor = cv2.cvtColor(factor, cv2.COLOR_GRAY2BGR) if bands == 3 else cv2.merge([factor] * bands)
    # cv2.multiply rounds and saturates into the image's type in one pass.
    out = cv2.multiply(color, factor, dtype=cv2.CV_8U if color.dtype == np.uint8 else cv2.CV_16U)
    return merge_alpha(keep_shape(out, color), alpha)


def pixel_dropout(
    image: np.ndarray, *, rate: float, noise_seed: int, per_channel: bool, fill: float | list[float]
) -> np.ndarray:
    """Set a random fraction `rate` of pixels (or of channel values) to `fill` (a colour on the 8-bit
    scale, see `colour_value`)."""
    color, alpha = split_alpha(image)
    cv2.setRNGSeed(int(noise_seed))
    mask = cv_uniform(color.shape if per_channel or color.ndim == 2 else color.shape[:2]) < rate
    values = np.asarray(colour_value(fill, color), dtype=image.dtype)
    out = color.copy()
    if color.ndim == 2:
        out[mask] = values[0]
    elif mask.ndim == 2:
        out[mask] = values  # whole pixels: the colour
    else:
        np.copyto(out, np.broadcast_to(values, out.shape), where=mask)  # single values: their channel's
    return merge_alpha(out, alpha)
