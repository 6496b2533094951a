"""Helpers shared by the benchmark scripts: finding the photos, mirroring their folders, pool set-up.

The peer scripts and the floor are written the way a user would write them; only the input listing
and the output naming are shared, so every contestant reads and writes the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

# The same extensions augcli walks (dataset.IMAGE_EXTENSIONS), so every contestant reads the same sources;
# kept literal so the peer scripts import nothing from augcli.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def list_images(root: str | Path) -> list[str]:
    """Dataset-relative paths of every image under root, sorted (the same list augcli expands)."""
    root = Path(root)
    found = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(p for p in found if not any(part.startswith(".") for part in p.split("/")))


def output_names(relpath: str, copies: int) -> list[str]:
    stem = os.path.splitext(relpath)[0]
    return [f"{stem}__aug{copy:02d}.jpg" for copy in range(copies)]


def make_folders(output: str | Path, relpaths: list[str]) -> None:
    for folder in sorted({os.path.dirname(p) for p in relpaths}):
        (Path(output) / folder).mkdir(parents=True, exist_ok=True)


def one_thread_per_process() -> None:
    """N processes each running OpenCV's own thread pool would oversubscribe the cores."""
    import cv2

    cv2.setNumThreads(1)
