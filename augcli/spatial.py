"""How targets follow each step of a recipe: boxes, polygons and masks move with the pixels.

- Affine and perspective steps (flips, quarter turns, rotations, affine warps, scales, crops, pads) map every
  polygon vertex and box corner through the step's exact 3x3 matrix (`MATRICES`), then clip to the image.
- Dense warps (elastic, grid and optical distortion) have no closed-form point map: each object is drawn as a
  filled region, warped by the step's own kernel with nearest-neighbour sampling, and its new box is the
  bounds of what lands in the image (its polygon the outline of that region).
- Masks always go through the step's own kernel, nearest neighbour, uncovered pixels set to the ignore label,
  so a mask never holds a label value that was not there.
- Pixel steps leave targets untouched; erasing can drop boxes it covers and writes the ignore label into
  masks; mixing combines the partners' targets (`mixing.py`).

Matrices are in OpenCV's pixel-centre coordinates (what the kernels warp with); targets are in corner
coordinates (targets.py), converted here in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from augcli.targets import Instance, Targets, TargetSettings

Matrix = np.ndarray  # 3x3, input pixel centre -> output pixel centre


@dataclass
class Tally:
    """What happened to one output's instances (its manifest row's `targets` counts)."""

    before: int = 0
    dropped: int = 0
    clipped_keys: set[int] = field(default_factory=set)  # objects cut by an image edge at least once

    def as_json(self, kept: int) -> dict[str, int]:
        return {"before": self.before, "kept": kept, "clipped": len(self.clipped_keys), "dropped": self.dropped}


# --- matrices ------------------------------------------------------------------------------------------------


def _m(rows: list[list[float]]) -> Matrix:
    return np.array([*rows, [0.0, 0.0, 1.0]], dtype=np.float64)


def resize_matrix(w: int, h: int, out_w: int, out_h: int) -> Matrix:
    """cv2.resize's half-pixel-centre map."""
    sx, sy = out_w / w, out_h / h
    return _m([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]])


def shift_matrix(dx: float, dy: float) -> Matrix:
    return _m([[1, 0, dx], [0, 1, dy]])


def _affine(w: int, h: int, **params: float) -> Matrix:
    from augcli.kernels.geometry import affine_matrix

    return np.vstack([affine_matrix(w, h, **params), [0.0, 0.0, 1.0]])


def _rot90(spec: Any, p: dict[str, Any], w: int, h: int) -> Matrix:
    return {
        0: np.eye(3),
        1: _m([[0, 1, 0], [-1, 0, w - 1]]),  # counter-clockwise: (x, y) -> (y, w-1-x)
        2: _m([[-1, 0, w - 1], [0, -1, h - 1]]),
        3: _m([[0, -1, h - 1], [1, 0, 0]]),
    }[p["k"] % 4]


def _zoom(spec: Any, sx: float, sy: float, w: int, h: int) -> Matrix:
    if not spec.keep_size:
        return resize_matrix(w, h, max(1, round(w * sx)), max(1, round(h * sy)))
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    return _m([[sx, 0, cx - sx * cx], [0, sy, cy - sy * cy]])


def _crop(spec: Any, p: dict[str, Any], w: int, h: int) -> Matrix:
    return resize_matrix(p["width"], p["height"], p["out_width"], p["out_height"]) @ shift_matrix(-p["x"], -p["y"])


def _pad(spec: Any, p: dict[str, Any], w: int, h: int) -> Matrix:
    shifted = shift_matrix(p["left"], p["top"])
    if not spec.resize_back:
        return shifted
    return resize_matrix(w + p["left"] + p["right"], h + p["top"] + p["bottom"], w, h) @ shifted


def _safe_rotate(spec: Any, p: dict[str, Any], w: int, h: int) -> Matrix:
    if p["angle"] == 0:
        return np.eye(3)
    from augcli.kernels.warps import safe_rotate_matrix

    return np.vstack([safe_rotate_matrix(w, h, angle=p["angle"], mode=spec.mode)[0], [0.0, 0.0, 1.0]])


