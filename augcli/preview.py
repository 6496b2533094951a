"""`augcli preview`: show what a recipe will do before a long run.

Two views, both built from tiles (encoded bytes plus captions and manifest-like details):

- the contact sheet: for a few sources per class picked from the seed, the original and the copies
  `expand` would write for it. Copies go through `renderer.render()` with the names `planner.plan()`
  gives them, so every tile's bytes equal the file `expand` writes for that source and copy index;
- `each`: one row per `_range` parameter of every step of the recipe (blocks are walked into): the same
  image with that range fixed to its low, middle and high end (other ranges at their middle, p = 1).

Only the dataset listing is walked; just the shown sources (and partners a mixing step asks for) are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from augcli.dataset import Dataset, scan
from augcli.errors import DatasetError, ImageReadError, OutputError
from augcli.executor import default_workers
from augcli.imageio import DEFAULT_MAX_PIXELS, Decoded, decode, read_bytes
from augcli.planner import WorkItem, partner_lists, plan
from augcli.recipe import Block, Recipe, load_recipe, suggest
from augcli.renderer import render
from augcli.seeding import stream_rng
from augcli.split import split_for_recipe
from augcli.textsafe import printable
from augcli.transforms.base import ApplyContext, Transform
from augcli.worker import item_skipped, partner_loader

PICK_STREAM = "preview"  # keeps the source choice apart from the per-output streams
SHEET_WIDTH = 1600


@dataclass
class Tile:
    """One picture of the preview: `data` is the encoded file (for copies, exactly what expand writes)."""

    path: str  # where the tile goes under the HTML folder's tiles/: the expand output path, or the source path
    data: bytes
    image: np.ndarray  # what to draw (the decoded pixels, any depth or channel count)
    caption: list[str]
    details: dict[str, Any]
    overlay: np.ndarray | None = None  # annotated datasets: the picture with its boxes and mask drawn


@dataclass
class PreviewResult:
    rows: list[list[Tile]]
    title: str
    skipped: list[dict[str, str]] = field(default_factory=list)  # shown sources that could not be used
    recipe_sha256: str = ""  # what a review of these tiles signs off (review.py)
    written: list[Path] = field(default_factory=list)

    @property
    def tiles(self) -> int:
        return sum(len(row) for row in self.rows)


def preview(
    recipe_path: str | Path,
    dataset_root: str | Path,
    *,
    per_class: int = 2,
    copies: int = 4,
    classes: list[str] | None = None,
    split: str | None = None,
    seed: int | None = None,
    each: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    layout: str = "auto",
) -> PreviewResult:
    """Build the preview's rows of tiles (no files are written; see `write_sheet` / `write_html`)."""
    recipe = load_recipe(recipe_path)
    if seed is not None:
        recipe = recipe.model_copy(update={"seed": seed})
    dataset = split_for_recipe(scan(dataset_root, layout), recipe, default_workers(), max_pixels)
    chosen_split = _choose_split(dataset, recipe, split)
    items = [i for i in plan(recipe, dataset) if i.split == chosen_split]
    groups = _classes(items, classes, dataset)
    loader = partner_loader(str(dataset.root), max_pixels)
    partners = partner_lists(recipe, dataset)
    marks = Marks(recipe, dataset, partners, max_pixels, loader) if dataset.annotations is not None else None
    result = PreviewResult([], _title(recipe_path, dataset_root, recipe, chosen_split, each))
    result.recipe_sha256 = recipe.sha256()
    if each:  # one image is enough, and only it is read
        groups = dict(list(groups.items())[:1])
    picks = _pick(recipe, dataset, groups, 1 if each else per_class, max_pixels, result)
    if each:
        if not picks:
            raise DatasetError(f"{dataset_root}: no readable source to preview")
        item, data, decoded = picks[0]
        steps = recipe.steps_for(item.label)
        result.rows = each_rows(recipe, steps, item, data, decoded, partners, loader, marks)
        return result
    for item, data, decoded in picks:
        row = [original_tile(item, data, decoded, marks)]
        for copy, out_rel in item.outputs[:copies]:
            row.append(_copy_tile(recipe, item, decoded, copy, out_rel, partners, loader, result, marks))
        result.rows.append([t for t in row if t is not None])
    return result


