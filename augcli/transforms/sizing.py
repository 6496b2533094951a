"""Sizing transforms: bring images to the size a model takes (also the building blocks of `preprocess:`).

Nothing here is random: the output size follows from the input size and the settings, so these steps give the
same result on every draw, which is what `preprocess:` (applied to every output of every split) requires.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from augcli.kernels import geometry as k
from augcli.transforms.base import Fill, Interpolation, Transform, register

Side = Annotated[int, Field(ge=1, le=65_535)]
DEFAULT_LONGEST = 512  # resize with no rule given


class _Sizing(Transform):
    family: ClassVar[str] = "geometry"


@register
class Resize(_Sizing):
    """Resize to an exact [width, height], or so the longest or shortest side has a given length (aspect kept)."""

    name: Literal["resize"] = "resize"
    size: tuple[Side, Side] | None = Field(None, description="exact [width, height] (aspect not kept)")
    longest: Side | None = Field(None, description="longer side after resizing, aspect kept (512 if no rule is set)")
    shortest: Side | None = Field(None, description="length of the shorter side after resizing (aspect kept)")
    interpolation: Interpolation = Field("area", description="resampling filter (area suits shrinking)")
    example: ClassVar[dict[str, Any]] = {"name": "resize", "longest": 256, "interpolation": "area"}

    @model_validator(mode="before")
    @classmethod
    def _one_rule(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = [key for key in ("size", "longest", "shortest") if data.get(key) is not None]
        if not given:
            return {**data, "longest": DEFAULT_LONGEST}
        if len(given) > 1:
            raise ValueError(f"set one of size, longest, shortest, not {' and '.join(given)}")
        return data

    def sample(self, rng, ctx):
        width, height = target_size(ctx.width, ctx.height, self.size, self.longest, self.shortest)
        return {"width": width, "height": height}

    def apply(self, image, params, ctx):
        return k.resize(image, width=params["width"], height=params["height"], interpolation=self.interpolation)


@register
class Letterbox(_Sizing):
    """Fit inside [width, height] keeping the aspect ratio, then pad the rest evenly (YOLO-style letterbox)."""

    name: Literal["letterbox"] = "letterbox"
    size: tuple[Side, Side] = Field((640, 640), description="[width, height] of the result")
    fill: Fill = Field(114.0, description="colour of the padding, on the 8-bit scale (README Colour values)")
    interpolation: Interpolation = Field("area", description="resampling filter")
    example: ClassVar[dict[str, Any]] = {"name": "letterbox", "size": [640, 640], "fill": 114}

    def sample(self, rng, ctx):
        width, height = self.size
        scale = min(width / ctx.width, height / ctx.height)
        inner_w, inner_h = max(1, min(width, round(ctx.width * scale))), max(1, min(height, round(ctx.height * scale)))
        left, top = (width - inner_w) // 2, (height - inner_h) // 2
        return {
            "width": inner_w,
            "height": inner_h,
            "left": left,
            "top": top,
            "right": width - inner_w - left,
            "bottom": height - inner_h - top,
        }

    def apply(self, image, params, ctx):
        inner = k.resize(image, width=params["width"], height=params["height"], interpolation=self.interpolation)
        sides = {side: params[side] for side in ("top", "bottom", "left", "right")}
        return k.pad(inner, **sides, border_mode="constant", fill=self.fill)


def target_size(width: int, height: int, size, longest, shortest) -> tuple[int, int]:
    if size is not None:
        return int(size[0]), int(size[1])
    side = longest if longest is not None else shortest
    reference = max(width, height) if longest is not None else min(width, height)
    scale = side / reference
    return max(1, round(width * scale)), max(1, round(height * scale))
