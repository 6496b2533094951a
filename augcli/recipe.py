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

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from augcli.errors import RecipeError
from augcli.transforms import REGISTRY, Transform
from augcli.transforms.base import IntRange
from augcli.yamlsafe import load_yaml

RECIPE_VERSION = 1
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


BLOCKS: dict[str, type[Block]] = {"sequence": Sequence, "one_of": OneOf, "some_of": SomeOf}

Step = Annotated[
    Union[tuple(REGISTRY.values()) + tuple(BLOCKS.values())],  # noqa: UP007  (built from the registry)
    Field(discriminator="name"),
]

for _block in BLOCKS.values():
    _block.model_rebuild()


class Recipe(BaseModel):
    """A whole augmentation recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(RECIPE_VERSION, description="recipe format version")
    seed: int = Field(0, ge=0, description="master seed: same recipe, seed and data give the same bytes")
    copies: int = Field(4, ge=0, le=100_000, description="augmented outputs per train source")
    keep_originals: StrictBool = Field(True, description="also copy each train source unchanged into the output")
    format: Literal["keep", "jpg", "png", "webp"] = Field("keep", description="output encoding; keep = as source")
    quality: int = Field(95, ge=1, le=100, description="JPEG / WebP quality")
    augment_splits: list[str] = Field(
        ["train"], description="splits that are augmented; other splits are copied unchanged"
    )
    transforms: list[Step] = Field(default_factory=list, description="ordered steps applied to each copy")

    def canonical_json(self) -> str:
        """Every field with defaults filled in, keys sorted: what the recipe hash is taken over."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def steps_for(self, label: str) -> list[Any]:
        """The steps applied to sources of a class."""
        return list(self.transforms)


def recipe_from_dict(data: Any, filename: str = "<recipe>", lines: dict | None = None) -> Recipe:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RecipeError(f"{filename}: a recipe must be a mapping of keys (seed, copies, transforms, ...)")
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, data, lines or {}, filename) for error in exc.errors()]
        shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
        raise RecipeError("invalid recipe:\n  " + "\n  ".join(shown)) from None


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"recipe file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc}") from None
    data, lines = load_yaml(text, str(path))
    return recipe_from_dict(data, str(path), lines)


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
        message = "each step needs `name:` (a transform or one_of / some_of / sequence)"
    elif kind == "extra_forbidden":
        key = error["loc"][-1]
        valid = _fields_of(node)
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


def _fields_of(mapping: Any) -> list[str]:
    name = mapping.get("name") if isinstance(mapping, dict) else None
    model: type[BaseModel] = REGISTRY.get(name) or BLOCKS.get(name) or Recipe  # type: ignore[arg-type]
    if "name" in (mapping or {}) and model is Recipe:
        model = Transform
    return list(model.model_fields)


def suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
