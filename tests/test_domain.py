"""Domain adaptation towards reference images: the kernels against their definitions, the references folder
at recipe load, and `expand` + `audit --replay` end to end (the header records the folder's hash, so audit
notices a changed reference)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from augcli.cli import app
from augcli.errors import RecipeError
from augcli.kernels import domain as k
from augcli.pipeline import context_for
from augcli.recipe import load_recipe, recipe_from_dict
from augcli.transforms import REGISTRY, ApplyContext
from augcli.transforms.domain import reference_findings, reference_hashes
from tests.conftest import IMAGE_KINDS, make_dataset, textured, write_image, write_recipe

DOMAIN = ["histogram_matching", "fda", "pixel_distribution_adaptation"]


def reference_image(height: int = 40, width: int = 30, seed: int = 9) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal((60, 150, 200), (15, 30, 10), (height, width, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    folder = tmp_path / "refs"
    write_image(folder / "a.png", reference_image(seed=1))
    write_image(folder / "b.png", reference_image(33, 21, seed=2))
    (folder / "notes.txt").write_text("not an image")
    return folder


def cdf(values: np.ndarray) -> np.ndarray:
    return np.cumsum(np.bincount(values.ravel(), minlength=256)) / values.size


def test_histogram_matching_follows_the_reference_cdf() -> None:
    image, reference = textured(), reference_image()
    out = k.histogram_matching(image, reference, blend=1.0)
    for c in range(3):
        before = np.abs(cdf(image[:, :, c]) - cdf(reference[:, :, c])).max()
        after = np.abs(cdf(out[:, :, c]) - cdf(reference[:, :, c])).max()
        assert after < 0.05 < before, (c, before, after)


def test_fda_beta_zero_is_identity_and_beta_moves_the_mean() -> None:
    image, reference = textured(), reference_image()
    assert k.fda(image, reference, beta=0.0).tobytes() == image.tobytes()
    out = k.fda(image, reference, beta=0.05)
    for c in range(3):  # the mean is the zero frequency: it becomes the reference's
        assert (
            abs(out[:, :, c].mean() - reference[:, :, c].mean())
            < 3
            < abs(image[:, :, c].mean() - reference[:, :, c].mean())
        )


@pytest.mark.parametrize("method", ["standard", "pca"])
def test_pixel_distribution_matches_mean_and_spread(method: str) -> None:
    image, reference = textured(), reference_image()
    out = k.pixel_distribution(image, reference, method=method, blend=1.0).astype(float)
    assert np.allclose(out.reshape(-1, 3).mean(axis=0), reference.reshape(-1, 3).mean(axis=0), atol=3)
    assert np.allclose(out.reshape(-1, 3).std(axis=0), reference.reshape(-1, 3).std(axis=0), rtol=0.15, atol=3)


@pytest.mark.parametrize("name", DOMAIN)
@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (48, 64)])
def test_every_kind_and_tiny_images_with_a_folder(name: str, kind: str, shape, refs: Path) -> None:
    write_image(refs / "c16.png", (reference_image(seed=3).astype(np.uint16) * 257))
    write_image(refs / "grey.png", reference_image(seed=4)[:, :, 0])
    spec = REGISTRY[name](references=str(refs))
    image = textured(*shape, kind=kind)
    before = image.copy()
    seen = set()
    for seed in range(8):
        params = spec.sample(np.random.default_rng(seed), context_for(image))
        assert json.loads(json.dumps(params)) == params and params["reference"] in {
            "a.png",
            "b.png",
            "c16.png",
            "grey.png",
        }
        seen.add(params["reference"])
        out = spec.apply(image, params, ApplyContext())
        again = spec.apply(image, json.loads(json.dumps(params)), ApplyContext())
        assert out.dtype == image.dtype and out.shape == image.shape and out.tobytes() == again.tobytes()
        if kind == "rgba":
            np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])
        np.testing.assert_array_equal(image, before)
    assert len(seen) > 1


def test_missing_or_empty_folder_is_a_recipe_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"transforms\[0\]\.references.*not found"):
        recipe_from_dict({"transforms": [{"name": "fda", "references": str(tmp_path / "nowhere")}]})
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(RecipeError, match=r"transforms\[0\]\.references.*holds no images"):
        recipe_from_dict({"transforms": [{"name": "histogram_matching", "references": str(tmp_path / "empty")}]})


def test_relative_folder_is_taken_from_the_recipe_files_folder(refs: Path, tmp_path: Path, monkeypatch) -> None:
    recipe = write_recipe(tmp_path / "recipe.yaml", "transforms:\n  - {name: fda, references: refs}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    loaded = load_recipe(recipe)
    assert loaded.transforms[0].references == refs.resolve().as_posix()
    again = recipe_from_dict(json.loads(loaded.canonical_json()))  # workers and audit re-validate the JSON
    assert again.sha256() == loaded.sha256()
    assert set(reference_hashes(loaded)) == {refs.resolve().as_posix()}


def test_without_a_folder_the_reference_is_a_partner() -> None:
    images = {"cls/p0.png": reference_image(), "cls/src.png": textured()}
    spec = REGISTRY["histogram_matching"]()
    assert spec.needs_partners and not REGISTRY["fda"](references=None, p=1).references
    params = spec.sample(np.random.default_rng(0), context_for(textured(), "cls/src.png", "cls", tuple(images)))
    assert params["partners"] == ["cls/p0.png"]
    out = spec.apply(textured(), params, ApplyContext(load=images.__getitem__))
    assert out.tobytes() != textured().tobytes()
    alone = spec.sample(np.random.default_rng(0), context_for(textured(), "cls/src.png", "cls", ("cls/src.png",)))
    assert alone["partners"] == [] and spec.apply(textured(), alone, ApplyContext()).tobytes() == textured().tobytes()


RECIPE = """
seed: 5
copies: 2
format: png
transforms:
  - {name: histogram_matching, references: refs, blend_range: [0.6, 1.0]}
  - {name: fda, references: refs, beta_range: [0.01, 0.05]}
  - {name: pixel_distribution_adaptation, references: refs, p: 0.5}