def _perspective(spec: Any, p: dict[str, Any], w: int, h: int) -> Matrix:
    if not any(dx or dy for dx, dy in p["corners"]):
        return np.eye(3)
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    dst = src + np.array(p["corners"], dtype=np.float32) * np.array([w, h], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


MATRICES: dict[str, Callable[[Any, dict[str, Any], int, int], Matrix]] = {
    "hflip": lambda s, p, w, h: _m([[-1, 0, w - 1], [0, 1, 0]]),
    "vflip": lambda s, p, w, h: _m([[1, 0, 0], [0, -1, h - 1]]),
    "rot90": _rot90,
    "transpose": lambda s, p, w, h: _m([[0, 1, 0], [1, 0, 0]]),
    "rotate": lambda s, p, w, h: _affine(w, h, angle=p["angle"]),
    "affine": lambda s, p, w, h: _affine(w, h, **p),
    "shift_scale_rotate": lambda s, p, w, h: _affine(
        w, h, scale=p["scale"], translate_x=p["shift_x"], translate_y=p["shift_y"], angle=p["angle"]
    ),
    "translate": lambda s, p, w, h: _affine(w, h, **p),
    "shear": lambda s, p, w, h: _affine(w, h, **p),
    "scale": lambda s, p, w, h: _zoom(s, p["scale"], p["scale"], w, h),
    "stretch": lambda s, p, w, h: _zoom(s, p["scale_x"], p["scale_y"], w, h),
    "center_crop": _crop,
    "random_crop": _crop,
    "random_resized_crop": _crop,
    "pad": _pad,
    "perspective": _perspective,
    "safe_rotate": _safe_rotate,
    "resize": lambda s, p, w, h: resize_matrix(w, h, p["width"], p["height"]),
    "letterbox": lambda s, p, w, h: shift_matrix(p["left"], p["top"]) @ resize_matrix(w, h, p["width"], p["height"]),
}
IN_PLACE = {"downscale"}  # resampled in place: every pixel stays where it was, so targets do not move
# No closed-form point map:
DENSE = {"elastic_transform", "grid_distortion", "optical_distortion", "piecewise_affine"}
ERASING = {"random_erasing", "coarse_dropout", "grid_dropout"}
MIXING = {"blend", "cutmix", "mosaic"}
_CORNERS = _m([[1, 0, 0.5], [0, 1, 0.5]])  # pixel centre -> corner coordinates


def corner_matrix(matrix: Matrix) -> Matrix:
    """The same map in corner coordinates (pixel i spans [i, i+1))."""
    return _CORNERS @ matrix @ np.linalg.inv(_CORNERS)


def map_points(matrix: Matrix, points: np.ndarray) -> np.ndarray:
    homogeneous = np.hstack([points, np.ones((len(points), 1))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]


# --- moving instances ---------------------------------------------------------------------------------------


def through(targets: Targets, matrix: Matrix, size: tuple[int, int], settings: TargetSettings, tally: Tally):
    """Instances through a pixel-centre matrix into an image of `size`, clipped and filtered (no mask)."""
    moved = [through_matrix(i, corner_matrix(matrix), size) for i in targets.instances]
    return keep(moved, targets.instances, size, settings, tally)


@dataclass
class _Moved:
    instance: Instance | None  # None: nothing of it is left in the image
    visibility: float  # the fraction of its (unclipped) area still inside the image
    clipped: bool


def through_matrix(instance: Instance, matrix: Matrix, size: tuple[int, int]) -> _Moved:
    x0, y0, x1, y1 = instance.box
    if instance.rle is not None:
        scale = abs(float(np.linalg.det(matrix[:2, :2])))  # how the area grows: a scaled object is not clipped
        return _rle_moved(instance, lambda m: _warp_binary_matrix(m, matrix, size), size, scale)
    if instance.polygons:
        rings = [map_points(matrix, np.asarray(p, dtype=np.float64).reshape(-1, 2)) for p in instance.polygons]
    else:
        rings = [map_points(matrix, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64))]
    full = _bounds(np.vstack(rings))
    clipped_rings = [r for r in (clip_polygon(ring, size) for ring in rings) if len(r) >= 3]
    if not clipped_rings:
        return _Moved(None, 0.0, True)
    box = _bounds(np.vstack(clipped_rings))
    if not instance.polygons:  # a box stays the bounds of its mapped corners, cut to the image
        box = [max(full[0], 0.0), max(full[1], 0.0), min(full[2], size[0]), min(full[3], size[1])]
    visibility = _area(box) / _area(full) if _area(full) > 0 else 0.0
    polygons = [r.reshape(-1).tolist() for r in clipped_rings] if instance.polygons else []
    moved = Instance(instance.category, box, polygons, None, instance.attributes)
    return _Moved(moved, visibility, box != full)


def through_warp(spec: Any, params: dict[str, Any], instance: Instance, before, settings, ctx) -> _Moved:
    """Dense warps: the object's filled region through the kernel itself (nearest), then its bounds."""
    region = _raster(instance, before)
    warped = nearest(spec, 0, region.dtype).apply(region, params, ctx)
    if instance.rle is not None:
        return _rle_moved(instance, lambda m: warped, (warped.shape[1], warped.shape[0]))
    ys, xs = np.nonzero(warped)
    if not len(xs):
        return _Moved(None, 0.0, True)
    box = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
    visibility = min(1.0, len(xs) / max(1, int(np.count_nonzero(region))))
    polygons = _outline(warped) if instance.polygons else []
    clipped = box[0] == 0 or box[1] == 0 or box[2] == warped.shape[1] or box[3] == warped.shape[0]
    return _Moved(Instance(instance.category, box, polygons, None, instance.attributes), visibility, clipped)


def _rle_moved(instance: Instance, warp: Callable[[np.ndarray], np.ndarray], size, scale: float = 1.0) -> _Moved:
    from augcli.formats.rle import rle_decode, rle_encode

    source = rle_decode(instance.rle)
    warped = warp(source)
    ys, xs = np.nonzero(warped)
    if not len(xs):
        return _Moved(None, 0.0, True)
    box = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
    visibility = min(1.0, len(xs) / max(1.0, np.count_nonzero(source) * scale))
    moved = Instance(instance.category, box, [], rle_encode(warped), instance.attributes)
    return _Moved(moved, visibility, visibility < 1.0)


def keep(moved: list[_Moved], old: list[Instance], size, settings: TargetSettings, tally: Tally) -> list[Instance]:
    kept = []
    for item, before in zip(moved, old, strict=True):
        if item.instance is not None:
            item.instance.key = before.key
        instance = item.instance
        if instance is None or _area(instance.box) < settings.min_area or item.visibility < settings.min_visibility:
            tally.dropped += 1
            continue
        if item.clipped and instance.key >= 0:  # partners' objects (key -1) are not the source's to count
            tally.clipped_keys.add(instance.key)
        kept.append(instance)
    return kept


# --- masks and rasters ---------------------------------------------------------------------------------------


def nearest(spec: Any, fill: int, dtype: Any) -> Any:
    """The step's spec resampling with nearest neighbour and filling uncovered pixels with `fill` (a label)."""
    update = {"interpolation": "nearest", "border_mode": "constant", "fill": label_fill(fill, dtype)}
    return spec.model_copy(update={k: v for k, v in update.items() if k in type(spec).model_fields})


def label_fill(label: int, dtype: Any) -> float:
    """The recipe `fill` value that writes exactly `label` into an image of `dtype` (colour values are given
    on the 8-bit scale: README "Colour values"); masks are warped as uint8 planes, so this is the label."""
    return float(label)


def warp_mask(spec: Any, params: dict[str, Any], mask: np.ndarray | None, ignore: int, ctx: Any):
    if mask is None:
        return None
    return warp_label_map(mask, ignore, lambda plane, fill: nearest(spec, fill, plane.dtype).apply(plane, params, ctx))


def warp_label_map(mask: np.ndarray, ignore: int, warp: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """`warp(uint8 plane, fill label)` applied to a label map; a uint16 map is warped byte plane by byte plane
    (nearest sampling moves whole pixels, so the planes stay aligned and every label survives exactly)."""
    if mask.dtype != np.uint16:
        return warp(mask, ignore)
    high = warp((mask >> 8).astype(np.uint8), ignore >> 8)
    low = warp((mask & 0xFF).astype(np.uint8), ignore & 0xFF)
    return (high.astype(np.uint16) << 8) | low


def _warp_binary_matrix(mask: np.ndarray, matrix: Matrix, size: tuple[int, int]) -> np.ndarray:
    centre = np.linalg.inv(_CORNERS) @ matrix @ _CORNERS
    return cv2.warpPerspective(mask, centre, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)


def _raster(instance: Instance, size: tuple[int, int]) -> np.ndarray:
    """The object's region as a uint8 image (255 inside) of the image's size."""
    if instance.rle is not None:
        from augcli.formats.rle import rle_decode

        return (rle_decode(instance.rle) > 0).astype(np.uint8) * 255
    if instance.polygons:
        rings = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in instance.polygons]
    else:
        x0, y0, x1, y1 = instance.box
        rings = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])]
    return rasterize(rings, size)


