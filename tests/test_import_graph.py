"""The import graph of the package: no cycles, and kernels/ depends on nothing else of augcli.

Every module under augcli/ is parsed with `ast`; every import of an augcli module counts, at module level or
inside a function, absolute (`import augcli.x`, `from augcli import x`, `from augcli.x import y`) or relative
(`from . import x`, `from .x import y`). A module pair that imports each other is a design asking to be merged
(STYLE.md), even when a function-level import keeps Python from noticing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "augcli"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(augcli module, line) for each import in the module `name` stored at `path`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `from .. import x` climbs level - 1 packages from this one
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            # `from augcli.transforms import base` imports the submodule; `from augcli.errors import X` a name
            targets = [
                f"{base_name}.{alias.name}" if f"{base_name}.{alias.name}" in MODULES else base_name
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "augcli" or target.startswith("augcli."):
                assert target in MODULES, f"{path.relative_to(REPO)}:{node.lineno} imports {target}, not a module"
                yield target, node.lineno


GRAPH = {name: sorted(set(imported(name, path))) for name, path in MODULES.items()}


def cycles(graph: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """The strongly connected components with a cycle in them (more than one module, or a self-import);
    Tarjan's algorithm, iterative so a deep chain cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target, _ in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or any(target == node for target, _ in graph[node]):
                        found.append(sorted(component))
    return sorted(found)


def describe(component: list[str]) -> str:
    """The modules of a cycle and the import lines that tie them, to know which to cut."""
    members = set(component)
    lines = [f"cycle: {' <-> '.join(component)}"]
    for name in component:
        path = MODULES[name].relative_to(REPO)
        lines += [f"  {path}:{line} imports {target}" for target, line in GRAPH[name] if target in members]
    return "\n".join(lines)


def test_the_graph_sees_every_kind_of_import() -> None:
    """A graph that missed imports would find no cycles for the wrong reason."""
    edges = {(name, target) for name, targets in GRAPH.items() for target, _ in targets}
    assert ("augcli.transforms", "augcli.transforms.geometry") in edges  # from augcli.transforms import (geometry,)
    assert ("augcli.transforms.geometry", "augcli.kernels.geometry") in edges  # from augcli.kernels import geometry
    assert ("augcli.cli", "augcli.errors") in edges  # module level
    assert ("augcli.cli", "augcli.storage") in edges  # function level: from augcli import storage
    assert ("augcli", "augcli.version") in edges  # the package itself imports from a module
    assert cycles({"a": [("b", 1)], "b": [("a", 2)], "c": [("c", 3)], "d": [("a", 4)]}) == [["a", "b"], ["c"]]


def test_no_import_cycles() -> None:
    found = cycles(GRAPH)
    assert not found, "the augcli package has import cycles:\n" + "\n".join(describe(c) for c in found)


def test_kernels_import_nothing_from_the_rest_of_augcli() -> None:
    """Kernels are pure numpy/cv2 functions: the rest of the package may use them, never the reverse."""
    outside = [
        f"{MODULES[name].relative_to(REPO)}:{line} imports {target}"
        for name, targets in GRAPH.items()
        if name.startswith("augcli.kernels")
        for target, line in targets
        if not target.startswith("augcli.kernels")
    ]
    assert not outside, "\n".join(outside)
