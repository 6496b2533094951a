"""The Python API: recipes, the one renderer and the two drivers, for use inside a program.

    from augcli.api import Augmenter, load_recipe

    augmenter = Augmenter("recipe.yaml", dataset_root="data")   # dataset_root: for mixing steps and labels
    result = augmenter.augment("data/train/ants/x.jpg", "train/ants/x.jpg", copy=3)
    result.image   # numpy array, OpenCV order: BGR / BGRA / grey, uint8 or uint16
    result.data    # the encoded file: byte for byte what `augcli expand` writes for that source and copy

`Augmenter.augment` and `Augmenter.replay` call `renderer.render()`, the function expand, preview, audit's replay
and tta call, after decoding with imageio's read policy (EXIF orientation applied, 16-bit and alpha kept); mixing
steps find their partners with the planner's `partner_lists` and load them with the worker's `partner_loader`. So
the same source id, copy index and suffix give the same bytes as the file expand wrote, by construction.
`expand()` and `audit()` run the commands' library entry points and return their result objects; nothing here
prints.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np

    from augcli.audit_report import AuditReport
    from augcli.dataset import Dataset
    from augcli.expand import ExpandResult
    from augcli.recipe import Recipe

__all__ = ["AugmentResult", "Augmenter", "audit", "expand", "load_recipe"]

RecipeLike = Union["Recipe", Mapping, str, os.PathLike]
Source = Union[str, os.PathLike, bytes, bytearray, memoryview, "np.ndarray"]
RECIPE_SUFFIXES = (".yaml", ".yml", ".json")


def load_recipe(recipe: RecipeLike) -> Recipe:
    """A validated Recipe from a file path, YAML text, a mapping (a manifest header's "recipe"), or a Recipe.

    A `str` is YAML text when it has several lines or looks like a mapping (`"seed: 1"`, `"{copies: 2}"`), and a
    path otherwise. Problems raise `RecipeError` naming the file (or `<recipe text>`), line and key, as the CLI
    reports them."""
    from augcli import recipe as recipes
    from augcli.yamlsafe import load_yaml

    if isinstance(recipe, recipes.Recipe):
        return recipe
    if isinstance(recipe, Mapping):
        return recipes.recipe_from_dict(dict(recipe))
    if isinstance(recipe, os.PathLike) or (isinstance(recipe, str) and _is_path(recipe)):
        return recipes.load_recipe(recipe)
    if isinstance(recipe, str):
        data, lines = load_yaml(recipe, "<recipe text>")
        return recipes.recipe_from_dict(data, "<recipe text>", lines)
    raise TypeError(f"a recipe is a path, YAML text, a mapping or a Recipe, not {type(recipe).__name__}")


def _is_path(text: str) -> bool:
    if "\n" in text:
        return False
    if text.lower().endswith(RECIPE_SUFFIXES) or os.path.isfile(text):
        return True
    return not (":" in text or text.lstrip().startswith("{"))


@dataclass
class AugmentResult:
    """One augmented copy of a source.

    `image` holds the pixels as the file holds them before compression: OpenCV's channel order (BGR, BGRA with
    alpha, 2-D for grey), uint8 or uint16 (16-bit sources stay 16-bit where the format allows and the recipe's
    `bit_depth` keeps them); JPEG drops alpha and JPEG/WebP/BMP are 8-bit. For the lossy formats (.jpg, .webp)
    decoding `data` gives slightly different pixels: the compression's. `data` is the encoded file."""

    image: np.ndarray
    data: bytes
    suffix: str
    label: str
    applied: list[dict[str, Any]]  # each step that ran: {"name", "step", "params"}, as the manifest records them
    seed: list[int]  # [recipe seed, stable id of the source, copy]: what the generator was built from
    sources: list[str]  # the source, then each partner a mixing step used

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.data).hexdigest()


