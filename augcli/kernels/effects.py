"""Procedural surface effects: spatter (rain drops or mud on the lens) and frost. No texture files.

Like the weather kernels they work on colour as floats in [0, 1] of the type's white, so 8-bit, 16-bit and grey
images get the same look, carry alpha through, and draw their random layout from a recorded `noise_seed`.
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import colour_levels, max_value, merge_alpha, split_alpha, to_dtype
from augcli.kernels.blur import gaussian_blur, motion_kernel
from augcli.kernels.weather import _blur, _smooth_noise

# Spatter colours on the 8-bit scale, (blue, green, red): a pale blue-grey film of water, brown mud.
SPATTER_COLOURS = {"rain": (175.0, 238.0, 238.0), "mud": (20.0, 42.0, 63.0)}
_RAIN_TINT = 0.3  # share of the drop colour in a rain drop; the rest is the blurred scene seen through it
_MUD_TEXTURE = 0.15  # share of the scene showing through mud
FROST_COLOUR = (250.0, 242.0, 230.0)  # blue-white ice, (blue, green, red) on the 8-bit scale
_FROST_ANGLES = 4  # crystal needle directions


def _unit(color: np.ndarray) -> np.ndarray:
    return color.astype(np.float32) / np.float32(max_value(color.dtype))


def _tone(colour: tuple[float, float, float], color: np.ndarray) -> np.ndarray:
    """A colour on the 8-bit scale as a [0, 1] value per channel of `color` (grey takes its luma)."""
    n = 1 if color.ndim == 2 else color.shape[2]
    levels = np.asarray(colour_levels(list(colour), n), dtype=np.float32) / np.float32(255.0)
    return levels[0] if color.ndim == 2 else levels


def _composite(color: np.ndarray, layer: np.ndarray, weight: np.ndarray, dtype) -> np.ndarray:
    """color * (1 - weight) + layer * weight on [0, 1] values, back in the image type."""
    w = weight if color.ndim == 2 else weight[:, :, None]
    return to_dtype((color * (1 - w) + layer * w) * np.float32(max_value(dtype)), dtype)


def spatter_mask(height: int, width: int, *, size: float, cutout: float, noise_seed: int) -> np.ndarray:
    """Blobs in [0, 1]: Gaussian noise smoothed with sigma `size` x the shorter side, kept where it is above
    its `cutout` quantile (so about 1 - cutout of the surface is covered), with soft edges."""
    rng = np.random.default_rng(noise_seed)
    noise = rng.standard_normal((height, width)).astype(np.float32)
    smooth = _blur(noise, max(0.5, size * min(height, width)))  # wide blurs run on a reduced copy
    threshold = np.float32(np.quantile(smooth, cutout))
    soft = np.float32(max(float(smooth.std()), 1e-6) * 0.25)
    return np.clip((smooth - threshold) / soft, 0, 1)


def spatter(
    image: np.ndarray, *, mode: str, intensity: float, cutout: float, size: float, noise_seed: int
) -> np.ndarray:
    """Rain drops or mud splashes on the lens (albumentations' Spatter, after Hendrycks & Dietterich 2019):
    blobs from `spatter_mask`; inside them `rain` shows the scene blurred and tinted pale blue, `mud` covers
    it with brown. `intensity` is the blobs' opacity (0 keeps the image)."""
    if mode not in SPATTER_COLOURS:
        raise ValueError(f"spatter mode must be rain or mud, got {mode!r}")
    if intensity == 0:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    mask = spatter_mask(height, width, size=size, cutout=cutout, noise_seed=noise_seed)
    values = _unit(color)
    tone = _tone(SPATTER_COLOURS[mode], color)
    if mode == "rain":
        seen = gaussian_blur(values, sigma=max(1.0, 0.01 * min(height, width)))
        layer = seen * np.float32(1 - _RAIN_TINT) + tone * np.float32(_RAIN_TINT)
    else:
        layer = values * np.float32(_MUD_TEXTURE) + tone * np.float32(1 - _MUD_TEXTURE)
    weight = mask * np.float32(intensity)
    return merge_alpha(_composite(values, layer, weight, image.dtype), alpha)


def frost_texture(height: int, width: int, *, crystal: float, noise_seed: int) -> np.ndarray:
    """Ice in [0, 1]: sparse seeds smeared into needles `crystal` x the shorter side long along a few random
    directions (`blur.motion_kernel`), thicker towards the border as frost grows on a pane, under patchy
    low-frequency density."""
    rng = np.random.default_rng(noise_seed)
    seeds = (rng.random((height, width), dtype=np.float32) < 0.02).astype(np.float32)
    length = max(3, round(crystal * min(height, width)))
    needles = np.zeros((height, width), np.float32)
    for angle in rng.uniform(0, 180, _FROST_ANGLES):
        kernel = motion_kernel(length, float(angle)) * np.float32(length)  # each needle peaks near 1
        needles += cv2.filter2D(seeds, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    needles = np.clip(needles, 0, 1)
    patches = _smooth_noise(height, width, 3, rng)
    ys = np.abs(np.linspace(-1, 1, height, dtype=np.float32))[:, None]
    xs = np.abs(np.linspace(-1, 1, width, dtype=np.float32))[None, :]
    border = np.maximum(ys, xs) ** 2  # 0 at the centre, 1 on the edges
    haze = 0.35 * patches + 0.35 * border
    return np.clip(haze + needles * (0.4 + 0.6 * patches), 0, 1)


def frost(image: np.ndarray, *, intensity: float, crystal: float, noise_seed: int) -> np.ndarray:
    """Frosted window pane: blend towards blue-white ice by `intensity` times `frost_texture` (0 keeps the
    image)."""
    if intensity == 0:
        return image.copy()
    color, alpha = split_alpha(image)
    height, width = color.shape[:2]
    texture = frost_texture(height, width, crystal=crystal, noise_seed=noise_seed)
    values = _unit(color)
    weight = texture * np.float32(intensity)
    return merge_alpha(_composite(values, _tone(FROST_COLOUR, color), weight, image.dtype), alpha)
