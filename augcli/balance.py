"""Class balancing: how many augmented outputs each source of each class gets.

Per class (a label within one split) of an augmented split, the recipe's mode gives the number of
augmented outputs the class needs: `copies` per source (a fixed factor), or enough to reach
`target_per_class` / the largest class's count (`balance: max`), originals counted when they are
kept. `classes:` overrides any of this for one class. The needed outputs are spread evenly: every
source gets floor(k) or ceil(k) copies, and which sources get the extra copy is a seeded permutation
of the class's sources, never sampling with replacement, so the plan depends only on the recipe and
the file list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from augcli.dataset import Dataset
from augcli.errors import RecipeError
from augcli.recipe import Recipe, suggest
from augcli.seeding import stream_rng

SPREAD_STREAM = "balance"  # keeps these draws apart from the per-output streams


@dataclass(frozen=True)
class ClassPlan:
    split: str | None
    label: str
    sources: tuple[str, ...]  # dataset order
    copies: tuple[int, ...]  # augmented outputs per source, same order
    keep_originals: bool
    mode: str  # copies | target_per_class | balance | instances (annotated) | unchanged (a split not augmented)
    target: int | None = None

    @property
    def key(self) -> str:
        return f"{self.split}/{self.label}" if self.split else self.label

    @property
    def before(self) -> int:
        return len(self.sources)

    @property
    def augmented(self) -> int:
        return sum(self.copies)

    @property
    def after(self) -> int:
        return (self.before if self.keep_originals else 0) + self.augmented


def plan_classes(recipe: Recipe, dataset: Dataset) -> list[ClassPlan]:
    """One plan per class with sources, in (split, label) order."""
    check_class_names(recipe, dataset)
    groups: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for sample in dataset.samples:
        groups[(sample.split, sample.label)].append(sample.relpath)
    largest: dict[str | None, int] = defaultdict(int)
    for (split, _), sources in groups.items():
        largest[split] = max(largest[split], len(sources))
    plans = []
    for (split, label), sources in sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if split is not None and split not in recipe.augment_splits:
            plans.append(ClassPlan(split, label, tuple(sources), (0,) * len(sources), True, "unchanged"))
            continue
        if dataset.annotations is not None and (recipe.target_per_class is not None or recipe.balance):
            plans.append(_instance_plan(recipe, dataset, split, label, sources))
            continue
        plans.append(_class_plan(recipe, split, label, sources, largest[split]))
    return plans


def _instance_plan(recipe: Recipe, dataset: Dataset, split: str | None, label: str, sources: list[str]) -> ClassPlan:
    """Annotated datasets balance objects per class, not images (instances.py)."""
    from augcli.instances import instance_counts, split_copies

    copies, _ = split_copies(recipe, split, sources, instance_counts(dataset), recipe.keep_originals)
    return ClassPlan(
        split, label, tuple(sources), tuple(copies), recipe.keep_originals, "instances", recipe.target_per_class
    )


def _class_plan(recipe: Recipe, split: str | None, label: str, sources: list[str], largest: int) -> ClassPlan:
    override = recipe.classes.get(label)
    keep = recipe.keep_originals
    if override is not None and override.keep_originals is not None:
        keep = override.keep_originals
    if override is not None and override.copies is not None:
        return ClassPlan(split, label, tuple(sources), (override.copies,) * len(sources), keep, "copies")
    if override is not None and override.target_per_class is not None:
        mode, target = "target_per_class", override.target_per_class
    elif recipe.target_per_class is not None:
        mode, target = "target_per_class", recipe.target_per_class
    elif recipe.balance == "max":
        mode, target = "balance", largest
    else:
        return ClassPlan(split, label, tuple(sources), (recipe.copies,) * len(sources), keep, "copies")
    needed = max(0, target - (len(sources) if keep else 0))
    key = f"{split}/{label}" if split else label
    return ClassPlan(
        split, label, tuple(sources), tuple(spread(needed, len(sources), recipe.seed, key)), keep, mode, target
    )


def spread(total: int, count: int, seed: int, class_key: str) -> list[int]:
    """`total` outputs over `count` sources: each gets floor or ceil of total/count; a seeded
    permutation decides which sources get the extra one."""
    if count == 0:
        return []
    base, extra = divmod(total, count)
    copies = [base] * count
    if extra:
        rng = stream_rng(seed, class_key, SPREAD_STREAM)
        for index in rng.permutation(count)[:extra]:
            copies[int(index)] += 1
    return copies


def check_class_names(recipe: Recipe, dataset: Dataset) -> None:
    """`classes:` keys must name classes of the dataset; only knowable once it is scanned."""
    labels = sorted({s.label for s in dataset.samples})
    for name in recipe.classes:
        if name not in labels:
            shown = ", ".join(labels[:20]) + (", ..." if len(labels) > 20 else "")
            raise RecipeError(
                f"recipe classes: unknown class {name!r}{suggest(name, labels)} (classes in {dataset.root}: {shown})"
            )


def warnings(recipe: Recipe, dataset: Dataset) -> list[str]:
    """An explicit `copies` that a balance mode overrides, and classes whose explicit target is below
    what they already hold."""
    out = []
    mode = "target_per_class" if recipe.target_per_class is not None else "balance" if recipe.balance else None
    if mode and "copies" in recipe.model_fields_set:
        out.append(f"copies: {recipe.copies} is not used: {mode} decides how many copies each class gets")
    for plan in plan_classes(recipe, dataset):
        if plan.mode == "target_per_class" and plan.target is not None and plan.before > plan.target:
            if plan.keep_originals:
                what = f"it gets no augmented copies and keeps all {plan.before}"
            else:
                what = f"only {plan.augmented} of its {plan.before} sources get an augmented copy"
            out.append(f"class {plan.key} has {plan.before} images, above target_per_class {plan.target}: {what}")
    return out


def planned_counts(items: list[Any]) -> dict[str, dict[str, int]]:
    """Per class: images before (sources) and after (originals kept + augmented outputs), as planned."""
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        key = f"{item.split}/{item.label}" if item.split else item.label
        entry = counts.setdefault(key, {"before": 0, "after": 0})
        entry["before"] += 1
        entry["after"] += (1 if item.original_out else 0) + len(item.outputs)
    return dict(sorted(counts.items()))