class Augmenter:
    """Augment one source at a time with a recipe, exactly as `augcli expand` does.

    `dataset_root` (a folder or a URL, as for expand) is scanned once. It is needed when the recipe mixes images
    (blend, cutmix, mosaic: partners are the dataset's other sources of the class, or of the split with
    `partner_policy: same_split`), and it settles labels: a source id the dataset holds gets its class from the
    scan. Without it a mixing recipe is refused, and the label comes from the id: `split/label/...` when the
    first folder is a split name (train, val, valid, validation, test) and there is a folder below it, else
    `label/...`.

    An Augmenter pickles (for data-loader worker processes); the partner cache is rebuilt in each process."""

    def __init__(
        self, recipe: RecipeLike, dataset_root: str | os.PathLike | None = None, *, max_pixels: int | None = None
    ):
        from augcli.dataset import scan
        from augcli.errors import DatasetError
        from augcli.imageio import DEFAULT_MAX_PIXELS
        from augcli.planner import partner_lists

        self.recipe = load_recipe(recipe)
        self.max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
        self.dataset: Dataset | None = None
        self._partners: dict[str, tuple[str, ...]] = {}
        self._places: dict[str, tuple[str | None, str]] = {}
        if dataset_root is None:
            mixing = _mixing_steps(self.recipe)
            if mixing:
                where, name = mixing[0]
                raise DatasetError(
                    f"step {where} ({name}) mixes in other images of the class, so it needs the dataset: "
                    "give Augmenter(recipe, dataset_root=...) to find and load its partners"
                )
        else:
            self.dataset = scan(dataset_root)
            self._partners = partner_lists(self.recipe, self.dataset)
            self._places = {s.relpath: (s.split, s.label) for s in self.dataset.samples}
        self._ctx: Any = None

    # --- what the dataset holds --------------------------------------------------------------------------------

    def sources(self, split: str | None = None) -> list[tuple[str, str]]:
        """(source id, label) of every image of the dataset in expand's order; of one split if given."""
        if self.dataset is None:
            raise ValueError("sources() lists the dataset: create the Augmenter with dataset_root=...")
        return [(s.relpath, s.label) for s in self.dataset.samples if split is None or s.split == split]

    def place(self, source_id: str) -> tuple[str | None, str]:
        """(split, label) of a source id: the dataset's, or what the id's folders imply (see the class docs)."""
        if source_id in self._places:
            return self._places[source_id]
        parts = source_id.split("/")
        layout = self.dataset.layout if self.dataset is not None else None
        from augcli.entries import SPLIT_NAMES

        split_id = len(parts) > 2 and parts[0].lower() in SPLIT_NAMES
        if layout == "split" or (layout is None and split_id):
            if len(parts) > 2:
                return parts[0], parts[1]
        elif len(parts) > 1:
            return None, parts[0]
        raise ValueError(
            f"cannot tell the label of {source_id!r}: a source id is the dataset-relative path "
            "(label/name.jpg or split/label/name.jpg); or pass label=..."
        )

    # --- rendering ------------------------------------------------------------------------------------------------

    def augment(
        self,
        source: Source,
        source_id: str,
        copy: int = 0,
        label: str | None = None,
        suffix: str | None = None,
    ) -> AugmentResult:
        """Copy `copy` of a source: the pixels and the bytes `augcli expand` writes for `source_id` and `copy`.

        `source` is the image file's path, its bytes, or an array already decoded as augcli decodes (BGR/BGRA/grey,
        uint8/uint16, upright). `source_id` is its dataset-relative posix path as the manifest's `source` spells it
        ("train/ants/x.jpg"): the seed is taken from it. `label` defaults to what the id implies (`place()`);
        it chooses the class's own `classes:` steps and its mixing partners. `suffix` defaults to the extension
        expand gives the output (the recipe's `format`, or the source's own extension when it can be written, else
        .png). Any copy index works, also beyond the recipe's `copies` (an epoch counter, say)."""
        from augcli.renderer import render

        if isinstance(copy, bool) or not isinstance(copy, int) or copy < 0:
            raise ValueError(f"copy must be a whole number >= 0, not {copy!r}")
        try:
            split, implied = self.place(source_id)
        except ValueError:
            if label is None:
                raise
            split, implied = None, label
        label = implied if label is None else label
        suffix = self._suffix(source_id, suffix)
        rendered = render(
            self.recipe,
            self._decode(source, source_id),
            source=source_id,
            label=label,
            copy=copy,
            suffix=suffix,
            partners=self._partners.get(f"{split}/{label}", ()),
            ctx=self._context(),
        )
        return AugmentResult(
            rendered.image, rendered.data, suffix, label, rendered.applied, rendered.seed, rendered.sources
        )

    def replay(self, row: Mapping[str, Any], source: Source) -> AugmentResult:
        """Rebuild an augmented manifest row's file from its source and its recorded steps (nothing random is
        drawn): the same bytes as the file, when the Augmenter has the recipe of the manifest's header
        (`load_recipe(header["recipe"])`) and, for rows that mixed images, the dataset."""
        from augcli.renderer import render

        if row.get("kind") != "augmented" or not isinstance(row.get("transforms"), list):
            raise ValueError("replay() takes an augmented output row of an expand manifest (kind 'augmented')")
        suffix = os.path.splitext(row["path"])[1]
        rendered = render(
            self.recipe,
            self._decode(source, row["source"]),
            source=row["source"],
            label=row["label"],
            copy=row.get("copy") or 0,
            suffix=suffix,
            ctx=self._context(),
            applied=row["transforms"],
        )
        return AugmentResult(
            rendered.image, rendered.data, suffix, row["label"], rendered.applied, rendered.seed, rendered.sources
        )

    def _suffix(self, source_id: str, suffix: str | None) -> str:
        from augcli.imageio import ENCODABLE, output_suffix

        if suffix is None:
            return output_suffix(os.path.splitext(source_id)[1], self.recipe.format)
        suffix = suffix.lower() if suffix.startswith(".") else "." + suffix.lower()
        if suffix not in ENCODABLE:
            raise ValueError(f"cannot encode {suffix!r}; use one of {', '.join(sorted(ENCODABLE))}")
        return suffix

    def _decode(self, source: Source, name: str) -> np.ndarray:
        import numpy as np

        from augcli.imageio import decode, read_bytes

        if isinstance(source, np.ndarray):
            channels_ok = source.ndim == 2 or (source.ndim == 3 and source.shape[2] in (3, 4))
            if source.dtype not in (np.uint8, np.uint16) or not channels_ok:
                raise ValueError(
                    f"an image array must be uint8 or uint16, HxW or HxWx3/4 (BGR/BGRA), "
                    f"not {source.dtype} {source.shape}"
                )
            return source
        if isinstance(source, (bytes, bytearray, memoryview)):
            return decode(bytes(source), name, self.max_pixels).image
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            return decode(read_bytes(path), str(path), self.max_pixels).image
        raise TypeError(f"a source is a path, bytes or a numpy array, not {type(source).__name__}")

    def _context(self) -> Any:
        """expand's ApplyContext: partners are read from the dataset with the same read policy."""
        from augcli.transforms.base import ApplyContext
        from augcli.worker import partner_loader

        if self._ctx is None:
            root = None if self.dataset is None else str(self.dataset.root)
            self._ctx = ApplyContext(load=partner_loader(root, self.max_pixels) if root is not None else None)
        return self._ctx

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_ctx": None}  # the loader's cache is a closure: rebuilt after unpickling


