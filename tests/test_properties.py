"""Property tests over the whole registry: any settings a recipe accepts must run on any image we read.

For every transform, settings are drawn from the spec's own JSON Schema (the `bounds` of each `_range`
field, the `colour` scale, minimum / maximum, enums), now and then one value just outside what the
schema declares. Images are of every kind the reader produces (8- and 16-bit; grey, colour, colour with
alpha), including 1x1, one row, one column and very wide or tall ones. The property: either the recipe
is refused with a RecipeError naming each bad key, or sampling and applying give an image of the same
kind (dtype and channel count), with plain-JSON params that replay to the same bytes. A setting that
validation accepts and a kernel cannot handle is a bug in one of the two.

Examples are derandomized (the same on every run and machine) and few per transform, so the file
stays within about 40 s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augcli.errors import RecipeError
from augcli.pipeline import augment, find_step, plain, replay
from augcli.recipe import recipe_from_dict
from augcli.transforms import REGISTRY, ApplyContext

NAMES = sorted(REGISTRY)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SKIPPED_FIELDS = {"name", "function", "params", "references"}  # code, its arguments, a folder: not drawn
# Fields of which a step takes one at most (a rule across fields, not in any one field's schema).
ONE_OF_FIELDS = {"resize": ("size", "longest", "shortest")}

# ---------------------------------------------------------------- images


SHAPES = [(1, 1), (1, 2), (2, 1), (1, 17), (17, 1), (3, 200), (200, 3), (2, 2), (5, 7)]


@st.composite
def images(draw, dtype=None, channels=None) -> np.ndarray:
    """An image of any kind the reader produces; tiny, degenerate and lopsided sizes are favoured."""
    dtype = dtype or draw(st.sampled_from([np.uint8, np.uint16]))
    channels = channels or draw(st.sampled_from([1, 3, 4]))
    height, width = draw(st.one_of(st.sampled_from(SHAPES), st.tuples(st.integers(1, 24), st.integers(1, 24))))
    height, width = (1, 1) if draw(st.integers(0, 5)) == 0 else (height, width)  # one pixel: the likeliest break
    white = int(np.iinfo(dtype).max)
    content = draw(st.sampled_from(["noise", "flat", "black", "white", "ramp"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (height, width) if channels == 1 else (height, width, channels)
    if content == "noise":
        image = rng.integers(0, white + 1, shape)
    elif content == "ramp":
        image = np.broadcast_to(
            np.linspace(0, white, width)[None, :] if channels == 1 else np.linspace(0, white, width)[None, :, None],
            shape,
        )
    else:
        value = {"black": 0, "white": white, "flat": int(rng.integers(0, white + 1))}[content]
        image = np.full(shape, value)
    return np.ascontiguousarray(np.rint(image).astype(dtype))


def same_kind_loader(draw, image: np.ndarray) -> tuple[ApplyContext, tuple[str, ...]]:
    """Partners for mixing transforms: other images of the same kind (sizes differ, as real sources do)."""
    count = draw(st.integers(0, 3))
    channels = 1 if image.ndim == 2 else image.shape[2]
    loaded = {f"cls/p{i}.png": draw(images(dtype=image.dtype.type, channels=channels)) for i in range(count)}
    return ApplyContext(load=lambda path: loaded[path]), ("cls/src.png", *loaded)


# ---------------------------------------------------------------- settings from the schema


def draw_setting(draw, key: str, schema: dict[str, Any], allow_invalid: bool) -> tuple[Any, bool]:
    """(value, valid) for one field, from its JSON Schema. valid says whether the schema declares it valid."""
    invalid = allow_invalid and draw(st.integers(0, 11)) == 0
    if "bounds" in schema:
        return draw_range(draw, schema, invalid)
    if "colour" in schema:
        return draw_colour(draw, schema["colour"], invalid)
    if "enum" in schema:
        return (draw(st.just("no_such_value")), False) if invalid else (draw(st.sampled_from(schema["enum"])), True)
    kind = schema.get("type")
    if kind == "boolean":
        return draw(st.booleans()), True
    if kind in ("integer", "number"):
        return draw_number(draw, schema, invalid)
    if "prefixItems" in schema:  # a pixel size [width, height]
        return draw_setting(draw, key, {"anyOf": [schema, {"type": "null"}], "required": True}, allow_invalid)
    if "anyOf" in schema and {"type": "null"} in schema["anyOf"]:  # an optional number or pixel size
        (pair,) = [s for s in schema["anyOf"] if s != {"type": "null"}]
        if not schema.get("required") and draw(st.booleans()):
            return None, True
        if pair.get("type") in ("integer", "number"):
            return draw_number(draw, {**pair, "maximum": min(pair.get("maximum", 48), 48)}, invalid)
        sides = [
            draw_number(draw, {**item, "maximum": min(item["maximum"], 48)}, False)[0] for item in pair["prefixItems"]
        ]
        if invalid:
            sides[draw(st.integers(0, 1))] = draw(st.sampled_from([0, -1, pair["prefixItems"][0]["maximum"] + 1]))
        return sides, not invalid
    raise AssertionError(f"the property test cannot draw {key} from {schema}: teach draw_setting this field")


def draw_range(draw, schema: dict[str, Any], invalid: bool) -> tuple[list[float], bool]:
    low, high = schema["bounds"]
    whole = schema["prefixItems"][0]["type"] == "integer"
    value = st.integers(math.ceil(low), math.floor(high)) if whole else st.floats(low, high, allow_nan=False)
    pair = sorted([draw(value), draw(value)]) if draw(st.integers(0, 3)) else [draw(value)] * 2
    if not invalid:
        return pair, True
    how = draw(st.sampled_from(["below", "above", "reversed"]))
    if how == "reversed" and pair[0] < pair[1]:
        return [pair[1], pair[0]], False
    step = 1 if whole else max(1e-3, (high - low) * 0.01)
    return ([low - step, pair[1]] if how == "below" else [pair[0], high + step]), False


def draw_number(draw, schema: dict[str, Any], invalid: bool) -> tuple[float, bool]:
    whole = schema["type"] == "integer"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if invalid:
        step = 1 if whole else 0.5
        return draw(
            st.sampled_from(
                [
                    v
                    for v in (low - step if low is not None else None, high + step if high is not None else None)
                    if v is not None
                ]
                or [low]
            )
        ), low is None and high is None
    if whole:
        return draw(st.integers(low, high)), True
    value = draw(
        st.floats(
            low,
            high,
            allow_nan=False,
            exclude_max="exclusiveMaximum" in schema,
            exclude_min="exclusiveMinimum" in schema,
        )
    )
    return value, True


def draw_colour(draw, scale: list[float], invalid: bool) -> tuple[Any, bool]:
    low, high = scale
    value = st.floats(low, high, allow_nan=False)
    colour = draw(st.one_of(value, st.lists(value, min_size=1, max_size=4).filter(lambda v: len(v) != 2)))
    if not invalid:
        return colour, True
    if draw(st.booleans()):
        return draw(st.lists(value, min_size=2, max_size=2)), False
    outside = draw(st.one_of(st.floats(high + 0.5, 1e4), st.floats(-1e4, low - 0.5)))
    return ([*colour[:-1], outside] if isinstance(colour, list) else outside), False


def draw_step(draw, name: str, allow_invalid: bool) -> tuple[dict[str, Any], list[str]]:
    """A recipe step for `name` with some fields set (the rest default) and the keys set invalidly."""
    step: dict[str, Any] = {"name": name}
    bad: list[str] = []
    exclusive = ONE_OF_FIELDS.get(name, ())
    chosen = draw(st.sampled_from(exclusive)) if exclusive else None  # the rule across them has tests of its own
    for key, schema in REGISTRY[name].model_json_schema()["properties"].items():
        if key in SKIPPED_FIELDS or (key in exclusive and key != chosen) or not draw(st.integers(0, 3)):
            continue  # a quarter of fields keep their default
        if key == "p" and not allow_invalid:  # alone, a step must run to be tested; in a composition, any p
            step["p"] = draw(st.sampled_from([1.0, 0.5]))
            continue
        value, valid = draw_setting(draw, key, schema, allow_invalid and len(bad) < 2)
        step[key] = value
        if not valid:
            bad.append(key)
    if name == "rand_augment" and "magnitude" not in bad:  # magnitude indexes the bins: below their count
        bins = step.get("num_magnitude_bins", REGISTRY[name].model_fields["num_magnitude_bins"].default)
        magnitude = step.get("magnitude", REGISTRY[name].model_fields["magnitude"].default)
        if "num_magnitude_bins" not in bad and isinstance(bins, int) and bins >= 1 and magnitude >= bins:
            step["magnitude"] = bins - 1
    return step, bad


# ---------------------------------------------------------------- the property


def expected_channels(image: np.ndarray, applied: list[dict], steps: list[Any]) -> int:
    """The channel count a run keeps, but for grayscale(keep_channels: false), documented to give one."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    for record in applied:
        spec = find_step(steps, record["step"])
        if record["name"] == "grayscale" and not spec.keep_channels and channels == 3:
            channels = 1
    return channels