def _choose_split(dataset: Dataset, recipe: Recipe, split: str | None) -> str | None:
    splits = dataset.splits()
    if dataset.layout == "flat":
        if split is not None:
            raise DatasetError(f"--split {split}: {dataset.root} has no split folders (it is root/<class>/)")
        return None
    if split is not None:
        if split not in splits:
            raise DatasetError(f"--split: no split {split!r} in {dataset.root}{suggest(split, splits)}")
        return split
    augmented = [s for s in splits if s in recipe.augment_splits]
    return (augmented or splits)[0]


def _classes(items: list[WorkItem], wanted: list[str] | None, dataset: Dataset) -> dict[str, list[WorkItem]]:
    groups: dict[str, list[WorkItem]] = {}
    for item in items:
        groups.setdefault(item.label, []).append(item)
    if wanted:
        unknown = [name for name in wanted if name not in groups]
        if unknown:
            known = sorted(groups)
            raise DatasetError(
                f"--classes: no class {unknown[0]!r} in {dataset.root}{suggest(unknown[0], known)} "
                f"(classes: {', '.join(known[:20])})"
            )
        groups = {name: groups[name] for name in wanted}
    return dict(sorted(groups.items()))


def _pick(
    recipe: Recipe,
    dataset: Dataset,
    groups: dict[str, list[WorkItem]],
    per_class: int,
    max_pixels: int,
    result: PreviewResult,
) -> list[tuple[WorkItem, bytes, Decoded]]:
    """`per_class` readable sources of each class, in a seeded order; unreadable ones are reported and
    the next in that order is tried. Nothing else is read."""
    picks = []
    for label, items in groups.items():
        candidates = [i for i in items if i.outputs] or items  # prefer sources expand augments
        key = f"{candidates[0].split}/{label}"
        rng = stream_rng(recipe.seed, key, PICK_STREAM)
        chosen = []
        for index in rng.permutation(len(candidates)):
            if len(chosen) == per_class:
                break
            item = candidates[int(index)]
            try:
                data = read_bytes(dataset.root / item.source)
                chosen.append((int(index), item, data, decode(data, item.source, max_pixels)))
            except ImageReadError as exc:
                result.skipped.append(item_skipped(item, exc.reason, exc.detail or str(exc)))
        picks.extend((item, data, decoded) for _, item, data, decoded in sorted(chosen, key=lambda c: c[0]))
    return picks


def original_tile(item: WorkItem, data: bytes, decoded: Decoded, marks: Marks | None = None) -> Tile:
    height, width = decoded.image.shape[:2]
    details = {
        "kind": "original",
        "source": item.source,
        "label": item.label,
        "split": item.split,
        "width": int(width),
        "height": int(height),
        "orientation": decoded.orientation,
    }
    caption = [_who(item), f"original {width}x{height}{_kind(decoded.image)}"]
    tile = Tile(item.source, data, decoded.image, caption, details)
    if marks is not None:
        targets = marks.targets(item, decoded)
        tile.overlay = marks.draw(decoded.image, targets)
        caption.append(marks.summary(targets))
    return tile


