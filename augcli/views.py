"""Test-time-augmentation views: deterministic, named, each with the affine map back to the source.

A view is a pure function of the image and its name; no randomness. It is planned as recorded steps of
the catalogue's own transforms (flips, quarter turns, crops, a resize), which tta hands to the one
renderer as a replay, so views go through the same kernels, bit depth and encoder as expand.

Coordinates are pixel centres
(x right, y down, the top-left pixel's centre at (0, 0)), so a view pixel (x, y) comes from source
pixel `inverse @ [x, y, 1]`. Exact views (flips, quarter turns, crops) map integer pixels to integer
pixels; scales follow cv2.resize's half-pixel-centre convention.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

FIXED_VIEWS = ("identity", "hflip", "vflip", "rot90", "rot180", "rot270", "transpose")
CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right", "center")
FIVE_CROP = tuple(f"crop_{c}" for c in CORNERS)
TEN_CROP = FIVE_CROP + tuple(f"{name}_hflip" for name in FIVE_CROP)
GROUPS = {"five_crop": FIVE_CROP, "ten_crop": TEN_CROP}
SCALE = re.compile(r"^scale_(\d+(?:\.\d+)?)$")
MIN_SCALE, MAX_SCALE = 0.1, 4.0


def known_names() -> list[str]:
    """What a recipe may list (scale_<factor> stands for any factor, e.g. scale_0.9)."""
    return list(FIXED_VIEWS) + list(GROUPS) + list(TEN_CROP) + ["scale_<factor>"]


def expand_views(names: list[str]) -> list[str]:
    """Group names (five_crop, ten_crop) replaced by their members, duplicates dropped, order kept.

    Raises ValueError naming the first unknown view."""
    out: list[str] = []
    for name in names:
        for member in GROUPS.get(name, (name,)):
            check_view(member)
            if member not in out:
                out.append(member)
    return out


def check_view(name: str) -> None:
    if name in FIXED_VIEWS or name in TEN_CROP:
        return
    match = SCALE.match(name)
    if match:
        factor = float(match.group(1))
        if not MIN_SCALE <= factor <= MAX_SCALE:
            raise ValueError(f"view {name!r}: scale factor must lie within [{MIN_SCALE}, {MAX_SCALE}]")
        return
    close = difflib.get_close_matches(name, list(FIXED_VIEWS) + list(GROUPS) + list(TEN_CROP), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown view {name!r}{hint}")


@dataclass
class View:
    name: str
    steps: list[Any]  # the transforms a view runs (specs), found by the recorded steps' `step` index
    applied: list[dict[str, Any]]  # recorded steps with concrete params: replayed by renderer.render
    inverse: np.ndarray  # 3x3, view pixel -> source pixel
    box: tuple[int, int, int, int] | None = None  # crop (x0, y0, x1, y1) in source pixels, x1/y1 exclusive

    @property
    def matrix(self) -> np.ndarray:
        """source pixel -> view pixel."""
        return np.linalg.inv(self.inverse)


def plan_view(width: int, height: int, name: str, crop_fraction: float = 0.875) -> View:
    from augcli.transforms.geometry import HFlip, RandomCrop, Rot90, Transpose, VFlip

    w1, h1 = width - 1, height - 1
    if name.startswith("crop_"):
        corner = name.removeprefix("crop_").removesuffix("_hflip")
        if corner not in CORNERS:
            raise ValueError(f"unknown view {name!r}")
        x0, y0, x1, y1 = crop_box(width, height, corner, fraction=crop_fraction)
        region = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0, "out_width": x1 - x0, "out_height": y1 - y0}
        steps: list[Any] = [RandomCrop()]
        applied = [_step(steps, region)]
        inverse = [[1, 0, x0], [0, 1, y0]]
        if name.endswith("_hflip"):
            steps.append(HFlip())
            applied.append(_step(steps, {}))
            inverse = [[-1, 0, x1 - 1], [0, 1, y0]]
        return View(name, steps, applied, _homogeneous(inverse), (x0, y0, x1, y1))
    match = SCALE.match(name)
    if match:
        factor = float(match.group(1))
        new_w, new_h = max(1, round(width * factor)), max(1, round(height * factor))
        steps = [RandomCrop(interpolation="area" if factor < 1 else "linear")]
        whole = {"x": 0, "y": 0, "width": width, "height": height, "out_width": new_w, "out_height": new_h}
        sx, sy = width / new_w, height / new_h
        inverse = [[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]]
        return View(name, steps, [_step(steps, whole)], _homogeneous(inverse))
    fixed: dict[str, tuple[Any, dict[str, Any], list[list[float]]]] = {
        "identity": (None, {}, [[1, 0, 0], [0, 1, 0]]),
        "hflip": (HFlip(), {}, [[-1, 0, w1], [0, 1, 0]]),
        "vflip": (VFlip(), {}, [[1, 0, 0], [0, -1, h1]]),
        # the rot90 kernel turns counter-clockwise: view (x, y) <- source (w-1-y, x)
        "rot90": (Rot90(), {"k": 1}, [[0, -1, w1], [1, 0, 0]]),
        "rot180": (Rot90(), {"k": 2}, [[-1, 0, w1], [0, -1, h1]]),
        "rot270": (Rot90(), {"k": 3}, [[0, 1, 0], [-1, 0, h1]]),
        "transpose": (Transpose(), {}, [[0, 1, 0], [1, 0, 0]]),
    }
    if name not in fixed:
        raise ValueError(f"unknown view {name!r}")
    spec, params, inverse = fixed[name]
    steps = [] if spec is None else [spec]
    return View(name, steps, [_step(steps, params)] if steps else [], _homogeneous(inverse))


def _step(steps: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """The record of the last spec of `steps` applied with `params`, as a manifest stores steps."""
    return {"name": steps[-1].transform_name(), "step": str(len(steps) - 1), "params": params}


def crop_box(width: int, height: int, corner: str, fraction: float) -> tuple[int, int, int, int]:
    cw, ch = max(1, round(width * fraction)), max(1, round(height * fraction))
    x0 = {"top_left": 0, "bottom_left": 0, "top_right": width - cw, "bottom_right": width - cw}
    y0 = {"top_left": 0, "top_right": 0, "bottom_left": height - ch, "bottom_right": height - ch}
    # the centre crop rounds like torchvision's center_crop
    x = x0.get(corner, int(round((width - cw) / 2.0)))
    y = y0.get(corner, int(round((height - ch) / 2.0)))
    return x, y, x + cw, y + ch


def _homogeneous(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows + [[0, 0, 1]], dtype=np.float64)


def to_source(inverse: np.ndarray | list, points: np.ndarray | list) -> np.ndarray:
    """Map view pixel coordinates (N x 2, x then y) to source pixel coordinates."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    mapped = np.hstack([pts, np.ones((len(pts), 1))]) @ np.asarray(inverse, dtype=np.float64).T
    return mapped[:, :2] / mapped[:, 2:]


