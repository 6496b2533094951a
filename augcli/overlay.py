"""Targets drawn over a picture for people to check: mask labels tinted, polygons outlined, boxes with names.

Used by `augcli preview` (the sheet and the HTML page) on annotated datasets, so a user sees at a glance
whether the boxes and masks still sit on their objects after the recipe's steps.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

# Distinct, readable colours (BGR), cycled by class id; the ignore label is drawn grey.
PALETTE = [
    (60, 180, 75), (48, 130, 245), (200, 130, 0), (25, 225, 255), (180, 30, 145),
    (240, 240, 70), (75, 25, 230), (230, 50, 240), (128, 128, 0), (0, 128, 128),
]  # fmt: skip
IGNORE_COLOUR = (128, 128, 128)


def colour(category: int) -> tuple[int, int, int]:
    return PALETTE[category % len(PALETTE)]


def draw(picture: np.ndarray, targets: Any, names: list[str], ignore: int | None = 255) -> np.ndarray:
    """`picture` (8-bit BGR, the displayable image) with `targets` drawn on a copy."""
    out = picture.copy()
    scale = max(1, round(max(out.shape[:2]) / 400))
    if targets.mask is not None:
        out = _tint(out, targets.mask, ignore)
    for instance in targets.instances:
        tone = colour(instance.category)
        for polygon in instance.polygons:
            ring = np.round(np.asarray(polygon, dtype=np.float64).reshape(-1, 2) * 16).astype(np.int32)
            cv2.polylines(out, [ring], True, tone, scale, cv2.LINE_AA, 4)
        x0, y0, x1, y1 = (round(v) for v in instance.box)
        cv2.rectangle(out, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), tone, scale, cv2.LINE_AA)
        name = names[instance.category] if 0 <= instance.category < len(names) else str(instance.category)
        _label(out, name, (x0, y0), tone, scale)
    return out


def _tint(picture: np.ndarray, mask: np.ndarray, ignore: int | None) -> np.ndarray:
    tint = np.zeros_like(picture)
    for value in np.unique(mask):
        if value == 0:
            continue  # background stays as it is
        tint[mask == value] = IGNORE_COLOUR if value == ignore else colour(int(value))
    covered = (mask != 0)[:, :, None]
    blended = cv2.addWeighted(picture, 0.55, tint, 0.45, 0)
    return np.where(covered, blended, picture)


def _label(picture: np.ndarray, text: str, corner: tuple[int, int], tone, scale: int) -> None:
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale
    (width, height), base = cv2.getTextSize(text, font, size, 1)
    x, y = max(0, corner[0]), max(height + base, corner[1])
    cv2.rectangle(picture, (x, y - height - base), (x + width + 2, y), tone, -1)
    cv2.putText(picture, text, (x + 1, y - base), font, size, (255, 255, 255), 1, cv2.LINE_AA)
