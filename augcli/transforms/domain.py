"""Domain adaptation towards target-domain reference images: histogram matching, FDA, pixel distribution.

    - name: fda
      references: "target_domain/"   # a folder of images; relative to the recipe file's folder
      beta_range: [0.01, 0.05]

`references` is a folder of images (files directly in it, hidden ones skipped). A relative path is taken
from the folder of the recipe file when the recipe is loaded from a file (`load_recipe`), else from the
working directory; the recipe keeps the absolute path, so workers, replay and audit read the same folder.
A missing folder, or one without images, is a recipe error naming the key.

`sample()` picks one reference by its name in the folder and records it under "reference", so replay is
exact; `apply()` decodes it with the one read policy (augcli.imageio), cached per process. Without
`references`, the reference is another image of the same class (like blend's partner), recorded under
"partners" so the manifest row names it; with none available the step is the identity.

These are pixel transforms: targets stay where they are. The manifest header holds a hash of every
reference folder's file names and bytes (`reference_hashes`), and `reference_findings` tells audit when
the folder no longer matches.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from augcli.kernels import domain as k
from augcli.transforms.base import Range, Transform, bounded, integer, register

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def reference_names(folder: str) -> tuple[str, ...]:
    """Sorted names of the image files directly in `folder` (hidden files skipped)."""
    try:
        stat = os.stat(folder)
    except OSError:
        return ()
    return _listing(folder, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _listing(folder: str, mtime_ns: int) -> tuple[str, ...]:
    with os.scandir(folder) as entries:
        names = [
            e.name
            for e in entries
            if not e.name.startswith(".") and Path(e.name).suffix.lower() in IMAGE_SUFFIXES and e.is_file()
        ]
    return tuple(sorted(names))


def load_reference(folder: str, name: str) -> Any:
    """A reference image, decoded like any source; cached per process while the file is unchanged."""
    if name != Path(name).name or name.startswith(".") or name in ("", ".."):
        raise ValueError(f"unsafe reference name {name!r}")
    path = os.path.join(folder, name)
    stat = os.stat(path)
    return _decoded(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _decoded(path: str, mtime_ns: int, size: int) -> Any:
    from augcli.imageio import decode

    with open(path, "rb") as handle:
        data = handle.read()
    return decode(data, Path(path).name).image


class _Domain(Transform):
    family: ClassVar[str] = "domain"

    references: str | None = Field(
        None,
        description="folder of target-domain images (relative: to the recipe file's folder); "
        "without it, another image of the same class is the reference",
    )

    @property
    def needs_partners(self) -> bool:  # type: ignore[override]  # only without a references folder
        return self.references is None

    @field_validator("references")
    @classmethod
    def _usable_folder(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = Path(os.path.expanduser(value))
        if not path.is_absolute():
            base = (info.context or {}).get("recipe_dir") if isinstance(info.context, dict) else None
            path = Path(base or os.getcwd()) / path
        folder = os.path.abspath(path)
        if not os.path.isdir(folder):
            raise ValueError(f"references folder {value!r} not found (looked for {Path(folder).as_posix()})")
        if not reference_names(folder):
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise ValueError(f"references folder {value!r} holds no images ({suffixes})")
        return Path(folder).as_posix()

    def _pick(self, rng, ctx) -> dict[str, Any]:
        if self.references is not None:
            names = reference_names(self.references)
            if not names:
                raise ValueError(f"references folder {self.references} holds no images any more")
            return {"reference": names[integer(rng, 0, len(names) - 1)]}
        pool = [p for p in ctx.partners if p != ctx.source]
        return {"partners": [pool[integer(rng, 0, len(pool) - 1)]] if pool else []}

    def sample(self, rng, ctx):
        """The reference first, then the `_range` fields (the base class's default draw)."""
        return {**self._pick(rng, ctx), **super().sample(rng, ctx)}

    def apply(self, image, params, ctx):
        reference = self._reference(params, ctx)
        return image.copy() if reference is None else self._adapt(image, reference, params)

    def _adapt(self, image, reference, params):
        raise NotImplementedError

    def _reference(self, params: dict[str, Any], ctx) -> Any:
        """The reference image of these params, or None (no partner was available: the identity)."""
        if "reference" in params:
            if self.references is None:
                raise ValueError(f"{self.transform_name()}: params name a reference but the step has no folder")
            return load_reference(self.references, params["reference"])
        if not params.get("partners"):
            return None
        if ctx.load is None:
            raise ValueError(f"{self.transform_name()} needs a partner image, but nothing here can load it")
        return ctx.load(params["partners"][0])


@register
class HistogramMatching(_Domain):
    """Match each channel's histogram to a reference image's (a target domain's tones and colours)."""

    name: Literal["histogram_matching"] = "histogram_matching"
    blend_range: Range = bounded((0.5, 1.0), 0, 1, "share of the matched picture in the result")
    example: ClassVar[dict[str, Any]] = {"name": "histogram_matching", "blend_range": [0.5, 1.0], "p": 0.5}

    def _adapt(self, image, reference, params):
        return k.histogram_matching(image, reference, blend=params["blend"])


@register
class FDA(_Domain):
    """Fourier domain adaptation: take a reference image's low-frequency amplitude (its style), keep the content."""

    name: Literal["fda"] = "fda"
    beta_range: Range = bounded(
        (0.0, 0.1),
        0,
        0.5,
        "half-size of the swapped low-frequency window, a fraction of the shorter side; 0 changes nothing",
    )
    example: ClassVar[dict[str, Any]] = {"name": "fda", "beta_range": [0.01, 0.05], "p": 0.5}

    def _adapt(self, image, reference, params):
        return k.fda(image, reference, beta=params["beta"])


@register
class PixelDistributionAdaptation(_Domain):
    """Move the colour statistics (per-channel mean/std, or the PCA of the colours) to a reference image's."""

    name: Literal["pixel_distribution_adaptation"] = "pixel_distribution_adaptation"
    method: Literal["standard", "pca"] = Field(
        "pca", description="standard: mean and std per channel; pca: mean and covariance of the colour vectors"
    )
    blend_range: Range = bounded((0.25, 1.0), 0, 1, "share of the adapted picture in the result")
    example: ClassVar[dict[str, Any]] = {
        "name": "pixel_distribution_adaptation",
        "method": "standard",
        "blend_range": [0.5, 1.0],
        "p": 0.5,
    }

    def _adapt(self, image, reference, params):
        return k.pixel_distribution(image, reference, method=self.method, blend=params["blend"])


# --- the manifest's record of the reference folders ------------------------------------------------------


def _steps(steps: list[Any]) -> list[Any]:
    found = []
    for step in steps:
        inner = getattr(step, "transforms", None)
        found += _steps(list(inner)) if isinstance(inner, (list, tuple)) else [step]
    return found


def folder_sha256(folder: str) -> str:
    """sha256 over the folder's reference images: each name and the sha256 of its bytes, in name order."""
    digest = hashlib.sha256()
    for name in reference_names(folder):
        with open(os.path.join(folder, name), "rb") as handle:
            content = hashlib.sha256(handle.read()).hexdigest()
        digest.update(f"{name}\0{content}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def reference_hashes(recipe: Any) -> dict[str, str]:
    """{folder: sha256} for every references folder the recipe's steps read (empty when none do)."""
    folders = {
        step.references
        for steps in recipe.step_lists()
        for step in _steps(steps)
        if isinstance(step, _Domain) and step.references is not None
    }
    return {folder: folder_sha256(folder) for folder in sorted(folders)}


def reference_findings(header: dict[str, Any]) -> list[str]:
    """What no longer matches the reference folders recorded in a manifest header (for audit)."""
    recorded = header.get("references")
    if recorded is None:
        return []
    if not isinstance(recorded, dict):
        return ["the header's references must map folders to sha256 digests"]
    problems = []
    for folder, digest in sorted(recorded.items()):
        if not os.path.isdir(str(folder)):
            problems.append(f"references folder {folder} is gone")
            continue
        now = folder_sha256(str(folder))
        if now != digest:
            problems.append(
                f"reference images in {folder} changed since expand (sha256 {str(digest)[:12]}, now {now[:12]})"
            )
    return problems
