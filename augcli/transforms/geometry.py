"""Geometric transforms: flips, rotations, affine maps, scaling, crops, padding."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictBool

from augcli.kernels import geometry as k
from augcli.transforms.base import (
    BorderMode,
    Fill,
    Interpolation,
    IntRange,
    Range,
    Transform,
    bounded,
    integer,
    register,
    uniform,
)


class _Geometric(Transform):
    family: ClassVar[str] = "geometry"


# An output side in pixels: at least one (cv2.resize fails on an empty size), at most JPEG's limit.
Side = Annotated[int, Field(ge=1, le=65_535)]


@register
class HFlip(_Geometric):
    """Mirror the image left to right."""

    name: Literal["hflip"] = "hflip"
    example: ClassVar[dict[str, Any]] = {"name": "hflip", "p": 0.5}

    def apply(self, image, params, ctx):
        return k.hflip(image)


@register
class VFlip(_Geometric):
    """Mirror the image top to bottom."""

    name: Literal["vflip"] = "vflip"
    example: ClassVar[dict[str, Any]] = {"name": "vflip", "p": 0.5}

    def apply(self, image, params, ctx):
        return k.vflip(image)


@register
class Rot90(_Geometric):
    """Rotate by a whole number of quarter turns, counter-clockwise (width and height swap for odd turns)."""

    name: Literal["rot90"] = "rot90"
    k_range: IntRange = bounded((1, 3), 0, 3, "quarter turns to choose from, inclusive")
    example: ClassVar[dict[str, Any]] = {"name": "rot90", "k_range": [1, 3], "p": 0.5}

    def apply(self, image, params, ctx):
        return k.rot90(image, k=params["k"])


class _Warp(_Geometric):
    border_mode: BorderMode = Field("reflect", description="how uncovered pixels are filled (numpy.pad names)")
    fill: Fill = 0.0
    interpolation: Interpolation = Field("linear", description="resampling filter")

    def _warp_options(self) -> dict[str, Any]:
        return {"border_mode": self.border_mode, "fill": self.fill, "interpolation": self.interpolation}


@register
class Rotate(_Warp):
    """Rotate by an angle in degrees (counter-clockwise) about the centre, keeping the image size."""

    name: Literal["rotate"] = "rotate"
    angle_range: Range = bounded((-15.0, 15.0), -180, 180, "angle in degrees")
    example: ClassVar[dict[str, Any]] = {"name": "rotate", "angle_range": [-20, 20], "border_mode": "reflect"}

    def apply(self, image, params, ctx):
        return k.rotate(image, angle=params["angle"], **self._warp_options())


@register
class Affine(_Warp):
    """Scale, translate, shear and rotate in one warp about the centre, keeping the image size."""

    name: Literal["affine"] = "affine"
    scale_range: Range = bounded((0.9, 1.1), 0.05, 20, "zoom factor; below 1 shrinks")
    translate_x_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the width")
    translate_y_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the height")
    shear_x_range: Range = bounded((0.0, 0.0), -80, 80, "horizontal shear in degrees")
    shear_y_range: Range = bounded((0.0, 0.0), -80, 80, "vertical shear in degrees")
    angle_range: Range = bounded((0.0, 0.0), -180, 180, "rotation in degrees")
    example: ClassVar[dict[str, Any]] = {
        "name": "affine",
        "scale_range": [0.8, 1.2],
        "translate_x_range": [-0.1, 0.1],
        "shear_x_range": [-10, 10],
        "border_mode": "constant",
    }

    def apply(self, image, params, ctx):
        return k.affine(image, **params, **self._warp_options())


@register
class RandomResizedCrop(_Geometric):
    """Crop a random region of given area fraction and aspect ratio, then resize it back (Inception-style)."""

    name: Literal["random_resized_crop"] = "random_resized_crop"
    scale_range: Range = bounded((0.5, 1.0), 0.01, 1, "crop area as a fraction of the image area")
    ratio_range: Range = bounded((0.75, 4 / 3), 0.1, 10, "crop aspect ratio, width / height")
    size: tuple[Side, Side] | None = Field(None, description="[width, height] of the output; default: the input's")
    interpolation: Interpolation = "linear"
    example: ClassVar[dict[str, Any]] = {"name": "random_resized_crop", "scale_range": [0.6, 1.0]}

    def sample(self, rng, ctx):
        out_width, out_height = self.size or (ctx.width, ctx.height)
        x, y, w, h = _crop_box(rng, ctx.width, ctx.height, self.scale_range, self.ratio_range)
        return {"x": x, "y": y, "width": w, "height": h, "out_width": out_width, "out_height": out_height}

    def apply(self, image, params, ctx):
        return k.crop_and_resize(image, **params, interpolation=self.interpolation)


def _crop_box(rng, width: int, height: int, scale_range, ratio_range) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop search: ten tries at the asked area and ratio, else the centre."""
    area = width * height
    log_ratio = (math.log(ratio_range[0]), math.log(ratio_range[1]))
    for _ in range(10):
        target = area * uniform(rng, scale_range)
        ratio = math.exp(uniform(rng, log_ratio))
        w = int(round(math.sqrt(target * ratio)))
        h = int(round(math.sqrt(target / ratio)))
        if 0 < w <= width and 0 < h <= height:
            return integer(rng, 0, width - w), integer(rng, 0, height - h), w, h
    ratio = width / height
    # At least one pixel: a 1-pixel-wide image with ratios from 5 rounded to an empty crop.
    if ratio < ratio_range[0]:
        w, h = width, max(1, int(round(width / ratio_range[0])))
    elif ratio > ratio_range[1]:
        w, h = max(1, int(round(height * ratio_range[1]))), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


