"""The one planner: every output of a run is decided here, before any pixel is read.

A `WorkItem` is one source and the outputs to make from it; expand's augmented copies (tagged by copy
index) and tta's views (tagged by view name) are both planned by `plan_outputs`, so both name their files
by one rule: `<folder>/<stem>__<tag><ext>` beside the source's place in the dataset, `<stem>_<ext>` when
sources share a stem (a.jpg and a.png), and a stable hash when the name would not fit a file system.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from augcli.balance import plan_classes
from augcli.dataset import Dataset, Sample
from augcli.errors import DatasetError
from augcli.imageio import output_suffix
from augcli.recipe import Block, Recipe

NAME_MAX = 255  # bytes per file name on ext4, XFS, APFS, NTFS (in UTF-16 units there; bytes is stricter)


@dataclass(frozen=True)
class WorkItem:
    """One source and the outputs to make from it."""

    source: str
    label: str
    split: str | None
    original_out: str | None = None  # where the source's own bytes are copied, if they are kept
    outputs: tuple[tuple[Any, str], ...] = ()  # (copy index or view name, output path)
    stamp: str = ""  # a source's size and ETag/mtime: part of a remote run's chunk keys (state.py)
    annotation: str = ""  # annotated layouts: where the source's targets are (formats.AnnotatedSample)
    annotation_files: tuple[str, ...] = ()  # the per-image annotation files every output path above gets

    def paths(self) -> list[str]:
        images = ([self.original_out] if self.original_out else []) + [path for _, path in self.outputs]
        return images + list(self.annotation_files)


def plan(recipe: Recipe, dataset: Dataset) -> list[WorkItem]:
    """expand: one item per source; copies per source come from balance.py."""
    classes = plan_classes(recipe, dataset)
    copies = {source: n for c in classes for source, n in zip(c.sources, c.copies, strict=True)}
    keep = {(c.split, c.label): c.keep_originals for c in classes}
    width = max(2, len(str(max(max(copies.values(), default=recipe.copies) - 1, 0))))

    def augmented(sample: Sample) -> bool:
        return sample.split is None or sample.split in recipe.augment_splits

    def outputs(sample: Sample) -> list[tuple[int, str]]:
        return [(c, f"aug{c:0{width}d}") for c in range(copies[sample.relpath])] if augmented(sample) else []

    def original(sample: Sample) -> bool:
        return keep[(sample.split, sample.label)] or not augmented(sample)

    return plan_outputs(recipe, dataset.samples, outputs, original, dataset.annotations)


def plan_views(recipe: Recipe, samples: list[Sample], names: list[str]) -> list[WorkItem]:
    """tta: every view of every sample, no originals (and no annotation files: views come with their maps)."""
    return plan_outputs(recipe, samples, lambda _: [(name, name) for name in names], lambda _: False)


def plan_outputs(
    recipe: Recipe,
    samples: list[Sample],
    outputs: Callable[[Sample], Iterable[tuple[Any, str]]],
    keeps_original: Callable[[Sample], bool],
    annotations: Any = None,
) -> list[WorkItem]:
    """`outputs(sample)` gives (key, tag) pairs; each becomes `<folder>/<stem>__<tag><ext>`. Refuses a plan in
    which two outputs share a path."""
    shared = _shared_stems(samples)
    items, seen = [], {}
    for sample in samples:
        folder, name = os.path.split(sample.place + sample.relpath)  # place: a recipe split's folder
        stem, suffix = os.path.splitext(name)
        if (folder, stem) in shared:  # a.jpg and a.png side by side: keep both apart
            stem = f"{stem}_{suffix.lstrip('.').lower()}"
        out_suffix = output_suffix(suffix, recipe.format)
        planned = tuple((key, output_path(folder, stem, tag, out_suffix)) for key, tag in outputs(sample))
        original = sample.place + sample.relpath if keeps_original(sample) else None
        if original and recipe.preprocess and out_suffix != suffix.lower():  # re-encoded in the recipe's format
            original = f"{folder}/{stem}{out_suffix}" if folder else f"{stem}{out_suffix}"
        item = WorkItem(sample.relpath, sample.label, sample.split, original, planned, annotation=sample.annotation)
        if annotations is not None:
            item = replace(item, annotation_files=tuple(_annotation_files(annotations, sample, item.paths())))
        for path in item.paths():
            if path in seen:
                raise DatasetError(f"two sources would write {path}: {seen[path]} and {sample.relpath}")
            seen[path] = sample.relpath
        items.append(item)
    return items


def _annotation_files(annotations: Any, sample: Sample, images: list[str]) -> list[str]:
    from augcli.formats import AnnotatedSample, annotation_files

    source = AnnotatedSample(sample.relpath, sample.split, sample.annotation)
    return [path for image in images for path in annotation_files(annotations, source, image)]


def output_path(folder: str, stem: str, tag: str, suffix: str) -> str:
    """`folder/stem__tag.ext`; a stem too long for one file name is cut and given a hash of the whole stem,
    so every name a source file system holds still gives a distinct, stable output name."""
    tail = f"__{tag}{suffix}"
    if len((stem + tail).encode("utf-8", "surrogateescape")) > NAME_MAX:
        digest = "~" + hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        room = NAME_MAX - len((digest + tail).encode("utf-8", "surrogateescape"))
        stem = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore") + digest
    return f"{folder}/{stem}{tail}" if folder else f"{stem}{tail}"


def _shared_stems(samples: list[Sample]) -> set[tuple[str, str]]:
    stems = Counter(os.path.splitext(s.place + s.relpath)[0] for s in samples)
    return {os.path.split(stem) for stem, count in stems.items() if count > 1}


def partner_lists(recipe: Recipe, dataset: Dataset) -> dict[str, tuple[str, ...]]:
    """Sources per class, for mixing transforms; empty when the recipe mixes nothing."""
    if not any(_uses_partners(steps) for steps in recipe.step_lists()):
        return {}
    groups: dict[Any, list[str]] = defaultdict(list)
    pool_of: dict[str, Any] = {}  # "split/label" -> the group its partners come from (recipe.partner_policy)
    for sample in dataset.samples:
        pool = sample.split if recipe.partner_policy == "same_split" else (sample.split, sample.label)
        groups[pool].append(sample.relpath)
        pool_of[f"{sample.split}/{sample.label}"] = pool
    pools = {pool: tuple(paths) for pool, paths in groups.items()}  # one tuple per pool: pickled once
    return {key: pools[pool] for key, pool in pool_of.items()}


def _uses_partners(steps: list[Any]) -> bool:
    return any(_uses_partners(step.transforms) if isinstance(step, Block) else step.needs_partners for step in steps)
