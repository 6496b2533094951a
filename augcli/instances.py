"""Objects per class in an annotated dataset, and balancing by them (detection's kind of class balance).

A detection dataset is unbalanced in objects, not images: one image may hold twenty cars and one bicycle. With
`balance: max` or `target_per_class: N`, each class of an augmented split is brought towards the largest class's
object count (or N) by giving extra copies to the images that hold the classes still short, the most short
class (relative to its target) first and, among the images holding it, the one with the fewest copies so far
(ties in a seeded order). A copy brings every object of its image, so common classes grow too: the same
trade-off as repeat-factor sampling, decided here once, up front, so the plan depends only on the recipe and
the annotations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from augcli.seeding import stream_rng

MAX_COPIES_PER_SOURCE = 100  # a class held by one small image cannot make that image fill the dataset


def instance_counts(dataset: Any) -> dict[str, Counter]:
    """Objects per category of every sample (read once per dataset; images are only probed for their size)."""
    cached = getattr(dataset, "_instance_counts", None)
    if cached is not None:
        return cached
    from PIL import Image

    from augcli.formats import AnnotatedSample, AnnotationError, read

    counts: dict[str, Counter] = {}
    for sample in dataset.samples:
        try:
            with Image.open(dataset.root / sample.relpath) as probe:
                width, height = probe.size
            targets = read(dataset.annotations, AnnotatedSample(sample.relpath, sample.split, sample.annotation),
                           width, height)  # fmt: skip
        except (AnnotationError, OSError, ValueError):
            counts[sample.relpath] = Counter()  # skipped later by the worker, with its reason
            continue
        counts[sample.relpath] = Counter(i.category for i in targets.instances)
    dataset._instance_counts = counts
    return counts


def split_copies(recipe: Any, split: str | None, sources: list[str], counts: dict[str, Counter], keep: bool):
    """Augmented copies per source of one split, balancing objects per class."""
    per_source = [counts.get(s, Counter()) for s in sources]
    total: Counter = Counter()
    for held in per_source:
        total.update(held)
    if not total:
        return [0] * len(sources), {}
    target = recipe.target_per_class if recipe.target_per_class is not None else max(total.values())
    now = Counter(total) if keep else Counter()
    shuffled = stream_rng(recipe.seed, str(split), "instances").permutation(len(sources))
    order = {int(i): rank for rank, i in enumerate(shuffled)}
    holders = {c: [i for i in range(len(sources)) if per_source[i][c]] for c in total}
    copies = [0] * len(sources)
    while True:
        short = [c for c in total if now[c] < target and any(copies[i] < MAX_COPIES_PER_SOURCE for i in holders[c])]
        if not short:
            break
        category = max(short, key=lambda c: ((target - now[c]) / target, -c))
        choice = min(
            (i for i in holders[category] if copies[i] < MAX_COPIES_PER_SOURCE), key=lambda i: (copies[i], order[i])
        )
        copies[choice] += 1
        now.update(per_source[choice])
    return copies, {c: (total[c], now[c]) for c in sorted(total)}


def per_split(dataset: Any) -> dict[str | None, Counter]:
    """Objects per category in each split (before augmentation)."""
    counts = instance_counts(dataset)
    out: dict[str | None, Counter] = defaultdict(Counter)
    for sample in dataset.samples:
        out[sample.split].update(counts.get(sample.relpath, Counter()))
    return out
