"""Augmentation policies (rand_augment, trivial_augment_wide, auto_augment, aug_mix), their kernels and the
random_order block: torchvision's published operation lists and magnitudes, hand-computed kernel results,
determinism, replay and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from augcli.cli import app
from augcli.errors import RecipeError
from augcli.kernels import geometry
from augcli.kernels import policy as kp
from augcli.pipeline import augment, context_for, plain, replay
from augcli.recipe import recipe_from_dict
from augcli.transforms import REGISTRY
from augcli.transforms import policy as tp
from augcli.transforms.base import SampleContext
from tests.conftest import CONFIGS, IMAGE_KINDS, textured, tree_bytes

POLICY_NAMES = ("rand_augment", "trivial_augment_wide", "auto_augment", "aug_mix")
SIGNED = {"shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color", "contrast", "sharpness"}
BASE = {"shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color", "contrast", "sharpness"}
BASE |= {"posterize", "solarize", "auto_contrast", "equalize"}


# --- torchvision's published operation sets and magnitudes ----------------------------------------------------


def test_operation_sets_match_torchvision() -> None:
    assert set(tp.RAND_AUGMENT_SPACE) == BASE | {"identity"}
    assert set(tp.TRIVIAL_AUGMENT_WIDE_SPACE) == BASE | {"identity"}
    assert set(tp.AUTO_AUGMENT_SPACE) == BASE | {"invert"}
    assert set(tp.AUG_MIX_SPACE) == BASE
    assert set(tp.AUG_MIX_PARTIAL_SPACE) == BASE - {"brightness", "color", "contrast", "sharpness"}
    for space in (tp.RAND_AUGMENT_SPACE, tp.TRIVIAL_AUGMENT_WIDE_SPACE, tp.AUTO_AUGMENT_SPACE, tp.AUG_MIX_SPACE):
        assert {op for op, (_, signed) in space.items() if signed} == SIGNED & set(space)
        assert {op for op, (bins, _) in space.items() if bins is None} == set(space) & {
            "identity",
            "auto_contrast",
            "equalize",
            "invert",
        }


# (space, op, bin, number of bins, height, width) -> torchvision's value, worked out by hand from the
# linspace / posterize formulas of torchvision.transforms.v2._auto_augment.
PUBLISHED = [
    # RandAugment defaults: magnitude 9 of 31 bins (linspace(0, max, 31)[9] = 9 / 30 of max).
    ("rand", "rotate", 9, 31, 224, 224, 9.0),
    ("rand", "shear_x", 9, 31, 224, 224, 0.09),
    ("rand", "shear_y", 30, 31, 224, 224, 0.3),
    ("rand", "brightness", 9, 31, 224, 224, 0.27),
    ("rand", "sharpness", 30, 31, 224, 224, 0.9),
    ("rand", "translate_x", 30, 31, 100, 331, 150.0),
    ("rand", "translate_y", 15, 31, 331, 100, 75.0),
    ("rand", "posterize", 9, 31, 224, 224, 7.0),  # round(8 - 9 / 7.5)
    ("rand", "posterize", 30, 31, 224, 224, 4.0),
    ("rand", "solarize", 9, 31, 224, 224, 0.7),
    ("rand", "solarize", 0, 31, 224, 224, 1.0),
    ("rand", "auto_contrast", 9, 31, 224, 224, 0.0),
    # TrivialAugmentWide: wider ranges, absolute 32 px translation.
    ("trivial", "rotate", 30, 31, 224, 224, 135.0),
    ("trivial", "shear_x", 30, 31, 224, 224, 0.99),
    ("trivial", "contrast", 10, 31, 224, 224, 0.33),
    ("trivial", "translate_x", 15, 31, 10, 1000, 16.0),
    ("trivial", "posterize", 30, 31, 224, 224, 2.0),  # 8 - 30 / 5
    ("trivial", "posterize", 7, 31, 224, 224, 7.0),  # round(6.6)
    # AutoAugment: 10 bins.
    ("auto", "rotate", 9, 10, 224, 224, 30.0),
    ("auto", "posterize", 8, 10, 224, 224, 4.0),  # round(8 - 8 / 2.25)
    ("auto", "posterize", 5, 10, 224, 224, 6.0),
    ("auto", "solarize", 5, 10, 224, 224, 4 / 9),
    ("auto", "translate_x", 9, 10, 100, 331, 150.0),
    # AugMix: 10 bins (_PARAMETER_MAX), translations a third of the side, posterize from 4 bits.
    ("augmix", "translate_x", 9, 10, 50, 300, 100.0),
    ("augmix", "translate_y", 9, 10, 60, 300, 20.0),
    ("augmix", "rotate", 3, 10, 224, 224, 10.0),
    ("augmix", "color", 9, 10, 224, 224, 0.9),
]
SPACES = {
    "rand": tp.RAND_AUGMENT_SPACE,
    "trivial": tp.TRIVIAL_AUGMENT_WIDE_SPACE,
    "auto": tp.AUTO_AUGMENT_SPACE,
    "augmix": tp.AUG_MIX_SPACE,
}


@pytest.mark.parametrize(("space", "op", "index", "bins", "height", "width", "expected"), PUBLISHED)
def test_magnitudes_match_torchvision(space, op, index, bins, height, width, expected) -> None:
    assert tp.magnitude_of(SPACES[space], op, index, bins, height, width) == pytest.approx(expected, abs=1e-9)


def test_posterize_bins_over_the_whole_range() -> None:
    augmix = [tp.magnitude_of(tp.AUG_MIX_SPACE, "posterize", i, 10, 8, 8) for i in range(10)]
    assert augmix == [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]
    rand = [tp.magnitude_of(tp.RAND_AUGMENT_SPACE, "posterize", i, 31, 8, 8) for i in range(31)]
    assert rand[0] == 8 and rand[-1] == 4 and rand == sorted(rand, reverse=True)


def test_auto_augment_policies() -> None:
    for name, table in tp.AUTO_AUGMENT_POLICIES.items():
        assert len(table) == 25, name
        for sub in table:
            assert len(sub) == 2
            for op, probability, index in sub:
                assert op in tp.AUTO_AUGMENT_SPACE and 0 <= probability <= 1
                assert (index is None) == (tp.AUTO_AUGMENT_SPACE[op][0] is None)
    assert tp.AUTO_AUGMENT_POLICIES["imagenet"][0] == (("posterize", 0.4, 8), ("rotate", 0.6, 9))
    assert tp.AUTO_AUGMENT_POLICIES["cifar10"][0] == (("invert", 0.1, None), ("contrast", 0.2, 6))
    assert tp.AUTO_AUGMENT_POLICIES["svhn"][-1] == (("shear_x", 0.7, 2), ("invert", 0.1, None))


# --- sampling: concrete, plain, inside the published bins ---------------------------------------------------


def ctx(height: int = 48, width: int = 64) -> SampleContext:
    return SampleContext(height=height, width=width, channels=3, dtype="uint8")


def all_ops(name: str, params: dict) -> list[dict]:
    return [op for chain in params["chains"] for op in chain] if name == "aug_mix" else params["ops"]


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_sampling_is_deterministic_plain_and_on_the_bins(name: str) -> None:
    spec = REGISTRY[name]()
    space = {
        "rand_augment": tp.RAND_AUGMENT_SPACE,
        "trivial_augment_wide": tp.TRIVIAL_AUGMENT_WIDE_SPACE,
        "auto_augment": tp.AUTO_AUGMENT_SPACE,
        "aug_mix": tp.AUG_MIX_SPACE,
    }[name]
    bins = {"rand_augment": 31, "trivial_augment_wide": 31}.get(name, 10)
    seen = set()
    for seed in range(60):
        params = spec.sample(np.random.default_rng(seed), ctx())
        assert params == spec.sample(np.random.default_rng(seed), ctx())
        assert plain(params) == params
        for step in all_ops(name, params):
            assert set(step) == {"op", "magnitude"} and step["op"] in space
            allowed = {tp.magnitude_of(space, step["op"], i, bins, 48, 64) for i in range(bins)}
            assert abs(step["magnitude"]) in allowed
            if step["magnitude"] < 0:
                assert space[step["op"]][1], f"{step['op']} is unsigned"
            seen.add(step["op"])
    assert len(seen) >= 8, seen


def test_rand_augment_uses_its_one_magnitude_bin() -> None:
    spec = REGISTRY["rand_augment"](num_ops=3, magnitude=30)
    for seed in range(30):
        ops = spec.sample(np.random.default_rng(seed), ctx())["ops"]
        assert len(ops) == 3
        for step in ops:
            expected = tp.magnitude_of(tp.RAND_AUGMENT_SPACE, step["op"], 30, 31, 48, 64)
            assert abs(step["magnitude"]) == expected


def test_rand_augment_magnitude_must_lie_in_the_bins() -> None:
    with pytest.raises(RecipeError, match="below num_magnitude_bins"):
        recipe_from_dict({"transforms": [{"name": "rand_augment", "magnitude": 10, "num_magnitude_bins": 10}]})


def test_aug_mix_weights_and_chains() -> None:
    spec = REGISTRY["aug_mix"](mixture_width=4, chain_depth_range=(2, 2), severity=1)
    params = spec.sample(np.random.default_rng(3), ctx())
    assert len(params["weights"]) == 5 and sum(params["weights"]) == pytest.approx(1.0)
    assert all(w >= 0 for w in params["weights"])
    assert [len(c) for c in params["chains"]] == [2, 2, 2, 2]
    first_bin = {"solarize": 1.0, "posterize": 4.0}  # severity 1: bin 0 only; every other op is then no change
    assert all(s["magnitude"] == first_bin.get(s["op"], 0.0) for c in params["chains"] for s in c)


# --- kernels against hand-computed arrays --------------------------------------------------------------------


def grey(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def test_brightness_blends_with_black() -> None:
    out = kp.apply_op(grey([[100, 200, 0]]), "brightness", 0.5)
    np.testing.assert_array_equal(out, grey([[150, 255, 0]]))


def test_contrast_blends_with_the_mean_grey() -> None:
    out = kp.apply_op(grey([[0, 100]]), "contrast", 1.0)  # mean 50, factor 2: 50 + 2 * (v - 50)
    np.testing.assert_array_equal(out, grey([[0, 150]]))


def test_color_blends_with_the_pixels_grey() -> None:
    image = np.array([[[0, 0, 255]]], dtype=np.uint8)  # pure red, BGR; grey = 0.299 * 255 = 76.245
    out = kp.apply_op(image, "color", -1.0)  # factor 0: the grey itself
    np.testing.assert_array_equal(out, np.array([[[76, 76, 76]]], dtype=np.uint8))


def test_sharpness_is_pils_smooth_blend() -> None:
    image = grey([[0, 0, 0], [0, 130, 0], [0, 0, 0]])
    # The smoothed centre is 130 * 5 / 13 = 50; the border keeps the image. Factor 2: 2 * 130 - 50 = 210.
    np.testing.assert_array_equal(kp.sharpness(image, factor=2.0), grey([[0, 0, 0], [0, 210, 0], [0, 0, 0]]))
    np.testing.assert_array_equal(kp.sharpness(image, factor=0.0), grey([[0, 0, 0], [0, 50, 0], [0, 0, 0]]))
    tiny = grey([[1, 200, 3]])
    np.testing.assert_array_equal(kp.sharpness(tiny, factor=1.9), tiny)  # all border


def test_solarize_inverts_values_at_or_above_the_threshold() -> None:
    image = grey([[0, 127, 128, 255]])
    np.testing.assert_array_equal(kp.solarize_from(image, threshold=128 / 255), grey([[0, 127, 127, 0]]))
    np.testing.assert_array_equal(kp.solarize_from(image, threshold=1.0), grey([[0, 127, 128, 0]]))
    wide = np.array([[0, 32768, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(kp.solarize_from(wide, threshold=0.5), np.array([[0, 32767, 0]], dtype=np.uint16))


def test_equalize_uses_pils_table() -> None:
    # 255 pixels of 10, 255 of 20, 10 of 30: step = (520 - 10) // 255 = 2, v -> (pixels below v + 1) // 2.
    image = grey([[10] * 255 + [20] * 255 + [30] * 10])
    out = kp.equalize_pil(image)
    assert sorted(set(out.ravel().tolist())) == [0, 128, 255]
    np.testing.assert_array_equal(out[0, :255], 0)
    np.testing.assert_array_equal(out[0, 255:510], 128)
    np.testing.assert_array_equal(out[0, 510:], 255)
    few = grey([[0, 0, 1, 2]])  # step 0: unchanged
    np.testing.assert_array_equal(kp.equalize_pil(few), few)


def test_posterize_keeps_top_bits() -> None:
    np.testing.assert_array_equal(kp.apply_op(grey([[255, 77]]), "posterize", 2.0), grey([[192, 64]]))
    np.testing.assert_array_equal(kp.apply_op(grey([[255, 77]]), "posterize", 0.0), grey([[0, 0]]))


def test_translate_truncates_to_whole_pixels_and_fills() -> None:
    image = grey([[10, 20, 30, 40, 50]])
    np.testing.assert_array_equal(kp.apply_op(image, "translate_x", 2.7), grey([[0, 0, 10, 20, 30]]))
    np.testing.assert_array_equal(kp.apply_op(image, "translate_x", -2.7, fill=9), grey([[30, 40, 50, 9, 9]]))


def test_shear_x_pivots_on_the_top_left_corner() -> None:
    # x_out = x_in - m * (y + 0.5): with m = 2 row 0 moves left by 1, row 1 by 3.
    image = grey([[1, 2, 3, 4], [5, 6, 7, 8]])
    np.testing.assert_array_equal(kp.apply_op(image, "shear_x", 2.0), grey([[2, 3, 4, 0], [8, 0, 0, 0]]))
    transposed = np.ascontiguousarray(image.T)
    np.testing.assert_array_equal(kp.apply_op(transposed, "shear_y", 2.0), grey([[2, 3, 4, 0], [8, 0, 0, 0]]).T)


def test_rotate_is_counter_clockwise() -> None:
    image = grey([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    np.testing.assert_array_equal(kp.apply_op(image, "rotate", 90.0), np.rot90(image))


def test_pixel_ops_keep_alpha_and_spatial_ops_move_it() -> None:
    image = textured(kind="rgba")
    for op, m in (("brightness", 0.4), ("equalize", 0.0), ("solarize", 0.3), ("sharpness", 0.8)):
        np.testing.assert_array_equal(kp.apply_op(image, op, m)[:, :, 3], image[:, :, 3])
    out = kp.apply_op(image, "rotate", 20.0)
    matrix = kp.op_matrix("rotate", 20.0, 64, 48)[:2]
    alpha = geometry.warp_affine(image[:, :, 3], matrix, border_mode="constant", fill=0, interpolation="nearest")
    np.testing.assert_array_equal(out[:, :, 3], alpha)


def test_aug_mix_with_all_weight_on_the_image_is_the_image() -> None:
    image = textured()
    chains = [[{"op": "rotate", "magnitude": 20.0}], [{"op": "equalize", "magnitude": 0.0}]]
    np.testing.assert_array_equal(kp.aug_mix(image, weights=[1.0, 0.0, 0.0], chains=chains), image)
    half = kp.aug_mix(image, weights=[0.5, 0.5], chains=[[{"op": "invert", "magnitude": 0.0}]])
    assert np.abs(half.astype(int) - 127.5).max() <= 0.5  # v / 2 + (255 - v) / 2


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 500), (3, 3)])
@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_tiny_and_thin_images(name: str, shape: tuple[int, int], kind: str) -> None:
    spec = REGISTRY[name](**({"num_ops": 4} if name == "rand_augment" else {}))
    image = textured(*shape, kind=kind)
    for seed in range(25):
        params = spec.sample(np.random.default_rng(seed), context_for(image))
        out = spec.apply(image, params, None)
        assert out.shape == image.shape and out.dtype == image.dtype


# --- random_order and the pipeline ---------------------------------------------------------------------------


def test_random_order_runs_every_child_in_varying_order_and_replays() -> None:
    recipe = recipe_from_dict(
        {
            "transforms": [
                {
                    "name": "random_order",
                    "transforms": [
                        {"name": "rand_augment", "num_ops": 1},
                        {"name": "hflip"},
                        {"name": "rotate", "angle_range": [-10, 10]},
                        {"name": "vflip", "p": 0},
                    ],
                }
            ]
        }
    )
    image = textured()
    orders = set()
    for seed in range(20):
        out, applied = augment(image, recipe.transforms, np.random.default_rng(seed))
        paths = [a["step"] for a in applied]
        assert sorted(paths) == ["0.0", "0.1", "0.2"], "each child once; vflip (p 0) never"
        orders.add(tuple(paths))
        rows = json.loads(json.dumps(applied))
        assert replay(image, rows, recipe.transforms).tobytes() == out.tobytes()
    assert len(orders) >= 4


def test_policies_replay_through_the_pipeline() -> None:
    steps = recipe_from_dict({"transforms": [{"name": n} for n in POLICY_NAMES]}).transforms
    image = textured(kind="rgb16")
    for seed in range(5):
        out, applied = augment(image, steps, np.random.default_rng(seed))
        assert [a["name"] for a in applied] == list(POLICY_NAMES)
        assert replay(image, json.loads(json.dumps(applied)), steps).tobytes() == out.tobytes()


def test_policies_are_named_for_the_targets_contract() -> None:
    assert {n for n, cls in REGISTRY.items() if cls.family == "policy"} == tp.POLICIES
    assert tp.MATRIX_POLICIES < tp.POLICIES


# --- end to end through the CLI ------------------------------------------------------------------------------


@pytest.mark.parametrize("config", ["randaugment.yaml", "augmix.yaml"])
def test_configs_expand_identically_on_one_and_two_workers_and_replay(runner, sample_copy: Path, tmp_path, config):
    trees = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        args = ["expand", str(CONFIGS / config), str(sample_copy), "-o", str(out), "--workers", workers, "-q"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        trees[workers] = tree_bytes(out)
    assert trees["1"] == trees["2"]
    out = tmp_path / "out1"
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    applied = [t for r in rows if r.get("kind") == "augmented" for t in r["transforms"]]
    assert any(t["name"] in POLICY_NAMES and (t["params"].get("ops") or t["params"].get("chains")) for t in applied)
    result = runner.invoke(app, ["audit", str(out), "--source", str(sample_copy), "--replay", "1.0", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "clean" in result.output and "rebuilt byte for byte" in result.output
