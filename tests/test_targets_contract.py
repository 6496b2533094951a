"""Targets follow every transform of the registry: the contract of spatial.py, checked on every spec.

For each spatial transform and several random draws, an image holds a filled polygon (label 3 in its mask) and
a filled rectangle (label 7): the box the transform gives each object must agree with the bounds of that object's
pixels in the transformed mask, within 1 px for affine/perspective steps and a stated tolerance for dense warps;
mask values stay within the input labels plus the ignore label; pixel steps leave targets byte-identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from augcli.carry import follow
from augcli.pipeline import context_for
from augcli.spatial import DENSE, ERASING, IN_PLACE, MATRICES, MIXING, Tally, rasterize
from augcli.targets import Instance, Targets, TargetSettings
from augcli.transforms import REGISTRY
from augcli.transforms.base import ApplyContext
from augcli.transforms.policy import MATRIX_POLICIES, POLICIES

SPATIAL = sorted(set(MATRICES) | DENSE | MATRIX_POLICIES)
PIXEL = sorted(set(REGISTRY) - set(MATRICES) - DENSE - ERASING - MIXING - POLICIES - {"plugin"})  # IN_PLACE too
DENSE_TOLERANCE = 3.0  # px: a dense warp samples the object's outline pixel by pixel
SETTINGS = TargetSettings(min_area=0, min_visibility=0, ignore=255)
WIDTH, HEIGHT = 96, 72
POLYGON = [20.0, 14.0, 60.0, 10.0, 70.0, 40.0, 38.0, 56.0, 16.0, 36.0]
RECT = [58.0, 44.0, 88.0, 66.0]


def scene() -> tuple[np.ndarray, Targets]:
    image = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
    mask = rasterize([np.array(POLYGON).reshape(-1, 2)], (WIDTH, HEIGHT), 3)
    x0, y0, x1, y1 = (int(v) for v in RECT)
    mask[y0:y1, x0:x1] = 7
    image[mask == 3] = (40, 200, 60)
    image[mask == 7] = (220, 40, 40)
    polygon = Instance(0, [16.0, 10.0, 70.0, 56.0], [list(POLYGON)], key=0)
    rect = Instance(1, list(RECT), key=1)
    return image, Targets([polygon, rect], mask)


def specs(name: str) -> list:
    cls = REGISTRY[name]
    example = {k: v for k, v in cls.example.items() if k != "name"}
    variants = [cls(p=1.0), cls(**{**example, "p": 1.0})]
    fields = cls.model_fields
    if "border_mode" in fields:  # the image border does not matter for targets; constant shows uncovered pixels
        variants = [v.model_copy(update={"border_mode": "constant"}) for v in variants]
    return variants


def pixel_bounds(mask: np.ndarray, label: int) -> list[float] | None:
    ys, xs = np.nonzero(mask == label)
    if not len(xs):
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


@pytest.mark.parametrize("name", SPATIAL)
def test_boxes_agree_with_the_transformed_mask(name: str) -> None:
    image, targets = scene()
    tolerance = DENSE_TOLERANCE if name in DENSE else 1.0
    checked = 0
    for variant, spec in enumerate(specs(name)):
        for seed in range(6):
            rng = np.random.default_rng([variant, seed])
            params = spec.sample(rng, context_for(image))
            out = spec.apply(image, params, ApplyContext())
            moved = follow(spec, params, targets, (WIDTH, HEIGHT), (out.shape[1], out.shape[0]), SETTINGS, Tally())
            assert moved.mask.shape == out.shape[:2], "the mask has the image's new size"
            assert set(np.unique(moved.mask)) <= {0, 3, 7, 255}, "no label value that was not there"
            for label, category in ((3, 0), (7, 1)):
                expected = pixel_bounds(moved.mask, label)
                found = [i.box for i in moved.instances if i.category == category]
                if expected is None or (expected[2] - expected[0]) * (expected[3] - expected[1]) < 4:
                    continue  # gone, or a sliver: the box may legitimately be dropped or differ by rounding
                assert found, f"{name} {params}: object {category} is in the mask but lost its box"
                assert np.allclose(found[0], expected, atol=tolerance), (name, params, found[0], expected)
                checked += 1
    assert checked >= 6, f"{name}: too few draws kept both objects to check anything"


@pytest.mark.parametrize("name", PIXEL)
def test_pixel_steps_leave_targets_byte_identical(name: str) -> None:
    image, targets = scene()
    spec = REGISTRY[name](p=1.0)
    params = spec.sample(np.random.default_rng(1), context_for(image))
    out = spec.apply(image, params, ApplyContext())
    assert out.shape[:2] == image.shape[:2]
    moved = follow(spec, params, targets, (WIDTH, HEIGHT), (WIDTH, HEIGHT), SETTINGS, Tally())
    assert moved.mask.tobytes() == targets.mask.tobytes()
    assert [i.to_json() for i in moved.instances] == [i.to_json() for i in targets.instances]


def test_every_geometry_transform_has_a_target_rule() -> None:
    geometry = {name for name, cls in REGISTRY.items() if cls.family == "geometry"}
    rules = set(MATRICES) | DENSE | IN_PLACE
    assert geometry <= rules, sorted(geometry - rules)


def test_erasing_drops_covered_boxes_and_writes_ignore_into_masks() -> None:
    image, targets = scene()
    spec = REGISTRY["coarse_dropout"](p=1.0)
    params = {"boxes": [[56, 42, 34, 26]]}  # covers the whole rectangle object
    tally = Tally(before=2)
    moved = follow(spec, params, targets, (WIDTH, HEIGHT), (WIDTH, HEIGHT), SETTINGS, tally)
    assert [i.category for i in moved.instances] == [0] and tally.dropped == 1
    holes = np.zeros_like(targets.mask, dtype=bool)
    holes[42:68, 56:90] = True
    assert (moved.mask[holes] == 255).all() and (moved.mask[~holes] == targets.mask[~holes]).all()


def test_mosaic_places_each_images_objects_in_its_tile() -> None:
    image, targets = scene()
    spec = REGISTRY["mosaic"](p=1.0)
    params = {"partners": ["a", "b", "c"], "center": [48, 36]}
    ctx = ApplyContext(extra={"targets": lambda source: (targets, (WIDTH, HEIGHT))})
    moved = follow(spec, params, targets, (WIDTH, HEIGHT), (WIDTH, HEIGHT), SETTINGS, Tally(before=2), ctx)
    assert len(moved.instances) == 8, "two objects from each of the four images"
    tiles = [(0, 0, 48, 36), (48, 0, 96, 36), (0, 36, 48, 72), (48, 36, 96, 72)]
    for index, tile in enumerate(tiles):
        rect = moved.instances[2 * index + 1].box
        expected = [tile[0] + RECT[0] / 2, tile[1] + RECT[1] / 2, tile[0] + RECT[2] / 2, tile[1] + RECT[3] / 2]
        assert np.allclose(rect, expected, atol=0.01), (index, rect, expected)
        assert (moved.mask[tile[1] : tile[3], tile[0] : tile[2]] == 7).any()


def test_aug_mix_refuses_targets_it_cannot_carry() -> None:
    image, targets = scene()
    spec = REGISTRY["aug_mix"](p=1.0)
    params = spec.sample(np.random.default_rng(0), context_for(image))
    with pytest.raises(ValueError, match="aug_mix cannot carry boxes or masks"):
        follow(spec, params, targets, (WIDTH, HEIGHT), (WIDTH, HEIGHT), SETTINGS, Tally())
