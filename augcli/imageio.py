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

import contextlib
import hashlib
import io
import os
import stat
import sys
import tempfile
import threading
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
    image, decoder_notes = _imdecode_noting_warnings(data)
    if image is None:
        raise ImageReadError(name, "corrupt", "truncated or corrupt image data")
    image = _normalise(image, name)
    notes = ([f"first frame of {frames}"] if frames > 1 else []) + decoder_notes
    return Decoded(apply_orientation(image, orientation), orientation, notes)


_STDERR = threading.Lock()  # fd 2 is process-wide: one capture at a time (threaded Dask workers)


def _imdecode_noting_warnings(data: bytes) -> tuple[np.ndarray | None, list[str]]:
    """cv2.imdecode, and for a JPEG the warnings libjpeg wrote while decoding it, as notes.

    A JPEG with corrupt entropy-coded data decodes to a damaged image without an error; libjpeg's only sign
    is a line on the process's stderr ("Corrupt JPEG data: 3283 extraneous bytes before marker 0xd9"), which
    OpenCV does not return. So fd 2 is pointed at a temporary file for the call and what was written there
    becomes a note on the row (and no longer lands in the middle of a progress bar)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    if not data.startswith(b"\xff\xd8"):  # only libjpeg warns this way
        return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED), []
    with _STDERR:
        capture = _capture_file()
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all (a daemon): nothing would have been seen anyway
            return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED), []
        os.ftruncate(capture, 0)
        os.dup2(capture, 2)
        try:
            image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        text = os.pread(capture, 4096, 0).decode("ascii", "replace")
    return image, [f"decoder warning: {line.strip()}" for line in text.splitlines() if line.strip()]


_capture: tuple[int, int] | None = None  # (pid, fd): one capture file per process, reused for every decode


def _capture_file() -> int:
    """This process's capture file (an unlinked temporary file): made once, not per image; a forked child
    makes its own, since a shared one would mix two processes' warnings."""
    global _capture
    if _capture is None or _capture[0] != os.getpid():
        handle = tempfile.TemporaryFile()  # noqa: SIM115  (kept open for the life of the process)
        _capture = (os.getpid(), os.dup(handle.fileno()))
        handle.close()
    return _capture[1]


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


def temporary_name(path: Path | str) -> Path:
    """The hidden name beside `path` a file is written under before the rename (resume.py sweeps these)."""
    return Path(_temporary(str(path)))


def _temporary(path: str) -> str:
    folder, name = os.path.split(path)
    temp = f".{name}.{os.getpid()}.tmp"
    if len(temp.encode("utf-8", "surrogateescape")) > 255:  # a final name near the limit still fits
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        temp = f".{digest}.{os.getpid()}.tmp"
    return os.path.join(folder, temp)


def write_atomic(path: Path | str, data: bytes) -> None:
    """Write to a hidden temporary file beside `path`, then rename: readers see all or nothing.

    Plain strings and os calls, not pathlib: this runs once per output, and pathlib's parsing was a
    measurable share of an identity recipe's overhead over the bare codec."""
    path = os.fspath(path)
    temp = _temporary(path)
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
