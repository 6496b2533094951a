"""Colour, tone, noise, blur and quality transforms against their definitions, and their configs via the CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from augcli.cli import app
from augcli.kernels import blur, color, noise, quality, tone
from augcli.manifest import read_records
from augcli.transforms import REGISTRY, ApplyContext
from tests.conftest import CONFIGS, IMAGE_KINDS, textured

CTX = ApplyContext()


def run_spec(name: str, image: np.ndarray, params: dict, **fields) -> np.ndarray:
    return REGISTRY[name](**fields).apply(image, params, CTX)


# Zero strength is the identity, on every image kind.
IDENTITIES = [
    ("gamma", {"gamma": 1.0}),
    ("rgb_shift", {"r_shift": 0.0, "g_shift": 0.0, "b_shift": 0.0}),
    ("channel_shuffle", {"order": [0, 1, 2]}),
    ("sepia", {"strength": 0.0}),
    ("channel_dropout", {"channels": []}),
    ("fancy_pca", {"alphas": [0.0, 0.0, 0.0]}),
    ("solarize", {"threshold": 1.0}),
    ("random_tone_curve", {"low_shift": 0.0, "high_shift": 0.0}),
    ("sharpen", {"alpha": 0.0, "lightness": 1.0}),
    ("emboss", {"alpha": 0.0, "strength": 0.5}),
    ("color_jitter", {"order": ["hue", "saturation", "contrast", "brightness"], "brightness": 1.0,
                      "contrast": 1.0, "saturation": 1.0, "hue": 0.0}),
    ("shot_noise", {"photons": 1e12, "noise_seed": 1}),
    ("multiplicative_noise", {"sigma": 0.0, "noise_seed": 1}),
    ("pixel_dropout", {"rate": 0.0, "noise_seed": 1}),
    ("motion_blur", {"length": 1, "angle": 30.0}),
    ("median_blur", {"size": 1}),
    ("defocus", {"radius": 0, "alias_blur": 0.3}),
]  # fmt: skip


@pytest.mark.parametrize("kind", IMAGE_KINDS)
@pytest.mark.parametrize(("name", "params"), IDENTITIES, ids=[n for n, _ in IDENTITIES])
def test_zero_strength_is_identity(name: str, params: dict, kind: str) -> None:
    image = textured(kind=kind)
    np.testing.assert_array_equal(run_spec(name, image, params), image)


def test_posterize_8_bits_keeps_an_8_bit_image() -> None:
    image = textured()
    np.testing.assert_array_equal(tone.posterize(image, bits=8), image)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_invert_twice_is_identity_and_alpha_is_kept(kind: str) -> None:
    image = textured(kind=kind)
    once = run_spec("invert", image, {})
    white = np.iinfo(image.dtype).max
    colour = image[:, :, :3] if kind == "rgba" else image
    np.testing.assert_array_equal((once[:, :, :3] if kind == "rgba" else once), white - colour)
    np.testing.assert_array_equal(run_spec("invert", once, {}), image)
    if kind == "rgba":
        np.testing.assert_array_equal(once[:, :, 3], image[:, :, 3])


@pytest.mark.parametrize("kind", ["rgb", "rgba", "rgb16"])
def test_grayscale_keeping_channels_gives_equal_channels(kind: str) -> None:
    image = textured(kind=kind)
    out = run_spec("grayscale", image, {})
    assert out.shape == image.shape
    np.testing.assert_array_equal(out[:, :, 0], out[:, :, 1])
    np.testing.assert_array_equal(out[:, :, 1], out[:, :, 2])
    np.testing.assert_array_equal(out[:, :, 0], cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY))


def test_grayscale_without_keep_channels_gives_one_plane_except_with_alpha() -> None:
    assert run_spec("grayscale", textured(), {}, keep_channels=False).ndim == 2
    assert run_spec("grayscale", textured(kind="rgba"), {}, keep_channels=False).shape[2] == 4
    grey = textured(kind="gray")
    np.testing.assert_array_equal(run_spec("grayscale", grey, {}, keep_channels=False), grey)


def test_posterize_keeps_top_bits_on_8_and_16_bit() -> None:
    tiny = np.array([[0, 15, 16, 200, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(tone.posterize(tiny, bits=4), [[0, 0, 16, 192, 240]])
    wide = np.array([[0, 4095, 4096, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(tone.posterize(wide, bits=4), [[0, 0, 4096, 61440]])
    assert len(np.unique(tone.posterize(textured(kind="rgb16"), bits=3))) <= 8


def test_solarize_inverts_only_above_threshold() -> None:
    tiny = np.array([[0, 100, 127, 128, 200, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(tone.solarize(tiny, threshold=0.5), [[0, 100, 127, 127, 55, 0]])
    wide = np.array([[1000, 60000]], dtype=np.uint16)
    np.testing.assert_array_equal(tone.solarize(wide, threshold=0.5), [[1000, 5535]])


def test_gamma_known_values_and_16_bit_scale() -> None:
    tiny = np.array([[0, 64, 128, 255]], dtype=np.uint8)
    expected = np.rint(255 * (tiny / 255.0) ** 2).astype(np.uint8)
    np.testing.assert_array_equal(tone.gamma(tiny, gamma=2.0), expected)
    wide = np.array([[0, 32768, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(tone.gamma(wide, gamma=2.0), [[0, 16384, 65535]])


def test_rgb_shift_uses_bgr_order_and_grey_takes_the_mean() -> None:
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    out = color.rgb_shift(image, r_shift=0.2, g_shift=0.0, b_shift=-0.2)
    np.testing.assert_array_equal(out[0, 0], [49, 100, 151])  # B, G, R
    grey = np.full((2, 2), 100, dtype=np.uint8)
    np.testing.assert_array_equal(color.rgb_shift(grey, r_shift=0.3, g_shift=0.0, b_shift=0.0), np.full((2, 2), 126))
    wide = np.full((1, 1, 3), 1000, dtype=np.uint16)
    np.testing.assert_array_equal(color.rgb_shift(wide, r_shift=0.5, g_shift=0, b_shift=0)[0, 0], [1000, 1000, 33768])


def test_channel_shuffle_and_dropout_move_whole_channels() -> None:
    image = textured(kind="rgba")
    out = color.channel_shuffle(image, order=[2, 0, 1])
    np.testing.assert_array_equal(out[:, :, :3], image[:, :, [2, 0, 1]])
    np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])
    dropped = color.channel_dropout(textured(kind="rgb16"), channels=[1], fill=255)
    assert (dropped[:, :, 1] == 65535).all()
    np.testing.assert_array_equal(dropped[:, :, [0, 2]], textured(kind="rgb16")[:, :, [0, 2]])


def test_sepia_on_a_white_pixel_follows_the_matrix() -> None:
    white = np.full((1, 1, 3), 200, dtype=np.uint8)
    expected = np.clip(np.rint(color.SEPIA_BGR @ [200, 200, 200]), 0, 255)
    out = color.sepia(white, strength=1.0)[0, 0].astype(int)
    assert np.abs(out - expected).max() <= 1  # cv2.transform rounds through fixed point on 8-bit


def test_equalize_spreads_values_over_the_full_range_on_8_and_16_bit() -> None:
    for kind in ("gray", "rgb16"):
        image = textured(kind=kind)
        low = (image // 4).astype(image.dtype)  # a dim, low-contrast image
        out = tone.equalize(low)
        white = np.iinfo(image.dtype).max
        assert out.min() == 0 and out.max() == white
    grey = np.array([[10, 10, 20, 30]], dtype=np.uint8)
    np.testing.assert_array_equal(tone.equalize(grey), cv2.equalizeHist(grey))


def test_auto_contrast_stretches_each_channel_to_black_and_white() -> None:
    tiny = np.array([[[50, 10, 0], [150, 20, 255]]], dtype=np.uint8)
    out = tone.auto_contrast(tiny)
    np.testing.assert_array_equal(out, [[[0, 0, 0], [255, 255, 255]]])
    wide = np.array([[1000, 3000]], dtype=np.uint16)
    np.testing.assert_array_equal(tone.auto_contrast(wide), [[0, 65535]])


def test_clahe_raises_local_contrast_on_16_bit_grey_too() -> None:
    for kind in ("gray", "rgb16", "rgb"):
        image = textured(kind=kind)
        flat = (image // 3 + image.dtype.type(np.iinfo(image.dtype).max // 3)).astype(image.dtype)
        out = tone.clahe(flat, clip_limit=4.0, tiles=4)
        assert out.dtype == image.dtype and out.std() > flat.std()


@pytest.mark.parametrize("kind", ["gray", "rgb"])
def test_clahe_on_16_bit_looks_like_8_bit(kind: str) -> None:
    image = textured(kind=kind)
    wide = image.astype(np.uint16) * 257
    expected = tone.clahe(image, clip_limit=3.0, tiles=4).astype(np.int64) * 257
    assert np.abs(tone.clahe(wide, clip_limit=3.0, tiles=4).astype(np.int64) - expected).max() <= 257 * 2


def test_color_jitter_applies_steps_in_the_recorded_order() -> None:
    image = textured()
    params = {"brightness": 1.5, "contrast": 0.5, "saturation": 1.0, "hue": 0.0}
    a = color.color_jitter(image, order=["brightness", "contrast", "saturation", "hue"], **params)
    b = color.color_jitter(image, order=["contrast", "brightness", "saturation", "hue"], **params)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, color.jitter_contrast(color.jitter_brightness(image, 1.5), 0.5))
    spec = REGISTRY["color_jitter"]()
    orders = {tuple(spec.sample(np.random.default_rng(s), None)["order"]) for s in range(30)}
    assert len(orders) > 5 and all(sorted(o) == sorted(("brightness", "contrast", "saturation", "hue")) for o in orders)


def test_color_jitter_saturation_zero_is_grey() -> None:
    out = color.color_jitter(textured(), order=["saturation"], brightness=1.0, contrast=1.0, saturation=0.0, hue=0.0)
    assert np.abs(out[:, :, 0].astype(int) - out[:, :, 2]).max() <= 1


def test_fancy_pca_on_grey_moves_intensity_only() -> None:
    grey = textured(kind="gray")
    out = color.fancy_pca(grey, alphas=[1.0, 5.0, 5.0])
    shift = out.astype(int) - grey
    inside = (grey > 20) & (grey < 200)
    assert len(np.unique(shift[inside])) == 1 and shift[inside][0] > 0  # sigma * alpha, one constant


def test_sharpen_and_emboss_are_their_kernels() -> None:
    image = textured(kind="gray")
    kernel = 0.5 * tone.IDENTITY_3x3 + 0.5 * np.array([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]])
    expected = cv2.filter2D(image, -1, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(tone.sharpen(image, alpha=0.5, lightness=1.0), expected)
    assert not np.array_equal(tone.emboss(image, alpha=0.5, strength=0.5), image)


def test_motion_blur_kernel_follows_the_angle() -> None:
    horizontal = blur.motion_kernel(7, 0.0)
    assert horizontal.sum() == pytest.approx(1.0) and horizontal[3].sum() == pytest.approx(1.0)
    vertical = blur.motion_kernel(7, 90.0)
    assert vertical[:, 3].sum() == pytest.approx(1.0)
    dot = np.zeros((21, 21), dtype=np.uint8)
    dot[10, 10] = 255
    smeared = blur.motion_blur(dot, length=9, angle=0.0)
    assert smeared[10].sum() > 200 and smeared[:9].sum() == 0 and smeared[12:].sum() == 0


def test_defocus_is_a_disc_and_median_removes_specks_on_16_bit() -> None:
    disc = blur.disc_kernel(3, 0.0)
    assert disc.shape == (7, 7) and disc[3, 0] > 0 and disc[0, 0] == 0
    wide = np.full((20, 20), 30000, dtype=np.uint16)
    wide[5, 5] = 65535
    for size in (3, 7):  # 7 takes the numpy path (OpenCV's 16-bit median stops at 5)
        np.testing.assert_array_equal(blur.median_blur(wide, size=size), np.full((20, 20), 30000))


def test_median_blur_draws_and_records_only_odd_sizes() -> None:
    spec = REGISTRY["median_blur"](size_range=(2, 8))
    sizes = {spec.sample(np.random.default_rng(s), None)["size"] for s in range(40)}
    assert sizes == {3, 5, 7}
    assert REGISTRY["median_blur"](size_range=(4, 4)).sample(np.random.default_rng(0), None) == {"size": 3}


def test_noise_is_replayable_and_centered() -> None:
    image = np.full((64, 64, 3), 128, dtype=np.uint8)
    a = noise.shot_noise(image, photons=50.0, noise_seed=3)
    assert np.array_equal(a, noise.shot_noise(image, photons=50.0, noise_seed=3))
    assert abs(float(a.mean()) - 128) < 3 and a.std() > 5
    speckle = noise.multiplicative_noise(image, sigma=0.1, noise_seed=4)
    assert abs(float(speckle.mean()) - 128) < 2 and speckle.std() > 5
    dropped = noise.pixel_dropout(image, rate=0.1, noise_seed=5, per_channel=False, fill=0.0)
    zero_pixels = (dropped == 0).all(axis=2)
    assert 0.07 < zero_pixels.mean() < 0.13 and ((dropped == 0) == zero_pixels[:, :, None]).all()
    iso = noise.iso_noise(textured(kind="rgb16"), intensity=0.5, color_shift=0.05, noise_seed=6)
    assert iso.dtype == np.uint16 and not np.array_equal(iso, textured(kind="rgb16"))


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_compression_adds_artefacts_but_stays_close(kind: str) -> None:
    image = textured(kind=kind)
    for kernel in (quality.jpeg_compression, quality.webp_compression):
        out = kernel(image, quality=30)
        white = float(np.iinfo(image.dtype).max)
        error = np.abs(out.astype(float) - image) / white
        assert out.shape == image.shape and error.mean() > 0.002 and error.mean() < 0.1
        if kind == "rgba":
            np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])
    if kind == "rgb16":
        assert (quality.jpeg_compression(image, quality=90) % 257 == 0).all()  # 8-bit precision, scaled back


@pytest.mark.parametrize("config", ["color.yaml", "noise.yaml"])
def test_family_config_runs_on_sample_data(runner, sample_copy: Path, tmp_path: Path, config: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["expand", str(CONFIGS / config), str(sample_copy), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    rows = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "output"]
    skipped = [r for r in read_records(out / "manifest.jsonl") if r["type"] == "skipped"]
    assert rows and not skipped
    used = {t["name"] for r in rows for t in r["transforms"]}
    assert len(used) >= 4, used
