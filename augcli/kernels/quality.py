"""Compression-artefact kernels: encode and decode in memory at a given quality.

The codecs are 8-bit, so a 16-bit image is reduced to 8 bits, compressed, and scaled back (x 257):
the result holds the artefacts and the 8-bit quantisation a real JPEG/WebP round trip would give.
Alpha is kept (not compressed).
"""

from __future__ import annotations

import cv2
import numpy as np

from augcli.kernels._common import merge_alpha, split_alpha

_QUALITY_FLAG = {".jpg": cv2.IMWRITE_JPEG_QUALITY, ".webp": cv2.IMWRITE_WEBP_QUALITY}


def _round_trip(image: np.ndarray, suffix: str, quality: int) -> np.ndarray:
    color, alpha = split_alpha(image)
    wide = color.dtype == np.uint16
    color8 = np.rint(color / 257.0).astype(np.uint8) if wide else color
    grey = color8.ndim == 2 or color8.shape[2] == 1
    ok, buffer = cv2.imencode(suffix, np.ascontiguousarray(color8), [_QUALITY_FLAG[suffix], int(quality)])
    if not ok:
        raise ValueError(f"OpenCV could not encode a {color8.shape} image as {suffix}")
    decoded = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if decoded.ndim == 2 and color8.ndim == 3:  # (H, W, 1) input
        decoded = decoded[:, :, None]
    out = decoded.astype(np.uint16) * np.uint16(257) if wide else decoded
    return merge_alpha(out, alpha)


def jpeg_compression(image: np.ndarray, *, quality: int) -> np.ndarray:
    """JPEG-encode at `quality` (1-100) and decode: blocking and ringing artefacts."""
    return _round_trip(image, ".jpg", quality)


def webp_compression(image: np.ndarray, *, quality: int) -> np.ndarray:
    """WebP-encode (lossy) at `quality` (1-100) and decode: blur and smearing artefacts."""
    return _round_trip(image, ".webp", quality)