def _copy_tile(recipe, item, decoded, copy, out_rel, partners, loader, result, marks) -> Tile | None:
    try:
        rendered = render(
            recipe,
            decoded.image,
            source=item.source,
            label=item.label,
            copy=copy,
            suffix=os.path.splitext(out_rel)[1],
            partners=partners.get(f"{item.split}/{item.label}", ()),
            ctx=marks.context(loader) if marks is not None else ApplyContext(load=loader),
            targets=marks.targets(item, decoded) if marks is not None else None,
        )
    except Exception as exc:  # expand skips such a source too (transform_failed); say so, keep the sheet
        result.skipped.append(item_skipped(item, "transform_failed", f"copy {copy}: {exc}"))
        return None
    details = {
        "kind": "augmented",
        "path": out_rel,
        "source": item.source,
        "sources": rendered.sources,
        "label": item.label,
        "split": item.split,
        "copy": copy,
        "seed": rendered.seed,
        "transforms": rendered.applied,
    }
    steps = [short_step(a["name"], a["params"]) for a in rendered.applied] or ["(no transform ran)"]
    caption = [_who(item), f"copy {copy}: {printable(os.path.basename(out_rel))}", *steps]
    tile = Tile(out_rel, rendered.data, rendered.image, caption, details)
    if marks is not None:
        tile.overlay = marks.draw(rendered.image, rendered.targets)
        details["targets"] = rendered.tally
        caption.append(marks.summary(rendered.targets, rendered.tally))
    return tile


def each_rows(recipe, steps, item, data, decoded, partners, loader, marks=None) -> list[list[Tile]]:
    """Per step (blocks walked into) and per `_range` parameter: the original, then the low, middle and
    high end of that range. A step without a varying range gets one tile, applied with p = 1."""
    rows = []
    suffix = os.path.splitext(item.outputs[0][1] if item.outputs else item.source)[1]
    for path, spec in walk_steps(steps):
        if hasattr(spec, "operation_ends"):  # a policy: each of its operations, weakest to strongest
            rows += _policy_rows(recipe, spec, path, item, data, decoded, suffix, marks)
            continue
        varying = [name for name, (low, high) in ranges(spec).items() if low != high]
        middle = {name: _middle(low, high) for name, (low, high) in ranges(spec).items()}
        columns = [(name, which, value) for name in varying for which, value in _ends(*getattr(spec, name))]
        row = [original_tile(item, data, decoded, marks)]
        for name, which, value in columns or [(None, None, None)]:
            fixed = fixed_spec(spec, {**middle, **({name: value} if name else {})})
            rendered = render(  # copy 0 for every column: the same draws, only `name` moves
                recipe,
                decoded.image,
                source=item.source,
                label=item.label,
                copy=0,
                suffix=suffix,
                partners=partners.get(f"{item.split}/{item.label}", ()),
                ctx=marks.context(loader) if marks is not None else ApplyContext(load=loader),
                steps=[fixed],
                targets=marks.targets(item, decoded) if marks is not None else None,
            )
            applied = rendered.applied
            setting = f"{name} {which}: {format_number(value)}" if name else "always applied"
            tail = f"_{name}_{which}" if name else ""
            tile_path = f"each/{path.replace('.', '-')}_{spec.transform_name()}{tail}{suffix}"
            caption = [f"step {path}: {spec.transform_name()}", setting]
            caption += ["-> " + short_params(a["params"], named=True) for a in applied if short_params(a["params"])]
            details = {
                "kind": "each",
                "source": item.source,
                "label": item.label,
                "split": item.split,
                "step": path,
                "fixed": {k: [v, v] for k, v in {**middle, **({name: value} if name else {})}.items()},
                "transforms": applied,
            }
            tile = Tile(tile_path, rendered.data, rendered.image, caption, details)
            if marks is not None:
                tile.overlay = marks.draw(rendered.image, rendered.targets)
            row.append(tile)
        rows.append(row)
    return rows