def check_runs(steps_data: list[dict], image: np.ndarray, ctx: ApplyContext, partners, seed: int) -> None:
    recipe = recipe_from_dict({"transforms": steps_data})
    steps = list(recipe.transforms)
    before = image.copy()
    out, applied = augment(
        image, steps, np.random.default_rng(seed), source="cls/src.png", label="cls", partners=partners, ctx=ctx
    )
    np.testing.assert_array_equal(image, before, err_msg="the input was modified")
    assert out.dtype == image.dtype, f"dtype {image.dtype} became {out.dtype}"
    channels = 1 if out.ndim == 2 else out.shape[2]
    assert out.ndim in (2, 3) and channels == expected_channels(image, applied, steps), (image.shape, out.shape)
    assert min(out.shape[:2]) >= 1, f"empty output {out.shape}"
    for record in applied:
        assert plain(record["params"]) == record["params"], f"{record['name']} params are not plain JSON"
    again = replay(image, applied, steps, ctx)
    assert again.tobytes() == out.tobytes(), "replaying the recorded params gave other bytes"


def check_refused(steps_data: list[dict], bad: list[str]) -> None:
    with pytest.raises(RecipeError) as refused:
        recipe_from_dict({"transforms": steps_data})
    message = str(refused.value)
    for key in bad:
        assert f"transforms[0].{key}" in message, f"the error does not name {key}: {message}"


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_any_accepted_setting_runs_on_any_image(name: str, data) -> None:
    step, bad = draw_step(data.draw, name, allow_invalid=True)
    step["p"] = 1.0 if "p" not in bad else step["p"]
    if bad:
        check_refused([step], bad)
        return
    image = data.draw(images(), label="image")
    ctx, partners = same_kind_loader(data.draw, image)
    check_runs([step], image, ctx, partners, data.draw(st.integers(0, 2**32 - 1), label="seed"))


