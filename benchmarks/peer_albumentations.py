"""The typical recipe as a hand-written peer script: albumentations Compose + multiprocessing.Pool +
cv2.imwrite, K copies per source, JPEG quality 95.

Usage: NO_ALBUMENTATIONS_UPDATE=1 python benchmarks/peer_albumentations.py DATASET OUTPUT --workers 2
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations 2.0.8 queries PyPI on import otherwise
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import one_thread_per_process, output_names, run_contestant  # noqa: E402

_job: dict = {}


def typical_compose():
    """hflip p=0.5, rotate +-15 reflect, brightness/contrast +-0.2, gaussian noise (1-5% of white) p=0.3."""
    import albumentations as A
    import cv2

    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=15, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=1.0),
            A.GaussNoise(std_range=(0.01, 0.05), p=0.3),
        ]
    )


def _init(job: dict) -> None:
    _job.update(job, compose=typical_compose())
    one_thread_per_process()


def _one(relpath: str) -> int:
    import cv2

    image = cv2.imread(str(Path(_job["source"]) / relpath), cv2.IMREAD_COLOR)
    for name in output_names(relpath, _job["copies"]):
        out = _job["compose"](image=image)["image"]
        cv2.imwrite(str(Path(_job["output"]) / name), out, [cv2.IMWRITE_JPEG_QUALITY, _job["quality"]])
    return _job["copies"]


def main(argv: list[str] | None = None) -> int:
    return run_contestant(__doc__, _init, _one, argv)


if __name__ == "__main__":
    raise SystemExit(main())
