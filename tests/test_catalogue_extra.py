"""Box blur, unsharp mask, glass blur, zoom blur, morphology, Planckian jitter, illumination, chromatic
aberration, spatter and frost (issue 15) against their definitions, on every image kind and on tiny images."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from augcli.kernels import effects, filters, lighting, morphology, weather
from augcli.pipeline import context_for, plain
from augcli.transforms import REGISTRY, ApplyContext
from augcli.transforms import effects as _effects  # noqa: F401  (registration, whatever __init__ lists)
from augcli.transforms import filters as _filters  # noqa: F401
from augcli.transforms import lighting as _lighting  # noqa: F401
from augcli.transforms import morphology as _morphology  # noqa: F401
from tests.conftest import IMAGE_KINDS, textured

CTX = ApplyContext()
NAMES = (
    "box_blur",
    "unsharp_mask",
    "glass_blur",
    "zoom_blur",
    "morphology",
    "planckian_jitter",
    "illumination",
    "chromatic_aberration",
    "spatter",
    "frost",
)
# Fields that pick a variant rather than an amount: every value is tried.
CHOICES = {"mode", "op", "shape"}


def run_spec(name: str, image: np.ndarray, params: dict, **fields) -> np.ndarray:
    return REGISTRY[name](**fields).apply(image, params, CTX)


def colour_of(image: np.ndarray) -> np.ndarray:
    return image[:, :, :3] if image.ndim == 3 and image.shape[2] == 4 else image


def variants(name: str) -> list:
    """The default spec, its example, and one spec per value of each choice field."""
    cls = REGISTRY[name]
    specs = [cls(), cls(**{k: v for k, v in cls.example.items() if k != "name"})]
    for field, info in cls.model_fields.items():
        if field in CHOICES:
            specs += [cls(**{field: value}) for value in info.annotation.__args__]
    return specs


def bounded_fields(cls) -> dict[str, tuple[float, float, bool]]:
    out = {}
    for field, info in cls.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "bounds" in extra:
            out[field] = (*extra["bounds"], "int" in str(info.annotation))
    return out


def extreme_specs(name: str, rng: np.random.Generator, count: int = 12) -> list:
    """Specs at the corners of the declared bounds, then random valid ranges within them."""
    cls = REGISTRY[name]
    fields = bounded_fields(cls)
    choices = {f: cls.model_fields[f].annotation.__args__ for f in cls.model_fields if f in CHOICES}
    specs = []
    for trial in range(count):
        settings = {}
        for field, (low, high, is_int) in fields.items():
            if trial == 0:
                pair = (low, low)
            elif trial == 1:
                pair = (high, high)
            elif is_int:
                pair = tuple(sorted(int(v) for v in rng.integers(low, high + 1, 2)))
            else:
                pair = tuple(sorted(float(v) for v in rng.uniform(low, high, 2)))
            settings[field] = pair
        for field, values in choices.items():
            settings[field] = values[trial % len(values)]
        specs.append(cls(**settings))
    return specs


def tiny(height: int, width: int, kind: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "rgb16":
        return rng.integers(0, 65536, (height, width, 3), dtype=np.uint16)
    shape = {"rgb": (height, width, 3), "gray": (height, width), "rgba": (height, width, 4)}[kind]
    return rng.integers(0, 256, shape, dtype=np.uint8)


# ---------------------------------------------------------------- every new transform


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_docs_and_bounds(name: str) -> None:
    cls = REGISTRY[name]
    assert cls.summary() and cls.example.get("name") == name
    ranges = [f for f in cls.model_fields if f.endswith("_range")]
    assert ranges and all(f in bounded_fields(cls) for f in ranges), f"{name}: every _range field is bounded()"


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_same_params_same_bytes_plain_json_alpha_kept(name: str, kind: str) -> None:
    image = textured(kind=kind)
    before = image.copy()
    for spec in variants(name):
        params = spec.sample(np.random.default_rng(5), context_for(image, "c/a.png", "c", ()))
        assert plain(params) == params
        first = spec.apply(image, params, CTX)
        again = spec.apply(image, json.loads(json.dumps(params)), CTX)
        assert first.tobytes() == again.tobytes()
        assert first.shape == image.shape and first.dtype == image.dtype
        np.testing.assert_array_equal(image, before)
        if kind == "rgba":
            np.testing.assert_array_equal(first[:, :, 3], image[:, :, 3])


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize("name", NAMES)
def test_every_setting_within_bounds_works_on_tiny_images(name: str, kind: str) -> None:
    """What the property test draws: any valid setting, on 1x1, 1xN, Nx1 and 2x2 images."""
    rng = np.random.default_rng(11)
    for spec in extreme_specs(name, rng):
        for height, width in ((1, 1), (1, 7), (6, 1), (2, 2)):
            image = tiny(height, width, kind)
            params = spec.sample(rng, context_for(image, "c/a.png", "c", ()))
            out = spec.apply(image, params, CTX)
            assert out.shape == image.shape and out.dtype == image.dtype, (spec, params)
            if kind == "rgba":
                np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])


@pytest.mark.parametrize("name", NAMES)
def test_8_and_16_bit_agree_after_scaling(name: str) -> None:
    image8 = textured(40, 56)
    image16 = image8.astype(np.uint16) * 257
    for spec in variants(name):
        params = spec.sample(np.random.default_rng(2), context_for(image8, "c/a.png", "c", ()))
        out8 = spec.apply(image8, params, CTX).astype(np.float64) * 257
        out16 = spec.apply(image16, params, CTX).astype(np.float64)
        # within two 8-bit levels (rounding to 8 bits, and OpenCV's fixed-point 8-bit interpolation)
        assert np.abs(out8 - out16).max() <= 2 * 257, (spec, params)


IDENTITIES = [
    ("box_blur", {"size": 1}),
    ("unsharp_mask", {"sigma": 1.5, "amount": 0.0}),
    ("unsharp_mask", {"sigma": 0.0, "amount": 2.0}),
    ("glass_blur", {"sigma": 0.0, "max_delta": 0, "iterations": 3, "noise_seed": 4}),
    ("zoom_blur", {"zoom": 0.0, "steps": 8}),
    ("morphology", {"size": 1}),
    ("planckian_jitter", {"kelvin": 6500.0}),
    ("illumination", {"intensity": 0.0, "center_x": 0.5, "center_y": 0.5, "sigma": 0.3}),
    ("chromatic_aberration", {"red_scale": 0.0, "blue_scale": 0.0}),
    ("spatter", {"intensity": 0.0, "cutout": 0.5, "size": 0.02, "noise_seed": 1}),
    ("spatter", {"intensity": 1.0, "cutout": 1.0, "size": 0.02, "noise_seed": 1}),  # nothing left to cover
    ("frost", {"intensity": 0.0, "crystal": 0.05, "noise_seed": 1}),
]


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize(("name", "params"), IDENTITIES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(IDENTITIES)])
def test_zero_strength_is_identity(name: str, params: dict, kind: str) -> None:
    image = textured(kind=kind)
    np.testing.assert_array_equal(run_spec(name, image, params), image)


# ---------------------------------------------------------------- blur family


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_box_blur_is_cv2_blur(kind: str) -> None:
    image = textured(kind=kind)
    out = run_spec("box_blur", image, {"size": 5})
    expected = cv2.blur(colour_of(image), (5, 5), borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(colour_of(out), expected)


def test_box_blur_known_values_and_odd_sizes() -> None:
    impulse = np.zeros((5, 5), np.uint8)
    impulse[2, 2] = 90
    np.testing.assert_array_equal(filters.box_blur(impulse, size=3), np.pad(np.full((3, 3), 10, np.uint8), 1))
    spec = REGISTRY["box_blur"](size_range=(2, 9))
    sizes = {spec.sample(np.random.default_rng(s), None)["size"] for s in range(60)}
    assert sizes == {3, 5, 7, 9}


def test_unsharp_mask_is_its_definition() -> None:
    image = textured(kind="gray")
    values = image.astype(np.float64)
    taps = cv2.getGaussianKernel(2 * 3 + 1, 1.0)
    blurred = cv2.sepFilter2D(values, -1, taps, taps, borderType=cv2.BORDER_REFLECT_101)
    expected = np.clip(np.rint(values + 1.5 * (values - blurred)), 0, 255)
    out = filters.unsharp_mask(image, sigma=1.0, amount=1.5).astype(np.float64)
    assert np.abs(out - expected).max() <= 1  # float32 arithmetic
    assert out.std() > values.std()  # more contrast
    flat = np.full((9, 9, 3), 77, np.uint8)
    np.testing.assert_array_equal(filters.unsharp_mask(flat, sigma=2.0, amount=3.0), flat)
    # a threshold of all of white leaves nothing to sharpen
    np.testing.assert_array_equal(filters.unsharp_mask(image, sigma=1.0, amount=2.0, threshold=1.0), image)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_glass_blur_shuffle_moves_whole_pixels_locally(kind: str) -> None:
    image = textured(kind=kind)
    out = filters.glass_blur(image, sigma=0.0, max_delta=2, iterations=1, noise_seed=3)
    colour, shuffled = colour_of(image), colour_of(out)
    assert not np.array_equal(shuffled, colour)
    pixels = lambda a: np.sort(a.reshape(a.shape[0] * a.shape[1], -1).view(f"V{a.itemsize * channels(a)}"), axis=0)  # noqa: E731
    np.testing.assert_array_equal(pixels(shuffled), pixels(colour))  # a permutation of whole pixels
    # every output pixel comes from within 2 * max_delta along each axis
    height, width = colour.shape[:2]
    reach = 4
    for y, x in [(0, 0), (10, 20), (height - 1, width - 1), (24, 31)]:
        window = colour[max(0, y - reach) : y + reach + 1, max(0, x - reach) : x + reach + 1]
        assert (window.reshape(-1, channels(colour)) == shuffled[y, x].reshape(-1)).all(axis=1).any()
    other = filters.glass_blur(image, sigma=0.0, max_delta=2, iterations=1, noise_seed=4)
    assert not np.array_equal(other, out)


def channels(image: np.ndarray) -> int:
    return 1 if image.ndim == 2 else image.shape[2]


def test_glass_blur_blurs() -> None:
    image = textured()
    out = filters.glass_blur(image, sigma=0.7, max_delta=2, iterations=2, noise_seed=1)
    laplacian = lambda a: np.abs(cv2.Laplacian(a.astype(np.float32), cv2.CV_32F)).mean()  # noqa: E731
    assert laplacian(out) < laplacian(image)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_zoom_blur_is_a_mean_of_zooms_about_the_centre(kind: str) -> None:
    image = textured(41, 57, kind=kind)  # odd sides: the centre is a pixel, and it stays put
    out = filters.zoom_blur(image, zoom=0.3, steps=4)
    colour = colour_of(image)
    np.testing.assert_array_equal(colour_of(out)[20, 28], colour[20, 28])
    total = colour.astype(np.float64)
    for step in range(1, 5):
        f = 1 + 0.3 * step / 4
        matrix = np.array([[f, 0, 28 * (1 - f)], [0, f, 20 * (1 - f)]])
        warped = cv2.warpAffine(colour, matrix, (57, 41), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        total += warped.reshape(colour.shape)
    assert np.abs(colour_of(out).astype(np.float64) - total / 5).max() <= 1
    flat = np.full((9, 9, 3), 200, np.uint8)
    np.testing.assert_array_equal(filters.zoom_blur(flat, zoom=0.5, steps=6), flat)


# ---------------------------------------------------------------- morphology


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_erode_removes_a_single_white_pixel_and_dilate_grows_it_by_the_element(dtype) -> None:
    white = np.iinfo(dtype).max
    dot = np.zeros((11, 11), dtype)
    dot[5, 5] = white
    for shape in ("rect", "ellipse", "cross"):
        assert not morphology.morphology(dot, op="erode", shape=shape, size=3).any()
        assert not morphology.morphology(dot, op="open", shape=shape, size=3).any()
        grown = morphology.morphology(dot, op="dilate", shape=shape, size=5)
        element = morphology.structuring_element(shape, 5).astype(bool)
        expected = np.zeros((11, 11), bool)
        expected[3:8, 3:8] = element[::-1, ::-1]  # dilation places the reflected element
        np.testing.assert_array_equal(grown == white, expected)
        np.testing.assert_array_equal(grown[~expected], 0)


def test_close_fills_a_hole_and_open_close_are_idempotent() -> None:
    hole = np.full((9, 9, 3), 255, np.uint8)
    hole[4, 4] = 0
    np.testing.assert_array_equal(morphology.morphology(hole, op="close", shape="rect", size=3), 255)
    image = textured()
    for op in ("open", "close"):
        once = morphology.morphology(image, op=op, shape="ellipse", size=3)
        np.testing.assert_array_equal(morphology.morphology(once, op=op, shape="ellipse", size=3), once)
    eroded = morphology.morphology(image, op="erode", shape="rect", size=3)
    dilated = morphology.morphology(image, op="dilate", shape="rect", size=3)
    assert (eroded <= image).all() and (dilated >= image).all()


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_morphology_spec_is_cv2_with_its_element(kind: str) -> None:
    image = textured(kind=kind)
    out = run_spec("morphology", image, {"size": 4}, op="dilate", shape="cross")
    element = cv2.getStructuringElement(cv2.MORPH_CROSS, (4, 4))
    expected = cv2.dilate(colour_of(image), element)
    np.testing.assert_array_equal(colour_of(out), expected.reshape(colour_of(image).shape))


# ---------------------------------------------------------------- light and optics


def test_blackbody_rgb_matches_tanner_hellands_published_values() -> None:
    assert lighting.blackbody_rgb(6600) == (255.0, 255.0, 255.0)
    # the fit's three branches, worked by hand: 1000 K (blue 0), 2000 K (blue's log branch), 40000 K (red falls)
    np.testing.assert_allclose(lighting.blackbody_rgb(1000), (255, 67.92, 0), atol=0.01)
    np.testing.assert_allclose(lighting.blackbody_rgb(2000), (255, 136.87, 13.90), atol=0.01)
    np.testing.assert_allclose(lighting.blackbody_rgb(40000), (151.67, 185.53, 255), atol=0.01)


def test_planckian_jitter_near_6500_is_near_identity_warm_is_red_cold_is_blue() -> None:
    image = textured()
    assert np.abs(lighting.planckian_jitter(image, kelvin=6600.0).astype(int) - image).max() <= 4
    blue, green, red = lighting.planckian_gains(3000.0)
    assert red > green > blue
    blue, green, red = lighting.planckian_gains(15000.0)
    assert blue > green > red
    for kelvin in (1000.0, 3000.0, 6500.0, 12000.0, 40000.0):  # a grey pixel keeps its luma
        luma = np.dot((0.114, 0.587, 0.299), lighting.planckian_gains(kelvin))
        assert luma == pytest.approx(1)
    warm = lighting.planckian_jitter(np.full((3, 3, 3), 100, np.uint8), kelvin=3000.0)
    gains = lighting.planckian_gains(3000.0)
    np.testing.assert_array_equal(warm[0, 0], np.clip(np.rint(np.array(gains) * 100), 0, 255))
    grey = textured(kind="gray")
    np.testing.assert_array_equal(lighting.planckian_jitter(grey, kelvin=2500.0), grey)


def test_illumination_linear_is_brightness_gradient_brightening() -> None:
    image = textured(kind="rgb16")
    np.testing.assert_array_equal(
        lighting.illumination(image, mode="linear", intensity=0.3, angle=30.0),
        weather.brightness_gradient(image, mode="linear", strength=-0.3, angle=30.0),
    )
    spec = REGISTRY["illumination"](mode="linear")
    assert set(spec.sample(np.random.default_rng(0), None)) == {"intensity", "angle"}


@pytest.mark.parametrize("corner", [0, 1, 2, 3])
def test_illumination_corner_peaks_at_its_corner(corner: int) -> None:
    flat = np.full((7, 9, 3), 100, np.uint8)
    out = lighting.illumination(flat, mode="corner", intensity=0.5, corner=corner)
    corners = [(0, 0), (0, 8), (6, 8), (6, 0)]
    y, x = corners[corner]
    oy, ox = corners[(corner + 2) % 4]
    np.testing.assert_array_equal(out[y, x], 150)
    np.testing.assert_array_equal(out[oy, ox], 100)
    assert (out >= 100).all()
    dark = lighting.illumination(flat, mode="corner", intensity=-1.0, corner=corner)
    np.testing.assert_array_equal(dark[y, x], 0)


def test_illumination_gaussian_spot() -> None:
    flat = np.full((21, 31), 100, np.uint8)
    out = lighting.illumination(flat, mode="gaussian", intensity=0.4, center_x=0.5, center_y=0.5, sigma=0.2)
    assert out[10, 15] == 140 and out.max() == 140
    assert out[0, 0] < out[10, 5] < out[10, 15]
    np.testing.assert_array_equal(out, out[::-1, ::-1])  # symmetric about the centre
    with pytest.raises(ValueError, match="illumination mode"):
        lighting.illumination(flat, mode="spiral", intensity=0.4)


def test_brightness_gradient_params_and_outputs_unchanged() -> None:
    """The existing transform is untouched: same param keys, same output as its kernel."""
    spec = REGISTRY["brightness_gradient"](mode="linear")
    params = spec.sample(np.random.default_rng(0), None)
    assert set(params) == {"strength", "angle"}
    image = textured()
    np.testing.assert_array_equal(
        spec.apply(image, params, CTX), weather.brightness_gradient(image, mode="linear", **params)
    )


@pytest.mark.parametrize("kind", ["rgb", "rgba", "rgb16"])
def test_chromatic_aberration_magnifies_red_and_blue_only(kind: str) -> None:
    image = textured(41, 57, kind=kind)
    out = lighting.chromatic_aberration(image, red_scale=0.05, blue_scale=-0.03)
    np.testing.assert_array_equal(out[:, :, 1], image[:, :, 1])
    np.testing.assert_array_equal(out[20, 28, :3], image[20, 28, :3])  # the centre stays
    for channel, f in ((2, 1.05), (0, 0.97)):
        matrix = np.array([[f, 0, 28 * (1 - f)], [0, f, 20 * (1 - f)]])
        plane = np.ascontiguousarray(image[:, :, channel])
        expected = cv2.warpAffine(plane, matrix, (57, 41), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        np.testing.assert_array_equal(out[:, :, channel], expected)
    grey = textured(kind="gray")
    np.testing.assert_array_equal(lighting.chromatic_aberration(grey, red_scale=0.05, blue_scale=0.05), grey)


# ---------------------------------------------------------------- spatter and frost


@pytest.mark.parametrize("cutout", [0.3, 0.6, 0.9])
def test_spatter_covers_about_one_minus_cutout(cutout: float) -> None:
    mask = effects.spatter_mask(120, 160, size=0.03, cutout=cutout, noise_seed=5)
    assert mask.min() >= 0 and mask.max() <= 1
    assert abs(float((mask > 0).mean()) - (1 - cutout)) < 0.02


def test_spatter_mud_is_brown_where_it_covers_and_untouched_elsewhere() -> None:
    image = np.full((60, 80, 3), 230, np.uint8)
    out = effects.spatter(image, mode="mud", intensity=1.0, cutout=0.6, size=0.05, noise_seed=2)
    mask = effects.spatter_mask(60, 80, size=0.05, cutout=0.6, noise_seed=2)
    np.testing.assert_array_equal(out[mask == 0], image[mask == 0])
    solid = out[mask == 1].astype(int)
    assert len(solid) and (solid[:, 0] < solid[:, 1]).all() and (solid[:, 1] < solid[:, 2]).all()  # b < g < r
    assert (solid < 230).all()
    with pytest.raises(ValueError, match="rain or mud"):
        effects.spatter(image, mode="oil", intensity=1.0, cutout=0.6, size=0.05, noise_seed=2)


def test_spatter_rain_shows_the_blurred_scene_tinted() -> None:
    image = textured(60, 80)
    out = effects.spatter(image, mode="rain", intensity=1.0, cutout=0.5, size=0.05, noise_seed=2)
    mask = effects.spatter_mask(60, 80, size=0.05, cutout=0.5, noise_seed=2)
    np.testing.assert_array_equal(out[mask == 0], image[mask == 0])
    assert not np.array_equal(out[mask == 1], image[mask == 1])


def test_frost_whitens_more_at_the_edges_and_is_seeded() -> None:
    black = np.zeros((80, 100, 3), np.uint8)
    out = effects.frost(black, intensity=0.8, crystal=0.06, noise_seed=9)
    assert out.mean() > 20
    assert (out[..., 0] >= out[..., 2]).all()  # blue-white ice
    border = np.concatenate([out[:8].ravel(), out[-8:].ravel()]).mean()
    assert border > out[30:50, 35:65].mean()
    again = effects.frost(black, intensity=0.8, crystal=0.06, noise_seed=9)
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(out, effects.frost(black, intensity=0.8, crystal=0.06, noise_seed=10))
    texture = effects.frost_texture(80, 100, crystal=0.06, noise_seed=9)
    assert texture.min() >= 0 and texture.max() <= 1


@pytest.mark.parametrize("name", ["glass_blur", "spatter", "frost"])
def test_seeded_layouts_are_recorded_and_differ_between_draws(name: str) -> None:
    image = textured()
    spec = REGISTRY[name]()
    ctx = context_for(image, "c/a.png", "c", ())
    first, second = (spec.sample(np.random.default_rng(s), ctx) for s in (1, 2))
    assert isinstance(first["noise_seed"], int) and first["noise_seed"] != second["noise_seed"]
    assert not np.array_equal(spec.apply(image, first, CTX), spec.apply(image, second, CTX))