@register
class Transpose(_Geometric):
    """Swap rows and columns (mirror about the main diagonal); width and height swap."""

    name: Literal["transpose"] = "transpose"
    example: ClassVar[dict[str, Any]] = {"name": "transpose", "p": 0.5}

    def apply(self, image, params, ctx):
        return k.transpose(image)


@register
class ShiftScaleRotate(_Warp):
    """Shift, zoom and rotate in one warp about the centre, keeping the image size (albumentations' classic)."""

    name: Literal["shift_scale_rotate"] = "shift_scale_rotate"
    shift_x_range: Range = bounded((-0.0625, 0.0625), -1, 1, "shift as a fraction of the width")
    shift_y_range: Range = bounded((-0.0625, 0.0625), -1, 1, "shift as a fraction of the height")
    scale_range: Range = bounded((0.9, 1.1), 0.05, 20, "zoom factor; below 1 shrinks")
    angle_range: Range = bounded((-30.0, 30.0), -180, 180, "rotation in degrees, counter-clockwise")
    example: ClassVar[dict[str, Any]] = {
        "name": "shift_scale_rotate",
        "shift_x_range": [-0.05, 0.05],
        "shift_y_range": [-0.05, 0.05],
        "scale_range": [0.9, 1.1],
        "angle_range": [-20, 20],
        "border_mode": "reflect",
    }

    def apply(self, image, params, ctx):
        return k.affine(
            image,
            scale=params["scale"],
            translate_x=params["shift_x"],
            translate_y=params["shift_y"],
            shear_x=0.0,
            shear_y=0.0,
            angle=params["angle"],
            **self._warp_options(),
        )


@register
class Translate(_Warp):
    """Shift the picture by a fraction of the width and height, keeping the image size."""

    name: Literal["translate"] = "translate"
    translate_x_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the width; + is right")
    translate_y_range: Range = bounded((-0.1, 0.1), -1, 1, "shift as a fraction of the height; + is down")
    example: ClassVar[dict[str, Any]] = {
        "name": "translate",
        "translate_x_range": [-0.15, 0.15],
        "translate_y_range": [0, 0],
        "border_mode": "wrap",
    }

    def apply(self, image, params, ctx):
        return k.affine(image, scale=1.0, shear_x=0.0, shear_y=0.0, **params, **self._warp_options())


@register
class Shear(_Warp):
    """Shear horizontally and vertically by angles in degrees about the centre, keeping the image size."""

    name: Literal["shear"] = "shear"
    shear_x_range: Range = bounded((-10.0, 10.0), -80, 80, "horizontal shear in degrees")
    shear_y_range: Range = bounded((-10.0, 10.0), -80, 80, "vertical shear in degrees")
    example: ClassVar[dict[str, Any]] = {"name": "shear", "shear_x_range": [-15, 15], "shear_y_range": [0, 0]}

    def apply(self, image, params, ctx):
        return k.affine(image, scale=1.0, translate_x=0.0, translate_y=0.0, **params, **self._warp_options())


class _Resizing(_Warp):
    keep_size: StrictBool = Field(
        True, description="zoom inside the same frame; false resizes the image to the scaled size"
    )

    def _resize_options(self) -> dict[str, Any]:
        return {"keep_size": self.keep_size, **self._warp_options()}


@register
class Scale(_Resizing):
    """Zoom by one factor for both axes: inside the same frame, or resizing the image (keep_size: false)."""

    name: Literal["scale"] = "scale"
    scale_range: Range = bounded((0.8, 1.2), 0.05, 10, "zoom factor; below 1 shrinks")
    example: ClassVar[dict[str, Any]] = {"name": "scale", "scale_range": [0.75, 1.25], "border_mode": "constant"}

    def apply(self, image, params, ctx):
        return k.stretch(image, scale_x=params["scale"], scale_y=params["scale"], **self._resize_options())


@register
class Stretch(_Resizing):
    """Scale x and y independently (changes the aspect ratio), in the same frame or resizing the image."""

    name: Literal["stretch"] = "stretch"
    scale_x_range: Range = bounded((0.8, 1.2), 0.05, 10, "horizontal factor")
    scale_y_range: Range = bounded((0.8, 1.2), 0.05, 10, "vertical factor")
    example: ClassVar[dict[str, Any]] = {
        "name": "stretch",
        "scale_x_range": [0.8, 1.25],
        "scale_y_range": [1, 1],
        "keep_size": False,
    }

    def apply(self, image, params, ctx):
        return k.stretch(image, **params, **self._resize_options())


