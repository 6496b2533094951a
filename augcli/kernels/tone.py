"""Tone kernels: per-value curves (mostly lookup tables) and small sharpening filters.

Every curve is defined on values as a fraction of white, so 8-bit and 16-bit images get the same
look; 8-bit images go through `_common.lut` (cv2.LUT's bytes). Alpha passes through untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import keep_shape, lut, lut_is_fast, max_value, merge_alpha, split_alpha
from augcli.kernels.color import apply_lut, is_colour, levels


def _curve(image: np.ndarray, curve) -> np.ndarray:
    """Apply `curve(values_as_fraction_of_white) -> fraction` to every colour value via a table."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    lut = curve(levels(image.dtype) / white)
    lut *= white  # in place: the same values as clip(rint(curve * white)), without three temporaries
    return merge_alpha(apply_lut(color, np.clip(np.rint(lut, out=lut), 0, white, out=lut)), alpha)


def gamma(image: np.ndarray, *, gamma: float) -> np.ndarray:
    """out = white * (in / white) ** gamma; gamma < 1 brightens, 1 keeps."""
    if gamma == 1:
        return image.copy()
    return _curve(image, lambda x: np.power(x, gamma))


def invert(image: np.ndarray) -> np.ndarray:
    """out = white - in (a bitwise not, for unsigned images)."""
    color, alpha = split_alpha(image)
    return merge_alpha(np.invert(color), alpha)  # numpy's SIMD not: a little faster than cv2.bitwise_not here


def posterize(image: np.ndarray, *, bits: int) -> np.ndarray:
    """Keep the top `bits` bits: 2**bits levels on any bit depth (8 keeps an 8-bit image)."""
    color, alpha = split_alpha(image)
    depth = color.dtype.itemsize * 8
    mask = ((1 << depth) - 1) ^ ((1 << (depth - bits)) - 1)
    return merge_alpha(np.bitwise_and(color, color.dtype.type(mask)), alpha)


_BYTE_VALUES = np.arange(256)  # int: a threshold of -1 (flip everything) compares as it should


def solarize(image: np.ndarray, *, threshold: float) -> np.ndarray:
    """Invert the values above `threshold` (a fraction of white); 1 keeps the image."""
    if image.dtype != np.uint8:
        return _curve(image, lambda x: np.where(x > threshold, 1.0 - x, x))
    # 8-bit: white - v is v XOR 255, so the curve is v XOR (255 where v > t else 0). t is the last level
    # the curve keeps, found with the same float comparison the table would make.
    color, alpha = split_alpha(image)
    last_kept = int(np.count_nonzero(levels(image.dtype) / 255.0 <= threshold)) - 1
    if lut_is_fast(color):  # one SIMD byte lookup, ~1.5x faster than the two passes below
        return merge_alpha(lut(color, np.where(last_kept < _BYTE_VALUES, 255 - _BYTE_VALUES, _BYTE_VALUES)), alpha)
    # Otherwise two SIMD passes (threshold, xor) beat cv2.LUT's scalar lookup per value.
    _, flip = cv2.threshold(color, last_kept, 255, cv2.THRESH_BINARY)
    # Written into the mask's own buffer: a second fresh full-size array cost as much as the xor itself.
    return merge_alpha(keep_shape(cv2.bitwise_xor(color, flip, dst=flip), color), alpha)


def tone_curve(image: np.ndarray, *, low_shift: float, high_shift: float) -> np.ndarray:
    """A cubic Bezier tone curve through (0, 0) and (1, 1) with control points (1/3, 1/3 + low_shift)
    and (2/3, 2/3 + high_shift): zero shifts give the identity exactly."""
    low, high = 1 / 3 + low_shift, 2 / 3 + high_shift
    # x(t) = t because the control x's are at thirds, so y = 3(1-t)^2 t low + 3(1-t) t^2 high + t^3, which is
    # a t + b t^2 + c t^3 below, evaluated by Horner in place (2.4x faster; the same table for 100,000
    # random shift pairs).
    a, b, c = 3 * low, 3 * high - 6 * low, 1 + 3 * low - 3 * high

    def curve(t: np.ndarray) -> np.ndarray:
        y = t * c
        y += b
        y *= t
        y += a
        y *= t
        return y

    return _curve(image, curve)


def _planes(color: np.ndarray, by_channels: bool, op) -> np.ndarray:
    """Run a single-plane op on every channel, or on the luma (YCrCb's Y) of a colour image."""
    if color.ndim == 2:
        return op(color)
    if by_channels or not is_colour(color):
        planes = [op(np.ascontiguousarray(color[:, :, c])) for c in range(color.shape[2])]
        return keep_shape(cv2.merge(planes), color)  # (H, W, 1) stays three-dimensional
    ycc = cv2.cvtColor(color, cv2.COLOR_BGR2YCrCb)
    ycc[:, :, 0] = op(np.ascontiguousarray(ycc[:, :, 0]))
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)


