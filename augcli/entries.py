"""The rules a dataset walk applies to each entry, shared by the class-folder walk (dataset.py) and the
annotation formats (formats/): which names are images, which are hidden, which splits are known, and why
a symlink or a special file is not taken as a source."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

SPLIT_NAMES = ("train", "val", "valid", "validation", "test")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def entry_problem(path: Path, real_root: Path) -> tuple[str, str] | None:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return link_problem(path, real_root)
    if not stat.S_ISREG(info.st_mode):
        return "not_a_file", "not a regular file (device, pipe or socket)"
    return None


def link_problem(path: Path, real_root: Path) -> tuple[str, str] | None:
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


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
