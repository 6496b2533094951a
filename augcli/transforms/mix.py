"""Mixing transforms: blend, cutmix and mosaic with other sources ("partners") of the same class.

`sample()` picks partners from `ctx.partners` (never the source itself) and records them under
"partners", so the manifest row lists every contributing source; `apply()` loads them through the
ApplyContext. Which sources count as partners is the recipe's `partner_policy` (same_class, the
default, or same_split). With no partner available (a class of one image) the step is the identity,
recorded with an empty partner list.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from augcli.kernels import mix as k
from augcli.transforms.base import Range, Transform, bounded, register, uniform


class _Mix(Transform):
    family: ClassVar[str] = "mix"
    needs_partners: ClassVar[bool] = True


def choose_partners(rng: np.random.Generator, ctx, count: int) -> list[str]:
    """`count` partners other than the source; repeats only when the class has fewer than `count`."""
    pool = [p for p in ctx.partners if p != ctx.source]
    if not pool:
        return []
    picks = rng.choice(len(pool), size=count, replace=len(pool) < count)
    return [pool[int(i)] for i in picks]


def load_partners(name: str, params: dict[str, Any], ctx) -> list[np.ndarray]:
    if ctx.load is None:
        raise ValueError(f"{name} needs partner images, but nothing here can load them")
    return [ctx.load(path) for path in params["partners"]]


@register
class Blend(_Mix):
    """Mixup within a class: a weighted average with another image of the same class."""

    name: Literal["blend"] = "blend"
    weight_range: Range = bounded((0.2, 0.4), 0, 1, "share of the partner image in the result")
    example: ClassVar[dict[str, Any]] = {"name": "blend", "weight_range": [0.2, 0.4], "p": 0.3}

    def sample(self, rng, ctx):
        return {"partners": choose_partners(rng, ctx, 1), "weight": uniform(rng, self.weight_range)}

    def apply(self, image, params, ctx):
        if not params["partners"]:
            return image.copy()
        (partner,) = load_partners(self.name, params, ctx)
        return k.blend(image, partner, weight=params["weight"])


@register
class CutMix(_Mix):
    """Paste a random rectangle from another image of the same class (same place, partner resized)."""

    name: Literal["cutmix"] = "cutmix"
    area_range: Range = bounded((0.1, 0.3), 0, 1, "rectangle area as a fraction of the image")
    aspect_range: Range = bounded((0.5, 2.0), 0.05, 20, "rectangle width / height")
    example: ClassVar[dict[str, Any]] = {"name": "cutmix", "area_range": [0.1, 0.25], "p": 0.3}

    def sample(self, rng, ctx):
        partners = choose_partners(rng, ctx, 1)
        area, aspect = uniform(rng, self.area_range), uniform(rng, self.aspect_range)
        w = min(ctx.width, max(0, round((area * ctx.width * ctx.height * aspect) ** 0.5)))
        h = min(ctx.height, max(0, round((area * ctx.width * ctx.height / aspect) ** 0.5)))
        x0 = int(rng.integers(0, ctx.width - w + 1))
        y0 = int(rng.integers(0, ctx.height - h + 1))
        return {"partners": partners, "area": area, "aspect": aspect, "box": [x0, y0, x0 + w, y0 + h]}

    def apply(self, image, params, ctx):
        if not params["partners"]:
            return image.copy()
        (partner,) = load_partners(self.name, params, ctx)
        return k.cutmix(image, partner, box=params["box"])


@register
class Mosaic(_Mix):
    """A 2 x 2 mosaic of this image and three others of its class, at the input size."""

    name: Literal["mosaic"] = "mosaic"
    center_range: Range = bounded((0.3, 0.7), 0, 1, "where the tiles meet, as a fraction of width and height")
    example: ClassVar[dict[str, Any]] = {"name": "mosaic", "center_range": [0.35, 0.65], "p": 0.2}

    def sample(self, rng, ctx):
        partners = choose_partners(rng, ctx, 3)
        cx, cy = uniform(rng, self.center_range), uniform(rng, self.center_range)
        center = [round(cx * ctx.width), round(cy * ctx.height)]
        return {"partners": partners, "center": center}

    def apply(self, image, params, ctx):
        if not params["partners"]:
            return image.copy()
        return k.mosaic(image, load_partners(self.name, params, ctx), center=params["center"])
