"""The detection recipe as a hand-written peer script: albumentations Compose with BboxParams(format="yolo")
+ multiprocessing.Pool + cv2.imwrite, K copies per source, each written as a JPEG and a YOLO label file.

Reads a YOLO tree (<split>/images/*.jpg + <split>/labels/*.txt, `class cx cy w h` lines) and writes the same
layout. A.Mosaic (albumentations >= 2.0) gets three other images of the split and their boxes through its
metadata, read with the same small cache augcli keeps for mixing partners. Output size = input size, as augcli's.

Usage: NO_ALBUMENTATIONS_UPDATE=1 python benchmarks/peer_albumentations_bbox.py DATASET OUTPUT --workers 2
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations 2.0.8 queries PyPI on import otherwise
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import list_images, one_thread_per_process, output_names, run_contestant  # noqa: E402

_job: dict = {}


def detection_compose(height: int, width: int):
    """hflip p=0.5; shift +-8%, scale 0.8-1.2, rotate +-12 with a constant border; a 2 x 2 mosaic at the input
    size (centre 0.3-0.7); brightness/contrast +-0.2. Boxes under 4 px^2 or keeping under 30% are dropped."""
    import albumentations as A
    import cv2

    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Affine(
                translate_percent=(-0.08, 0.08),
                scale=(0.8, 1.2),
                rotate=(-12, 12),
                border_mode=cv2.BORDER_CONSTANT,
                fill=0,
                p=1.0,
            ),
            A.Mosaic(target_size=(height, width), cell_shape=(height, width), center_range=(0.3, 0.7), p=1.0),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=1.0),
        ],
        bbox_params=A.BboxParams(
            format="yolo", label_fields=["class_labels"], min_area=4, min_visibility=0.3, clip=True
        ),
    )


def label_path(root: str | Path, image_relpath: str) -> Path:
    """<split>/images/x.jpg -> <split>/labels/x.txt (the YOLO convention)."""
    folder, name = os.path.split(image_relpath)
    labels = os.path.join(os.path.dirname(folder), "labels")
    return Path(root) / labels / (os.path.splitext(name)[0] + ".txt")


def read_labels(path: Path) -> tuple[list[list[float]], list[int]]:
    boxes, classes = [], []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if len(fields) == 5:
                classes.append(int(fields[0]))
                boxes.append([float(v) for v in fields[1:]])
    return boxes, classes


@lru_cache(maxsize=8)
def load(relpath: str) -> dict:
    import cv2
    import numpy as np

    image = cv2.imread(str(Path(_job["source"]) / relpath), cv2.IMREAD_COLOR)
    boxes, classes = read_labels(label_path(_job["source"], relpath))
    return {"image": image, "bboxes": np.array(boxes, dtype=np.float32).reshape(-1, 4), "class_labels": classes}


def _init(job: dict) -> None:
    _job.update(job, composes={}, pool=list_images(job["source"]), rng=random.Random(os.getpid()))
    yaml = Path(job["source"]) / "data.yaml"
    if yaml.exists():
        shutil.copyfile(yaml, Path(job["output"]) / "data.yaml")
    one_thread_per_process()


def _one(relpath: str) -> int:
    import cv2

    item = load(relpath)
    height, width = item["image"].shape[:2]
    if (height, width) not in _job["composes"]:
        _job["composes"][height, width] = detection_compose(height, width)
    compose = _job["composes"][height, width]
    split = relpath.split("/")[0]
    others = [p for p in _job["pool"] if p != relpath and p.split("/")[0] == split]
    label_path(_job["output"], relpath).parent.mkdir(parents=True, exist_ok=True)
    for name in output_names(relpath, _job["copies"]):
        partners = [load(p) for p in _job["rng"].sample(others, min(3, len(others)))]
        out = compose(
            image=item["image"], bboxes=item["bboxes"], class_labels=item["class_labels"], mosaic_metadata=partners
        )
        cv2.imwrite(str(Path(_job["output"]) / name), out["image"], [cv2.IMWRITE_JPEG_QUALITY, _job["quality"]])
        lines = [
            f"{int(c)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
            for c, (cx, cy, w, h) in zip(out["class_labels"], out["bboxes"], strict=True)
        ]
        label_path(_job["output"], name).write_text("".join(lines), encoding="utf-8")
    return _job["copies"]


def main(argv: list[str] | None = None) -> int:
    return run_contestant(__doc__, _init, _one, argv)


if __name__ == "__main__":
    raise SystemExit(main())
