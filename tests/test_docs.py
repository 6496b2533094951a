"""Documentation checked against the code (sqlite-utils' test_docs.py): the README transform table is the
registry's, and every example recipe in configs/ loads."""

from __future__ import annotations

import importlib.util

import pytest

from augcli.recipe import load_recipe
from augcli.transforms import REGISTRY
from tests.conftest import CONFIGS, REPO


def readme_tool():
    spec = importlib.util.spec_from_file_location("readme_transforms", REPO / "scripts" / "readme_transforms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_transform_table_matches_the_registry() -> None:
    tool = readme_tool()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert tool.with_table(readme, tool.render_table()) == readme, "README transform table is stale: run `make docs`"


def test_readme_table_lists_every_transform_once() -> None:
    table = readme_tool().render_table()
    for name, spec in REGISTRY.items():
        assert table.count(f"| `{name}` | {spec.family} |") == 1, name


def test_check_mode_reports_a_stale_table(tmp_path, monkeypatch) -> None:
    tool = readme_tool()
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{tool.START}\n| `hflip` | geometry | old |\n{tool.END}\n", encoding="utf-8")
    monkeypatch.setattr(tool, "README", stale)
    assert tool.main(["--check"]) == 1
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
    assert "| `transpose` | geometry |" in stale.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_config_loads(path) -> None:
    load_recipe(path)  # raises RecipeError, naming file, line and key, on any problem
