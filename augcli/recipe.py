"""The recipe: its schema (pydantic, a discriminated union on each step's `name`) and `load_recipe()`.

Validation errors are rewritten for people: file and line, the key path, what was expected, and the
closest valid names.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from augcli.errors import RecipeError
from augcli.targets import TargetSettings
from augcli.transforms import REGISTRY, Transform
from augcli.transforms.base import IntRange
from augcli.views import expand_views
from augcli.yamlsafe import load_yaml

RECIPE_VERSION = 1
PREPROCESS_STEPS = ("resize", "letterbox", "center_crop", "grayscale")  # deterministic: no random draw
OUTPUT_FORMATS = ("keep", "jpg", "png", "webp")


class Block(BaseModel):
    """A composition step: it chooses and runs other steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p: float = Field(1.0, ge=0.0, le=1.0, description="probability that the block runs at all")
    transforms: list[Step] = Field(min_length=1)


class Sequence(Block):
    """Run every child step in order (each still subject to its own `p`)."""

    name: Literal["sequence"] = "sequence"


class OneOf(Block):
    """Run exactly one child step, chosen at random (optionally weighted)."""

    name: Literal["one_of"] = "one_of"
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    def model_post_init(self, _context: Any) -> None:
        if self.weights is not None:
            if len(self.weights) != len(self.transforms):
                raise ValueError(f"weights has {len(self.weights)} entries for {len(self.transforms)} transforms")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")


class SomeOf(Block):
    """Run n distinct child steps chosen at random, n drawn from `n_range`, in recipe order."""

    name: Literal["some_of"] = "some_of"
    n_range: IntRange = (1, 1)

    def model_post_init(self, _context: Any) -> None:
        if self.n_range[0] < 0 or self.n_range[1] > len(self.transforms):
            raise ValueError(f"n_range {list(self.n_range)} must lie within [0, {len(self.transforms)}]")


class RandomOrder(Block):
    """Run every child step in a random order (each still subject to its own `p`)."""

    name: Literal["random_order"] = "random_order"


BLOCKS: dict[str, type[Block]] = {
    "sequence": Sequence,
    "one_of": OneOf,
    "some_of": SomeOf,
    "random_order": RandomOrder,
}

Step = Annotated[
    Union[tuple(REGISTRY.values()) + tuple(BLOCKS.values())],  # noqa: UP007  (built from the registry)
    Field(discriminator="name"),
]

for _block in BLOCKS.values():
    _block.model_rebuild()


class ClassOverride(BaseModel):
    """Settings for one class that replace the recipe's own (`classes: {cat: {copies: 8}}`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    copies: int | None = Field(None, ge=0, le=100_000, description="fixed augmented outputs per source of this class")
    target_per_class: int | None = Field(None, ge=0, le=10_000_000, description="images this class reaches")
    keep_originals: StrictBool | None = Field(None, description="copy this class's sources unchanged")
    transforms: list[Step] | None = Field(None, description="steps for this class instead of the recipe's")

    @model_validator(mode="after")
    def _one_count_mode(self) -> ClassOverride:
        if self.copies is not None and self.target_per_class is not None:
            raise ValueError("copies and target_per_class are mutually exclusive; set one")
        return self


class TTASection(BaseModel):
    """Test-time-augmentation views written by `augcli tta`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    views: list[str] = Field(["identity", "hflip"], min_length=1, description="view names or groups (ten_crop)")
    split: str = Field("test", description="split whose images get views (flat datasets: every image)")
    crop_fraction: float = Field(0.875, gt=0.0, le=1.0, description="crop side as a fraction of the image side")

    @field_validator("views")
    @classmethod
    def _known_views(cls, views: list[str]) -> list[str]:
        expand_views(views)  # raises ValueError naming the unknown view
        return views


