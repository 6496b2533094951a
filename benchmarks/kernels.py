"""Per-transform throughput, single core, augcli against albumentations on the same decoded photos.

`PEERS` maps an augcli transform name to the closest albumentations transform with similar strength.
A name is benchmarked when it is both in augcli's registry and in this table, so transforms added to
augcli later are picked up as soon as they get a row here; registry names without a row are listed
as not compared. augcli's side runs through `pipeline.augment` (sampling, JSON params, kernel), the
way expand runs a step; albumentations' side calls the transform object directly (no Compose).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations 2.0.8 queries PyPI on import otherwise

REFLECT = 4  # cv2.BORDER_REFLECT_101, kept literal so this table imports nothing heavy
NEAREST, AREA = 0, 3  # cv2.INTER_NEAREST, cv2.INTER_AREA
CROP = [256, 256]


def _peers() -> dict[str, tuple[dict[str, Any], Callable[[Any], Any]]]:
    """augcli name -> (augcli step settings over its `example`, albumentations factory taking the module)."""
    return {
        "hflip": ({}, lambda A: A.HorizontalFlip(p=1)),
        "vflip": ({}, lambda A: A.VerticalFlip(p=1)),
        "rot90": ({"k_range": [1, 3]}, lambda A: A.RandomRotate90(p=1)),
        "transpose": ({}, lambda A: A.Transpose(p=1)),
        "rotate": (
            {"angle_range": [-15, 15], "border_mode": "reflect"},
            lambda A: A.Rotate(limit=15, border_mode=REFLECT, p=1),
        ),
        "affine": (
            {
                "scale_range": [0.9, 1.1],
                "translate_x_range": [-0.1, 0.1],
                "translate_y_range": [-0.1, 0.1],
                "angle_range": [-15, 15],
                "border_mode": "reflect",
            },
            lambda A: A.Affine(
                scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-15, 15), border_mode=REFLECT, p=1
            ),
        ),
        "shift_scale_rotate": ({}, lambda A: A.ShiftScaleRotate(border_mode=REFLECT, p=1)),
        "random_resized_crop": (
            {"scale_range": [0.5, 1.0], "size": CROP},
            lambda A: A.RandomResizedCrop(size=tuple(CROP), scale=(0.5, 1.0), p=1),
        ),
        "perspective": ({}, lambda A: A.Perspective(scale=(0.05, 0.1), p=1)),
        "optical_distortion": ({}, lambda A: A.OpticalDistortion(p=1)),
        "grid_distortion": ({}, lambda A: A.GridDistortion(p=1)),
        "elastic_transform": ({}, lambda A: A.ElasticTransform(p=1)),
        # Like-for-like: augcli's downscale shrinks with "area" (its default) and its example enlarges with
        # "nearest"; albumentations' default pair is nearest/nearest, a cheaper and blockier shrink.
        "downscale": (
            {"scale_range": [0.25, 0.5]},
            lambda A: A.Downscale(
                scale_range=(0.25, 0.5), interpolation_pair={"downscale": AREA, "upscale": NEAREST}, p=1
            ),
        ),
        "brightness_contrast": (
            {"brightness_range": [-0.2, 0.2], "contrast_range": [-0.2, 0.2]},
            lambda A: A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=1),
        ),
        "hue_saturation_value": (
            {"hue_shift_range": [-10, 10], "saturation_range": [-0.2, 0.2], "value_range": [-0.1, 0.1]},
            lambda A: A.HueSaturationValue(hue_shift_limit=10, sat_shift_limit=20, val_shift_limit=10, p=1),
        ),
        "color_jitter": ({}, lambda A: A.ColorJitter(p=1)),
        "gamma": ({}, lambda A: A.RandomGamma(p=1)),
        "random_gamma": ({}, lambda A: A.RandomGamma(p=1)),
        "rgb_shift": ({}, lambda A: A.RGBShift(p=1)),
        "channel_shuffle": ({}, lambda A: A.ChannelShuffle(p=1)),
        "channel_dropout": ({}, lambda A: A.ChannelDropout(p=1)),
        "to_gray": ({}, lambda A: A.ToGray(p=1)),
        "grayscale": ({}, lambda A: A.ToGray(p=1)),
        "to_sepia": ({}, lambda A: A.ToSepia(p=1)),
        "sepia": ({}, lambda A: A.ToSepia(p=1)),
        "invert": ({}, lambda A: A.InvertImg(p=1)),
        "solarize": ({}, lambda A: A.Solarize(p=1)),
        "posterize": ({}, lambda A: A.Posterize(p=1)),
        "equalize": ({}, lambda A: A.Equalize(p=1)),
        "clahe": ({}, lambda A: A.CLAHE(p=1)),
        "fancy_pca": ({}, lambda A: A.FancyPCA(p=1)),
        "planckian_jitter": ({}, lambda A: A.PlanckianJitter(p=1)),
        "random_tone_curve": ({}, lambda A: A.RandomToneCurve(p=1)),
        "tone_curve": ({}, lambda A: A.RandomToneCurve(p=1)),
        "sharpen": ({}, lambda A: A.Sharpen(p=1)),
        "emboss": ({}, lambda A: A.Emboss(p=1)),
        "unsharp_mask": ({}, lambda A: A.UnsharpMask(p=1)),
        "gaussian_noise": (
            {"sigma_range": [0.01, 0.05]},
            lambda A: A.GaussNoise(std_range=(0.01, 0.05), p=1),
        ),
        "iso_noise": ({}, lambda A: A.ISONoise(p=1)),
        # Like-for-like: augcli's multiplicative_noise is per-value speckle; albumentations' default draws
        # one multiplier for the whole image (per_channel=False, elementwise=False), a single multiply.
        # Its speckle draws uniform multipliers, augcli's normal ones (sigma 0.05-0.2 vs +-0.1).
        "multiplicative_noise": (
            {},
            lambda A: A.MultiplicativeNoise(multiplier=(0.9, 1.1), per_channel=True, elementwise=True, p=1),
        ),
        "salt_and_pepper": (
            {"amount_range": [0.01, 0.04]},
            lambda A: A.SaltAndPepper(amount=(0.01, 0.04), salt_vs_pepper=(0.5, 0.5), p=1),
        ),
        "gaussian_blur": (
            {"sigma_range": [0.5, 1.5]},
            lambda A: A.GaussianBlur(blur_limit=0, sigma_limit=(0.5, 1.5), p=1),
        ),
        "blur": ({}, lambda A: A.Blur(p=1)),
        "box_blur": ({}, lambda A: A.Blur(p=1)),
        "median_blur": ({}, lambda A: A.MedianBlur(p=1)),
        # Same kernel lengths on both sides: augcli's example draws 3-11 pixels, albumentations' default 3-7.
        "motion_blur": ({"length_range": [3, 7]}, lambda A: A.MotionBlur(p=1)),
        "defocus": ({}, lambda A: A.Defocus(p=1)),
        "zoom_blur": ({}, lambda A: A.ZoomBlur(p=1)),
        "jpeg_compression": ({}, lambda A: A.ImageCompression(quality_range=(50, 95), p=1)),
        "image_compression": ({}, lambda A: A.ImageCompression(quality_range=(50, 95), p=1)),
        "random_erasing": (
            {"area_range": [0.02, 0.2], "aspect_range": [0.3, 3.3]},
            lambda A: A.Erasing(scale=(0.02, 0.2), ratio=(0.3, 3.3), p=1),
        ),
        "coarse_dropout": (
            # random_fill off: augcli's example fills holes with noise, albumentations' default with 0.
            {
                "holes_range": [1, 8],
                "hole_width_range": [0.05, 0.15],
                "hole_height_range": [0.05, 0.15],
                "random_fill": False,
            },
            lambda A: A.CoarseDropout(
                num_holes_range=(1, 8), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15), p=1
            ),
        ),
        "grid_dropout": ({}, lambda A: A.GridDropout(p=1)),
        "pixel_dropout": ({}, lambda A: A.PixelDropout(p=1)),
        "fog": ({}, lambda A: A.RandomFog(p=1)),
        "rain": ({}, lambda A: A.RandomRain(p=1)),
        "snow": ({}, lambda A: A.RandomSnow(p=1)),
        "shadow": ({}, lambda A: A.RandomShadow(p=1)),
        "sun_flare": ({}, lambda A: A.RandomSunFlare(p=1)),
        "chromatic_aberration": ({}, lambda A: A.ChromaticAberration(p=1)),
        "glass_blur": ({}, lambda A: A.GlassBlur(p=1)),
        # Like-for-like: albumentations' default dilates with one 2x3 ellipse (its `scale` is the element's width
        # and height, not a range); augcli's example draws squares of side 2-4, so 2-3 here.
        "morphology": ({"size_range": [2, 3]}, lambda A: A.Morphological(p=1)),
        "spatter": ({}, lambda A: A.Spatter(p=1)),
        "safe_rotate": ({"angle_range": [-30, 30]}, lambda A: A.SafeRotate(limit=(-30, 30), p=1)),
        "piecewise_affine": ({}, lambda A: A.PiecewiseAffine(p=1)),
    }


PEERS = _peers()


@dataclass
class KernelResult:
    name: str
    augcli: float | None = None  # images per second
    albumentations: float | None = None
    error: str = ""

    @property
    def ratio(self) -> float | None:
        return self.augcli / self.albumentations if self.augcli and self.albumentations else None


def _augcli_callable(name: str, settings: dict[str, Any]) -> Callable[[Any, int], Any]:
    import numpy as np

    from augcli.pipeline import augment
    from augcli.transforms.base import REGISTRY

    spec_class = REGISTRY[name]
    base = {**spec_class.example, "name": name}
    try:
        spec = spec_class.model_validate({**base, **settings, "p": 1.0})
    except ValueError:  # the transform's fields differ from this table's guess: fall back to its example
        spec = spec_class.model_validate({**base, "p": 1.0})

    # One generator for the whole pass, as albumentations keeps one for all calls: in expand a generator is
    # made once per output and serves every step of the recipe, so its construction (12-20 us) is a cost
    # of the output, not of a step, and timing it here would charge it to each kernel.
    rng = np.random.default_rng(0)

    def run(image, index: int):
        return augment(image, [spec], rng)[0]

    return run


def _rate(fn: Callable[[Any, int], Any], images: list) -> float:
    start = time.perf_counter()
    for index, image in enumerate(images):
        fn(image, index)
    return len(images) / (time.perf_counter() - start)


def compared_names() -> tuple[list[str], list[str]]:
    """(names in both augcli's registry and the table, single-image registry names the table lacks).

    Mixing transforms (they read other sources) have no single-image albumentations peer."""
    import augcli.recipe  # noqa: F401  (fills the registry)
    from augcli.transforms.base import REGISTRY

    usable = {n for n, cls in REGISTRY.items() if not cls.needs_partners}
    return sorted(usable & PEERS.keys()), sorted(usable - PEERS.keys())


def bench_kernels(images: list, reps: int, only: set[str] | None = None) -> list[KernelResult]:
    """Median images/s over `reps` passes through `images`, one OpenCV thread, the two libraries interleaved."""
    import albumentations as A
    import cv2

    cv2.setNumThreads(1)
    names = [name for name in compared_names()[0] if only is None or name in only]
    results = []
    for name in names:
        settings, factory = PEERS[name]
        result = KernelResult(name)
        try:
            ours = _augcli_callable(name, settings)
            peer = factory(A)
            theirs = lambda image, index, peer=peer: peer(image=image)["image"]  # noqa: E731
            ours(images[0], 0), theirs(images[0], 0)  # warm-up: lazy imports, first-call caches
            rates: dict[str, list[float]] = {"augcli": [], "albumentations": []}
            for _ in range(reps):
                rates["augcli"].append(_rate(ours, images))
                rates["albumentations"].append(_rate(theirs, images))
            result.augcli = statistics.median(rates["augcli"])
            result.albumentations = statistics.median(rates["albumentations"])
        except Exception as exc:  # a bench row must not sink the whole table; the error is shown in it
            result.error = f"{type(exc).__name__}: {exc}"[:120]
        results.append(result)
    return results
