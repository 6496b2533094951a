"""Every albumentations 2.0.8 image transform and its augcli equivalent: the one place this mapping lives.

`augcli convert` reads it to turn a saved albumentations pipeline into a recipe, and
`scripts/readme_albumentations.py` renders the README table from it. Nothing here imports albumentations: the
converters work on the plain dicts `A.save()` writes (`__class_fullname__` plus the constructor's arguments).

Each entry says which augcli step replaces the transform and how its parameters map (`params`), whether the
result is the same operation (`exact`) or a related one with another sampling model or formula (then `differs`
says how), or, when `augcli` is None, why there is no equivalent. A converter gets the saved arguments and a
`Notes` collector; it returns the augcli step (a dict, or a list of dicts for a `sequence`) and reports through
`Notes` every argument it could not carry over.

Colours: albumentations pipelines are fed RGB arrays (its documented convention); augcli reads images in OpenCV's
BGR order, so a colour `(r, g, b)` becomes `[b, g, r]` and the red shift stays the red shift.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ALBUMENTATIONS_VERSION = "2.0.8"

# cv2 border constants -> numpy.pad names (augcli's `border_mode`).
BORDER_MODES = {0: "constant", 1: "edge", 2: "symmetric", 3: "wrap", 4: "reflect"}
# cv2 interpolation constants -> augcli's `interpolation` (6 INTER_NEAREST_EXACT and 7 INTER_LINEAR_EXACT are
# the bit-exact variants of nearest and linear).
INTERPOLATIONS = {0: "nearest", 1: "linear", 2: "cubic", 3: "area", 4: "lanczos", 6: "nearest", 7: "linear"}


@dataclass
class Notes:
    """What one converter could not carry over (`skipped`) or carried over approximately (`approximate`)."""

    skipped: list[str] = field(default_factory=list)
    approximate: list[str] = field(default_factory=list)

    def skip(self, message: str) -> None:
        self.skipped.append(message)

    def approx(self, message: str) -> None:
        self.approximate.append(message)

    def require(self, args: dict, key: str, allowed: Any, why: str = "no augcli equivalent") -> None:
        """Report `key` when it is set to something other than `allowed` (a value or a tuple of values)."""
        if key not in args:
            return
        value = _plain(args[key])
        choices = allowed if isinstance(allowed, tuple) else (allowed,)
        if value not in [_plain(c) for c in choices]:
            self.skip(f"{key}={value!r}: {why}")


@dataclass(frozen=True)
class Entry:
    kind: str  # "pixel" (ImageOnlyTransform) or "spatial" (DualTransform)
    augcli: str | None  # the recipe step written, or None when there is no equivalent
    params: str  # how the parameters map, or why there is no equivalent
    convert: Callable[[dict, Notes], Any] | None = None
    exact: bool = True  # same operation; False: a related one, `differs` says how
    differs: str = ""


# ---- helpers -------------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def pair(value: Any, scale: float = 1.0, offset: float = 0.0) -> list[float]:
    """An albumentations range (a pair, or a scalar meaning [x, x]) as an augcli `_range` pair."""
    low, high = (value, value) if isinstance(value, (int, float)) else (value[0], value[1])
    return [_num(low * scale + offset), _num(high * scale + offset)]


def symmetric(value: Any, scale: float = 1.0) -> list[float]:
    """A limit that may be a scalar meaning [-x, x] (albumentations' symmetric limits)."""
    if isinstance(value, (int, float)):
        return [_num(-abs(value) * scale), _num(abs(value) * scale)]
    return pair(value, scale)


def int_pair(value: Any) -> list[int]:
    low, high = pair(value)
    return [int(low), int(high)]


def _num(value: float) -> float:
    rounded = round(float(value), 10)
    return int(rounded) if rounded == int(rounded) and abs(rounded) < 2**53 else rounded


def colour(value: Any, notes: Notes, key: str = "fill") -> float | list[float] | None:
    """An albumentations fill (one number, or RGB(A) values on the image's scale) as an augcli colour (BGR(A))."""
    if value is None:
        notes.skip(f"{key}=None: augcli needs a colour")
        return None
    if isinstance(value, str):
        notes.skip(f"{key}={value!r}: no augcli equivalent")
        return None
    values = [value] if isinstance(value, (int, float)) else list(value)
    if not all(0 <= v <= 255 for v in values) or len(values) not in (1, 3, 4):
        notes.skip(f"{key}={_plain(value)!r}: augcli colours are 1, 3 or 4 values on the 8-bit scale 0-255")
        return None
    if len(values) == 1:
        return _num(values[0])
    bgr = [values[2], values[1], values[0], *values[3:]]
    return [_num(v) for v in bgr]


def border(args: dict, notes: Notes, key: str = "border_mode") -> str | None:
    mode = args.get(key, 0)
    if mode not in BORDER_MODES:
        notes.skip(f"{key}={mode!r}: not a cv2 border mode augcli knows (0-4)")
        return None
    return BORDER_MODES[mode]


def interpolation(args: dict, notes: Notes, key: str = "interpolation") -> str | None:
    value = args.get(key, 1)
    if value not in INTERPOLATIONS:
        notes.skip(f"{key}={value!r}: not a cv2 interpolation augcli knows")
        return None
    return INTERPOLATIONS[value]


def step(name: str, **params: Any) -> dict[str, Any]:
    """A recipe step; parameters whose conversion failed (None) are left at augcli's default."""
    return {"name": name, **{k: v for k, v in params.items() if v is not None}}


def _warp(args: dict, notes: Notes, with_fill: bool = True) -> dict[str, Any]:
    """border_mode, fill and interpolation of the warps (mask_interpolation / fill_mask concern masks only)."""
    mode = border(args, notes)
    out = {"border_mode": mode, "interpolation": interpolation(args, notes)}
    if with_fill:
        out["fill"] = colour(args.get("fill", 0), notes) if mode == "constant" else None
    return out


def _no_args(name: str) -> Callable[[dict, Notes], dict]:
    return lambda args, notes: step(name)


# ---- converters ------------------------------------------------------------------------------------------------


def _rotate(args: dict, notes: Notes) -> dict:
    notes.require(args, "crop_border", False, "augcli's rotate keeps the image size and never crops")
    return step("rotate", angle_range=symmetric(args.get("limit", (-90, 90))), **_warp(args, notes))


_WHOLE_PIXELS = "albumentations rounds the shift to whole pixels, augcli shifts by the exact fraction"


def _shift_scale_rotate(args: dict, notes: Notes) -> dict:
    shifts = [symmetric(args.get(k, (-0.0625, 0.0625))) for k in ("shift_limit_x", "shift_limit_y")]
    if shifts != [[0, 0], [0, 0]]:
        notes.approx(_WHOLE_PIXELS)
    return step(
        "shift_scale_rotate",
        shift_x_range=symmetric(args.get("shift_limit_x", (-0.0625, 0.0625))),
        shift_y_range=symmetric(args.get("shift_limit_y", (-0.0625, 0.0625))),
        scale_range=pair(symmetric(args.get("scale_limit", (-0.1, 0.1))), offset=1.0),
        angle_range=symmetric(args.get("rotate_limit", (-45, 45))),
        **_warp(args, notes),
    )


def _xy(value: Any, default: Any) -> tuple[list[float], list[float]]:
    if value is None:
        value = default
    if isinstance(value, dict):
        return pair(value.get("x", default)), pair(value.get("y", default))
    return pair(value), pair(value)


def _affine(args: dict, notes: Notes) -> dict:
    scale_x, scale_y = _xy(args.get("scale"), (1.0, 1.0))
    if args.get("keep_ratio"):
        scale_y = scale_x
    elif scale_x != scale_y:
        notes.skip(f"scale x {scale_x} != y {scale_y}: augcli's affine scales both axes by one factor (x used)")
    translate_px = args.get("translate_px")
    if translate_px is not None and _xy(translate_px, (0, 0)) != ([0, 0], [0, 0]):
        notes.skip(f"translate_px={_plain(translate_px)!r}: augcli translates by fractions (translate_percent)")
    tx, ty = _xy(args.get("translate_percent"), (0.0, 0.0))
    if (tx, ty) != ([0, 0], [0, 0]):
        notes.approx(_WHOLE_PIXELS)
    # albumentations' shear angles turn the other way round from augcli's (checked pixel for pixel).
    shear_x, shear_y = (pair(s, -1.0)[::-1] for s in _xy(args.get("shear"), (0.0, 0.0)))
    if (shear_x, shear_y) != ([0, 0], [0, 0]) and pair(args.get("rotate", 0.0)) != [0, 0]:
        notes.approx("shear with rotation: albumentations rotates before shearing, augcli shears first")
    notes.require(args, "fit_output", False, "augcli's affine keeps the image size")
    notes.require(args, "balanced_scale", False, "augcli draws the scale uniformly from the range")
    return step(
        "affine",
        scale_range=scale_x,
        translate_x_range=tx,
        translate_y_range=ty,
        shear_x_range=shear_x,
        shear_y_range=shear_y,
        angle_range=pair(args.get("rotate", 0.0)),
        **_warp(args, notes),
    )


def _perspective(args: dict, notes: Notes) -> dict:
    notes.require(args, "keep_size", True, "augcli's perspective keeps the image size")
    notes.require(args, "fit_output", False, "augcli's perspective keeps the image size")
    return step("perspective", scale_range=pair(args.get("scale", (0.05, 0.1))), **_warp(args, notes))


def _random_scale(args: dict, notes: Notes) -> dict:
    return step(
        "scale",
        keep_size=False,
        scale_range=pair(symmetric(args.get("scale_limit", (-0.1, 0.1))), offset=1.0),
        interpolation=interpolation(args, notes),
    )


def _crop(name: str) -> Callable[[dict, Notes], dict]:
    def convert(args: dict, notes: Notes) -> dict:
        notes.require(args, "pad_if_needed", False, "augcli crops never pad")
        return step(name, size=[int(args["width"]), int(args["height"])])

    return convert


def _resize(args: dict, notes: Notes) -> dict:
    notes.require(args, "area_for_downscale", None, "augcli uses the one interpolation given")
    return step("resize", size=[int(args["width"]), int(args["height"])], interpolation=interpolation(args, notes))


def _max_size(key: str) -> Callable[[dict, Notes], dict]:
    def convert(args: dict, notes: Notes) -> dict:
        notes.require(args, "area_for_downscale", None, "augcli uses the one interpolation given")
        notes.require(args, "max_size_hw", None, "augcli resizes by one side length")
        size = args.get("max_size")
        if isinstance(size, (list, tuple)):
            if len(size) != 1:
                notes.skip(f"max_size={_plain(size)!r}: augcli takes one length (the first is used)")
            size = size[0]
        return step("resize", **{key: int(size)}, interpolation=interpolation(args, notes))

    return convert


def _random_resized_crop(args: dict, notes: Notes) -> dict:
    notes.require(args, "area_for_downscale", None, "augcli uses the one interpolation given")
    height, width = args["size"]
    return step(
        "random_resized_crop",
        scale_range=pair(args.get("scale", (0.08, 1.0))),
        ratio_range=pair(args.get("ratio", (0.75, 4 / 3))),
        size=[int(width), int(height)],
        interpolation=interpolation(args, notes),
    )


def _d4(args: dict, notes: Notes) -> list[dict]:
    # Any of the 8 symmetries of the square with equal chance: a quarter-turn count 0-3, then a mirror half the time.
    return [step("rot90", k_range=[0, 3]), step("hflip", p=0.5)]


def _grid_distortion(args: dict, notes: Notes) -> dict:
    notes.require(args, "normalized", (True, False))
    return step(
        "grid_distortion",
        steps=int(args.get("num_steps", 5)),
        distort_range=symmetric(args.get("distort_limit", (-0.3, 0.3))),
        **_warp(args, notes),
    )


def _optical_distortion(args: dict, notes: Notes) -> dict:
    notes.require(args, "mode", "camera", "augcli models the camera (radial) distortion only")
    return step("optical_distortion", k_range=symmetric(args.get("distort_limit", (-0.05, 0.05))), **_warp(args, notes))


def _coarse_dropout(args: dict, notes: Notes) -> dict:
    sizes = [args.get("hole_width_range", (0.1, 0.2)), args.get("hole_height_range", (0.1, 0.2))]
    if any(isinstance(v, int) and not isinstance(v, bool) for s in sizes for v in s):
        notes.skip("hole sizes in pixels: augcli's hole sizes are fractions of the image side")
    fill = args.get("fill", 0)
    random_fill = fill in ("random", "random_uniform")
    if fill == "random":
        notes.approx("fill='random' (per-pixel noise): augcli's random_fill draws uniform noise")
    return step(
        "coarse_dropout",
        holes_range=int_pair(args.get("num_holes_range", (1, 2))),
        hole_width_range=pair(sizes[0]),
        hole_height_range=pair(sizes[1]),
        fill=None if random_fill else colour(fill, notes),
        random_fill=True if random_fill else None,
    )


def _erasing(args: dict, notes: Notes) -> dict:
    fill = args.get("fill", 0)
    random_fill = fill in ("random", "random_uniform")
    return step(
        "random_erasing",
        area_range=pair(args.get("scale", (0.02, 0.33))),
        aspect_range=pair(args.get("ratio", (0.3, 3.3))),
        fill=None if random_fill else colour(fill, notes),
        random_fill=True if random_fill else None,
    )


def _grid_dropout(args: dict, notes: Notes) -> dict:
    notes.require(args, "unit_size_range", None, "augcli's cell size is a fraction of the shorter side")
    notes.require(args, "holes_number_xy", None, "augcli's cell size is a fraction of the shorter side")
    notes.require(args, "shift_xy", ((0, 0),), "augcli draws a random offset")
    fill = args.get("fill", 0)
    random_fill = fill in ("random", "random_uniform")
    return step(
        "grid_dropout",
        ratio_range=pair(args.get("ratio", 0.5)),
        fill=None if random_fill else colour(fill, notes),
        random_fill=True if random_fill else None,
    )


def _pixel_dropout(args: dict, notes: Notes) -> dict:
    value = args.get("drop_value", 0)
    if value is None:
        notes.skip("drop_value=None (random values): augcli drops to the `fill` colour")
    return step(
        "pixel_dropout",
        rate_range=pair(args.get("dropout_prob", 0.01)),
        per_channel=bool(args.get("per_channel", False)),
        fill=None if value is None else colour(value, notes, "drop_value"),
    )


def _brightness_contrast(args: dict, notes: Notes) -> dict:
    notes.require(args, "brightness_by_max", True, "augcli's brightness is a fraction of white")
    notes.require(args, "ensure_safe_range", False)
    contrast = symmetric(args.get("contrast_limit", (-0.2, 0.2)))
    if contrast != [0, 0]:
        notes.approx("contrast pivots on the image's mean grey in augcli, on black in albumentations")
    return step(
        "brightness_contrast",
        brightness_range=symmetric(args.get("brightness_limit", (-0.2, 0.2))),
        contrast_range=contrast,
    )


def _hsv(args: dict, notes: Notes) -> dict:
    # albumentations: hue in OpenCV's 0-179 units (2 degrees each) for uint8, saturation and value shifts
    # added on the 0-255 scale; augcli: hue in degrees, saturation and value as factors.
    notes.approx("saturation and value shifts are added (0-255) in albumentations, scaled by a factor in augcli")
    return step(
        "hue_saturation_value",
        hue_shift_range=symmetric(args.get("hue_shift_limit", (-20, 20)), 2.0),
        saturation_range=symmetric(args.get("sat_shift_limit", (-30, 30)), 1 / 255),
        value_range=symmetric(args.get("val_shift_limit", (-20, 20)), 1 / 255),
    )


def _rgb_shift(args: dict, notes: Notes) -> dict:
    return step(
        "rgb_shift",
        r_shift_range=symmetric(args.get("r_shift_limit", (-20, 20)), 1 / 255),
        g_shift_range=symmetric(args.get("g_shift_limit", (-20, 20)), 1 / 255),
        b_shift_range=symmetric(args.get("b_shift_limit", (-20, 20)), 1 / 255),
    )


def _color_jitter(args: dict, notes: Notes) -> dict:
    return step(
        "color_jitter",
        brightness_range=pair(args.get("brightness", (0.8, 1.2))),
        contrast_range=pair(args.get("contrast", (0.8, 1.2))),
        saturation_range=pair(args.get("saturation", (0.8, 1.2))),
        hue_range=symmetric(args.get("hue", (-0.5, 0.5)), 360.0),
    )


def _gamma(args: dict, notes: Notes) -> dict:
    return step("gamma", gamma_range=pair(args.get("gamma_limit", (80, 120)), 1 / 100))


def _posterize(args: dict, notes: Notes) -> dict:
    bits = args.get("num_bits", 4)
    if isinstance(bits, (list, tuple)) and bits and isinstance(bits[0], (list, tuple)):
        notes.skip(f"num_bits={_plain(bits)!r}: per-channel bit ranges; augcli posterizes all channels alike")
        bits = bits[0]
    return step("posterize", bits_range=int_pair(bits))


def _solarize(args: dict, notes: Notes) -> dict:
    return step("solarize", threshold_range=pair(args.get("threshold_range", (0.5, 0.5))))


def _to_gray(args: dict, notes: Notes) -> dict:
    notes.require(args, "method", "weighted_average", "augcli uses the BT.601 luma (weighted_average)")
    channels = args.get("num_output_channels", 3)
    return step("grayscale", keep_channels=channels != 1)


def _channel_dropout(args: dict, notes: Notes) -> dict:
    return step(
        "channel_dropout",
        count_range=int_pair(args.get("channel_drop_range", (1, 1))),
        fill=colour(args.get("fill", 0), notes),
    )


def _clahe(args: dict, notes: Notes) -> dict:
    tiles = args.get("tile_grid_size", (8, 8))
    if tiles[0] != tiles[1]:
        notes.skip(f"tile_grid_size={_plain(tiles)!r}: augcli uses square tile grids (the first is used)")
    clip = args.get("clip_limit", 4.0)
    return step(
        "clahe",
        clip_limit_range=pair(clip) if isinstance(clip, (list, tuple)) else [1, _num(clip)],
        tiles=int(tiles[0]),
    )


def _equalize(args: dict, notes: Notes) -> dict:
    notes.require(args, "mask", None, "augcli equalises the whole image")
    notes.require(args, "mask_params", ((), []), "augcli equalises the whole image")
    return step("equalize", by_channels=bool(args.get("by_channels", True)))


def _auto_contrast(args: dict, notes: Notes) -> dict:
    notes.require(args, "ignore", None)
    if args.get("method", "cdf") != "pil":
        notes.approx("method='cdf': augcli stretches linearly like method='pil'")
    return step("auto_contrast", cutoff=_num(args.get("cutoff", 0)))


def _sharpen(args: dict, notes: Notes) -> dict:
    notes.require(args, "method", "kernel", "augcli sharpens with the Laplacian kernel")
    return step(
        "sharpen",
        alpha_range=pair(args.get("alpha", (0.2, 0.5))),
        lightness_range=pair(args.get("lightness", (0.5, 1.0))),
    )


def _emboss(args: dict, notes: Notes) -> dict:
    return step(
        "emboss", alpha_range=pair(args.get("alpha", (0.2, 0.5))), strength_range=pair(args.get("strength", (0.2, 0.7)))
    )


def _fancy_pca(args: dict, notes: Notes) -> dict:
    return step("fancy_pca", alpha_std=_num(args.get("alpha", 0.1)))


def _tone_curve(args: dict, notes: Notes) -> dict:
    notes.require(args, "per_channel", False, "augcli bends one curve for all channels")
    scale = float(args.get("scale", 0.1))
    return step("random_tone_curve", shift_range=[_num(-min(scale, 1 / 3)), _num(min(scale, 1 / 3))])


def _gaussian_blur(args: dict, notes: Notes) -> dict:
    if pair(args.get("blur_limit", 0)) != [0, 0]:
        notes.approx("blur_limit: augcli sizes the kernel from sigma (3 sigma each side)")
    return step("gaussian_blur", sigma_range=pair(args.get("sigma_limit", (0.5, 3.0))))


def _median_blur(args: dict, notes: Notes) -> dict:
    return step("median_blur", size_range=int_pair(args.get("blur_limit", (3, 7))))


def _motion_blur(args: dict, notes: Notes) -> dict:
    low, high = pair(args.get("angle_range", (0, 360)))
    # A streak at angle a is the streak at a +- 180: fold the range into augcli's [-180, 180].
    angles = [-90, 90] if high - low >= 180 else [((low + 180) % 360) - 180, ((low + 180) % 360) - 180 + high - low]
    if angles[1] > 180:
        angles = [angles[0] - 180, angles[1] - 180]
    notes.require(args, "direction_range", ((-1.0, 1.0), (0.0, 0.0)), "augcli's streak is centred")
    if args.get("allow_shifted", True):
        notes.approx("allow_shifted: augcli's streak is always centred on the pixel")
    return step(
        "motion_blur", length_range=int_pair(args.get("blur_limit", (3, 7))), angle_range=[_num(a) for a in angles]
    )


def _defocus(args: dict, notes: Notes) -> dict:
    return step(
        "defocus",
        radius_range=int_pair(args.get("radius", (3, 10))),
        alias_blur_range=pair(args.get("alias_blur", (0.1, 0.5))),
    )


def _gauss_noise(args: dict, notes: Notes) -> dict:
    notes.require(args, "mean_range", ((0, 0),), "augcli's noise has zero mean")
    notes.require(args, "noise_scale_factor", 1, "augcli draws noise at full resolution")
    return step(
        "gaussian_noise",
        sigma_range=pair(args.get("std_range", (0.2, 0.44))),
        per_channel=bool(args.get("per_channel", True)),
    )


def _multiplicative_noise(args: dict, notes: Notes) -> dict:
    low, high = pair(args.get("multiplier", (0.9, 1.1)))
    if not args.get("elementwise", False):
        notes.skip("elementwise=False (one multiplier per image): use brightness_contrast; augcli's noise is per pixel")
    notes.approx("multiplier drawn uniformly in albumentations, Gaussian with the same standard deviation in augcli")
    if abs((low + high) / 2 - 1) > 1e-9:
        notes.skip(f"multiplier=({low}, {high}) is not centred on 1: augcli's speckle has mean 1")
    sigma = _num((high - low) / math.sqrt(12))
    return step("multiplicative_noise", sigma_range=[sigma, sigma], per_channel=bool(args.get("per_channel", False)))


def _iso_noise(args: dict, notes: Notes) -> dict:
    return step(
        "iso_noise",
        intensity_range=pair(args.get("intensity", (0.1, 0.5))),
        color_shift_range=pair(args.get("color_shift", (0.01, 0.05))),
    )


def _salt_and_pepper(args: dict, notes: Notes) -> dict:
    ratio = pair(args.get("salt_vs_pepper", (0.4, 0.6)))
    if ratio[0] != ratio[1]:
        notes.approx(f"salt_vs_pepper={ratio}: augcli's salt_ratio is fixed; the middle is used")
    return step("salt_and_pepper", amount_range=pair(args.get("amount", (0.01, 0.06))), salt_ratio=_num(sum(ratio) / 2))


def _shot_noise(args: dict, notes: Notes) -> dict:
    low, high = pair(args.get("scale_range", (0.1, 0.3)))
    return step("shot_noise", photons_range=[_num(1 / high), _num(1 / low)])


def _compression(args: dict, notes: Notes) -> dict:
    kind = args.get("compression_type", "jpeg")
    name = {"jpeg": "jpeg_compression", "webp": "webp_compression"}.get(kind)
    if name is None:
        notes.skip(f"compression_type={kind!r}: augcli has jpeg and webp")
        name = "jpeg_compression"
    return step(name, quality_range=int_pair(args.get("quality_range", (99, 100))))


def _downscale(args: dict, notes: Notes) -> dict:
    pair_ = args.get("interpolation_pair", {"downscale": 0, "upscale": 0})
    return step(
        "downscale",
        scale_range=pair(args.get("scale_range", (0.25, 0.25))),
        down_interpolation=interpolation(pair_, notes, "downscale"),
        interpolation=interpolation(pair_, notes, "upscale"),
    )


def _fog(args: dict, notes: Notes) -> dict:
    return step("fog", intensity_range=[_num(min(1.0, v)) for v in pair(args.get("fog_coef_range", (0.3, 1)))])


def _rain(args: dict, notes: Notes) -> dict:
    return step("rain", angle_range=pair(args.get("slant_range", (-10, 10))))


def _shadow(args: dict, notes: Notes) -> dict:
    vertices = int(args.get("shadow_dimension", 5))
    return step(
        "shadow",
        count_range=int_pair(args.get("num_shadows_limit", (1, 2))),
        vertices_range=[vertices, vertices],
        darkness_range=pair(args.get("shadow_intensity_range", (0.5, 0.5))),
    )


def _sun_flare(args: dict, notes: Notes) -> dict:
    x_min, y_min, x_max, y_max = args.get("flare_roi", (0, 0, 1, 0.5))
    circles = int_pair(args.get("num_flare_circles_range", (6, 10)))
    return step(
        "sun_flare",
        center_x_range=pair((x_min, x_max)),
        center_y_range=pair((y_min, y_max)),
        halos_range=[min(c, 20) for c in circles],
        color=colour(args.get("src_color", (255, 255, 255)), notes, "src_color"),
    )


def _snow(args: dict, notes: Notes) -> dict:
    return step("snow")


def _box_blur(args: dict, notes: Notes) -> dict:
    return step("box_blur", size_range=int_pair(args.get("blur_limit", (3, 7))))


def _unsharp_mask(args: dict, notes: Notes) -> dict:
    sigma = pair(args.get("sigma_limit", 0.0))
    if sigma == [0, 0]:
        # albumentations then derives sigma from the kernel size as OpenCV does: 0.3 ((k - 1) / 2 - 1) + 0.8.
        sigma = [_num(0.3 * ((k - 1) / 2 - 1) + 0.8) for k in int_pair(args.get("blur_limit", (3, 7)))]
    return step(
        "unsharp_mask",
        sigma_range=sigma,
        amount_range=pair(args.get("alpha", (0.2, 0.5))),
        threshold=_num(min(255, args.get("threshold", 10)) / 255),
    )


def _glass_blur(args: dict, notes: Notes) -> dict:
    delta, iterations = int(args.get("max_delta", 4)), int(args.get("iterations", 2))
    if delta > 20 or not 1 <= iterations <= 5:
        notes.skip(f"max_delta={delta}, iterations={iterations}: augcli allows 0-20 and 1-5 (clipped)")
    delta, iterations = min(delta, 20), min(max(iterations, 1), 5)
    return step(
        "glass_blur",
        sigma_range=pair(args.get("sigma", 0.7)),
        max_delta_range=[delta, delta],
        iterations_range=[iterations, iterations],
    )


def _zoom_blur(args: dict, notes: Notes) -> dict:
    low, high = pair(args.get("max_factor", (1, 1.31)), offset=-1.0)
    step_low, step_high = pair(args.get("step_factor", (0.01, 0.03)))
    # albumentations averages the zooms 1, 1 + step, ... below max_factor: about (max_factor - 1) / step copies.
    fewest = max(1, min(32, round(low / step_high) if step_high > 0 else 1))
    most = max(fewest, min(32, round(high / step_low) if step_low > 0 else 32))
    return step("zoom_blur", zoom_range=[_num(max(0, low)), _num(min(1, high))], steps_range=[fewest, most])


def _morphology(args: dict, notes: Notes) -> dict:
    operation = args.get("operation", "dilation")
    op = {"erosion": "erode", "dilation": "dilate"}.get(operation)
    if op is None:
        notes.skip(f"operation={operation!r}: augcli has erode, dilate, open and close")
    width, height = int_pair(args.get("scale", (2, 3)))
    if width != height:
        notes.skip(
            f"scale=({width}, {height}) is one {width} x {height} element in albumentations; augcli's element is "
            f"square, its side drawn from size_range [{width}, {height}]"
        )
    return step("morphology", op=op, shape="ellipse", size_range=sorted([width, height]))


def _planckian_jitter(args: dict, notes: Notes) -> dict:
    notes.require(args, "mode", "blackbody", "augcli follows the black-body locus only")
    if args.get("sampling_method", "uniform") != "uniform":
        notes.approx("sampling_method='gaussian': augcli draws the temperature uniformly")
    limit = args.get("temperature_limit") or (3000, 15000)
    return step("planckian_jitter", kelvin_range=pair(limit))


def _illumination(args: dict, notes: Notes) -> dict:
    low, high = pair(args.get("intensity_range", (0.01, 0.2)))
    effect = args.get("effect_type", "both")
    intensity = {"brighten": [low, high], "darken": [-high, -low]}.get(effect, [-high, high])
    if effect == "both":
        notes.approx("effect_type='both': augcli draws the intensity from [-high, high], never the gap (-low, low)")
    centre = pair(args.get("center_range", (0.1, 0.9)))
    return step(
        "illumination",
        mode=args.get("mode", "linear"),
        intensity_range=intensity,
        angle_range=pair(args.get("angle_range", (0, 360))),
        center_x_range=centre,
        center_y_range=centre,
        sigma_range=pair(args.get("sigma_range", (0.2, 1.0))),
    )


def _spatter(args: dict, notes: Notes) -> dict:
    if args.get("color") is not None:
        notes.approx(f"color={_plain(args['color'])!r}: augcli picks the rain or mud colour itself")
    return step(
        "spatter",
        mode=args.get("mode", "rain"),
        intensity_range=pair(args.get("intensity", 0.6)),
        cutout_range=pair(args.get("cutout_threshold", 0.68)),
    )


def _piecewise_affine(args: dict, notes: Notes) -> dict:
    notes.require(args, "absolute_scale", False, "augcli's scale is a fraction of the image side")
    rows, cols = int_pair(args.get("nb_rows", (4, 4))), int_pair(args.get("nb_cols", (4, 4)))
    if rows[0] != rows[1] or cols[0] != cols[1]:
        notes.skip(f"nb_rows={rows}, nb_cols={cols}: augcli's grid is fixed (the lower counts are used)")
    return step(
        "piecewise_affine",
        scale_range=pair(args.get("scale", (0.03, 0.05))),
        rows=rows[0],
        cols=cols[0],
        **_warp(args, notes),
    )


# ---- the table ---------------------------------------------------------------------------------------------------

P, S = "pixel", "spatial"
_APPROX_WEATHER = "augcli draws its own model of the effect; only the listed parameters carry over"
_NO_TARGETS = "needs bounding boxes or masks to choose the crop; augcli's classification steps have none"
_NO_VOLUME = "works on 3-D volumes; augcli augments 2-D images"
_NO_SPECTROGRAM = "a spectrogram transform; no image equivalent"
_UNSAVABLE = (
    "A.save cannot save it (NotImplementedError: it needs reference images), so no saved pipeline holds it; "
    "write the augcli step `%s` by hand with `references:` (a folder); %s"
)
_NOT_AUGMENTATION = "a type or tensor conversion, not an augmentation; augcli writes image files"

MAPPING: dict[str, Entry] = {
    "AdditiveNoise": Entry(P, None, "no equivalent (uniform / laplace / beta noise fields); nearest: `gaussian_noise`"),
    "AdvancedBlur": Entry(P, None, "no equivalent (anisotropic generalised-Gaussian kernel); nearest: `gaussian_blur`"),
    "Affine": Entry(
        S,
        "affine",
        "scale -> scale_range (one factor for both axes), translate_percent -> translate_x/y_range, "
        "rotate -> angle_range, shear -> shear_x/y_range (negated: the angles turn the other way), border_mode, "
        "fill (RGB -> BGR), interpolation; "
        "translate_px, fit_output, balanced_scale and unequal x/y scales have no equivalent",
        _affine,
    ),
    "AtLeastOneBBoxRandomCrop": Entry(S, None, _NO_TARGETS),
    "AutoContrast": Entry(
        P, "auto_contrast", "cutoff -> cutoff", _auto_contrast, False, "augcli stretches like method='pil'"
    ),
    "BBoxSafeRandomCrop": Entry(S, None, _NO_TARGETS),
    "Blur": Entry(P, "box_blur", "blur_limit -> size_range", _box_blur),
    "CLAHE": Entry(
        P,
        "clahe",
        "clip_limit -> clip_limit_range (a scalar c is [1, c]), tile_grid_size (n, n) -> tiles",
        _clahe,
        False,
        "augcli equalises BT.601 luma; albumentations the L channel of LAB",
    ),
    "CenterCrop": Entry(
        S, "center_crop", "height, width -> size [width, height]; pad_if_needed has no equivalent", _crop("center_crop")
    ),
    "CenterCrop3D": Entry(S, None, _NO_VOLUME),
    "ChannelDropout": Entry(P, "channel_dropout", "channel_drop_range -> count_range, fill", _channel_dropout),
    "ChannelShuffle": Entry(P, "channel_shuffle", "no parameters", _no_args("channel_shuffle")),
    "ChromaticAberration": Entry(
        P,
        None,
        "no equivalent: albumentations distorts red and blue radially (k1, k2); augcli's `chromatic_aberration` "
        "magnifies them, and the coefficients do not translate",
    ),
    "CoarseDropout": Entry(
        S,
        "coarse_dropout",
        "num_holes_range -> holes_range, hole_width/height_range (fractions) -> "
        "hole_width/height_range, fill (RGB -> BGR; 'random_uniform' -> random_fill: true); sizes in pixels and "
        "inpainting have no equivalent",
        _coarse_dropout,
    ),
    "CoarseDropout3D": Entry(S, None, _NO_VOLUME),
    "ColorJitter": Entry(
        P,
        "color_jitter",
        "brightness, contrast, saturation -> *_range (factors), hue (fraction of the circle) -> "
        "hue_range in degrees (x 360)",
        _color_jitter,
    ),
    "ConstrainedCoarseDropout": Entry(
        S, None, "places holes on mask or box regions; augcli's coarse_dropout places them anywhere"
    ),
    "Crop": Entry(S, None, "no equivalent (a crop at fixed pixel coordinates)"),
    "CropAndPad": Entry(
        S, None, "no equivalent (per-side crop or pad in pixels or percent); nearest: `pad`, `random_crop`"
    ),
    "CropNonEmptyMaskIfExists": Entry(S, None, _NO_TARGETS),
    "CubicSymmetry": Entry(S, None, _NO_VOLUME),
    "D4": Entry(
        S, "sequence", "a `sequence` of rot90 (k_range [0, 3]) and hflip (p 0.5): the 8 symmetries, equally likely", _d4
    ),
    "Defocus": Entry(P, "defocus", "radius -> radius_range, alias_blur -> alias_blur_range", _defocus),
    "Downscale": Entry(
        P,
        "downscale",
        "scale_range -> scale_range, interpolation_pair {downscale, upscale} -> down_interpolation, interpolation",
        _downscale,
    ),
    "ElasticTransform": Entry(
        S,
        None,
        "no exact equivalent: albumentations' alpha and sigma are pixels, augcli's elastic_transform takes "
        "fractions of the shorter side (alpha_range = alpha / side ...), which a saved pipeline cannot convert without "
        "the image size",
    ),
    "Emboss": Entry(P, "emboss", "alpha -> alpha_range, strength -> strength_range", _emboss),
    "Equalize": Entry(P, "equalize", "by_channels -> by_channels; mask has no equivalent", _equalize),
    "Erasing": Entry(
        S,
        "random_erasing",
        "scale -> area_range, ratio -> aspect_range, fill ('random_uniform' -> random_fill)",
        _erasing,
    ),
    "FDA": Entry(P, None, _UNSAVABLE % ("fda", "beta_limit -> beta_range")),
    "FancyPCA": Entry(P, "fancy_pca", "alpha -> alpha_std", _fancy_pca),
    "FrequencyMasking": Entry(S, None, _NO_SPECTROGRAM),
    "FromFloat": Entry(P, None, _NOT_AUGMENTATION),
    "GaussNoise": Entry(
        P,
        "gaussian_noise",
        "std_range (fraction of white) -> sigma_range, per_channel; mean_range other than 0 and "
        "noise_scale_factor other than 1 have no equivalent",
        _gauss_noise,
    ),
    "GaussianBlur": Entry(
        P,
        "gaussian_blur",
        "sigma_limit -> sigma_range; blur_limit (kernel size) is not carried over: augcli sizes the kernel from sigma",
        _gaussian_blur,
    ),
    "GlassBlur": Entry(
        P,
        "glass_blur",
        "sigma -> sigma_range, max_delta -> max_delta_range, iterations -> iterations_range",
        _glass_blur,
        False,
        "the pixel swaps are drawn differently",
    ),
    "GridDistortion": Entry(
        S,
        "grid_distortion",
        "num_steps -> steps, distort_limit -> distort_range, border_mode, fill, interpolation",
        _grid_distortion,
        False,
        "cell edges are drawn per band in both; the band stretch formulas differ",
    ),
    "GridDropout": Entry(
        S,
        "grid_dropout",
        "ratio -> ratio_range [r, r], fill; unit_size_range / holes_number_xy (pixels) have no "
        "equivalent: augcli's cell_size_range is a fraction of the shorter side",
        _grid_dropout,
        False,
        "augcli's cell size is drawn as a fraction of the shorter side",
    ),
    "GridElasticDeform": Entry(S, None, "no equivalent (grid-based elastic warp)"),
    "HEStain": Entry(P, None, "no equivalent (histology stain augmentation)"),
    "HistogramMatching": Entry(P, None, _UNSAVABLE % ("histogram_matching", "blend_ratio -> blend_range")),
    "HorizontalFlip": Entry(S, "hflip", "no parameters", _no_args("hflip")),
    "HueSaturationValue": Entry(
        P,
        "hue_saturation_value",
        "hue_shift_limit (OpenCV units, 2 degrees each) -> hue_shift_range in degrees (x 2), "
        "sat_shift_limit, val_shift_limit (0-255 shifts) -> saturation_range, value_range (factors, / 255)",
        _hsv,
        False,
        "albumentations adds saturation and value shifts, augcli scales by a factor",
    ),
    "ISONoise": Entry(
        P,
        "iso_noise",
        "intensity -> intensity_range, color_shift -> color_shift_range",
        _iso_noise,
        False,
        "same model (Poisson luminance plus hue jitter); the random draws differ",
    ),
    "Illumination": Entry(
        P,
        "illumination",
        "mode, intensity_range with effect_type (brighten [a, b], darken [-b, -a], both [-b, b]), angle_range, "
        "center_range -> center_x/y_range, sigma_range",
        _illumination,
        False,
        "the light patterns are drawn with augcli's own formulas",
    ),
    "ImageCompression": Entry(
        P,
        "jpeg_compression",
        "compression_type jpeg -> jpeg_compression, webp -> webp_compression; quality_range",
        _compression,
    ),
    "InvertImg": Entry(P, "invert", "no parameters", _no_args("invert")),
    "Lambda": Entry(
        S, None, "a Python callable; write an augcli plugin step instead (README: Writing your own transform)"
    ),
    "LongestMaxSize": Entry(S, "resize", "max_size -> longest, interpolation", _max_size("longest")),
    "MaskDropout": Entry(S, None, "needs masks (drops labelled objects)"),
    "MedianBlur": Entry(P, "median_blur", "blur_limit -> size_range", _median_blur),
    "Morphological": Entry(
        S,
        "morphology",
        "operation erosion / dilation -> op erode / dilate, scale (w, h) -> size_range, shape: ellipse",
        _morphology,
    ),
    "Mosaic": Entry(
        S,
        None,
        "albumentations takes its partners from metadata; augcli's `mosaic` draws them from the class (a 2 x 2 "
        "grid): not convertible",
    ),
    "MotionBlur": Entry(
        P,
        "motion_blur",
        "blur_limit -> length_range, angle_range -> angle_range (folded into [-180, 180]); "
        "direction_range and allow_shifted have no equivalent",
        _motion_blur,
        False,
        "augcli's streak is centred and symmetric",
    ),
    "MultiplicativeNoise": Entry(
        P,
        "multiplicative_noise",
        "elementwise: true, multiplier (a, b) centred on 1 -> sigma_range [s, s] with "
        "s = (b - a) / sqrt(12), per_channel",
        _multiplicative_noise,
        False,
        "uniform multiplier in albumentations, Gaussian with the same deviation in augcli",
    ),
    "NoOp": Entry(S, None, "does nothing: dropped, with a note", None),
    "Normalize": Entry(P, None, _NOT_AUGMENTATION + " (normalisation belongs in the training loader)"),
    "OpticalDistortion": Entry(
        S,
        "optical_distortion",
        "distort_limit -> k_range, border_mode, fill, interpolation; mode 'fisheye' has no equivalent",
        _optical_distortion,
        False,
        "the radial coefficient is scaled differently",
    ),
    "OverlayElements": Entry(S, None, "no equivalent (pastes elements from metadata)"),
    "Pad": Entry(S, None, "no equivalent in pixels: augcli's `pad` takes fractions of each side (amount_range)"),
    "Pad3D": Entry(S, None, _NO_VOLUME),
    "PadIfNeeded": Entry(S, None, "no equivalent (pads up to a minimum size); nearest: `letterbox`"),
    "PadIfNeeded3D": Entry(S, None, _NO_VOLUME),
    "Perspective": Entry(
        S,
        "perspective",
        "scale -> scale_range, border_mode, fill, interpolation; fit_output and keep_size: false have no equivalent",
        _perspective,
        False,
        "albumentations draws corner moves from a normal distribution of that scale, augcli uniformly up to it",
    ),
    "PiecewiseAffine": Entry(
        S,
        "piecewise_affine",
        "scale -> scale_range, nb_rows / nb_cols -> rows / cols (fixed), border_mode, fill, interpolation",
        _piecewise_affine,
        False,
        "the control-point jitter is drawn differently",
    ),
    "PixelDistributionAdaptation": Entry(
        P, None, _UNSAVABLE % ("pixel_distribution_adaptation", "transform_type -> method, blend_ratio -> blend_range")
    ),
    "PixelDropout": Entry(
        S,
        "pixel_dropout",
        "dropout_prob -> rate_range [p, p], per_channel, drop_value -> fill (random values have no equivalent)",
        _pixel_dropout,
    ),
    "PlanckianJitter": Entry(
        P,
        "planckian_jitter",
        "temperature_limit -> kelvin_range (default 3000-15000 K); mode 'cied' has no equivalent",
        _planckian_jitter,
        False,
        "the black-body colours are tabulated differently",
    ),
    "PlasmaBrightnessContrast": Entry(P, None, "no equivalent (fractal brightness / contrast field)"),
    "PlasmaShadow": Entry(P, None, "no equivalent (fractal shadow); nearest: `shadow`"),
    "Posterize": Entry(P, "posterize", "num_bits -> bits_range (per-channel ranges have no equivalent)", _posterize),
    "RGBShift": Entry(
        P, "rgb_shift", "r/g/b_shift_limit (0-255) -> r/g/b_shift_range (fractions of white, / 255)", _rgb_shift
    ),
    "RandomBrightnessContrast": Entry(
        P,
        "brightness_contrast",
        "brightness_limit -> brightness_range (fraction of white), contrast_limit -> "
        "contrast_range; brightness_by_max: false has no equivalent",
        _brightness_contrast,
        True,
        "the contrast pivot: the image's mean grey in augcli, black (0) in albumentations; equal when contrast is 0",
    ),
    "RandomCrop": Entry(
        S, "random_crop", "height, width -> size [width, height]; pad_if_needed has no equivalent", _crop("random_crop")
    ),
    "RandomCrop3D": Entry(S, None, _NO_VOLUME),
    "RandomCropFromBorders": Entry(
        S, None, "no equivalent (crops up to a fraction from each border); nearest: `random_crop`"
    ),
    "RandomCropNearBBox": Entry(S, None, _NO_TARGETS),
    "RandomFog": Entry(P, "fog", "fog_coef_range -> intensity_range", _fog, False, _APPROX_WEATHER),
    "RandomGamma": Entry(P, "gamma", "gamma_limit (percent) -> gamma_range (/ 100)", _gamma),
    "RandomGravel": Entry(P, None, "no equivalent (gravel patches)"),
    "RandomGridShuffle": Entry(S, None, "no equivalent (shuffles grid cells)"),
    "RandomRain": Entry(P, "rain", "slant_range -> angle_range", _rain, False, _APPROX_WEATHER),
    "RandomResizedCrop": Entry(
        S,
        "random_resized_crop",
        "size (height, width) -> size [width, height], scale -> scale_range, ratio -> ratio_range, interpolation",
        _random_resized_crop,
    ),
    "RandomRotate90": Entry(
        S,
        "rot90",
        "k_range [0, 3] (0 to 3 quarter turns, like albumentations)",
        lambda a, n: step("rot90", k_range=[0, 3]),
    ),
    "RandomScale": Entry(
        S, "scale", "scale_limit -> scale_range (1 + limit), keep_size: false, interpolation", _random_scale
    ),
    "RandomShadow": Entry(
        P,
        "shadow",
        "num_shadows_limit -> count_range, shadow_dimension -> vertices_range, shadow_intensity_range -> "
        "darkness_range; shadow_roi has no equivalent",
        _shadow,
        False,
        _APPROX_WEATHER,
    ),
    "RandomSizedBBoxSafeCrop": Entry(S, None, _NO_TARGETS),
    "RandomSizedCrop": Entry(S, None, "no equivalent (crop height in pixels); nearest: `random_resized_crop`"),
    "RandomSnow": Entry(P, "snow", "no parameter carries over", _snow, False, _APPROX_WEATHER),
    "RandomSunFlare": Entry(
        P,
        "sun_flare",
        "flare_roi -> center_x/y_range, num_flare_circles_range -> halos_range, src_color -> color (RGB -> BGR)",
        _sun_flare,
        False,
        _APPROX_WEATHER,
    ),
    "RandomToneCurve": Entry(
        P,
        "random_tone_curve",
        "scale -> shift_range [-scale, scale]",
        _tone_curve,
        False,
        "the control points are drawn differently",
    ),
    "Resize": Entry(S, "resize", "height, width -> size [width, height], interpolation", _resize),
    "RingingOvershoot": Entry(P, None, "no equivalent (sinc filter ringing)"),
    "Rotate": Entry(
        S,
        "rotate",
        "limit -> angle_range (a scalar x is [-x, x]), border_mode (cv2 -> name), fill (RGB -> BGR), "
        "interpolation; crop_border has no equivalent",
        _rotate,
    ),
    "SafeRotate": Entry(
        S,
        None,
        "no equivalent: albumentations shrinks the rotated picture to fit the same size; augcli's `safe_rotate` "
        "grows the canvas (expand) or crops inward (crop_valid)",
    ),
    "SaltAndPepper": Entry(
        P, "salt_and_pepper", "amount -> amount_range, salt_vs_pepper -> salt_ratio (its middle)", _salt_and_pepper
    ),
    "Sharpen": Entry(
        P,
        "sharpen",
        "alpha -> alpha_range, lightness -> lightness_range; method 'gaussian' has no equivalent",
        _sharpen,
    ),
    "ShiftScaleRotate": Entry(
        S,
        "shift_scale_rotate",
        "shift_limit_x/y -> shift_x/y_range, scale_limit -> scale_range (1 + limit), "
        "rotate_limit -> angle_range, border_mode, fill, interpolation",
        _shift_scale_rotate,
    ),
    "ShotNoise": Entry(
        P,
        "shot_noise",
        "scale_range -> photons_range (1 / scale)",
        _shot_noise,
        False,
        "albumentations draws the photons in linear light (gamma 2.2), augcli on the stored values",
    ),
    "SmallestMaxSize": Entry(S, "resize", "max_size -> shortest, interpolation", _max_size("shortest")),
    "Solarize": Entry(P, "solarize", "threshold_range (fraction of white) -> threshold_range", _solarize),
    "Spatter": Entry(
        P,
        "spatter",
        "mode, intensity -> intensity_range, cutout_threshold -> cutout_range; mean, std, gauss_sigma and color do "
        "not carry over",
        _spatter,
        False,
        "augcli draws its own blob field",
    ),
    "SquareSymmetry": Entry(S, "sequence", "as D4", _d4),
    "Superpixels": Entry(P, None, "no equivalent (SLIC superpixel averaging)"),
    "TextImage": Entry(P, None, "no equivalent (renders text from metadata)"),
    "ThinPlateSpline": Entry(S, None, "no equivalent (thin-plate spline warp); nearest: `elastic_transform`"),
    "TimeMasking": Entry(S, None, _NO_SPECTROGRAM),
    "TimeReverse": Entry(S, None, _NO_SPECTROGRAM),
    "ToFloat": Entry(P, None, _NOT_AUGMENTATION),
    "ToGray": Entry(
        P,
        "grayscale",
        "num_output_channels 3 -> keep_channels: true, 1 -> false; methods other than weighted_average have no "
        "equivalent",
        _to_gray,
    ),
    "ToRGB": Entry(P, None, _NOT_AUGMENTATION),
    "ToSepia": Entry(P, "sepia", "strength_range [1, 1]", lambda a, n: step("sepia", strength_range=[1, 1])),
    "Transform3D": Entry(S, None, "the base class of the 3-D transforms"),
    "Transpose": Entry(S, "transpose", "no parameters", _no_args("transpose")),
    "UnsharpMask": Entry(
        P,
        "unsharp_mask",
        "sigma_limit -> sigma_range (0: derived from blur_limit as OpenCV does), alpha -> amount_range, threshold "
        "(0-255) -> threshold (/ 255)",
        _unsharp_mask,
        False,
        "albumentations blends with a soft threshold mask, augcli keeps detail below the threshold",
    ),
    "VerticalFlip": Entry(S, "vflip", "no parameters", _no_args("vflip")),
    "XYMasking": Entry(S, None, "no equivalent (full-length stripes); nearest: `coarse_dropout`"),
    "ZoomBlur": Entry(
        P,
        "zoom_blur",
        "max_factor - 1 -> zoom_range, (max_factor - 1) / step_factor -> steps_range",
        _zoom_blur,
        False,
        "albumentations steps the zoom by step_factor, augcli spreads steps copies evenly",
    ),
}

# Composition blocks of a saved pipeline and the augcli block they become (see augcli.convert).
BLOCKS = {"Compose": "sequence", "Sequential": "sequence", "OneOf": "one_of", "SomeOf": "some_of"}


def counts() -> tuple[int, int, int]:
    """(exact, approximate, none) over the table."""
    exact = sum(1 for e in MAPPING.values() if e.augcli and e.exact)
    approx = sum(1 for e in MAPPING.values() if e.augcli and not e.exact)
    return exact, approx, len(MAPPING) - exact - approx
