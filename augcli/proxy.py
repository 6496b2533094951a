"""The builtin trainer of `augcli ablate`: a small, deterministic PROXY classifier, not a real model.

Each image becomes a 16 x 16 grey thumbnail (standardised), extended with fixed random features (a seeded
random projection followed by ReLU); a ridge regression onto one-hot labels is solved in closed form and the
val split is scored by accuracy. numpy and OpenCV only, seconds on a few hundred small images. It tells whether a
recipe helps a simple pixel-level learner generalise to the val split; it says nothing certain about a network.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from augcli.errors import ImageReadError
from augcli.imageio import read_image

SIDE = 16
RANDOM_FEATURES = 512
RIDGE = 1.0


def thumbnail(path: Path) -> np.ndarray:
    image = read_image(path).image
    if image.dtype != np.uint8:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 3:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)
    small = cv2.resize(image, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
    return (small - small.mean()) / (small.std() + 1e-6)


def _load(items: list[tuple[Path, str]]) -> tuple[np.ndarray, list[str]]:
    rows, labels = [], []
    for path, label in items:
        try:
            rows.append(thumbnail(path))
        except ImageReadError:
            continue  # an unreadable output is left out (the expand summary already named it)
        labels.append(label)
    return np.asarray(rows).reshape(len(rows), SIDE * SIDE), labels


def _features(pixels: np.ndarray, projection: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.hstack([pixels, np.maximum(pixels @ projection + bias, 0.0), np.ones((len(pixels), 1))])


def train_and_score(train: list[tuple[Path, str]], val: list[tuple[Path, str]], seed: int) -> dict[str, float]:
    """Fit on `train` ((path, label) pairs), return {"accuracy", "train_accuracy", "train_images", "val_images"}."""
    x_train, y_train = _load(train)
    x_val, y_val = _load(val)
    classes = sorted(set(y_train))
    if not classes or not y_val:
        return {"accuracy": float("nan"), "train_images": len(y_train), "val_images": len(y_val)}
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 16])))
    projection = rng.normal(0.0, 1.0 / np.sqrt(SIDE * SIDE), (SIDE * SIDE, RANDOM_FEATURES))
    bias = rng.normal(0.0, 0.5, RANDOM_FEATURES)
    f_train, f_val = _features(x_train, projection, bias), _features(x_val, projection, bias)
    targets = np.zeros((len(y_train), len(classes)))
    targets[np.arange(len(y_train)), [classes.index(label) for label in y_train]] = 1.0
    gram = f_train.T @ f_train + RIDGE * np.eye(f_train.shape[1])
    weights = np.linalg.solve(gram, f_train.T @ targets)
    predicted = [classes[i] for i in np.argmax(f_val @ weights, axis=1)]
    fitted = [classes[i] for i in np.argmax(f_train @ weights, axis=1)]
    return {
        "accuracy": float(np.mean([p == t for p, t in zip(predicted, y_val, strict=True)])),
        "train_accuracy": float(np.mean([p == t for p, t in zip(fitted, y_train, strict=True)])),
        "train_images": len(y_train),
        "val_images": len(y_val),
    }