class SplitSection(BaseModel):
    """`split:`: expand divides a flat dataset into train/val/test first, as `augcli split` would."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    val: float = Field(0.2, ge=0, lt=1, description="share of each class for validation")
    test: float = Field(0.1, ge=0, lt=1, description="share of each class for test")
    near_dup_threshold: int = Field(6, ge=-1, le=64, description="dHash bits within which images stay together")

    @model_validator(mode="after")
    def _room_for_train(self) -> SplitSection:
        if self.val + self.test >= 1:
            raise ValueError(f"val {self.val} + test {self.test} must stay below 1")
        return self


class Recipe(BaseModel):
    """A whole augmentation recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(RECIPE_VERSION, description="recipe format version")
    seed: int = Field(0, ge=0, description="master seed: same recipe, seed and data give the same bytes")
    copies: int = Field(
        4, ge=0, le=100_000, description="augmented outputs per train source (unused with target_per_class / balance)"
    )
    keep_originals: StrictBool = Field(True, description="also copy each train source unchanged into the output")
    format: Literal["keep", "jpg", "png", "webp"] = Field("keep", description="output encoding; keep = as source")
    quality: int = Field(95, ge=1, le=100, description="JPEG / WebP quality")
    bit_depth: Literal["keep", 8] = Field(
        "keep", description="keep: 16-bit sources give 16-bit outputs where the format allows; 8: convert to 8-bit"
    )
    augment_splits: list[str] = Field(
        ["train"], description="splits that are augmented; other splits are copied unchanged"
    )
    transforms: list[Step] = Field(default_factory=list, description="ordered steps applied to each copy")
    target_per_class: int | None = Field(
        None, ge=0, le=10_000_000, description="every class of an augmented split reaches this many images"
    )
    balance: Literal["max"] | None = Field(None, description="max: every class reaches the largest class's count")
    classes: dict[str, ClassOverride] = Field(default_factory=dict, description="per-class settings by class name")
    tta: TTASection | None = Field(None, description="views for `augcli tta`")
    preprocess: list[Step] = Field(
        default_factory=list,
        description="steps every output of every split gets first, originals included (resize, letterbox, "
        "center_crop with a fixed size, grayscale); without it originals are byte copies",
    )
    split: SplitSection | None = Field(
        None, description="divide a flat dataset into train/val/test before augmenting (near-duplicates kept together)"
    )
    targets: TargetSettings = Field(
        default_factory=TargetSettings, description="detection/segmentation: which boxes and mask pixels are kept"
    )
    partner_policy: Literal["same_class", "same_split"] = Field(
        "same_class", description="where blend, cutmix and mosaic find partners: the class, or the whole split"
    )

    @model_validator(mode="after")
    def _deterministic_preprocess(self) -> Recipe:
        for index, step in enumerate(self.preprocess):
            name = getattr(step, "name", "")
            if name not in PREPROCESS_STEPS:
                raise ValueError(
                    f"preprocess[{index}]: {name!r} cannot preprocess (it must give every image the same treatment); "
                    f"use one of {', '.join(PREPROCESS_STEPS)}"
                )
            fixed_crop = (
                name != "center_crop"
                or step.size is not None
                or (
                    step.width_fraction_range[0] == step.width_fraction_range[1]
                    and step.height_fraction_range[0] == step.height_fraction_range[1]
                )
            )
            if step.p != 1.0 or not fixed_crop:
                raise ValueError(f"preprocess[{index}]: {name} must always run (p: 1) with fixed settings")
        return self

    @model_validator(mode="after")
    def _one_balance_mode(self) -> Recipe:
        if self.target_per_class is not None and self.balance is not None:
            raise ValueError("target_per_class and balance are mutually exclusive; set one")
        return self

    def canonical_json(self) -> str:
        """Every field with defaults filled in, keys sorted: what the recipe hash is taken over."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def steps_for(self, label: str) -> list[Any]:
        """The steps applied to sources of a class: its own `classes:` list when it has one.

        Step paths recorded in the manifest are relative to this list."""
        override = self.classes.get(label)
        if override is not None and override.transforms is not None:
            return list(override.transforms)
        return list(self.transforms)

    def step_lists(self) -> list[list[Any]]:
        """Every list of steps the recipe can run (the main one and each class's own)."""
        return [list(self.transforms)] + [list(c.transforms) for c in self.classes.values() if c.transforms is not None]


def recipe_from_dict(
    data: Any, filename: str = "<recipe>", lines: dict | None = None, folder: str | None = None
) -> Recipe:
    """`folder`: where relative paths in the recipe (a domain step's `references`) start; default the
    working directory."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{filename}: a recipe must be a mapping of keys (seed, copies, transforms, ...)")
    try:
        return Recipe.model_validate(data, context={"recipe_dir": folder} if folder else None)
    except ValidationError as exc:
        problems = [_describe(error, data, lines or {}, filename) for error in exc.errors()]
        shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
        raise RecipeError("invalid recipe:\n  " + "\n  ".join(shown)) from None


def read_text(path: Path, what: str = "recipe") -> str:
    """A recipe-like file's text, or a RecipeError naming it (also for `augcli convert`'s pipelines)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read {what} {path}: {exc}") from None


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    text = read_text(path)
    data, lines = load_yaml(text, str(path))
    return recipe_from_dict(data, str(path), lines, str(path.resolve().parent))