class Marks:
    """An annotated dataset's targets for preview tiles: read like expand reads them, drawn over each tile."""

    def __init__(self, recipe: Recipe, dataset: Dataset, partners: dict, max_pixels: int, loader) -> None:
        from augcli.worker import Settings, partner_targets

        references = {s.relpath: (s.split, s.annotation) for s in dataset.samples}
        self.settings = Settings(recipe.model_dump_json(), str(dataset.root), "", max_pixels, partners)
        self.settings = replace(self.settings, annotations=dataset.annotations, references=references)
        self.partner_targets = partner_targets(self.settings, loader)
        self.names, self.ignore = dataset.annotations.names, recipe.targets.ignore

    def targets(self, item: WorkItem, decoded: Decoded):
        from augcli.worker import read_targets

        height, width = decoded.image.shape[:2]
        return read_targets(self.settings, item.source, item.split, item.annotation, width, height)

    def context(self, loader) -> ApplyContext:
        return ApplyContext(load=loader, extra={"targets": self.partner_targets})

    def summary(self, targets, tally: dict[str, int] | None = None) -> str:
        """One caption line: what the tile's targets hold (and, for a copy, what the steps did to them)."""
        if targets.mask is not None and not targets.instances and not (tally and tally["before"]):
            labels = [int(v) for v in np.unique(targets.mask) if v not in (0, self.ignore)]
            return "mask labels: " + (", ".join(map(str, labels)) or "none")
        if tally is None:
            return f"objects: {len(targets.instances)}"
        return "objects: " + ", ".join(f"{k} {v}" for k, v in tally.items())

    def draw(self, image: np.ndarray, targets) -> np.ndarray:
        from augcli.overlay import draw
        from augcli.sheet import displayable

        return draw(displayable(image), targets, self.names, self.ignore)


def _policy_rows(recipe, spec, path, item, data, decoded, suffix, marks) -> list[list[Tile]]:
    """One row per operation of a policy: the original, then the operation at its low, middle and high bin,
    replayed through the one renderer (so each tile is what a copy drawing that operation would be)."""
    rows = []
    height, width = decoded.image.shape[:2]
    for op, columns in spec.operation_ends(height, width):
        row = [original_tile(item, data, decoded, marks)]
        for which, params in columns:
            record = {"name": spec.transform_name(), "step": "0", "params": params}
            rendered = render(
                recipe, decoded.image, source=item.source, label=item.label, copy=0, suffix=suffix,
                steps=[spec], applied=[record],
            )  # fmt: skip
            magnitude = (params.get("ops") or params.get("chains", [[{}]])[0])[0].get("magnitude", 0)
            setting = op if which == "applied" else f"{op} {which}: {format_number(magnitude)}"
            caption = [f"step {path}: {spec.transform_name()}", setting]
            details = {"kind": "each", "source": item.source, "step": path, "transforms": [record]}
            tile_path = f"each/{path.replace('.', '-')}_{spec.transform_name()}_{op}_{which}{suffix}"
            row.append(Tile(tile_path, rendered.data, rendered.image, caption, details))
        rows.append(row)
    return rows


def walk_steps(steps: list[Any], prefix: str = "") -> list[tuple[str, Transform]]:
    """Every transform of a step list with its step path ("3", "5.1"), blocks walked into."""
    found = []
    for index, step in enumerate(steps):
        path = f"{prefix}{index}"
        if isinstance(step, Block):
            found.extend(walk_steps(step.transforms, f"{path}."))
        else:
            found.append((path, step))
    return found


def ranges(spec: Transform) -> dict[str, tuple[Any, Any]]:
    """The spec's interval parameters (fields named `*_range` holding a pair)."""
    found = {}
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        if name.endswith("_range") and isinstance(value, (tuple, list)) and len(value) == 2:
            found[name] = (value[0], value[1])
    return found


def fixed_spec(spec: Transform, values: dict[str, Any]) -> Transform:
    """A copy of `spec` that always runs, with each named range fixed to [v, v] (validated again)."""
    data = spec.model_dump()
    data.update({name: [value, value] for name, value in values.items()}, p=1.0)
    return type(spec).model_validate(data)


def _ends(low: Any, high: Any) -> list[tuple[str, Any]]:
    return [("low", low), ("mid", _middle(low, high)), ("high", high)]


def _middle(low: Any, high: Any) -> Any:
    if isinstance(low, int) and isinstance(high, int):
        return (low + high) // 2
    return (low + high) / 2


