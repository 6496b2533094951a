"""Mixing within a class (blend, cutmix, mosaic), the partner policy, and the plugin hook.

Mixed outputs must name every contributing source in the manifest, stay byte-identical across
worker counts, and degrade to the identity when a class has a single image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from augcli.cli import app
from augcli.errors import RecipeError
from augcli.kernels import mix
from augcli.manifest import read_records
from augcli.recipe import load_recipe
from augcli.transforms import REGISTRY, ApplyContext
from augcli.transforms.base import SampleContext
from tests.conftest import CONFIGS, IMAGE_KINDS, make_dataset, textured, tree_bytes, write_recipe

MIX_RECIPE = """
seed: 11
copies: 3
transforms:
  - name: one_of
    transforms: [{name: blend}, {name: cutmix}, {name: mosaic}]
"""


def expand(runner, recipe: Path, data: Path, out: Path, workers: str = "1"):
    result = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "--workers", workers, "-q"])
    assert result.exit_code == 0, result.output
    return [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output" and r["kind"] == "augmented"]


def label_of(path: str) -> str:
    return path.split("/")[-2]


def test_mixed_rows_list_every_source_and_workers_agree(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"cats": 4, "dogs": 3, "solo": 1}, suffix=".png")
    recipe = write_recipe(tmp_path / "r.yaml", MIX_RECIPE)
    rows = expand(runner, recipe, data, tmp_path / "out1", "1")
    expand(runner, recipe, data, tmp_path / "out2", "2")
    assert tree_bytes(tmp_path / "out1") == tree_bytes(tmp_path / "out2")
    used = set()
    for row in rows:
        (step,) = row["transforms"]
        used.add(step["name"])
        partners = step["params"]["partners"]
        assert row["sources"] == list(dict.fromkeys([row["source"], *partners]))
        assert row["source"] not in partners
        assert all(label_of(p) == row["label"] for p in partners), "partners come from the same class"
        if row["label"] == "solo":
            assert partners == [] and row["sources"] == [row["source"]]
        else:
            assert len(partners) == (3 if step["name"] == "mosaic" else 1)
    assert used == {"blend", "cutmix", "mosaic"}


def test_single_image_class_output_is_the_source_unchanged(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"solo": 1}, suffix=".png")
    recipe = write_recipe(tmp_path / "r.yaml", MIX_RECIPE)
    rows = expand(runner, recipe, data, tmp_path / "out")
    source = tree_bytes(data)["solo/img_000.png"]
    for row in rows:
        assert (tmp_path / "out" / row["path"]).read_bytes() == source  # identity, PNG is lossless


def test_partner_policy_same_split_draws_from_other_classes(runner, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"train/a": 3, "train/b": 3, "val/a": 2}, suffix=".png")
    recipe = write_recipe(
        tmp_path / "r.yaml", "seed: 2\ncopies: 6\npartner_policy: same_split\ntransforms: [{name: blend}]\n"
    )
    rows = expand(runner, recipe, data, tmp_path / "out")
    partners = [(row["label"], row["transforms"][0]["params"]["partners"][0]) for row in rows]
    assert all(p.startswith("train/") for _, p in partners), "never from another split"
    assert any(label_of(p) != label for label, p in partners), "same_split may cross classes"
    bad = write_recipe(tmp_path / "bad.yaml", "partner_policy: same_folder\n")
    result = runner.invoke(app, ["expand", str(bad), str(data), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "bad.yaml:1" in result.output and "partner_policy" in result.output


def test_mixing_config_runs_on_sample_data(runner, sample_copy: Path, tmp_path: Path) -> None:
    rows = expand(runner, CONFIGS / "mixing.yaml", sample_copy, tmp_path / "out", "2")
    assert rows and all(len(r["sources"]) >= 2 for r in rows)


@pytest.mark.parametrize("partner_kind", IMAGE_KINDS)
@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_conform_matches_size_depth_and_layout(kind: str, partner_kind: str) -> None:
    image = textured(40, 50, kind)
    partner = textured(30, 70, partner_kind, seed=5)
    out = mix.conform(partner, image)
    colour = image[:, :, :3] if kind == "rgba" else image
    assert out.shape == colour.shape and out.dtype == image.dtype


def test_blend_cutmix_mosaic_definitions() -> None:
    image, partner = textured(kind="rgba"), textured(kind="rgb", seed=9)
    np.testing.assert_array_equal(mix.blend(image, partner, weight=0.0), image)
    full = mix.blend(image, partner, weight=1.0)
    np.testing.assert_array_equal(full[:, :, :3], partner)
    np.testing.assert_array_equal(full[:, :, 3], image[:, :, 3])
    pasted = mix.cutmix(image, partner, box=[10, 5, 30, 25])
    np.testing.assert_array_equal(pasted[5:25, 10:30, :3], partner[5:25, 10:30])
    outside = np.ones(image.shape[:2], bool)
    outside[5:25, 10:30] = False
    np.testing.assert_array_equal(pasted[outside], image[outside])
    tiles = [textured(kind="gray", seed=s) for s in (1, 2, 3)]
    grid = mix.mosaic(textured(kind="rgb16"), tiles, center=[32, 24])
    assert grid.dtype == np.uint16
    np.testing.assert_array_equal(grid[24:, 32:, 0], mix.conform(tiles[2], grid[24:, 32:])[:, :, 0])


def test_mixing_sample_never_picks_the_source_and_degrades_without_partners() -> None:
    ctx = SampleContext(40, 50, 3, "uint8", source="c/a.png", label="c", partners=("c/a.png", "c/b.png"))
    lonely = SampleContext(40, 50, 3, "uint8", source="c/a.png", label="c", partners=("c/a.png",))
    image = textured(40, 50)
    for name in ("blend", "cutmix", "mosaic"):
        spec = REGISTRY[name]()
        for seed in range(5):
            params = spec.sample(np.random.default_rng(seed), ctx)
            assert set(params["partners"]) == {"c/b.png"}
        params = spec.sample(np.random.default_rng(0), lonely)
        assert params["partners"] == []
        np.testing.assert_array_equal(spec.apply(image, params, ApplyContext()), image)


# --- plugin hook -----------------------------------------------------------------------------------

PLUGIN = '''
import numpy as np


class Darken:
    """Multiply by a random factor below `most`."""

    def __init__(self, most=0.5):
        self.most = most

    def sample(self, rng, ctx):
        return {"factor": float(rng.uniform(0.1, self.most)), "seen": [ctx.height, ctx.width]}

    def apply(self, image, params, ctx):
        return (image * params["factor"]).astype(image.dtype)


class WrongDtype:
    def apply(self, image, params, ctx):
        return image.astype(np.float32)
'''


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "my_augs.py").write_text(PLUGIN, encoding="utf-8")
    dist = folder / "my_augs-1.0.dist-info"  # an installed distribution declaring an entry point
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-augs\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[augcli.transforms]\ndarken = my_augs:Darken\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_plugin_by_module_and_by_entry_point(plugin_dir: Path, tmp_path: Path) -> None:
    image = textured()
    for function in ("my_augs:Darken", "darken"):
        recipe = load_recipe(
            write_recipe(
                tmp_path / "r.yaml", f"transforms:\n  - {{name: plugin, function: {function}, params: {{most: 0.3}}}}\n"
            )
        )
        spec = recipe.transforms[0]
        params = spec.sample(np.random.default_rng(0), SampleContext(48, 64, 3, "uint8"))
        assert 0.1 <= params["factor"] <= 0.3 and params["seen"] == [48, 64]
        assert spec.apply(image, params, ApplyContext()).mean() < image.mean() * 0.31


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("{name: plugin, function: 'no_such_module:Thing'}", "cannot import plugin module 'no_such_module'"),
        ("{name: plugin, function: 'my_augs:Nope'}", "has no attribute 'Nope'"),
        ("{name: plugin, function: 'not_installed'}", "no entry point 'not_installed'"),
        ("{name: plugin, function: 'my_augs:Darken', params: {least: 1}}", "unexpected keyword argument 'least'"),
    ],
)
def test_plugin_problems_are_recipe_errors_with_file_and_line(plugin_dir, tmp_path: Path, step, expected) -> None:
    path = write_recipe(tmp_path / "bad.yaml", f"seed: 1\ntransforms:\n  - {step}\n")
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert expected in str(info.value) and "bad.yaml:3" in str(info.value)


def test_plugin_changing_the_dtype_is_refused(plugin_dir: Path) -> None:
    spec = REGISTRY["plugin"](function="my_augs:WrongDtype")
    with pytest.raises(TypeError, match="keep the dtype"):
        spec.apply(textured(), {}, ApplyContext())


def test_plugin_through_the_cli_in_spawned_workers(plugin_dir: Path, tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", {"a": 3, "b": 2}, suffix=".png")
    recipe = write_recipe(
        tmp_path / "r.yaml", "seed: 4\ncopies: 2\ntransforms:\n  - {name: plugin, function: 'my_augs:Darken'}\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "augcli", "expand", str(recipe), str(data), "-o", str(out), "-q", "--workers", "2"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    darkened = [r for r in rows if r.get("kind") == "augmented"]
    assert len(darkened) == 10 and all(r["transforms"][0]["params"]["factor"] < 0.5 for r in darkened)
    missing = write_recipe(tmp_path / "m.yaml", "transforms:\n  - {name: plugin, function: 'gone_module:X'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "augcli", "expand", str(missing), str(data), "-o", str(tmp_path / "o")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "m.yaml:2" in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_plugin_section_in_readme_names_the_contract() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing your own transform", 1)[1].split("\n## ", 1)[0]
    for needle in ("sample(rng, ctx)", "apply(image, params, ctx)", "augcli.transforms", "name: plugin"):
        assert needle in section