SUPERSAMPLE = 8


def rasterize(rings: list[np.ndarray], size: tuple[int, int], value: int = 255) -> np.ndarray:
    """Pixels whose centre lies inside the rings (corner coordinates), as a uint8 image of `size`.

    cv2.fillPoly also fills every pixel an edge touches (one pixel too many on the far sides), so the rings
    are drawn 8x larger, within their bounds only, and each pixel takes the sample at its centre."""
    width, height = size
    out = np.zeros((height, width), dtype=np.uint8)
    points = np.vstack(rings)
    x0, y0 = max(0, int(np.floor(points[:, 0].min()))), max(0, int(np.floor(points[:, 1].min())))
    x1, y1 = min(width, int(np.ceil(points[:, 0].max()))), min(height, int(np.ceil(points[:, 1].max())))
    if x1 <= x0 or y1 <= y0:
        return out
    s = SUPERSAMPLE
    fine = np.zeros(((y1 - y0) * s, (x1 - x0) * s), dtype=np.uint8)
    scaled = [np.round(((r - [x0, y0]) * s - 0.5) * 16).astype(np.int32) for r in rings]
    cv2.fillPoly(fine, scaled, 1, cv2.LINE_8, 4)
    out[y0:y1, x0:x1] = fine[s // 2 :: s, s // 2 :: s] * np.uint8(value)
    return out


def _outline(region: np.ndarray) -> list[list[float]]:
    contours, _ = cv2.findContours((region > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rings = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True):
        points = cv2.approxPolyDP(contour, 0.75, True).reshape(-1, 2).astype(np.float64) + 0.5
        if len(points) >= 3:
            rings.append(points.reshape(-1).tolist())
    return rings


# --- geometry helpers ----------------------------------------------------------------------------------------


def clip_polygon(ring: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sutherland-Hodgman against the image rectangle [0, w] x [0, h]."""
    width, height = size
    edges = [(0, 0.0, 1), (0, float(width), -1), (1, 0.0, 1), (1, float(height), -1)]  # (axis, limit, side)
    points = [tuple(p) for p in ring]
    for axis, limit, side in edges:
        if not points:
            break
        out = []
        for index, current in enumerate(points):
            previous = points[index - 1]
            inside_now = side * (current[axis] - limit) >= 0
            inside_before = side * (previous[axis] - limit) >= 0
            if inside_now != inside_before:
                t = (limit - previous[axis]) / (current[axis] - previous[axis])
                out.append(tuple(previous[i] + t * (current[i] - previous[i]) for i in range(2)))
            if inside_now:
                out.append(current)
        points = out
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def _bounds(points: np.ndarray) -> list[float]:
    return [float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())]


def _area(box: list[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