# ---- captions ---------------------------------------------------------------------------------------

SKIPPED_PARAMS = ("partners",)  # listed in the details; too long for a caption


def short_step(name: str, params: dict[str, Any]) -> str:
    """`rotate -12.3`, `hflip`, `brightness_contrast brightness=0.12 contrast=-0.05`."""
    return f"{name} {short_params(params)}".rstrip()


def short_params(params: dict[str, Any], named: bool = False) -> str:
    """A lone number is shown bare (`-12.3`) unless `named`; kernel seeds and partner lists are left out."""
    shown = {k: v for k, v in params.items() if k not in SKIPPED_PARAMS and not k.endswith("seed")}
    lone = next(iter(shown.values())) if len(shown) == 1 else None
    if not named and isinstance(lone, (int, float)) and not isinstance(lone, bool):
        return format_value(lone)
    return " ".join(f"{k}={format_value(v)}" for k, v in shown.items())


def format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, (list, tuple)):
        if len(value) <= 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "[" + ",".join(format_number(v) for v in value) + "]"
        if len(value) == 1:
            return "[" + format_value(value[0]) + "]"
        return f"<{len(value)} items>"
    if isinstance(value, dict):
        return "{...}"
    return str(value)


def format_number(value: Any) -> str:
    """Short and readable: -12.3, 0.12, 0.0071, 217, 15."""
    if isinstance(value, int):
        return str(value)
    size = abs(value)
    if float(value).is_integer() and size < 1e6:
        return str(int(value))
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def _who(item: WorkItem) -> str:
    """Captions are shown (sheet, HTML page): names are made printable; the details keep the exact ones."""
    group = item.label if item.label else (item.split or "")  # annotated images have objects, not a class
    return printable(f"{group}: {os.path.basename(item.source)}" if group else os.path.basename(item.source))


def _kind(image: np.ndarray) -> str:
    notes = []
    if image.ndim == 2:
        notes.append("grey")
    elif image.shape[2] == 4:
        notes.append("alpha")
    if image.dtype == np.uint16:
        notes.append("16-bit")
    return f" ({', '.join(notes)})" if notes else ""


def _title(recipe_path, dataset_root, recipe: Recipe, split: str | None, each: bool) -> str:
    what = "each transform at the ends of its ranges" if each else "originals and their augmented copies"
    where = f", split {split}" if split else ""
    return printable(f"augcli preview: {recipe_path} on {dataset_root}{where}, seed {recipe.seed}: {what}")


# ---- writing ----------------------------------------------------------------------------------------


def check_target(dataset_root: str | Path, output: Path) -> None:
    """The preview never writes into the dataset it reads."""
    source, target = Path(dataset_root).resolve(), output.resolve()
    if target == source or target.is_relative_to(source):
        raise OutputError(f"output {output} is inside the dataset {dataset_root}; choose a place outside it")


def write_sheet(result: PreviewResult, output: Path, tile_size: int | None = None, colors: int | None = None) -> Path:
    """Draw the contact sheet and write it as PNG (temp file + rename)."""
    from augcli.imageio import write_atomic
    from augcli.sheet import draw_sheet, encode_png

    if output.is_dir():
        raise OutputError(f"{output} is a folder; give a .png file name (or use --html for a folder)")
    if output.suffix.lower() != ".png":
        raise OutputError(f"{output}: the sheet is written as PNG; use a name ending in .png")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, encode_png(draw_sheet(result.rows, result.title, tile_size), colors))
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
    result.written.append(output)
    return output


def write_html(result: PreviewResult, folder: Path, tile_size: int | None = None, review: bool = False) -> Path:
    """`folder/index.html`, `folder/sheet.png` and every tile's file under `folder/tiles/`."""
    from augcli.preview_html import write_page

    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder; --html writes a folder")
    try:
        index = write_page(result, folder, tile_size, review)
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename or folder}: {exc.strerror or exc}") from None
    result.written.append(index)
    return index
