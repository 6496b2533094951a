"""`augcli convert`: an albumentations pipeline saved with `A.save(..., data_format="yaml" | "json")` -> a recipe.

Only the saved file is read (albumentations is never imported). Each transform is looked up in
`augcli.albumentations_map.MAPPING`; composition blocks become augcli blocks:

- `Compose`, `Sequential` -> `sequence` (the top-level Compose's steps become the recipe's `transforms`; its `p`
  below 1 wraps them in one `sequence`).
- `OneOf` -> `one_of`: albumentations picks a child with probability proportional to the children's `p` and then
  always runs it, so the children's `p` become `weights` and each child gets `p: 1`.
- `SomeOf(n)` -> `some_of` with `n_range: [n, n]`; children keep their own `p` (as in albumentations).

Nothing is dropped silently. A transform without an equivalent, or a parameter whose value cannot be expressed,
is *skipped*: listed with its line in the file (when known) and its path (`transforms[3].transforms[1]`), in the
written recipe's header comment and in `Conversion.skipped`; the command then exits 1 (the recipe is still
written, without those steps). A transform converted to a related augcli step whose sampling or formula differs
(see the README table) is a *note*: listed the same way, exit 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from augcli.albumentations_map import ALBUMENTATIONS_VERSION, BLOCKS, MAPPING, Notes
from augcli.errors import OutputError, RecipeError


@dataclass(frozen=True)
class Problem:
    where: str  # "file:line" when the line is known, else the file
    path: str  # transforms[3].transforms[1]
    transform: str  # the albumentations class name
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.path} {self.transform}: {self.message}"


@dataclass
class Conversion:
    recipe: dict[str, Any]
    skipped: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    converted: int = 0  # transforms (not blocks) written into the recipe
    total: int = 0  # transforms (not blocks) in the pipeline
    version: str = ""

    def to_yaml(self, source: str) -> str:
        header = [
            f"# Converted by `augcli convert` from {source} (saved by albumentations {self.version or 'unknown'}).",
            "# Colours are BGR (albumentations pipelines are fed RGB). Set `seed` and `copies` for your dataset.",
        ]
        if self.skipped:
            header.append(f"# NOT converted ({len(self.skipped)}):")
            header += [f"#   {problem}" for problem in self.skipped]
        if self.notes:
            header.append(f"# Converted approximately ({len(self.notes)}):")
            header += [f"#   {problem}" for problem in self.notes]
        body = yaml.dump(self.recipe, Dumper=_NoAliases, sort_keys=False, default_flow_style=None, width=120)
        return "\n".join(line.replace("\n", " ") for line in header) + "\n" + body


class _NoAliases(yaml.SafeDumper):
    """Recipes refuse YAML aliases: a value used twice (center_range for x and y) is written out twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def convert_file(pipeline: str | Path, output: str | Path | None = None) -> Conversion:
    """Convert the saved pipeline at `pipeline`; write the recipe to `output` when given."""
    from augcli.recipe import read_text

    pipeline = Path(pipeline)
    text = read_text(pipeline, "pipeline")
    conversion = convert_text(text, str(pipeline))
    if output is not None:
        output = Path(output)
        if output.resolve() == pipeline.resolve():
            raise OutputError(f"{output}: the recipe would overwrite the pipeline it is converted from")
        try:
            output.write_text(conversion.to_yaml(pipeline.name), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {output}: {exc}") from None
    return conversion


def convert_text(text: str, filename: str = "<pipeline>") -> Conversion:
    data, lines = _parse(text, filename)
    if not isinstance(data, dict) or not isinstance(data.get("transform"), dict):
        raise RecipeError(
            f"{filename}: not a saved albumentations pipeline (expected `__version__` and `transform:` with "
            "`__class_fullname__`, as A.save writes)"
        )
    if text.strip().count("\n") == 0:
        lines = {}  # a one-line file (A.save's JSON): a path says more than line 1
    converter = _Converter(filename, lines)
    version = str(data.get("__version__", ""))
    if version != ALBUMENTATIONS_VERSION:
        converter.note(
            (),
            "",
            "__version__",
            f"saved by albumentations {version or '?'}; the mapping is for {ALBUMENTATIONS_VERSION}",
        )
    top = data["transform"]
    name = _class_name(top)
    if name in ("Compose", "ReplayCompose", "Sequential"):
        for key in ("bbox_params", "keypoint_params"):
            if top.get(key):
                converter.note(
                    ("transform", key), "", name, f"{key}: augcli reads boxes from the dataset layout (--layout)"
                )
        steps = converter.children(top, ("transform",), "")
        p = float(top.get("p", 1.0))
        if p < 1.0 and steps:
            steps = [{"name": "sequence", "p": p, "transforms": steps}]
    else:
        steps = converter.node(top, ("transform",), "transform")
        steps = [] if steps is None else [steps]
    recipe = {"version": 1, "transforms": steps}
    return Conversion(recipe, converter.skipped, converter.notes, converter.converted, converter.total, version)


def _parse(text: str, filename: str) -> tuple[Any, dict[tuple, int]]:
    """The data and the line of each node (by its key path); JSON is read by `json` (YAML misreads 1e-05)."""
    lines: dict[tuple, int] = {}
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _index(node, (), lines)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        data, lines = None, {}
        if not text.lstrip().startswith(("{", "[")):
            raise RecipeError(f"{filename}: invalid YAML: {exc}") from None
    if text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecipeError(f"{filename}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    return data, lines


def _index(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _index(value_node, (*path, key_node.value), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), lines)


def _class_name(node: Any) -> str:
    name = node.get("__class_fullname__", "") if isinstance(node, dict) else ""
    return str(name).rsplit(".", 1)[-1]


class _Converter:
    def __init__(self, filename: str, lines: dict[tuple, int]) -> None:
        self.filename, self.lines = filename, lines
        self.skipped: list[Problem] = []
        self.notes: list[Problem] = []
        self.converted = self.total = 0

    def _problem(self, key: tuple, path: str, name: str, message: str) -> Problem:
        line = self.lines.get(key)
        return Problem(f"{self.filename}:{line}" if line else self.filename, path or "(pipeline)", name, message)

    def skip(self, key: tuple, path: str, name: str, message: str) -> None:
        self.skipped.append(self._problem(key, path, name, message))

    def note(self, key: tuple, path: str, name: str, message: str) -> None:
        self.notes.append(self._problem(key, path, name, message))

    def children(self, block: dict, key: tuple, path: str) -> list[dict]:
        """The converted children of a block, in order (skipped ones left out)."""
        steps = []
        for index, child in enumerate(block.get("transforms") or []):
            child_path = f"{path}.transforms[{index}]" if path else f"transforms[{index}]"
            converted = self.node(child, (*key, "transforms", index), child_path)
            if converted is not None:
                steps.append(converted)
        return steps

    def node(self, node: Any, key: tuple, path: str, forced: bool = False) -> dict | None:
        """One transform or block as one recipe step (None when skipped). `forced`: run with p 1 (OneOf child)."""
        name = _class_name(node)
        if not name:
            self.skip(key, path, "?", "not a transform (no __class_fullname__)")
            return None
        p = 1.0 if forced else float(node.get("p", 0.5))
        if name in BLOCKS or name in ("RandomOrder", "ReplayCompose", "SelectiveChannelTransform"):
            return self.block(node, name, key, path, p)
        self.total += 1
        entry = MAPPING.get(name)
        if entry is None:
            self.skip(key, path, name, f"not an albumentations {ALBUMENTATIONS_VERSION} image transform augcli knows")
            return None
        if name == "NoOp":
            self.note(key, path, name, "does nothing: left out")
            self.total -= 1
            return None
        if entry.convert is None:
            self.skip(key, path, name, entry.params)
            return None
        notes = Notes()
        args = {k: v for k, v in node.items() if k not in ("__class_fullname__", "p")}
        try:
            result = entry.convert(args, notes)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            self.skip(
                key,
                path,
                name,
                f"unexpected arguments ({type(exc).__name__}: {exc}); was it saved by {ALBUMENTATIONS_VERSION}?",
            )
            return None
        for message in notes.skipped:
            self.skip(key, path, name, message)
        if not entry.exact and not notes.approximate:
            self.note(key, path, name, entry.differs)
        for message in notes.approximate:
            self.note(key, path, name, message)
        steps = result if isinstance(result, list) else [result]
        problem = _invalid(steps)
        if problem:
            self.skip(key, path, name, f"the converted step is not valid in augcli: {problem}")
            return None
        self.converted += 1
        if len(steps) == 1:
            return _with_p(steps[0], p)
        return _with_p({"name": "sequence", "transforms": steps}, p)

    def block(self, node: dict, name: str, key: tuple, path: str, p: float) -> dict | None:
        where = f"{path}.transforms" if path else "transforms"
        children = node.get("transforms") or []
        if name == "OneOf":
            kept, weights = [], []
            for index, child in enumerate(children):
                converted = self.node(child, (*key, "transforms", index), f"{where}[{index}]", forced=True)
                if converted is not None:
                    kept.append(converted)
                    weights.append(float(child.get("p", 0.5)) if isinstance(child, dict) else 1.0)
            if len(kept) < len(children) and kept:
                self.note(
                    key, path, name, "skipped children left out: the others share their chance (weights renormalised)"
                )
            if not kept or sum(weights) <= 0:
                return None
            out: dict[str, Any] = {"name": "one_of", "transforms": kept}
            if len(set(weights)) > 1:
                out["weights"] = weights
            return _with_p(out, p)
        kept = self.children(node, key, path)
        if not kept:
            return None
        if name == "SomeOf":
            if node.get("replace"):
                self.skip(
                    key,
                    path,
                    name,
                    "replace=True: augcli's some_of picks distinct steps (converted without replacement)",
                )
            n = int(node.get("n", 1))
            if n > len(kept):
                if len(kept) < len(children):
                    self.note(key, path, name, f"n={n} lowered to {len(kept)}: some children were skipped")
                n = len(kept)
            return _with_p({"name": "some_of", "n_range": [n, n], "transforms": kept}, p)
        if name == "RandomOrder":
            self.skip(key, path, name, "the random order has no equivalent: its steps run in the saved order")
        if name == "SelectiveChannelTransform":
            self.skip(key, path, name, "channels: augcli steps apply to every channel")
        return _with_p({"name": "sequence", "transforms": kept}, p)


def _with_p(step: dict, p: float) -> dict:
    if p >= 1.0:
        return step
    return {"name": step["name"], "p": round(p, 10), **{k: v for k, v in step.items() if k != "name"}}


def _invalid(steps: list[dict]) -> str:
    """'' when the steps validate as recipe steps, else the recipe error's first problem."""
    from augcli.recipe import recipe_from_dict

    try:
        recipe_from_dict({"transforms": steps}, "<converted>")
    except RecipeError as exc:
        return str(exc).split("\n", 1)[-1].strip()
    return ""
