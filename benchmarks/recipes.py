"""The recipes the benchmark runs through `augcli expand` (written to a temp folder as YAML)."""

from __future__ import annotations

from pathlib import Path

TYPICAL_STEPS = """\
  - {name: hflip, p: 0.5}
  - {name: rotate, angle_range: [-15, 15], border_mode: reflect}
  - {name: brightness_contrast, brightness_range: [-0.2, 0.2], contrast_range: [-0.2, 0.2]}
  - {name: gaussian_noise, sigma_range: [0.01, 0.05], p: 0.3}
"""


def recipe_text(steps: str, copies: int, quality: int, splits: list[str]) -> str:
    transforms = "transforms:\n" + steps if steps else "transforms: []\n"
    return (
        f"version: 1\nseed: 7\ncopies: {copies}\nkeep_originals: false\nformat: jpg\nquality: {quality}\n"
        f"augment_splits: [{', '.join(splits) or 'train'}]\n{transforms}"
    )


def write_recipes(folder: Path, copies: int, quality: int, splits: list[str]) -> dict[str, Path]:
    """{"typical": path, "identity": path}; `splits` lists the dataset's top-level folders so every
    source is augmented whatever its split (a flat dataset ignores the list)."""
    paths = {}
    for name, steps in (("typical", TYPICAL_STEPS), ("identity", "")):
        path = folder / f"{name}.yaml"
        path.write_text(recipe_text(steps, copies, quality, splits), encoding="utf-8")
        paths[name] = path
    return paths


# Boxes follow every step; the mosaic takes three other train images. Same drop rule as the peer's BboxParams.
DETECTION_STEPS = """\
  - {name: hflip, p: 0.5}
  - name: shift_scale_rotate
    shift_x_range: [-0.08, 0.08]
    shift_y_range: [-0.08, 0.08]
    scale_range: [0.8, 1.2]
    angle_range: [-12, 12]
    border_mode: constant
  - {name: mosaic, center_range: [0.3, 0.7], p: 1.0}
  - {name: brightness_contrast, brightness_range: [-0.2, 0.2], contrast_range: [-0.2, 0.2]}
"""


def write_detection_recipe(folder: Path, copies: int, quality: int) -> Path:
    path = folder / "detection.yaml"
    text = recipe_text(DETECTION_STEPS, copies, quality, ["train"])
    path.write_text(text + "targets: {min_area: 4, min_visibility: 0.3}\n", encoding="utf-8")
    return path
