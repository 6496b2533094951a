"""Put a file's exact bytes at a new path, atomically: a hard link where the file system allows it, else a copy.

Shared by `split` (dataset -> split tree) and `export --to hf` (expanded dataset -> imagefolder tree). A hard link
costs no space and no read, but the two names are one file: editing either in place changes both. Linking fails
across file systems (EXDEV), on file systems without links (EPERM, ENOTSUP) and at the link limit (EMLINK); the
file is then copied, and the caller reports how many of each it made.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from augcli.errors import DatasetError
from augcli.imageio import read_bytes, temporary_name, write_atomic


def link_or_copy(source: Path, dest: Path, sha256: str | None = None) -> bool:
    """Place `source`'s bytes at `dest` (its folder is created); True for a hard link, False for a copy.

    A copy is checked against `sha256` when given: a source that changed since it was hashed is refused rather
    than recorded with a digest it no longer has."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = temporary_name(dest)
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:
        data = read_bytes(source)
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise DatasetError(f"{source} changed while it was being copied; run the command again") from None
        write_atomic(dest, data)
        return False
    try:
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return True