def step_names() -> list[str]:
    return sorted(REGISTRY) + sorted(BLOCKS)


def _describe(error: dict, data: Any, lines: dict, filename: str) -> str:
    """One line per problem: `file:line: key.path: message`."""
    data_path, node = _follow(data, error["loc"])
    line = _line_of(lines, data_path)
    where = f"{filename}:{line}" if line else filename
    shown_path = _display(data_path)
    kind = error["type"]
    if kind == "union_tag_invalid":
        tag = error["ctx"]["tag"]
        message = f"unknown transform {tag!r}{suggest(tag, step_names())} (`augcli transforms` lists them all)"
    elif kind == "union_tag_not_found":
        message = "each step needs `name:` (a transform or one_of / some_of / sequence / random_order)"
    elif kind == "extra_forbidden":
        key = error["loc"][-1]
        valid = _section_fields(data_path) or _fields_of(node)
        message = f"unknown key {key!r}{suggest(str(key), valid)} (valid keys: {', '.join(valid)})"
    elif kind in ("model_type", "model_attributes_type") and data_path and isinstance(data_path[-1], int):
        message = "each step must be a mapping such as {name: hflip, p: 0.5}"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if "input" in error and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    return f"{where}: {shown_path}: {message}" if shown_path else f"{where}: {message}"


def _follow(data: Any, loc: tuple) -> tuple[tuple, Any]:
    """Walk pydantic's error location through the data, skipping union tags that are not data keys.

    Returns the data path and the mapping that holds the last key (to list its valid keys)."""
    path: list[Any] = []
    node, holder = data, data
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            holder, node = node, node[part]
            path.append(part)
        elif isinstance(node, dict) and node.get("name") == part:
            continue
        else:
            break
    return tuple(path), holder if isinstance(holder, dict) else data


def _line_of(lines: dict, path: tuple) -> int | None:
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]


def _display(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _section_fields(path: tuple) -> list[str]:
    """Keys of the nested sections that are not steps: `classes.<name>.<key>` and `tta.<key>`."""
    if len(path) == 3 and path[0] == "classes":
        return list(ClassOverride.model_fields)
    if len(path) == 2 and path[0] == "tta":
        return list(TTASection.model_fields)
    return []


def _fields_of(mapping: Any) -> list[str]:
    name = mapping.get("name") if isinstance(mapping, dict) else None
    model: type[BaseModel] = REGISTRY.get(name) or BLOCKS.get(name) or Recipe  # type: ignore[arg-type]
    if "name" in (mapping or {}) and model is Recipe:
        model = Transform
    return list(model.model_fields)


def suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