def _mixing_steps(recipe: Recipe) -> list[tuple[str, str]]:
    """(step path, name) of each step that mixes in other images, in every step list of the recipe."""
    from augcli.recipe import Block

    found: list[tuple[str, str]] = []

    def walk(steps: list[Any], prefix: str) -> None:
        for index, step in enumerate(steps):
            where = f"{prefix}{index}"
            if isinstance(step, Block):
                walk(step.transforms, where + ".")
            elif step.needs_partners:
                found.append((where, step.transform_name()))

    walk(list(recipe.transforms), "transforms.")
    for name, override in recipe.classes.items():
        if override.transforms is not None:
            walk(list(override.transforms), f"classes.{name}.transforms.")
    return found


# --- the commands' library entry points -----------------------------------------------------------------------


def expand(recipe: RecipeLike, dataset: str | os.PathLike, output: str | os.PathLike, **options: Any) -> ExpandResult:
    """`augcli expand` without the printing: returns the ExpandResult (counts, skipped rows, manifest path).

    `options` are augcli.expand.expand's: workers, scheduler, max_pixels, force, strict, on_start, on_progress.
    `recipe` is anything `load_recipe` takes; errors raise as AugcliError subclasses (their `exit_code` is the
    CLI's)."""
    from augcli.expand import expand as run_expand

    with _recipe_file(recipe) as path:
        return run_expand(path, dataset, output, **options)


def audit(target: str | os.PathLike, **options: Any) -> AuditReport:
    """`augcli audit` without the printing: returns the AuditReport (findings, `exit_code`, replay counts).

    `options` are augcli.audit.audit's: source, recipe (anything `load_recipe` takes), replay, near_dup_threshold,
    imbalance_warn, workers, max_pixels."""
    from augcli.audit import audit as run_audit

    if options.get("recipe") is None:
        return run_audit(target, **options)
    with _recipe_file(options.pop("recipe")) as path:
        return run_audit(target, recipe=path, **options)


@contextmanager
def _recipe_file(recipe: RecipeLike) -> Iterator[str | os.PathLike]:
    """The drivers read a recipe file: a path is passed on (so errors name it), anything else is validated here and
    written to a temporary file as JSON (a YAML subset). The manifest records the recipe itself, not its path."""
    if isinstance(recipe, os.PathLike) or (isinstance(recipe, str) and _is_path(recipe)):
        yield recipe
        return
    validated = load_recipe(recipe)
    with tempfile.TemporaryDirectory(prefix="augcli-recipe-") as folder:
        path = Path(folder) / "recipe.json"
        path.write_text(validated.model_dump_json(), encoding="utf-8")
        yield path
