"""The one read/write policy for images, used by expand, preview and audit alike.

Reading: bytes are read by Python (cv2 segfaults on non-UTF-8 names and blocks on FIFOs), a Pillow
header probe enforces the pixel budget before any allocation and reads the EXIF orientation, then
cv2.imdecode(IMREAD_UNCHANGED) decodes keeping 16-bit depth and alpha. EXIF orientation is then
applied (policy: outputs are upright; the source's tag is recorded). imdecode returns None for a
truncated JPEG or PNG where imread would silently return a grey-filled image.

Writing: encode in memory, write to a hidden temporary name in the same folder, rename into place,
so a killed run never leaves a torn file under a final name.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from augcli.errors import ImageReadError

DEFAULT_MAX_PIXELS = 100_000_000
ENCODABLE = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
ORIENTATION_TAG = 0x0112

Image.MAX_IMAGE_PIXELS = None  # the budget is enforced below, with a clearer message


@dataclass
class Decoded:
    image: np.ndarray
    orientation: int = 1
    notes: list[str] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ImageReadError(str(path), "not_a_file", "not a regular file")
        if info.st_size == 0:
            raise ImageReadError(str(path), "empty", "zero-byte file")
        with open(path, "rb") as handle:
            return handle.read()
    except PermissionError as exc:
        raise ImageReadError(str(path), "unreadable", f"permission denied: {exc.strerror}") from None
    except FileNotFoundError:
        raise ImageReadError(str(path), "missing", "file disappeared") from None


def decode(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    orientation, frames = _probe(data, name, max_pixels)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageReadError(name, "corrupt", "truncated or corrupt image data")
    image = _normalise(image, name)
    notes = [f"first frame of {frames}"] if frames > 1 else []
    return Decoded(apply_orientation(image, orientation), orientation, notes)


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    return decode(read_bytes(path), str(path), max_pixels)


def _probe(data: bytes, name: str, max_pixels: int) -> tuple[int, int]:
    """Header-only check with Pillow: is this an image, is it within budget, how is it oriented."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise ImageReadError(name, "too_large", f"{width}x{height} exceeds the {max_pixels:,}-pixel limit")
                orientation = int(probe.getexif().get(ORIENTATION_TAG, 1) or 1)
                frames = int(getattr(probe, "n_frames", 1) or 1)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(name, "not_an_image", "not a recognised image format") from None
    except Exception as exc:  # Pillow raises many types for broken headers
        raise ImageReadError(name, "corrupt", f"unreadable header: {exc}") from None
    return (orientation if 1 <= orientation <= 8 else 1), frames


def _normalise(image: np.ndarray, name: str) -> np.ndarray:
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(name, "unsupported", f"pixel type {image.dtype} (8- and 16-bit images are supported)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 2:  # grey + alpha
        image = _gray_alpha_to_bgra(image)
    return np.ascontiguousarray(image)


def _gray_alpha_to_bgra(image: np.ndarray) -> np.ndarray:
    gray, alpha = image[:, :, 0], image[:, :, 1]
    return np.dstack([gray, gray, gray, alpha])


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Make the pixels upright according to an EXIF Orientation value (1-8)."""
    if orientation in (2, 4, 5, 7):
        image = image[:, ::-1]
    if orientation in (3, 4):
        image = image[::-1, ::-1]
    elif orientation in (6, 7):  # 7 is transverse: mirrored, then a quarter turn clockwise
        image = np.rot90(image, -1)
    elif orientation in (5, 8):  # 5 is transpose: mirrored, then a quarter turn counter-clockwise
        image = np.rot90(image, 1)
    return np.ascontiguousarray(image)


def output_suffix(source_suffix: str, fmt: str) -> str:
    """The extension an output gets: the recipe's format, or the source's own when it can be written."""
    if fmt != "keep":
        return "." + fmt
    suffix = source_suffix.lower()
    return suffix if suffix in ENCODABLE else ".png"


def encodable(image: np.ndarray, suffix: str) -> np.ndarray:
    """The image as a file of this type will hold it: JPEG, WebP and BMP are 8-bit; JPEG has no alpha."""
    suffix = suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return _drop_alpha(_to_8bit(image))
    if suffix in (".webp", ".bmp"):
        return _to_8bit(image)
    return image


def encode(image: np.ndarray, suffix: str, quality: int) -> bytes:
    """Encode for a file extension; call `encodable()` first to know what the file will hold."""
    suffix = suffix.lower()
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    elif suffix == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    ok, buffer = cv2.imencode(suffix, encodable(image, suffix), params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} {image.dtype} image as {suffix}")
    return buffer.tobytes()


def to_bit_depth(image: np.ndarray, bit_depth: str | int) -> np.ndarray:
    """The recipe's `bit_depth`: "keep" leaves 16-bit sources 16-bit, 8 converts them (rounding)."""
    return _to_8bit(image) if bit_depth == 8 else image


def _to_8bit(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return image


def _drop_alpha(image: np.ndarray) -> np.ndarray:
    return image[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else image


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a hidden temporary file beside `path`, then rename: readers see all or nothing."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
