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