"""


def test_expand_then_audit_replays_clean_and_notices_a_changed_reference(refs: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    data = make_dataset(tmp_path / "data", {"cats": 2, "dogs": 2}, suffix=".png")
    recipe = write_recipe(tmp_path / "recipe.yaml", RECIPE)
    out = tmp_path / "out"
    result = runner.invoke(app, ["expand", str(recipe), str(data), "-o", str(out), "-q", "--workers", "1"])
    assert result.exit_code == 0, result.output
    header = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])
    folder = refs.resolve().as_posix()
    assert header["references"] == reference_hashes(load_recipe(recipe)) and set(header["references"]) == {folder}
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]
    used = {s["params"]["reference"] for r in rows if r.get("kind") == "augmented" for s in r["transforms"]}
    assert used <= {"a.png", "b.png"} and used

    def audit() -> dict:
        args = ["audit", str(out), "--source", str(data), "--recipe", str(recipe), "--replay", "1.0"]
        done = runner.invoke(app, [*args, "--workers", "1", "--format", "json"])
        return json.loads(done.stdout)

    clean = audit()
    assert clean["findings"] == [] and clean["exit_code"] == 0
    assert clean["replayed"] == clean["replay_matched"] == 8

    write_image(refs / "a.png", reference_image(seed=77))  # a reference replaced after expand
    os.utime(refs / "a.png", ns=(1, 1))
    changed = audit()
    problems = [f for f in changed["findings"] if f["check"] == "recipe_mismatch"]
    assert problems and "changed since expand" in problems[0]["message"], changed["findings"]
    assert changed["exit_code"] != 0
    assert reference_findings(header) and not reference_findings({"references": reference_hashes(load_recipe(recipe))})
