"""A strict, safe YAML reader for recipes.

PyYAML's safe loader still accepts duplicate keys (the last silently wins), expands aliases without
limit (a few hundred bytes can become megabytes) and reads `no`/`on` as booleans. Recipes are small
and hand-written, so all three are refused or narrowed here, and every value's line is kept so
validation errors can point at it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from augcli.errors import RecipeError

Path_ = tuple[Any, ...]


class _StrictLoader(yaml.SafeLoader):
    pass


# YAML 1.2 booleans only: `yes`, `no`, `on`, `off` stay strings.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _compose_alias_free(self: _StrictLoader, parent: Any, index: Any) -> Any:
    if self.check_event(yaml.AliasEvent):
        event = self.peek_event()
        raise yaml.MarkedYAMLError(
            "while reading the recipe", None, "aliases (*name) are not allowed in recipes", event.start_mark
        )
    return yaml.SafeLoader.compose_node(self, parent, index)


_StrictLoader.compose_node = _compose_alias_free  # type: ignore[method-assign]


def load_yaml(text: str, filename: str) -> tuple[Any, dict[Path_, int]]:
    """Parse `text` into plain data and a map from each value's path (keys and indices) to its line."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Path_, int] = {}
        _check_and_index(node, (), lines, filename)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise RecipeError(f"{filename}{line}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise RecipeError(f"{filename}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, lines


def _check_and_index(node: yaml.Node, path: Path_, lines: dict[Path_, int], filename: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise RecipeError(f"{filename}:{line}: duplicate key {key!r} (first at line {seen[key]})")
            seen[key] = line
            _check_and_index(value_node, (*path, key), lines, filename)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_and_index(item, (*path, index), lines, filename)
