"""Shared helpers for kernels: border modes, dtype ranges, alpha handling, 8-bit table lookups."""

from __future__ import annotations

import cv2
import numpy as np

try:  # SIMD byte translation for `lut` (~4.5x cv2.LUT's scalar loop); ~1 ms to import
    import stringzilla as _sz
except ImportError:  # an install without it gets cv2.LUT: the same bytes, slower
    _sz = None

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


_WHITE: dict[object, float] = {}


def max_value(dtype: np.dtype) -> float:
    """The white level of an integer image type (255 or 65535); 1.0 for float images.

    Remembered per type: np.issubdtype and np.iinfo cost ~10 us a call, more than a small kernel's work."""
    white = _WHITE.get(dtype)
    if white is None:
        white = float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0
        _WHITE[dtype] = white
    return white


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


# BT.601 luma weights in OpenCV's channel order (blue, green, red), as cv2.COLOR_BGR2GRAY uses them.
_LUMA_BGR = (0.114, 0.587, 0.299)


def colour_levels(colour: float | list[float], n: int) -> list[float]:
    """A colour given on the 8-bit scale, as one value per channel of an n-channel image (unscaled).

    One number (or a one-value list) is every channel, alpha included. A list is blue, green, red and
    optionally alpha: a colour image takes the first three and alpha is opaque (255) unless given; a
    grey image takes the colour's BT.601 luma, as grayscale() would make of it."""
    values = [float(colour)] if isinstance(colour, (int, float)) else [float(v) for v in colour]
    if len(values) not in (1, 3, 4):
        raise ValueError(f"a colour is one value or 3 (blue, green, red) or 4 (and alpha), got {len(values)}")
    if len(values) == 1:
        return values * n
    if n < 3:
        return [sum(w * v for w, v in zip(_LUMA_BGR, values[:3], strict=True))] * n
    return (values + [255.0])[:n] if len(values) == 3 else values[:n]


def colour_value(colour: float | list[float], image: np.ndarray) -> tuple[float, ...]:
    """A colour given on the 8-bit scale (0-255) as one value per channel of `image`, in its type.

    The scale is the 8-bit one at every depth, so 128 is mid-grey on 16-bit images too (x 257). Values
    are rounded and clipped into the type's range, never wrapped (the recipe already rejects values
    outside 0-255). Channel rules: `colour_levels`."""
    white = max_value(image.dtype)
    scale = white / 255.0
    levels = colour_levels(colour, channels(image))
    if image.dtype in _INTEGER_RANGES:  # plain floats: round() is half to even like np.rint, same values
        low, high = _INTEGER_RANGES[image.dtype]
        return tuple(float(min(max(round(v * scale), low), high)) for v in levels)
    scaled = np.asarray(levels, dtype=np.float64) * scale
    return tuple(float(v) for v in to_dtype(scaled, image.dtype))


_INTEGER_RANGES = {np.dtype(np.uint8): (0, 255), np.dtype(np.uint16): (0, 65535)}


def fill_value(fill: float | list[float], image: np.ndarray) -> tuple[float, ...]:
    """`colour_value` padded to the four values OpenCV's borderValue takes."""
    values = list(colour_value(fill, image))
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


def single_pixel_safe(image: np.ndarray, flags: int, border: int) -> np.ndarray:
    """The source a warp may read: OpenCV's bicubic warps (warpAffine, warpPerspective, remap) loop forever
    on BORDER_REFLECT_101 when an axis is one pixel long (1x1, 1xN, Nx1 images). Repeating that pixel
    once gives two equal rows (or columns): every reflected read returns the same values, so the result
    is the one a single pixel defines, and the warp ends. The output size is the warp's own, not this."""
    if flags != cv2.INTER_CUBIC or border != cv2.BORDER_REFLECT_101 or min(image.shape[:2]) > 1:
        return image
    if image.shape[0] == 1:
        image = np.concatenate([image, image], axis=0)
    if image.shape[1] == 1:
        image = np.concatenate([image, image], axis=1)
    return image


def lut_is_fast(image: np.ndarray) -> bool:
    """Whether `lut` takes its SIMD path for this image (an 8-bit lookup then beats most arithmetic)."""
    return _sz is not None and image.dtype == np.uint8 and image.flags.c_contiguous


def lut(image: np.ndarray, table: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Every value of an 8-bit image mapped through a uint8 table: the bytes of cv2.LUT.

    `table` is (256,) for every channel or (256, C) with one column per channel of a (H, W, C) image.
    A C-contiguous image goes through stringzilla's SIMD byte translation (~4.5x faster than cv2.LUT's
    scalar loop on a 500x375 BGR photo; per-channel tables split, translate and merge, ~1.4x); other
    layouts, or an install without stringzilla, take cv2.LUT. `inplace` writes into `image` itself
    (one-table contiguous case) and is only for callers that own the array, never a kernel's input."""
    if table.ndim == 2 and table.shape[1] == 1:
        table = table[:, 0]
    table = np.ascontiguousarray(table, dtype=np.uint8)
    if image.size == 0:
        return image if inplace else image.copy()
    if not lut_is_fast(image):  # cv2.LUT also refuses what is not 8-bit (16-bit images keep their own path)
        if table.ndim == 2:
            table = table.reshape(256, 1, table.shape[1])
        return keep_shape(cv2.LUT(image, table), image)  # cv2 drops a trailing single channel axis
    if table.ndim == 1:
        if inplace and image.flags.writeable:
            _sz.translate(memoryview(image), memoryview(table), inplace=True)
            return image
        out = np.empty_like(image)
        _sz.translate(memoryview(image), memoryview(table), out=memoryview(out))
        return out
    planes = list(cv2.split(image))  # fresh arrays: translated in place
    for index, plane in enumerate(planes):
        _sz.translate(memoryview(plane), memoryview(np.ascontiguousarray(table[:, index])), inplace=True)
    return keep_shape(cv2.merge(planes), image)