def _equalize_plane(plane: np.ndarray) -> np.ndarray:
    if plane.dtype == np.uint8:
        # Not rebuilt as a table for `lut`: cv2.calcHist + the SIMD lookup measured ~10% slower than
        # equalizeHist, whose own histogram is faster than calcHist's.
        return cv2.equalizeHist(plane)
    white = int(max_value(plane.dtype))
    cdf = np.cumsum(np.bincount(plane.ravel(), minlength=white + 1))
    low = cdf[np.flatnonzero(cdf)[0]]
    if cdf[-1] == low:  # one value only: nothing to spread
        return plane.copy()
    table = np.clip(np.rint((cdf - low) * white / (cdf[-1] - low)), 0, white)
    return table.astype(plane.dtype)[plane]


def equalize(image: np.ndarray, *, by_channels: bool = True) -> np.ndarray:
    """Histogram equalisation of each channel (or of the luma only, keeping hues)."""
    color, alpha = split_alpha(image)
    return merge_alpha(_planes(color, by_channels, _equalize_plane), alpha)


def clahe(image: np.ndarray, *, clip_limit: float, tiles: int) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of the luma (YCrCb's Y; grey: the image).

    OpenCV's 16-bit CLAHE counts 65,536 bins, so the same clip limit means something else there (a
    photo came out half as changed, or twice as much with sub-8-bit detail). A 16-bit plane therefore
    takes the change CLAHE makes to its 8-bit version, scaled by 257, and keeps its own fine detail:
    an 8-bit image widened to 16 bits gets exactly the 8-bit result."""
    color, alpha = split_alpha(image)
    engine = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles))

    def plane_op(plane: np.ndarray) -> np.ndarray:
        if plane.dtype == np.uint8:
            return engine.apply(plane)
        coarse = np.rint(plane / 257.0).astype(np.uint8)
        change = engine.apply(coarse).astype(np.int32) - coarse
        return np.clip(plane.astype(np.int32) + change * 257, 0, 65535).astype(np.uint16)

    return merge_alpha(_planes(color, False, plane_op), alpha)


def auto_contrast(image: np.ndarray, *, cutoff: float = 0.0, by_channels: bool = True) -> np.ndarray:
    """Stretch each channel (or all together) so its darkest value becomes black and its brightest white,
    ignoring `cutoff` percent of pixels at each end (PIL's ImageOps.autocontrast)."""
    color, alpha = split_alpha(image)
    white = max_value(image.dtype)
    n = 1 if color.ndim == 2 else color.shape[2]
    lv = levels(image.dtype)
    if by_channels:
        bounds = [_limits(_histogram(color, c), cutoff) for c in range(n)]
    else:
        bounds = [_limits(sum(_histogram(color, c) for c in range(n)), cutoff)] * n
    columns = []
    for low, high in bounds:
        if high <= low:
            columns.append(lv)
        else:
            columns.append(np.clip(np.rint((lv - low) * white / (high - low)), 0, white))
    lut = np.stack(columns, axis=1)
    return merge_alpha(apply_lut(color, lut if n > 1 else lut[:, 0]), alpha)


def _histogram(color: np.ndarray, channel: int) -> np.ndarray:
    """Counts of every value of one channel (cv2.calcHist reads a channel in place for 8-bit)."""
    if color.dtype == np.uint8:
        counts = cv2.calcHist([color], [channel], None, [256], [0, 256])
        return counts.ravel().astype(np.int64)
    plane = color if color.ndim == 2 else color[:, :, channel]
    return np.bincount(plane.ravel(), minlength=int(max_value(color.dtype)) + 1)


def _limits(counts: np.ndarray, cutoff: float) -> tuple[float, float]:
    """The lowest and highest values once `cutoff` percent of the pixels are ignored at each end."""
    cdf = np.cumsum(counts)
    skip = cdf[-1] * cutoff / 100.0
    low = int(np.searchsorted(cdf, skip, side="right"))
    high = int(np.searchsorted(cdf, cdf[-1] - skip, side="left"))
    return float(low), float(high)


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    color, alpha = split_alpha(image)
    out = cv2.filter2D(color, -1, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT_101)
    return merge_alpha(keep_shape(out, color), alpha)


IDENTITY_3x3 = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64)


def sharpen(image: np.ndarray, *, alpha: float, lightness: float) -> np.ndarray:
    """imgaug's Sharpen: blend the identity kernel with a Laplacian sharpening kernel by `alpha`."""
    if alpha == 0:
        return image.copy()
    effect = np.array([[-1, -1, -1], [-1, 8 + lightness, -1], [-1, -1, -1]], dtype=np.float64)
    return _filter(image, (1 - alpha) * IDENTITY_3x3 + alpha * effect)


def emboss(image: np.ndarray, *, alpha: float, strength: float) -> np.ndarray:
    """imgaug's Emboss: blend the identity kernel with a directional relief kernel by `alpha`."""
    if alpha == 0:
        return image.copy()
    s = strength
    effect = np.array([[-1 - s, -s, 0], [-s, 1, s], [0, s, 1 + s]], dtype=np.float64)
    return _filter(image, (1 - alpha) * IDENTITY_3x3 + alpha * effect)
