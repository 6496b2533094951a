"""The typical recipe with Augmentor's pipeline (PIL images), K copies per source, JPEG quality 95.

Augmentor has no Gaussian noise operation; the noise is a custom Operation, as its docs suggest.
Its rotate() crops to the largest upright rectangle and scales back (it has no reflect border).
The pipeline runs through `torch_transform()` in a multiprocessing.Pool, so every source gets exactly
K outputs (Pipeline.sample() draws sources at random and writes random uuid names).

Usage: python benchmarks/peer_augmentor.py DATASET OUTPUT --workers 2
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import output_names, run_contestant  # noqa: E402

_job: dict = {}


def typical_pipeline():
    import Augmentor
    import numpy as np
    from Augmentor.Operations import Operation
    from PIL import Image

    class GaussianNoise(Operation):
        def __init__(self, probability: float, low: float, high: float) -> None:
            super().__init__(probability)
            self.low, self.high = low, high

        def perform_operation(self, images):
            out = []
            for image in images:
                sigma = np.random.uniform(self.low, self.high) * 255.0
                array = np.asarray(image, dtype=np.float32)
                noisy = array + np.random.normal(0.0, sigma, array.shape).astype(np.float32)
                out.append(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)))
            return out

    pipeline = Augmentor.Pipeline()
    pipeline.flip_left_right(probability=0.5)
    pipeline.rotate(probability=1.0, max_left_rotation=15, max_right_rotation=15)
    pipeline.random_brightness(probability=1.0, min_factor=0.8, max_factor=1.2)
    pipeline.random_contrast(probability=1.0, min_factor=0.8, max_factor=1.2)
    pipeline.add_operation(GaussianNoise(probability=0.3, low=0.01, high=0.05))
    return pipeline.torch_transform()


def _init(job: dict) -> None:
    _job.update(job, transform=typical_pipeline())


def _one(relpath: str) -> int:
    from PIL import Image

    with Image.open(Path(_job["source"]) / relpath) as opened:
        image = opened.convert("RGB")
    for name in output_names(relpath, _job["copies"]):
        _job["transform"](image).save(Path(_job["output"]) / name, quality=_job["quality"])
    return _job["copies"]


def main(argv: list[str] | None = None) -> int:
    return run_contestant(__doc__, _init, _one, argv)


if __name__ == "__main__":
    raise SystemExit(main())
