"""The floor: read and decode each source once, encode K outputs as JPEG, write them. No transform.

Everything augcli does beyond this (transforms, hashing, the manifest, its process pool) is overhead.
Usage: python benchmarks/floor.py DATASET OUTPUT --copies 5 --quality 95 --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import list_images, make_folders, one_thread_per_process, output_names  # noqa: E402

_job: dict = {}


def _init(job: dict) -> None:
    _job.update(job)
    one_thread_per_process()


def _one(relpath: str) -> int:
    import cv2
    import numpy as np

    data = (Path(_job["source"]) / relpath).read_bytes()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    for name in output_names(relpath, _job["copies"]):
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, _job["quality"]])
        (Path(_job["output"]) / name).write_bytes(buffer.tobytes())
    return _job["copies"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--quality", type=int, default=95)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    images = list_images(args.source)
    make_folders(args.output, images)
    job = {"source": args.source, "output": args.output, "copies": args.copies, "quality": args.quality}
    with multiprocessing.Pool(args.workers, initializer=_init, initargs=(job,)) as pool:
        written = sum(pool.imap_unordered(_one, images, chunksize=4))
    print(written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