@st.composite
def compositions(draw, depth: int = 0) -> dict[str, Any]:
    """A transform step with valid settings, or a block of 1-3 of them (blocks nest twice at most)."""
    if depth >= 2 or draw(st.integers(0, 2)):
        return draw_step(draw, draw(st.sampled_from(NAMES)), allow_invalid=False)[0]
    children = draw(st.lists(compositions(depth + 1), min_size=1, max_size=3))
    block: dict[str, Any] = {"name": draw(st.sampled_from(["sequence", "one_of", "some_of"])), "transforms": children}
    block["p"] = draw(st.sampled_from([1.0, 0.5, 0.0]))
    if block["name"] == "one_of" and draw(st.booleans()):
        weights = draw(st.lists(st.floats(0, 5), min_size=len(children), max_size=len(children)))
        block["weights"] = weights if sum(weights) > 0 else [1.0] * len(children)
    if block["name"] == "some_of":
        low = draw(st.integers(0, len(children)))
        block["n_range"] = [low, draw(st.integers(low, len(children)))]
    return block


@settings(SETTINGS, max_examples=800)
@given(data=st.data())
def test_any_composition_runs_on_any_image(data) -> None:
    steps = data.draw(st.lists(compositions(), min_size=1, max_size=4), label="steps")
    image = data.draw(images(), label="image")
    ctx, partners = same_kind_loader(data.draw, image)
    check_runs(steps, image, ctx, partners, data.draw(st.integers(0, 2**32 - 1), label="seed"))
