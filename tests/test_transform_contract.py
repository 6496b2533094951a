"""Contract tests over the whole registry, for every image kind (albumentations / torchvision style).

A transform added to the registry is picked up here automatically."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from augcli.pipeline import context_for, plain
from augcli.recipe import recipe_from_dict
from augcli.transforms import REGISTRY, ApplyContext, Transform
from tests.conftest import IMAGE_KINDS, textured

NAMES = sorted(REGISTRY)
CASES = [(name, kind) for name in NAMES for kind in IMAGE_KINDS]


def partner_context(kind: str) -> tuple[ApplyContext, tuple[str, ...]]:
    """Mixing transforms load other sources of the class; here they are more synthetic images."""
    images = {f"cls/p{i}.png": textured(40, 52, kind, seed=100 + i) for i in range(4)}
    return ApplyContext(load=lambda path: images[path]), tuple(images)


def sample_and_apply(spec, image, kind, seed):
    ctx, partners = partner_context(kind)
    rng = np.random.default_rng(seed)
    params = plain(spec.sample(rng, context_for(image, "cls/src.png", "cls", partners)))
    return params, spec.apply(image, params, ctx), ctx


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_input_untouched_and_kind_kept(name: str, kind: str) -> None:
    spec = REGISTRY[name]()
    image = textured(kind=kind)
    before = image.copy()
    for seed in range(5):
        _, out, _ = sample_and_apply(spec, image, kind, seed)
        np.testing.assert_array_equal(image, before)
        assert out.dtype == image.dtype, f"{name} changed dtype on {kind}"
        assert out.ndim == image.ndim and out.shape[2:] == image.shape[2:], f"{name} changed channels on {kind}"
        assert out.flags.c_contiguous


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_same_params_give_same_bytes(name: str, kind: str) -> None:
    spec = REGISTRY[name]()
    image = textured(kind=kind)
    params, first, ctx = sample_and_apply(spec, image, kind, 7)
    again = spec.apply(image, json.loads(json.dumps(params)), ctx)
    assert first.tobytes() == again.tobytes()


# Policies warp alpha with their spatial operations (tests/test_policy.py checks how).
@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].family not in ("geometry", "policy")])
def test_alpha_untouched_by_pixel_transforms(name: str) -> None:
    spec = REGISTRY[name]()
    image = textured(kind="rgba")
    _, out, _ = sample_and_apply(spec, image, "rgba", 3)
    if out.shape == image.shape:
        np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])


@pytest.mark.parametrize("name", NAMES)
def test_params_are_plain_json_within_declared_ranges(name: str) -> None:
    spec = REGISTRY[name]()
    image = textured()
    for seed in range(20):
        rng = np.random.default_rng(seed)
        params = spec.sample(rng, context_for(image, "cls/src.png", "cls", partner_context("rgb")[1]))
        assert plain(params) == params, "params must be plain JSON values"
        for key, value in params.items():
            bounds = getattr(spec, f"{key}_range", None)
            if bounds is not None and isinstance(value, (int, float)):
                assert bounds[0] <= value <= bounds[1], f"{name}.{key}={value} outside {bounds}"


@pytest.mark.parametrize("name", NAMES)
def test_spec_pickles_and_round_trips_json(name: str) -> None:
    spec = REGISTRY[name]()
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert type(spec).model_validate_json(spec.model_dump_json()) == spec


@pytest.mark.parametrize("name", NAMES)
def test_documented_example_validates(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.summary(), f"{name} needs a one-line docstring"
    assert spec.example.get("name") == name, f"{name} needs a YAML example naming itself"
    recipe = recipe_from_dict({"transforms": [spec.example]})
    assert recipe.transforms[0].transform_name() == name


@pytest.mark.parametrize("name", NAMES)
def test_p_zero_never_runs(name: str) -> None:
    from augcli.pipeline import augment

    recipe = recipe_from_dict({"transforms": [{"name": name, "p": 0}]})
    image = textured()
    out, applied = augment(image, recipe.transforms, np.random.default_rng(0))
    assert applied == [] and out is image


@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY[n].sample is Transform.sample])
def test_default_sample_draws_every_range_in_declaration_order(name: str) -> None:
    """Specs without their own sample() get one param per `*_range` field, named without `_range`,
    in field order (the draw order decides the bytes), an int for an int pair."""
    spec = REGISTRY[name]()
    params = spec.sample(np.random.default_rng(0), context_for(textured()))
    ranges = [f for f in type(spec).model_fields if f.endswith("_range")]
    assert list(params) == [f.removesuffix("_range") for f in ranges]
    for field in ranges:
        whole = all(isinstance(v, int) for v in getattr(spec, field))
        assert isinstance(params[field.removesuffix("_range")], int) == whole, field
