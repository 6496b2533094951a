"""Kernels of the augmentation policies (RandAugment, TrivialAugment, AutoAugment, AugMix).

A policy step is a list of operations `{"op": name, "magnitude": value}` with torchvision's magnitudes
(torchvision.transforms.v2 `_AutoAugmentBase._apply_image_or_video_transform` is the reference for what
each one means). Existing kernels are used where their semantics are the same (rotation, posterize,
auto contrast, invert, the ColorJitter blends); PIL's definitions that no other kernel has are here:
Sharpness (blend with a smoothed copy whose border is the image), Solarize (invert values >= the
threshold, so a threshold of 1 still inverts white) and Equalize (PIL's ImageOps.equalize table).

Spatial operations warp every channel, alpha included, with a constant fill; pixel operations leave
alpha untouched. `op_matrix` gives each spatial operation's 3x3 map (pixel centres, input -> output).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, max_value, merge_alpha, split_alpha
from augcli.kernels.color import (
    apply_lut,
    jitter_brightness,
    jitter_contrast,
    jitter_saturation,
    levels,
)
from augcli.kernels.geometry import affine_matrix, warp_affine
from augcli.kernels.tone import auto_contrast, invert, posterize

SPATIAL_OPS = ("shear_x", "shear_y", "translate_x", "translate_y", "rotate")
PIXEL_OPS = (
    "identity",
    "brightness",
    "color",
    "contrast",
    "sharpness",
    "posterize",
    "solarize",
    "auto_contrast",
    "equalize",
    "invert",
)
OPS = SPATIAL_OPS + PIXEL_OPS

# PIL's ImageFilter.SMOOTH, the "degenerate" image ImageEnhance.Sharpness blends with.
SMOOTH_3x3 = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.float32) / 13.0


def op_matrix(op: str, magnitude: float, width: int, height: int) -> np.ndarray:
    """3x3 map of a spatial operation, input pixel centre -> output pixel centre (OpenCV's convention).

    Shears pivot on the image's top-left corner (torchvision passes center=[0, 0]; the corner is at
    (-0.5, -0.5) in pixel centres): ShearX maps x to x - m * (y + 0.5), as PIL's affine data
    (1, m, 0, 0, 1, 0) does for the official AutoAugment. Translations move by int(m) pixels (truncated,
    as torchvision does); rotations turn counter-clockwise about the centre."""
    m = float(magnitude)
    if op == "shear_x":
        rows = [[1.0, -m, -0.5 * m], [0.0, 1.0, 0.0]]
    elif op == "shear_y":
        rows = [[1.0, 0.0, 0.0], [-m, 1.0, -0.5 * m]]
    elif op == "translate_x":
        rows = [[1.0, 0.0, float(int(m))], [0.0, 1.0, 0.0]]
    elif op == "translate_y":
        rows = [[1.0, 0.0, 0.0], [0.0, 1.0, float(int(m))]]
    elif op == "rotate":
        return np.vstack([affine_matrix(width, height, angle=m), [0.0, 0.0, 1.0]])
    else:
        raise ValueError(f"{op!r} is not a spatial operation; expected one of {', '.join(SPATIAL_OPS)}")
    return np.array([*rows, [0.0, 0.0, 1.0]], dtype=np.float64)


def sharpness(image: np.ndarray, *, factor: float) -> np.ndarray:
    """PIL's ImageEnhance.Sharpness (torchvision's adjust_sharpness): blend with a 3x3-smoothed copy.

    out = factor * image + (1 - factor) * smoothed, where the smoothed copy keeps the image's own
    one-pixel border; 1 keeps the image, 0 gives the smoothed copy, above 1 sharpens. Images narrower
    or shorter than 3 pixels are all border and come back unchanged."""
    color, alpha = split_alpha(image)
    if factor == 1 or color.shape[0] < 3 or color.shape[1] < 3:
        return image.copy()
    smoothed = keep_shape(cv2.filter2D(color, -1, SMOOTH_3x3, borderType=cv2.BORDER_REPLICATE), color)
    degenerate = color.copy()
    degenerate[1:-1, 1:-1] = smoothed[1:-1, 1:-1]
    out = keep_shape(cv2.addWeighted(color, float(factor), degenerate, 1.0 - float(factor), 0.0), color)
    return merge_alpha(out, alpha)


def solarize_from(image: np.ndarray, *, threshold: float) -> np.ndarray:
    """PIL's / torchvision's solarize: invert every value >= threshold * white (a threshold of 1 inverts
    white only; 0 inverts everything)."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    lv = levels(image.dtype)
    lut = np.where(lv >= float(threshold) * white, white - lv, lv)
    return merge_alpha(apply_lut(color, lut), alpha)


