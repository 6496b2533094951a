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

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from augcli.errors import DatasetError

SPLIT_NAMES = ("train", "val", "valid", "validation", "test")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


@dataclass(frozen=True)
class Sample:
    """One source image. `relpath` is posix and relative to the root: the source's stable id."""

    relpath: str
    label: str
    split: str | None  # None for a flat root/<class>/ dataset

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
    stamps: dict[str, str] = field(default_factory=dict)  # URL datasets: relpath -> size:ETag (dataset_remote)

    def classes(self, split: str | None = None) -> list[str]:
        return sorted({s.label for s in self.samples if s.split == split})

    def splits(self) -> list[str | None]:
        return sorted({s.split for s in self.samples}, key=lambda v: v or "")


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def scan(root: str | Path) -> Dataset:
    from augcli.storage import is_url, local_path

    if is_url(root):  # s3://, gs://, ...: one listing, the same rules (fsspec only loaded for URLs)
        from augcli.dataset_remote import scan_remote

        return scan_remote(str(root))
    root = local_path(root)
    if not root.exists():
        raise DatasetError(f"dataset folder not found: {root}")
    if not root.is_dir():
        raise DatasetError(f"dataset path is not a folder: {root}")
    top = _visible_dirs(root)
    splits = [d for d in top if d.lower() in SPLIT_NAMES]
    if splits and len(splits) != len(top):
        others = sorted(set(top) - set(splits))
        raise DatasetError(
            f"{root}: mixes split folders ({', '.join(splits)}) with class folders ({', '.join(others)}); "
            "use either root/<class>/ or root/<split>/<class>/"
        )
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
            problem = _link_problem(Path(entry.path), real_root) if dead_end else None
            if problem:
                dataset.skipped.append(Skipped(rel, *problem))
            elif _is_image_name(entry.name):
                dataset.skipped.append(Skipped(rel, "outside_class", "image not inside a class folder; ignored"))
            else:
                dataset.ignored += 1


def _scan_class(root: Path, rel_dir: str, label: str, split: str | None, dataset: Dataset, real_root: Path) -> None:
    found = 0
    for dirpath, dirnames, filenames in os.walk(root / rel_dir, followlinks=False):
        rel_base = Path(dirpath).relative_to(root).as_posix()
        links = sorted(d for d in dirnames if not is_hidden(d) and os.path.islink(os.path.join(dirpath, d)))
        for name in links:  # os.walk lists directory links but never enters them: say so
            dataset.skipped.append(Skipped(f"{rel_base}/{name}", *_link_problem(root / rel_base / name, real_root)))
        dirnames[:] = sorted(d for d in dirnames if not is_hidden(d) and d not in links)
        for name in sorted(filenames):
            if is_hidden(name):
                continue
            rel = f"{rel_base}/{name}"
            if not _is_image_name(name):
                dead_end = os.path.islink(root / rel) and not os.path.exists(root / rel)  # broken or a loop
                if dead_end:
                    dataset.skipped.append(Skipped(rel, *_link_problem(root / rel, real_root)))
                else:
                    dataset.ignored += 1
                continue
            problem = _entry_problem(root / rel, real_root)
            if problem:
                dataset.skipped.append(Skipped(rel, *problem))
                continue
            dataset.samples.append(Sample(rel, label, split))
            found += 1
    if not found:
        dataset.empty_classes.append(rel_dir)


def _entry_problem(path: Path, real_root: Path) -> tuple[str, str] | None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return _link_problem(path, real_root)
    if not stat.S_ISREG(info.st_mode):
        return "not_a_file", "not a regular file (device, pipe or socket)"
    return None


def _link_problem(path: Path, real_root: Path) -> tuple[str, str] | None:
    """Why a symlink is not taken as a source, or None for a link to a regular file inside the root."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        return "symlink_loop", "symlink loop (it leads back to itself); not followed"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink_loop", "symlink loop (it leads back to itself); not followed"
        return "symlink_broken", f"symlink to {os.readlink(path)}: {exc.strerror or 'cannot be followed'}"
    if target.is_dir():
        if not target.is_relative_to(real_root):
            return "symlink_outside", f"symlink to the folder {target} leaves the dataset root; not followed"
        if path.parent.resolve().is_relative_to(target):
            return "symlink_loop", f"symlink to {target}, a folder that contains it (a loop); not followed"
        return "symlink_dir", (
            f"symlink to the folder {target} inside the dataset root; directory links are never followed "
            "(its images would be counted twice)"
        )
    if not target.is_relative_to(real_root):
        return "symlink_outside", f"symlink to {target} leaves the dataset root; not followed"
    if not target.is_file():
        return "not_a_file", "symlink to something that is not a regular file"
    return None


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
