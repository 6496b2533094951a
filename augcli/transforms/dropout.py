"""Erasing transforms (random erasing, cutout)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import StrictBool

from augcli.kernels import dropout as k
from augcli.transforms.base import Fill, Range, Transform, bounded, integer, new_seed, register, uniform


class _Dropout(Transform):
    family: ClassVar[str] = "dropout"


@register
class RandomErasing(_Dropout):
    """Erase one rectangle of random area and aspect ratio (Zhong et al. 2017), with a constant or noise."""

    name: Literal["random_erasing"] = "random_erasing"
    area_range: Range = bounded((0.02, 0.2), 0, 1, "erased area as a fraction of the image")
    aspect_range: Range = bounded((0.3, 3.3), 0.05, 20, "rectangle aspect ratio, width / height")
    fill: Fill = 0.0
    random_fill: StrictBool = False
    example: ClassVar[dict[str, Any]] = {"name": "random_erasing", "area_range": [0.02, 0.15], "p": 0.5}

    def sample(self, rng, ctx):
        area = uniform(rng, self.area_range) * ctx.width * ctx.height
        log_aspect = (math.log(self.aspect_range[0]), math.log(self.aspect_range[1]))
        aspect = math.exp(uniform(rng, log_aspect))
        w = max(1, min(ctx.width, int(round(math.sqrt(area * aspect)))))
        h = max(1, min(ctx.height, int(round(math.sqrt(area / aspect)))))
        box = [integer(rng, 0, ctx.width - w), integer(rng, 0, ctx.height - h), w, h]
        params: dict[str, Any] = {"boxes": [box]}
        if self.random_fill:
            params["noise_seed"] = new_seed(rng)
        return params

    def apply(self, image, params, ctx):
        return k.erase(image, boxes=params["boxes"], fill=self.fill, noise_seed=params.get("noise_seed"))