def _equalize_plane_pil(plane: np.ndarray) -> np.ndarray:
    """PIL's ImageOps.equalize table for one plane: step = (pixels - count of the brightest value) // white,
    value v -> (pixels below v + step // 2) // step, clipped; a step of 0 keeps the plane."""
    white = int(max_value(plane.dtype))
    counts = np.bincount(plane.ravel(), minlength=white + 1).astype(np.int64)
    nonzero = counts[counts > 0]
    step = int(nonzero[:-1].sum()) // white
    if step == 0:
        return plane.copy()
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lut = np.clip((below + step // 2) // step, 0, white)
    return apply_lut(plane, lut)


def equalize_pil(image: np.ndarray) -> np.ndarray:
    """Histogram equalisation of each colour channel with PIL's table (torchvision's F.equalize)."""
    color, alpha = split_alpha(image)
    if color.ndim == 2:
        return merge_alpha(_equalize_plane_pil(color), alpha)
    planes = [_equalize_plane_pil(np.ascontiguousarray(color[:, :, c])) for c in range(color.shape[2])]
    return merge_alpha(keep_shape(cv2.merge(planes), color), alpha)


def _pixel(color: np.ndarray, op: str, m: float) -> np.ndarray:
    """A pixel operation on the colour part (no alpha)."""
    if op == "brightness":  # PIL: blend with black
        return jitter_brightness(color, 1.0 + m)
    if op == "color":  # PIL: blend with the pixel's grey
        return jitter_saturation(color, 1.0 + m)
    if op == "contrast":  # PIL: blend with the mean grey
        return jitter_contrast(color, 1.0 + m)
    if op == "sharpness":
        return sharpness(color, factor=1.0 + m)
    if op == "posterize":
        return posterize(color, bits=int(m))
    if op == "solarize":
        return solarize_from(color, threshold=m)
    if op == "auto_contrast":
        return auto_contrast(color)
    if op == "equalize":
        return equalize_pil(color)
    if op == "invert":
        return invert(color)
    raise ValueError(f"unknown policy operation {op!r}; expected one of {', '.join(OPS)}")


def apply_op(image: np.ndarray, op: str, magnitude: float, *, fill: Any = 0, interpolation: str = "nearest"):
    """One policy operation with torchvision's meaning of `magnitude` (factors are 1 + magnitude)."""
    if op == "identity":
        return image.copy()
    if op in SPATIAL_OPS:
        height, width = image.shape[:2]
        matrix = op_matrix(op, magnitude, width, height)[:2]
        return warp_affine(image, matrix, border_mode="constant", fill=fill, interpolation=interpolation)
    color, alpha = split_alpha(image)
    out = _pixel(color, op, float(magnitude))
    return merge_alpha(out.copy() if out is color else out, alpha)


def run_ops(image: np.ndarray, ops: list[dict[str, Any]], *, fill: Any = 0, interpolation: str = "nearest"):
    """Apply recorded operations in order; an empty list gives a copy."""
    out = image
    for step in ops:
        out = apply_op(out, step["op"], step["magnitude"], fill=fill, interpolation=interpolation)
    return np.ascontiguousarray(out) if out is not image else image.copy()


def aug_mix(
    image: np.ndarray,
    *,
    weights: list[float],
    chains: list[list[dict[str, Any]]],
    fill: Any = 0,
    interpolation: str = "linear",
) -> np.ndarray:
    """AugMix: weights[0] * image + sum_i weights[i + 1] * chain_i(image), rounded to the image's type.

    (torchvision truncates the mixed values towards zero; rounding here keeps a pure-identity mix exact.)"""
    if len(weights) != len(chains) + 1:
        raise ValueError(f"aug_mix needs one weight for the image and one per chain, got {len(weights)}")
    mixed = image.astype(np.float64) * float(weights[0])
    for weight, chain in zip(weights[1:], chains, strict=True):
        mixed += run_ops(image, chain, fill=fill, interpolation=interpolation).astype(np.float64) * float(weight)
    white = max_value(image.dtype)
    return np.clip(np.rint(mixed), 0, white).astype(image.dtype)
