"""Recipe loading: valid recipes load, and every kind of mistake gives a message naming the file,
line, key and the closest valid names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.errors import RecipeError
from augcli.recipe import Recipe, load_recipe, recipe_from_dict
from tests.conftest import CONFIGS, write_recipe


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(RecipeError) as info:
        load_recipe(write_recipe(tmp_path / "r.yaml", text))
    return str(info.value)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_loads(path: Path) -> None:
    assert isinstance(load_recipe(path), Recipe)


def test_unknown_transform_names_line_and_suggests(tmp_path: Path) -> None:
    message = error_for(tmp_path, "seed: 1\ntransforms:\n  - {name: hflip}\n  - {name: rotat}\n")
    assert "r.yaml:4" in message
    assert "unknown transform 'rotat'" in message
    assert "did you mean 'rotate'" in message


def test_unknown_key_in_transform_lists_valid_keys(tmp_path: Path) -> None:
    message = error_for(tmp_path, "transforms:\n  - name: rotate\n    angel_range: [-5, 5]\n")
    assert "r.yaml:3" in message
    assert "transforms[0].angel_range" in message
    assert "did you mean 'angle_range'" in message
    assert "border_mode" in message  # the valid keys are listed


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = error_for(tmp_path, "seed: 1\ncopise: 3\n")
    assert "r.yaml:2" in message and "'copise'" in message and "did you mean 'copies'" in message


def test_reversed_range_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, "transforms:\n  - {name: rotate, angle_range: [10, -10]}\n")
    assert "transforms[0].angle_range" in message and "low <= high" in message


def test_range_outside_bounds_is_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, "transforms:\n  - {name: gaussian_noise, sigma_range: [0.1, 3]}\n")
    assert "sigma_range" in message and "within [0, 1]" in message


def test_probability_out_of_range(tmp_path: Path) -> None:
    message = error_for(tmp_path, "transforms:\n  - {name: hflip, p: 1.5}\n")
    assert "transforms[0].p" in message and "1.5" in message


def test_nested_block_errors_point_inside(tmp_path: Path) -> None:
    text = "transforms:\n  - name: one_of\n    transforms:\n      - {name: hflip}\n      - {name: blurr}\n"
    message = error_for(tmp_path, text)
    assert "r.yaml:5" in message and "transforms[0].transforms[1]" in message


def test_one_of_weights_must_match(tmp_path: Path) -> None:
    text = "transforms:\n  - {name: one_of, weights: [1], transforms: [{name: hflip}, {name: vflip}]}\n"
    assert "weights has 1 entries for 2 transforms" in error_for(tmp_path, text)


def test_bad_yaml_names_line(tmp_path: Path) -> None:
    message = error_for(tmp_path, "seed: 1\ntransforms: [\n  {name: hflip\n")
    assert "r.yaml:" in message and "invalid YAML" in message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    message = error_for(tmp_path, "seed: 1\ncopies: 2\nseed: 3\n")
    assert "r.yaml:3" in message and "duplicate key 'seed'" in message


def test_aliases_are_refused(tmp_path: Path) -> None:
    text = "transforms:\n  - &x {name: hflip}\n  - *x\n"
    assert "aliases" in error_for(tmp_path, text)


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    message = error_for(tmp_path, "seed: !!python/object/apply:os.system ['echo hacked']\n")
    assert "invalid YAML" in message


def test_yes_no_are_not_booleans(tmp_path: Path) -> None:
    message = error_for(tmp_path, "keep_originals: no\n")
    assert "keep_originals" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_step_must_be_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in error_for(tmp_path, "transforms:\n  - hflip\n")


def test_canonical_hash_ignores_formatting_but_not_content() -> None:
    a = recipe_from_dict({"seed": 1, "transforms": [{"name": "rotate", "angle_range": [-5, 5]}]})
    b = recipe_from_dict({"transforms": [{"angle_range": [-5.0, 5.0], "name": "rotate", "p": 1}], "seed": 1})
    c = recipe_from_dict({"seed": 2, "transforms": [{"name": "rotate", "angle_range": [-5, 5]}]})
    assert a.sha256() == b.sha256() != c.sha256()


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    copies=st.integers(0, 50),
    low=st.floats(-90, 0, allow_nan=False),
    high=st.floats(0, 90, allow_nan=False),
    p=st.floats(0, 1, allow_nan=False),
)
def test_recipe_round_trips_through_its_canonical_json(seed, copies, low, high, p) -> None:
    recipe = recipe_from_dict(
        {"seed": seed, "copies": copies, "transforms": [{"name": "rotate", "angle_range": [low, high], "p": p}]}
    )
    again = Recipe.model_validate_json(recipe.canonical_json())
    assert again == recipe and again.sha256() == recipe.sha256()
