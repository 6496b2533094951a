"""Shared helpers for kernels: border modes, dtype ranges, alpha handling."""

from __future__ import annotations

import cv2
import numpy as np

# Names follow numpy.pad; OpenCV's names differ (numpy "reflect" excludes the edge pixel, which is
# OpenCV's REFLECT_101; numpy "symmetric" repeats it, which is OpenCV's REFLECT).
BORDER_MODES = {
    "constant": cv2.BORDER_CONSTANT,
    "edge": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT_101,
    "symmetric": cv2.BORDER_REFLECT,
    "wrap": cv2.BORDER_WRAP,
}

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}


def max_value(dtype: np.dtype) -> float:
    """The white level of an integer image type (255 or 65535); 1.0 for float images."""
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def channels(image: np.ndarray) -> int:
    return 1 if image.ndim == 2 else image.shape[2]


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour part and alpha plane; colour kernels work on the first and carry the second through."""
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, :3], image[:, :, 3]
    return image, None


def merge_alpha(color: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    if alpha is None:
        return color
    return np.dstack([color, alpha])


def fill_value(fill: float | list[float], image: np.ndarray) -> tuple[float, ...]:
    """A scalar fill for every channel, or a per-channel list (padded with the last value)."""
    n = channels(image)
    values = [float(fill)] * n if isinstance(fill, (int, float)) else [float(v) for v in fill]
    values = (values + [values[-1]] * n)[:n]
    return tuple(values + [0.0] * (4 - len(values)))


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Round and clip float results back into the image's integer range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def keep_shape(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """OpenCV drops a trailing single channel axis; restore the input's layout."""
    if like.ndim == 3 and result.ndim == 2:
        return result[:, :, None]
    return result


def warp_fast(warp, image: np.ndarray, flags: int) -> np.ndarray:
    """Run an OpenCV warp (a function of the image) the fastest bit-identical way.

    OpenCV's bilinear warpAffine / warpPerspective / remap have a SIMD path for 4 channels but not for 3:
    warping BGR as BGRA and dropping the extra channel is ~1.8x faster and gives the same bytes (each
    channel is interpolated on its own with the same weights). Other interpolations are not faster so."""
    if flags == cv2.INTER_LINEAR and image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(warp(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)), cv2.COLOR_BGRA2BGR)
    return warp(image)
