"""Draw a contact sheet: rows of tiles, each with a caption strip under it. OpenCV only (Hershey fonts,
nothing to download); the result is a deterministic 8-bit BGR array.

Sources of any kind (grey, 16-bit, with alpha) are converted for display here only; the tile files
themselves are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from augcli.textsafe import printable

SHEET_WIDTH = 1600  # fits a typical laptop screen at 100 %
MARGIN = 16
GAP = 12
FONT = cv2.FONT_HERSHEY_SIMPLEX
SCALE = 0.5
LINE = 19  # pixels per caption line at SCALE
TITLE_SCALE = 0.65
TITLE_HEIGHT = 40
PAPER = (250, 250, 250)
INK = (25, 25, 25)
FAINT = (95, 95, 95)
TILE_BACK = (60, 60, 60)
CHECKER = ((200, 200, 200), (150, 150, 150))


def default_tile_size(columns: int) -> int:
    return int(np.clip((SHEET_WIDTH - 2 * MARGIN - (columns - 1) * GAP) // max(columns, 1), 96, 360))


def draw_sheet(rows: Sequence[Sequence[Any]], title: str, tile_size: int | None = None) -> np.ndarray:
    """`rows` of tiles (objects with `.image` and `.caption` lines) -> one BGR uint8 image."""
    columns = max((len(r) for r in rows), default=1)
    size = tile_size or default_tile_size(columns)
    width = max(2 * MARGIN + columns * size + (columns - 1) * GAP, 480)
    title_lines = wrap(title, width - 2 * MARGIN, TITLE_SCALE)
    blocks = []
    for row in rows:
        captions = [wrap_lines(tile.caption, size - 8) for tile in row]
        lines = max((len(c) for c in captions), default=0)
        block = np.full((size + 8 + lines * LINE + GAP, width, 3), PAPER, np.uint8)
        for index, (tile, caption) in enumerate(zip(row, captions, strict=True)):
            x = MARGIN + index * (size + GAP)
            block[0:size, x : x + size] = fit(
                tile.overlay if getattr(tile, "overlay", None) is not None else displayable(tile.image), size
            )
            for number, (text, bold) in enumerate(caption):
                colour = INK if bold or not text.startswith(" ") else FAINT  # wrapped parameter lines are greyer
                put(block, text, (x + 2, size + 4 + (number + 1) * LINE - 5), SCALE, colour, 2 if bold else 1)
        block[-2:, MARGIN : width - MARGIN] = (210, 210, 210)  # a rule between rows
        blocks.append(block)
    head = np.full((TITLE_HEIGHT + (len(title_lines) - 1) * 24 + MARGIN, width, 3), (40, 40, 40), np.uint8)
    for number, text in enumerate(title_lines):
        put(head, text, (MARGIN, 27 + number * 24), TITLE_SCALE, (245, 245, 245), 1)
    pad = np.full((MARGIN, width, 3), PAPER, np.uint8)
    return np.vstack([head, pad, *blocks]) if blocks else head


def put(canvas: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour, thickness: int) -> None:
    cv2.putText(canvas, _ascii(text), origin, FONT, scale, colour, thickness, cv2.LINE_AA)


def text_width(text: str, scale: float = SCALE, thickness: int = 1) -> int:
    return cv2.getTextSize(_ascii(text), FONT, scale, thickness)[0][0]


def wrap_lines(lines: Sequence[str], width: int) -> list[tuple[str, bool]]:
    """Wrap each caption line to `width` pixels (continuation lines are indented); the first line is bold."""
    out = []
    for number, line in enumerate(lines):
        out.extend((text, number == 0) for text in wrap(line, width, SCALE, 2 if number == 0 else 1))
    return out


def wrap(text: str, width: int, scale: float, thickness: int = 1) -> list[str]:
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, scale, thickness) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = "  " + word
        while text_width(current, scale, thickness) > width and len(current) > 4:  # one very long word
            cut = len(current) - 1
            while cut > 3 and text_width(current[:cut], scale, thickness) > width:
                cut -= 1
            lines.append(current[:cut])
            current = "  " + current[cut:]
    lines.append(current)
    return lines


def displayable(image: np.ndarray) -> np.ndarray:
    """8-bit BGR for the sheet: 16-bit scaled down, grey expanded, alpha over a checkerboard."""
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        back = checkerboard(image.shape[0], image.shape[1]).astype(np.float32)
        return np.round(image[:, :, :3] * alpha + back * (1.0 - alpha)).astype(np.uint8)
    return image


def checkerboard(height: int, width: int, cell: int = 8) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    dark = ((y // cell + x // cell) % 2).astype(bool)
    board = np.empty((height, width, 3), np.uint8)
    board[~dark], board[dark] = CHECKER[0], CHECKER[1]
    return board


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """The image scaled to fit a size x size box, keeping its aspect ratio, centred on a dark tile."""
    tile = np.full((size, size, 3), TILE_BACK, np.uint8)
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST  # enlarging shows the real pixels
    resized = cv2.resize(image, (new_w, new_h), interpolation=method)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    tile[top : top + new_h, left : left + new_w] = resized
    return tile


def encode_png(image: np.ndarray, colors: int | None = None) -> bytes:
    """PNG bytes; with `colors`, a palette image of at most that many colours (median cut, no dither):
    photos' noise makes full-colour sheets large, and a palette sheet is 4-5x smaller for docs."""
    if colors:
        import io

        from PIL import Image

        rgb = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
        buffer = io.BytesIO()
        rgb.quantize(colors, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
        return buffer.getvalue()
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - an 8-bit BGR array always encodes
        raise ValueError("could not encode the sheet as PNG")
    return encoded.tobytes()


def _ascii(text: str) -> str:
    """Hershey fonts draw ASCII only; other characters (file names in any script) become '?'. Control
    characters and undecodable bytes are shown as escapes first (a newline would be drawn as '?')."""
    return printable(text).encode("ascii", "replace").decode("ascii")
