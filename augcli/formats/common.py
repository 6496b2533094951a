"""Helpers every annotation format shares: walking image folders, mapping an image path to its annotation
path, checking coordinates against the image, and formatting numbers deterministically."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from augcli.entries import IMAGE_EXTENSIONS, SPLIT_NAMES, entry_problem, is_hidden
from augcli.errors import DatasetError, OutputError
from augcli.formats.model import AnnotatedDataset, AnnotationError

# Split folder names: the class-folder scanner's names, plus suffixed forms such as COCO's train2017.
_SPLIT = re.compile(r"^(?:" + "|".join(SPLIT_NAMES) + r")[\w.-]*$", re.IGNORECASE)


def is_split_name(name: str) -> bool:
    return bool(_SPLIT.match(name))


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def check_root(root: str | Path) -> Path:
    from augcli.storage import is_url, local_path

    if is_url(root):
        raise DatasetError(f"{root}: annotated datasets are read from local folders only (for now)")
    path = local_path(root)
    if not path.exists():
        raise DatasetError(f"dataset folder not found: {path}")
    if not path.is_dir():
        raise DatasetError(f"dataset path is not a folder: {path}")
    return path


def visible_dirs(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if not is_hidden(e.name) and e.is_dir(follow_symlinks=False))


def visible_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if not is_hidden(e.name) and not e.is_dir(follow_symlinks=False))


def walk_files(root: Path, rel_dir: str, recursive: bool = True) -> list[str]:
    """Relpaths of the visible files under root/rel_dir, sorted, directory symlinks never followed."""
    base = root / rel_dir if rel_dir else root
    if not recursive:
        return [join(rel_dir, name) for name in visible_files(base)]
    found = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_hidden(d))
        rel_base = Path(dirpath).relative_to(root).as_posix()
        rel_base = "" if rel_base == "." else rel_base
        found.extend(join(rel_base, name) for name in sorted(filenames) if not is_hidden(name))
    return sorted(found)


def images_in(root: Path, rel_dir: str, dataset: AnnotatedDataset, recursive: bool = True) -> list[str]:
    """The usable images under rel_dir. Symlinks leaving the root and non-regular files become problems
    (the class-folder scanner's one path-safety rule); non-image files are listed as ignored."""
    real_root = root.resolve()
    images = []
    for rel in walk_files(root, rel_dir, recursive):
        if not is_image_name(rel):
            continue
        problem = entry_problem(root / rel, real_root)
        if problem:
            dataset.problems.append((rel, *problem))
        else:
            images.append(rel)
    return images


def join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def stem_path(rel: str) -> str:
    """The relpath without its extension: the key that pairs an image with its annotation file."""
    return os.path.splitext(rel)[0]


def folder_pairs(root: Path, partner: str) -> dict[str, str]:
    """Each `images/` folder with a `partner` folder beside it (labels/, masks/), at the root or in a split
    folder: image folder -> partner folder."""
    pairs = {}
    for base in [""] + [d for d in visible_dirs(root) if is_split_name(d)]:
        if {"images", partner} <= set(visible_dirs(root / base)):
            pairs[join(base, "images")] = join(base, partner)
    return pairs


def swap_dir(image_rel: str, pairs: dict[str, str], suffix: str) -> str:
    """The annotation relpath of an image: the longest image folder of `pairs` that holds the image is
    replaced by its annotation folder, the inner path is kept and the extension becomes `suffix`."""
    for image_dir in sorted(pairs, key=len, reverse=True):
        if image_dir == "" or image_rel.startswith(image_dir + "/"):
            inner = image_rel[len(image_dir) + 1 :] if image_dir else image_rel
            return join(pairs[image_dir], stem_path(inner) + suffix)
    raise OutputError(f"{image_rel}: not inside any image folder of the dataset ({', '.join(sorted(pairs))})")


def fmt(value: float, decimals: int) -> str:
    """A fixed number of decimals with trailing zeros stripped: '0.5', '12', never '-0'."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def clip_coords(
    coords: Iterable[float], width: float, height: float, tolerance: float, path: str, line: int | None
) -> list[float]:
    """Flat [x, y, ...] pixel coordinates clipped to [0, W] x [0, H].

    Exporters round, and VOC files often slip to 0-based corners, so a coordinate up to `tolerance` pixels
    outside the image is clipped silently (the written file then differs from the source there); farther
    out is an error, because the annotation then describes some other image size or is simply wrong.
    """
    out = []
    for index, value in enumerate(coords):
        limit = width if index % 2 == 0 else height
        if value < -tolerance or value > limit + tolerance:
            axis = "x" if index % 2 == 0 else "y"
            raise AnnotationError(
                path,
                "box_outside_image",
                f"{axis}={value:g} is outside 0..{limit:g} of a {width:g}x{height:g} image",
                line,
            )
        out.append(min(max(value, 0.0), float(limit)))
    return out


def bounds(polygons: list[list[float]]) -> list[float]:
    xs = [v for poly in polygons for v in poly[0::2]]
    ys = [v for poly in polygons for v in poly[1::2]]
    return [min(xs), min(ys), max(xs), max(ys)]


def check_box(box: list[float], path: str, line: int | None) -> list[float]:
    if not (box[2] > box[0] and box[3] > box[1]):
        raise AnnotationError(path, "degenerate_box", f"box {[round(v, 3) for v in box]} has no area", line)
    return box


def check_category(category: int, names: list[str], path: str, line: int | None, known_from: str) -> int:
    if not 0 <= category < len(names):
        raise AnnotationError(
            path, "unknown_class", f"class id {category}; {known_from} defines ids 0..{len(names) - 1}", line
        )
    return category


def read_text(root: Path, rel: str) -> str:
    """A label file as text; undecodable bytes are a malformed label, not a crash."""
    try:
        return (root / rel).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(rel, "malformed_label", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except OSError as exc:
        raise AnnotationError(rel, "malformed_label", f"cannot read: {exc.strerror}") from None


def names_from_lines(root: Path, rel: str) -> list[str]:
    """classes.txt / labelmap.txt: one name per line (a labelmap's `name:colour::` keeps the name part)."""
    names = []
    for line in read_text(root, rel).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.append(line.split(":", 1)[0].strip())
    return names
