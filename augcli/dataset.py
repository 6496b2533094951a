"""Walk a class-folder dataset: `root/<class>/...` or `root/<split>/<class>/...`.

The order is deterministic (sorted paths), hidden entries are ignored, directory symlinks are never
followed and file symlinks are only taken when they stay inside the root (os.walk with followlinks
can loop or escape the tree). Images in nested folders of a class belong to that class.

Every entry has an outcome: a sample, a `Skipped` record (which expand turns into a manifest row and a
summary line), or an ignore rule: hidden names, and files without an image extension (counted in
`ignored`). A symlink that does not lead to a regular file (a folder, a loop, nothing) is always
reported, whatever its name: a directory link is never followed (inside the root its images would be
counted twice, outside it escapes the dataset), but it must not vanish without a word either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.entries import SPLIT_NAMES, entry_problem, is_hidden, is_image_name, link_problem
from augcli.errors import DatasetError


@dataclass(frozen=True)
class Sample:
    """One source image. `relpath` is posix and relative to the root: the source's stable id."""

    relpath: str
    label: str
    split: str | None  # None for a flat root/<class>/ dataset
    annotation: str = ""  # annotated layouts: where the image's boxes/mask are (augcli.formats)
    place: str = ""  # a recipe's split: section: the split folder its outputs go under ("val/")

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.relpath)[1]


@dataclass(frozen=True)
class Skipped:
    relpath: str
    reason: str
    message: str


@dataclass
class Dataset:
    root: Path
    layout: str  # "flat" or "split"
    samples: list[Sample] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    ignored: int = 0  # non-image files, not errors
    stamps: dict[str, str] = field(default_factory=dict)  # URL datasets: relpath -> size:ETag (scan_remote)
    annotations: Any = None  # detection/segmentation layouts: the formats.AnnotatedDataset (samples moved here)
    split_from: dict[str, Any] | None = None  # flat datasets split by a recipe's split: section (split.py)

    def classes(self, split: str | None = None) -> list[str]:
        return sorted({s.label for s in self.samples if s.split == split})

    def splits(self) -> list[str | None]:
        return sorted({s.split for s in self.samples}, key=lambda v: v or "")