class _Crop(_Geometric):
    width_fraction_range: Range = bounded((0.8, 0.8), 0.01, 1, "crop width as a fraction of the image width")
    height_fraction_range: Range = bounded((0.8, 0.8), 0.01, 1, "crop height as a fraction of the image height")
    size: tuple[Side, Side] | None = Field(
        None, description="[width, height] in pixels (clamped to the image); overrides the fractions"
    )
    resize_back: StrictBool = Field(False, description="resize the crop back to the input size")
    interpolation: Interpolation = Field("linear", description="resampling filter when resizing back")

    def _crop_size(self, rng, ctx) -> tuple[int, int]:
        if self.size is not None:
            return min(self.size[0], ctx.width), min(self.size[1], ctx.height)
        width = round(ctx.width * uniform(rng, self.width_fraction_range))
        height = round(ctx.height * uniform(rng, self.height_fraction_range))
        return max(1, min(width, ctx.width)), max(1, min(height, ctx.height))

    def _params(self, ctx, x: int, y: int, width: int, height: int) -> dict[str, Any]:
        out_width, out_height = (ctx.width, ctx.height) if self.resize_back else (width, height)
        return {"x": x, "y": y, "width": width, "height": height, "out_width": out_width, "out_height": out_height}

    def apply(self, image, params, ctx):
        if (params["width"], params["height"]) == (params["out_width"], params["out_height"]):
            return k.crop(image, x=params["x"], y=params["y"], width=params["width"], height=params["height"])
        return k.crop_and_resize(image, **params, interpolation=self.interpolation)


@register
class CenterCrop(_Crop):
    """Cut out the central region (pixel size or fraction of each side), optionally resized back."""

    name: Literal["center_crop"] = "center_crop"
    example: ClassVar[dict[str, Any]] = {
        "name": "center_crop",
        "width_fraction_range": [0.8, 0.8],
        "height_fraction_range": [0.8, 0.8],
        "resize_back": True,
    }

    def sample(self, rng, ctx):
        width, height = self._crop_size(rng, ctx)
        return self._params(ctx, (ctx.width - width) // 2, (ctx.height - height) // 2, width, height)


@register
class RandomCrop(_Crop):
    """Cut out a region at a random place (pixel size or fraction of each side), optionally resized back."""

    name: Literal["random_crop"] = "random_crop"
    example: ClassVar[dict[str, Any]] = {"name": "random_crop", "size": [224, 224]}

    def sample(self, rng, ctx):
        width, height = self._crop_size(rng, ctx)
        x, y = integer(rng, 0, ctx.width - width), integer(rng, 0, ctx.height - height)
        return self._params(ctx, x, y, width, height)


@register
class Pad(_Geometric):
    """Add a border on each side (fractions of the side, drawn per side), optionally resized back."""

    name: Literal["pad"] = "pad"
    amount_range: Range = bounded((0.0, 0.1), 0, 1, "border width per side, as a fraction of that axis")
    border_mode: BorderMode = Field("constant", description="how the border is filled (numpy.pad names)")
    fill: Fill = 0.0
    resize_back: StrictBool = Field(False, description="resize the padded image back to the input size")
    interpolation: Interpolation = Field("area", description="resampling filter when resizing back")
    example: ClassVar[dict[str, Any]] = {"name": "pad", "amount_range": [0.05, 0.15], "border_mode": "reflect"}

    def sample(self, rng, ctx):
        def side(extent: int) -> int:
            return round(extent * uniform(rng, self.amount_range))

        return {"top": side(ctx.height), "bottom": side(ctx.height), "left": side(ctx.width), "right": side(ctx.width)}

    def apply(self, image, params, ctx):
        out = k.pad(image, **params, border_mode=self.border_mode, fill=self.fill)
        if not self.resize_back:
            return out
        return k.resize(out, width=image.shape[1], height=image.shape[0], interpolation=self.interpolation)


@register
class Downscale(_Geometric):
    """Shrink and enlarge back to the input size, losing detail like a low-resolution capture."""

    name: Literal["downscale"] = "downscale"
    scale_range: Range = bounded((0.25, 0.5), 0.01, 1, "intermediate size as a fraction of the input size")
    down_interpolation: Interpolation = Field("area", description="filter used to shrink")
    interpolation: Interpolation = Field("linear", description="filter used to enlarge back")
    example: ClassVar[dict[str, Any]] = {"name": "downscale", "scale_range": [0.3, 0.6], "interpolation": "nearest"}

    def apply(self, image, params, ctx):
        return k.downscale(
            image, scale=params["scale"], down_interpolation=self.down_interpolation, interpolation=self.interpolation
        )
