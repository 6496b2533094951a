"""The detection benchmark's dataset: sample_targets/yolo's train split, replicated, in the YOLO layout.

Built inside each run (deterministic, nothing committed): every train image and its label file are copied
`repeat` times under distinct names (`train_00_r000.jpg` ...). Polygon lines (`class x1 y1 x2 y2 ...`) become
the box of their vertices, so both contestants move boxes only, which is all albumentations' bbox pipeline
carries.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.common import IMAGE_SUFFIXES

YOLO_SAMPLE = Path(__file__).resolve().parents[1] / "sample_targets" / "yolo"


def box_line(line: str) -> str:
    """One YOLO label line as `class cx cy w h` (a polygon becomes the bounds of its vertices)."""
    fields = line.split()
    if len(fields) <= 5:
        return " ".join(fields)
    xs, ys = [float(v) for v in fields[1::2]], [float(v) for v in fields[2::2]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return f"{fields[0]} {(x0 + x1) / 2:.6f} {(y0 + y1) / 2:.6f} {x1 - x0:.6f} {y1 - y0:.6f}"


def make_dataset(dest: Path, repeat: int, source: Path = YOLO_SAMPLE) -> Path:
    """dest/train/images + dest/train/labels + dest/data.yaml; returns dest."""
    images, labels = dest / "train" / "images", dest / "train" / "labels"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    names = [
        line
        for line in (source / "data.yaml").read_text(encoding="utf-8").splitlines()
        if line.startswith(("nc:", "names:"))
    ]
    (dest / "data.yaml").write_text("train: ../train/images\n" + "\n".join(names) + "\n", encoding="utf-8")
    for image in sorted(p for p in (source / "train" / "images").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        label = source / "train" / "labels" / f"{image.stem}.txt"
        text = label.read_text(encoding="utf-8") if label.exists() else ""
        boxes = "".join(box_line(line) + "\n" for line in text.splitlines() if line.strip())
        for copy in range(repeat):
            stem = f"{image.stem}_r{copy:03d}"
            shutil.copyfile(image, images / f"{stem}{image.suffix}")
            (labels / f"{stem}.txt").write_text(boxes, encoding="utf-8")
    return dest
