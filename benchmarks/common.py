"""Helpers shared by the benchmark scripts: finding the photos, mirroring their folders, pool set-up.

The peer scripts and the floor are written the way a user would write them; only the input listing
and the output naming are shared, so every contestant reads and writes the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

# The same extensions augcli walks (entries.IMAGE_EXTENSIONS), so every contestant reads the same sources;
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


def run_contestant(description: str, init, one, argv: list[str] | None = None) -> int:
    """The command line and pool every contestant shares, so all list, split and schedule the work alike.

    `init(job)` runs once per worker process; `one(relpath)` writes the outputs of one source."""
    import argparse
    import multiprocessing

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=1, help="only every Nth source (for slow peers)")
    args = parser.parse_args(argv)
    images = list_images(args.source)[:: args.every]
    make_folders(args.output, images)
    job = {"source": args.source, "output": args.output, "copies": args.copies, "quality": args.quality}
    with multiprocessing.Pool(args.workers, initializer=init, initargs=(job,)) as pool:
        written = sum(pool.imap_unordered(one, images, chunksize=4))
    print(written)
    return 0