def scan(root: str | Path, layout: str = "auto") -> Dataset:
    """A class-folder dataset, or (`layout` auto, yolo, coco, voc, masks) an annotated one."""
    from augcli.storage import is_url, local_path

    if is_url(root):  # s3://, gs://, ...: one listing, the same rules (fsspec only loaded for URLs)
        if layout not in ("auto", "classes"):
            raise DatasetError(f"--layout {layout}: annotated datasets are read from local folders only")
        return scan_remote(str(root))
    root = local_path(root)
    if layout != "classes" and root.is_dir():
        from augcli.formats import detect

        if layout != "auto" or detect(root) != "classes":
            return scan_annotated(root, layout)
    if not root.exists():
        raise DatasetError(f"dataset folder not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"dataset path is not a folder: {root}")
    top = _visible_dirs(root)
    splits = split_folders(top, root)
    dataset = Dataset(root=root, layout="split" if splits else "flat")
    real_root = root.resolve()
    if splits:
        for split in splits:
            _report_loose_files(root, split, dataset)
            for label in _visible_dirs(root / split):
                _scan_class(root, f"{split}/{label}", label, split, dataset, real_root)
    else:
        for label in top:
            _scan_class(root, label, label, None, dataset, real_root)
    _report_loose_files(root, "", dataset)
    if not dataset.samples and not dataset.skipped:
        raise DatasetError(f"{root}: no images found in class folders (expected root/<class>/*.jpg)")
    return dataset


def split_folders(top: list[str], shown: Any) -> list[str]:
    """The split folders among a root's folders ([] for root/<class>/); a mix of both is refused."""
    splits = [d for d in top if d.lower() in SPLIT_NAMES]
    if splits and len(splits) != len(top):
        others = sorted(set(top) - set(splits))
        raise DatasetError(
            f"{shown}: mixes split folders ({', '.join(splits)}) with class folders ({', '.join(others)}); "
            "use either root/<class>/ or root/<split>/<class>/"
        )
    return splits


def _visible_dirs(folder: Path) -> list[str]:
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not is_hidden(entry.name) and entry.is_dir(follow_symlinks=False):
                names.append(entry.name)
    return sorted(names)


def _report_loose_files(root: Path, sub: str, dataset: Dataset) -> None:
    """Entries of the root (or a split folder) that are not class folders: images there are reported, links
    that lead to no file (a class folder that is a symlink, a loop) too, other files are counted as ignored."""
    folder = root / sub if sub else root
    real_root = root.resolve()
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if is_hidden(entry.name) or entry.is_dir(follow_symlinks=False):
                continue
            rel = f"{sub}/{entry.name}" if sub else entry.name
            dead_end = entry.is_symlink() and not entry.is_file()  # a folder (a class folder?), a loop, nothing
            problem = link_problem(Path(entry.path), real_root) if dead_end else None
            if problem:
                dataset.skipped.append(Skipped(rel, *problem))
            elif is_image_name(entry.name):
                dataset.skipped.append(Skipped(rel, "outside_class", "image not inside a class folder; ignored"))
            else:
                dataset.ignored += 1


def _scan_class(root: Path, rel_dir: str, label: str, split: str | None, dataset: Dataset, real_root: Path) -> None:
    found = 0
    for dirpath, dirnames, filenames in os.walk(root / rel_dir, followlinks=False):
        rel_base = Path(dirpath).relative_to(root).as_posix()
        links = sorted(d for d in dirnames if not is_hidden(d) and os.path.islink(os.path.join(dirpath, d)))
        for name in links:  # os.walk lists directory links but never enters them: say so
            dataset.skipped.append(Skipped(f"{rel_base}/{name}", *link_problem(root / rel_base / name, real_root)))
        dirnames[:] = sorted(d for d in dirnames if not is_hidden(d) and d not in links)
        for name in sorted(filenames):
            if is_hidden(name):
                continue
            rel = f"{rel_base}/{name}"
            if not is_image_name(name):
                dead_end = os.path.islink(root / rel) and not os.path.exists(root / rel)  # broken or a loop
                if dead_end:
                    dataset.skipped.append(Skipped(rel, *link_problem(root / rel, real_root)))
                else:
                    dataset.ignored += 1
                continue
            problem = entry_problem(root / rel, real_root)
            if problem:
                dataset.skipped.append(Skipped(rel, *problem))
                continue
            dataset.samples.append(Sample(rel, label, split))
            found += 1
    if not found:
        dataset.empty_classes.append(rel_dir)


# --- annotated datasets (detection, segmentation) -------------------------------------------------------------
ANNOTATED_LABEL = ""  # an annotated image has objects, not a class: one group per split


def scan_annotated(root: Path, layout: str) -> Dataset:
    from augcli.formats import scan as scan_format

    annotated = scan_format(root, layout)
    has_splits = any(s.split is not None for s in annotated.samples)
    dataset = Dataset(root=root, layout="split" if has_splits else "flat", annotations=annotated)
    dataset.samples = [Sample(s.relpath, ANNOTATED_LABEL, s.split, s.annotation) for s in annotated.samples]
    dataset.skipped = [Skipped(relpath, reason, message) for relpath, reason, message in annotated.problems]
    dataset.ignored = len(annotated.ignored)
    annotated.samples = []  # the dataset's samples carry the references; the rest travels to every worker
    if not dataset.samples and not dataset.skipped:
        raise DatasetError(f"{root}: no annotated images found ({annotated.layout} layout)")
    return dataset


# --- datasets under a URL ---------------------------------------------------------------------------------
# One recursive listing (an object store has no folders, only keys; listing them flat is one paged request
# per 1,000 keys) is arranged into the tree a local walk sees: same layouts, same order (per folder, files by
# name before subfolders by name, as the sorted os.walk above), hidden entries ignored, images outside class
# folders reported. There are no symlinks, pipes or devices to refuse.


def scan_remote(root: str) -> Dataset:
    from augcli import storage

    shown = storage.redact(root)
    fs, path = storage.filesystem(root)
    try:
        if fs.isfile(path):
            raise DatasetError(f"dataset path is not a folder: {shown}")
        listing = storage.list_files(root)
    except DatasetError:
        raise
    except Exception as exc:  # OSError from fsspec, or the store's own (botocore's bad bucket name ...)
        raise DatasetError(f"cannot list the dataset {shown}: {storage.describe(exc)}") from None
    files = {rel: info for rel, info in listing.items() if not any(is_hidden(p) for p in rel.split("/"))}
    if not listing:
        raise DatasetError(f"dataset folder not found (or empty): {shown}")
    top = sorted({rel.split("/")[0] for rel in files if "/" in rel})
    splits = split_folders(top, shown)
    dataset = Dataset(root=root, layout="split" if splits else "flat")  # type: ignore[arg-type]
    class_dirs: list[tuple[str, str, str | None]] = []  # (folder, label, split)
    for split in splits:
        _loose(files, split, dataset)
        labels = sorted({rel.split("/")[1] for rel in files if rel.startswith(split + "/") and rel.count("/") >= 2})
        class_dirs += [(f"{split}/{label}", label, split) for label in labels]
    if not splits:
        class_dirs = [(label, label, None) for label in top]
    by_dir: dict[str, list[str]] = {folder: [] for folder, _, _ in class_dirs}
    for rel in files:
        parts = rel.split("/")
        depth = 2 if splits else 1
        if len(parts) > depth:
            folder = "/".join(parts[:depth])
            if folder in by_dir:
                by_dir[folder].append(rel)
    for folder, label, split in class_dirs:
        found = 0
        for rel in sorted(by_dir[folder], key=lambda r: _walk_key(r[len(folder) + 1 :])):
            if not is_image_name(rel.rsplit("/", 1)[1]):
                dataset.ignored += 1
                continue
            dataset.samples.append(Sample(rel, label, split))
            dataset.stamps[rel] = storage.stamp(files[rel])
            found += 1
        if not found:
            dataset.empty_classes.append(folder)
    _loose(files, "", dataset)
    if not dataset.samples and not dataset.skipped:
        raise DatasetError(f"{shown}: no images found in class folders (expected root/<class>/*.jpg)")
    return dataset


def _walk_key(rel: str) -> tuple[tuple[int, str], ...]:
    """Sorted os.walk order: in each folder, its files by name, then its subfolders by name."""
    parts = rel.split("/")
    return tuple((1, p) for p in parts[:-1]) + ((0, parts[-1]),)


def _loose(files: dict, sub: str, dataset: Dataset) -> None:
    prefix = f"{sub}/" if sub else ""
    for rel in sorted(files):
        name = rel[len(prefix) :]
        if rel.startswith(prefix) and "/" not in name and is_image_name(name):
            dataset.skipped.append(Skipped(rel, "outside_class", "image not inside a class folder; ignored"))
