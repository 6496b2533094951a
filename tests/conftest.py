"""Shared fixtures: small synthetic images of every kind, datasets built on disk, the CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "sample_data"
CONFIGS = REPO / "configs"
HYMENOPTERA = REPO.parent / "shared" / "datasets" / "hymenoptera"


def textured(height: int = 48, width: int = 64, kind: str = "rgb", seed: int = 0) -> np.ndarray:
    """A deterministic image with gradients and texture (flat images hide many kernel bugs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=-1)
    base = base + rng.normal(0, 20, base.shape)
    image8 = np.clip(base, 0, 255).astype(np.uint8)
    if kind == "rgb":
        return image8
    if kind == "gray":
        return cv2.cvtColor(image8, cv2.COLOR_BGR2GRAY)
    if kind == "rgba":
        alpha = np.clip(x * 255 / width, 0, 255).astype(np.uint8)
        return np.dstack([image8, alpha])
    if kind == "rgb16":
        return (image8.astype(np.uint16) * 257 + rng.integers(0, 200, image8.shape)).astype(np.uint16)
    raise ValueError(kind)


IMAGE_KINDS = ("rgb", "gray", "rgba", "rgb16")


def write_image(path: Path, image: np.ndarray, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if path.suffix.lower() in (".jpg", ".jpeg") else []
    ok, buffer = cv2.imencode(path.suffix, image, params)
    assert ok
    path.write_bytes(buffer.tobytes())
    return path


def make_dataset(root: Path, layout: dict[str, int], size: tuple[int, int] = (40, 56), suffix: str = ".jpg") -> Path:
    """`layout` maps "class" or "split/class" folders to image counts."""
    for index, (folder, count) in enumerate(sorted(layout.items())):
        for n in range(count):
            write_image(root / folder / f"img_{n:03d}{suffix}", textured(*size, seed=index * 1000 + n))
    return root


def write_recipe(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of sample_data, so a test can never write into the project's own dataset."""
    return Path(shutil.copytree(SAMPLE_DATA, tmp_path / "sample_data"))
