"""Every name a source file system holds produces an output: long stems near the 255-byte limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from augcli.cli import app
from augcli.manifest import read_records
from tests.conftest import textured, tree_bytes, write_image, write_recipe

RECIPE = "seed: 1\ncopies: 2\ntransforms: [{name: hflip}]\n"


@pytest.fixture
def long_names(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_image(root / "a" / ("x" * 240 + ".jpg"), textured(20, 24, seed=1))  # fits; its temporary name did not
    write_image(root / "a" / ("é" * 125 + ".jpg"), textured(20, 24, seed=2))  # 250 bytes: output must be shortened
    write_image(root / "a" / ("é" * 125 + "z.jpg"), textured(20, 24, seed=3))  # same cut prefix, other hash
    write_image(root / "a" / "short.jpg", textured(20, 24, seed=4))
    return root


def expand(runner, recipe: Path, data: Path, out: Path, workers: str = "1"):
    return runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "--workers", workers, "-q"])


def test_long_source_names_all_give_outputs_and_resume(runner, tmp_path: Path, long_names: Path) -> None:
    recipe = write_recipe(tmp_path / "r.yaml", RECIPE)
    out = tmp_path / "out"
    result = expand(runner, recipe, long_names, out)
    assert result.exit_code == 0, result.output
    rows = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]
    assert {r["source"] for r in rows} == {p.relative_to(long_names).as_posix() for p in long_names.rglob("*.jpg")}
    assert len(rows) == 4 * 3, "each source: its original and two copies"
    names = [Path(r["path"]).name for r in rows]
    assert len(set(names)) == len(names) and all(len(n.encode()) <= 255 for n in names)
    assert all((out / r["path"]).is_file() for r in rows)
    shortened = [r for r in rows if r["kind"] == "augmented" and "~" in r["path"]]
    assert len(shortened) == 4, "the two 250-byte stems are cut and hashed, each copy distinct"
    assert not list(out.rglob(".*.tmp")), "no temporary file left behind"
    again = expand(runner, recipe, long_names, out)  # a re-run verifies and keeps everything
    assert again.exit_code == 0 and "resumed: 4 sources" in again.output
    other = tmp_path / "out2"
    assert expand(runner, recipe, long_names, other, workers="2").exit_code == 0
    assert tree_bytes(other) == tree_bytes(out)
