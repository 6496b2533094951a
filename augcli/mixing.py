"""Targets through erasing and mixing steps.

Erasing (random_erasing, coarse_dropout, grid_dropout) moves nothing: an object that keeps less than
`erased_visibility` of its box uncovered is dropped, and erased pixels of a mask get the ignore label.
Mixing combines the partners' targets the way the kernel combines their pixels: blend (mixup) keeps both
images' objects, cutmix keeps the image's objects outside the pasted rectangle and the partner's inside it,
mosaic scales each image's objects into its tile. A partner's targets are read by the same loader as its
pixels (ApplyContext), so a mixing step on an annotated dataset never invents or loses objects silently.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from augcli.spatial import Tally, clip_polygon, resize_matrix, shift_matrix, through
from augcli.targets import Instance, Targets, TargetSettings


def erased(name: str, params: dict[str, Any], targets: Targets, size, settings: TargetSettings, tally: Tally):
    width, height = size
    holes = np.zeros((height, width), dtype=bool)
    for x, y, w, h in _holes(name, params, width, height):
        holes[y : y + h, x : x + w] = True
    kept = _uncovered(targets.instances, holes, settings, tally)
    mask = targets.mask
    if mask is not None and settings.erase_mask:
        mask = mask.copy()
        mask[holes] = settings.ignore
    return Targets(kept, mask)


def _holes(name: str, params: dict[str, Any], width: int, height: int) -> list[list[int]]:
    """[x, y, w, h] rectangles the step erased."""
    if name == "grid_dropout":
        from augcli.kernels.dropout import grid_boxes

        keys = ("unit", "hole", "offset_x", "offset_y")
        return grid_boxes(height, width, **{k: params[k] for k in keys})
    return params["boxes"]


def _uncovered(instances: list[Instance], covered: np.ndarray, settings: TargetSettings, tally: Tally):
    """Instances that keep at least `erased_visibility` of their box uncovered."""
    kept = []
    for instance in instances:
        x0, y0, x1, y1 = (int(np.floor(instance.box[0])), int(np.floor(instance.box[1])),
                          int(np.ceil(instance.box[2])), int(np.ceil(instance.box[3])))  # fmt: skip
        region = covered[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
        seen = 1.0 - (float(region.mean()) if region.size else 0.0)
        if settings.erased_visibility > 0 and seen < settings.erased_visibility:
            tally.dropped += 1
            continue
        kept.append(instance)
    return kept


def mixed(name: str, params: dict[str, Any], targets: Targets, size, settings: TargetSettings, tally: Tally, ctx):
    if not params.get("partners"):
        return targets
    load = (ctx.extra.get("targets") if ctx is not None else None) or _no_partner_targets(name)
    partners = [load(source) for source in params["partners"]]  # (Targets, (w, h)) each
    width, height = size
    if name == "blend":
        (other, other_size), weight = partners[0], params["weight"]
        scaled = _scaled(other, other_size, (0, 0, width, height), settings, tally)
        mask = targets.mask if weight <= 0.5 or targets.mask is None else scaled.mask  # the dominant image's
        return Targets(targets.instances + scaled.instances, mask)
    if name == "cutmix":
        x0, y0, x1, y1 = params["box"]
        (other, other_size) = partners[0]
        pasted = np.zeros((height, width), dtype=bool)
        pasted[y0:y1, x0:x1] = True
        own = _uncovered(targets.instances, pasted, settings, tally)
        scaled = _scaled(other, other_size, (0, 0, width, height), settings, tally)
        inside = _inside(scaled.instances, (x0, y0, x1, y1), settings, tally)
        mask = None
        if targets.mask is not None and scaled.mask is not None:
            mask = targets.mask.copy()
            mask[y0:y1, x0:x1] = scaled.mask[y0:y1, x0:x1]
        return Targets(own + inside, mask)
    if name == "mosaic":
        cx, cy = params["center"]
        tiles = [(0, 0, cx, cy), (cx, 0, width, cy), (0, cy, cx, height), (cx, cy, width, height)]
        sources = [(targets, size), *partners]
        instances: list[Instance] = []
        mask = None if targets.mask is None else np.full((height, width), settings.ignore, dtype=targets.mask.dtype)
        for (source, source_size), tile in zip(sources, tiles, strict=True):
            if tile[2] <= tile[0] or tile[3] <= tile[1]:
                tally.dropped += len(source.instances)
                continue
            placed = _scaled(source, source_size, tile, settings, tally, (width, height))
            instances += placed.instances
            if mask is not None and placed.mask is not None:
                mask[tile[1] : tile[3], tile[0] : tile[2]] = placed.mask
        return Targets(instances, mask)
    raise ValueError(f"no target rule for mixing step {name!r}")


def _scaled(targets: Targets, size, tile, settings, tally, canvas=None) -> Targets:
    """`targets` of an image of `size` resized into `tile` (x0, y0, x1, y1) of a `canvas`-sized image."""
    x0, y0, x1, y1 = tile
    matrix = shift_matrix(x0, y0) @ resize_matrix(size[0], size[1], x1 - x0, y1 - y0)
    instances = through(targets, matrix, canvas or (x1 - x0, y1 - y0), settings, tally)
    mask = None
    if targets.mask is not None:
        mask = cv2.resize(targets.mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    return Targets(instances, mask)


def _inside(instances: list[Instance], rect, settings: TargetSettings, tally: Tally) -> list[Instance]:
    """The parts of a partner's instances inside the pasted rectangle."""
    x0, y0, x1, y1 = rect
    kept = []
    for instance in instances:
        box = [max(instance.box[0], x0), max(instance.box[1], y0), min(instance.box[2], x1), min(instance.box[3], y1)]
        area = max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
        full = (instance.box[2] - instance.box[0]) * (instance.box[3] - instance.box[1])
        if area < settings.min_area or full <= 0 or area / full < max(settings.min_visibility, 1e-9):
            tally.dropped += 1
            continue
        polygons = []
        for poly in instance.polygons:
            ring = clip_polygon(np.asarray(poly, dtype=np.float64).reshape(-1, 2) - [x0, y0], (x1 - x0, y1 - y0))
            if len(ring) >= 3:
                polygons.append((ring + [x0, y0]).reshape(-1).tolist())
        kept.append(Instance(instance.category, box, polygons, instance.rle, instance.attributes, -1))
    return kept


def _no_partner_targets(name: str):
    def refuse(source: str):
        raise ValueError(f"{name} mixes in {source}, but no annotations of partner images can be read here")

    return refuse
