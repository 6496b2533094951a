"""COCO run-length masks: decode to a label array and encode back, without pycocotools.

A COCO RLE lists alternating run lengths of 0s and 1s (starting with 0s) over the mask read in COLUMN-major
order. Its compressed `counts` string (pycocotools' rleToString) stores each run as the difference to the run
two back (for runs after the second), in 5-bit groups, low group first, each offset by 48 into printable
ASCII, bit 0x20 meaning "more groups follow" and bit 0x10 of the last group the sign. Uncompressed RLE keeps
`counts` as a plain list of ints (COCO's iscrowd annotations are stored that way); both are decoded.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """H x W uint8 array of 0/1. Raises ValueError when the runs do not fill the stated size."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    runs = decompress(counts) if isinstance(counts, (str, bytes)) else [int(v) for v in counts]
    if any(r < 0 for r in runs) or sum(runs) != height * width:
        raise ValueError(f"RLE runs cover {sum(runs)} pixels, the size {height}x{width} has {height * width}")
    values = np.zeros(len(runs), dtype=np.uint8)
    values[1::2] = 1
    return np.repeat(values, runs).reshape((height, width), order="F")


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """The compressed RLE of a 2-D mask (non-zero = inside): {"size": [h, w], "counts": str}."""
    height, width = mask.shape
    flat = (np.asarray(mask).ravel(order="F") != 0).astype(np.int8)
    if flat.size == 0:
        return {"size": [int(height), int(width)], "counts": ""}
    edges = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    if flat[0]:
        runs = [0] + runs  # runs always start with the 0s
    return {"size": [int(height), int(width)], "counts": compress(runs)}


def rle_area(rle: dict[str, Any]) -> int:
    """Pixels inside, from the runs alone (no decoding of the mask)."""
    counts = rle["counts"]
    runs = decompress(counts) if isinstance(counts, (str, bytes)) else [int(v) for v in counts]
    return int(sum(runs[1::2]))


def compress(runs: list[int]) -> str:
    chars = []
    for index, run in enumerate(runs):
        value = run - runs[index - 2] if index > 2 else run
        more = True
        while more:
            group = value & 0x1F
            value >>= 5  # arithmetic shift: negative differences keep their sign bits
            more = value != -1 if group & 0x10 else value != 0
            chars.append(chr(group + (0x20 if more else 0) + 48))
    return "".join(chars)


def decompress(counts: str | bytes) -> list[int]:
    text = counts.decode("ascii") if isinstance(counts, bytes) else counts
    runs: list[int] = []
    position = 0
    while position < len(text):
        value = shift = 0
        more = True
        while more:
            if position >= len(text):
                raise ValueError("RLE counts string ends inside a number")
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise ValueError(f"RLE counts has an invalid character {text[position]!r}")
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position += 1
            shift += 5
            if not more and group & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs
