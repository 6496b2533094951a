"""The floor: read and decode each source once, encode K outputs as JPEG, write them. No transform.

Everything augcli does beyond this (transforms, hashing, the manifest, its process pool) is overhead.
Usage: python benchmarks/floor.py DATASET OUTPUT --copies 5 --quality 95 --workers 2
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import one_thread_per_process, output_names, run_contestant  # noqa: E402

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
    return run_contestant(__doc__, _init, _one, argv)


if __name__ == "__main__":
    raise SystemExit(main())