def boxes_to_source(inverse: np.ndarray | list, boxes: np.ndarray | list) -> np.ndarray:
    """Map boxes predicted on a view ([x0, y0, x1, y1] per row, corner coordinates: a box over a whole W x H
    view is [0, 0, W, H]) to source corner coordinates: the bounds of their four mapped corners. Exact for flips,
    turns and crops (a flipped box comes back as the same box), and for scales."""
    from augcli.spatial import corner_matrix, map_points

    matrix = corner_matrix(np.asarray(inverse, dtype=np.float64))
    out = []
    for x0, y0, x1, y1 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        corners = map_points(matrix, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        out.append([*corners.min(axis=0), *corners.max(axis=0)])
    return np.array(out, dtype=np.float64).reshape(-1, 4)


def map_back(
    prediction: np.ndarray,
    inverse: np.ndarray | list,
    source_size: tuple[int, int],
    interpolation: int = cv2.INTER_NEAREST,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a dense prediction made on a view back onto the source grid (width, height).

    Returns the warped prediction and a mask of the source pixels the view covered (crops cover
    part of the source only)."""
    width, height = source_size
    # warpAffine samples dst(p) = src(M^-1 p); with M = inverse, dst(p) = view(matrix @ p)
    inv2 = np.asarray(inverse, dtype=np.float64)[:2]
    warped = cv2.warpAffine(prediction, inv2, (width, height), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)
    ones = np.ones(prediction.shape[:2], dtype=np.uint8)
    covered = cv2.warpAffine(ones, inv2, (width, height), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    return warped, covered.astype(bool)
