"""Small charts drawn with OpenCV (Hershey fonts, nothing to download): a histogram for `augcli stats --plots`
and a bar chart with intervals for `augcli ablate`. Deterministic: the same numbers give the same PNG bytes
(for one OpenCV version)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
PAPER = (250, 250, 250)
INK = (25, 25, 25)
FAINT = (150, 150, 150)
BAR = (180, 120, 40)
BAR_LOW = (60, 60, 200)
WHISKER = (20, 20, 20)
BINS = 20


def _text(canvas: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.45, colour=INK) -> None:
    shown = text.encode("ascii", "replace").decode("ascii")
    cv2.putText(canvas, shown, origin, FONT, scale, colour, 1, cv2.LINE_AA)


def _width(text: str, scale: float = 0.45) -> int:
    return cv2.getTextSize(text.encode("ascii", "replace").decode("ascii"), FONT, scale, 1)[0][0]


def _number(value: float) -> str:
    return f"{value:.4g}"


def png(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR array
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


def histogram(values: Sequence[float], title: str, width: int = 560, height: int = 300) -> np.ndarray:
    """A histogram of `values` (BINS equal bins between their min and max; one bar when they are all equal)."""
    data = np.asarray(values, dtype=np.float64)
    canvas = np.full((height, width, 3), PAPER, np.uint8)
    left, right, top, bottom = 50, width - 20, 40, height - 40
    _text(canvas, title, (10, 22), 0.5)
    cv2.line(canvas, (left, bottom), (right, bottom), INK, 1)
    cv2.line(canvas, (left, top), (left, bottom), INK, 1)
    if data.size == 0:
        _text(canvas, "no values", (left + 10, (top + bottom) // 2))
        return canvas
    low, high = float(data.min()), float(data.max())
    counts, _ = np.histogram(data, bins=BINS if high > low else 1, range=(low, high) if high > low else None)
    most = int(counts.max())
    span = (right - left) / len(counts)
    for index, count in enumerate(counts):
        x0 = int(round(left + index * span)) + 1
        x1 = max(x0, int(round(left + (index + 1) * span)) - 1)
        y0 = int(round(bottom - (bottom - top) * count / most))
        if count:
            cv2.rectangle(canvas, (x0, y0), (x1, bottom - 1), BAR, cv2.FILLED)
    _text(canvas, str(most), (6, top + 5), 0.4)
    _text(canvas, "0", (36, bottom + 4), 0.4)
    _text(canvas, _number(low), (left, bottom + 18), 0.4)
    high_text = _number(high)
    _text(canvas, high_text, (right - _width(high_text, 0.4), bottom + 18), 0.4)
    _text(canvas, f"n={data.size}", ((left + right) // 2 - 20, bottom + 32), 0.4, FAINT)
    return canvas


def interval_bars(
    labels: Sequence[str],
    means: Sequence[float],
    intervals: Sequence[tuple[float, float]],
    title: str,
    flagged: Sequence[bool] = (),
    width: int = 720,
) -> np.ndarray:
    """Horizontal bars (one per label) with a whisker for each interval, and a line at zero."""
    rows = len(labels)
    row_height, top, label_width = 26, 44, 170
    height = top + rows * row_height + 36
    canvas = np.full((height, width, 3), PAPER, np.uint8)
    _text(canvas, title, (10, 24), 0.55)
    numbers = [v for v in means] + [v for pair in intervals for v in pair] + [0.0]
    numbers = [v for v in numbers if np.isfinite(v)]
    low, high = min(numbers), max(numbers)
    if high - low < 1e-9:
        low, high = low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    left, right = label_width, width - 20

    def x_of(value: float) -> int:
        return int(round(left + (right - left) * (value - low) / (high - low)))

    zero = x_of(0.0)
    cv2.line(canvas, (zero, top - 6), (zero, top + rows * row_height), FAINT, 1)
    for index, label in enumerate(labels):
        y = top + index * row_height
        _text(canvas, label[:24], (8, y + 17), 0.45)
        mean = means[index]
        if not np.isfinite(mean):
            _text(canvas, "no result", (left + 6, y + 17), 0.4, FAINT)
            continue
        colour = BAR_LOW if index < len(flagged) and flagged[index] else BAR
        x_mean = x_of(mean)
        cv2.rectangle(canvas, (min(zero, x_mean), y + 5), (max(zero, x_mean), y + row_height - 5), colour, cv2.FILLED)
        lo, hi = intervals[index]
        if np.isfinite(lo) and np.isfinite(hi):
            middle = y + row_height // 2
            cv2.line(canvas, (x_of(lo), middle), (x_of(hi), middle), WHISKER, 1)
            for edge in (lo, hi):
                cv2.line(canvas, (x_of(edge), middle - 5), (x_of(edge), middle + 5), WHISKER, 1)
    axis_y = top + rows * row_height + 4
    cv2.line(canvas, (left, axis_y), (right, axis_y), INK, 1)
    for value in (low + pad, 0.0, high - pad):
        text = _number(value)
        _text(canvas, text, (min(max(x_of(value) - _width(text, 0.4) // 2, left), right - 40), axis_y + 18), 0.4)
    return canvas
