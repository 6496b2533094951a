"""Replay for `augcli audit --replay`: rebuild an augmented output from its source and the params its
manifest row records (no randomness drawn), encode it as expand would, and compare the bytes. Equal
bytes prove the recorded params are complete; runs in worker processes on small picklable jobs."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from augcli.audit_checks import lexically_safe


@lru_cache(maxsize=4)
def _recipe(recipe_json: str) -> Any:
    from augcli.recipe import Recipe

    return Recipe.model_validate_json(recipe_json)


def replay_rows(
    jobs: list[tuple[str, dict[str, Any]]], recipe_json: str, max_pixels: int, storage_options: tuple = ()
) -> list[tuple[str, str]]:
    """(output path, problem or "") per job; a job is (source root, the row's path/source/label/transforms/sha256)."""
    if storage_options:
        from augcli import storage

        storage.set_options(storage_options)
    return [(row["path"], _replay_one(root, row, recipe_json, max_pixels)) for root, row in jobs]


def _replay_one(root: str, row: dict[str, Any], recipe_json: str, max_pixels: int) -> str:
    from augcli.errors import ImageReadError
    from augcli.imageio import decode, encode
    from augcli.pipeline import replay
    from augcli.storage import read
    from augcli.transforms.base import ApplyContext

    recipe = _recipe(recipe_json)
    try:
        image = decode(read(root, row["source"]), row["source"], max_pixels).image
        ctx = ApplyContext(load=_guarded_loader(root, max_pixels))
        out = replay(image, row["transforms"], recipe.steps_for(row["label"]), ctx)
        data = encode(out, os.path.splitext(row["path"])[1], recipe.quality)
    except ImageReadError as exc:
        return f"cannot read a source to replay from: {exc}"
    except Exception as exc:  # a param the kernel rejects is itself a finding about the row
        return f"replay failed: {type(exc).__name__}: {exc}"
    sha = hashlib.sha256(data).hexdigest()
    return "" if sha == row["sha256"] else f"replayed bytes differ (sha256 {sha[:12]}, manifest {row['sha256'][:12]})"


def _guarded_loader(root: str, max_pixels: int):
    """Partner sources for mixing transforms: names come from the manifest, so vet them before opening."""
    from augcli.imageio import decode, read_image
    from augcli.storage import is_url, read

    remote = is_url(root)
    real_root = None if remote else Path(root).resolve()

    @lru_cache(maxsize=8)
    def load(source: str):
        if not lexically_safe(source):
            raise ValueError(f"unsafe partner path {source!r}")
        if remote:  # object keys have no symlinks to follow out
            return decode(read(root, source), source, max_pixels).image
        path = Path(root) / source
        if not path.resolve().is_relative_to(real_root):
            raise ValueError(f"unsafe partner path {source!r}")
        return read_image(path, max_pixels).image

    return load


def version_drift(recorded: dict[str, Any]) -> str:
    from augcli.manifest import library_versions

    running = library_versions()
    drift = [f"{k} {recorded.get(k)} (manifest) vs {v} (running)" for k, v in running.items() if recorded.get(k) != v]
    if drift:
        return "library versions differ: " + ", ".join(drift)
    return "library versions match, so the recorded params or the file do not belong to this row"
