"""The manifest: JSONL, one self-contained object per line.

Line 1 is a header (schema version, library versions, the recipe and its hash), then one row per
output file or skipped source, in dataset order, then a footer with counts, whose presence shows the
file is complete. The file is written under a temporary name and renamed when done, so a manifest on
disk is always whole. No timestamps: the same run gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from augcli.errors import ManifestError
from augcli.version import __version__

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.jsonl"
STATE_DIR = ".augcli"  # an unfinished run's state inside its output (resume.py, parts.py); never an output


# The modules whose code decides an output's bytes (sampling, kernels, decoding, encoding, seeding).
BYTE_DECIDING = (
    *("kernels", "transforms", "pipeline.py", "imageio.py", "renderer.py", "seeding.py", "recipe.py", "views.py"),
)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (first 16 hex digits) of the augcli source that decides output bytes.

    The version number does not move when a kernel changes during development, so without this a replay
    mismatch or a resumed run mixing two kernels' outputs could not be explained or refused."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for entry in BYTE_DECIDING:
        for path in sorted((package / entry).rglob("*.py")) if (package / entry).is_dir() else [package / entry]:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    import cv2
    import numpy
    import PIL

    return {
        "augcli": __version__,
        "augcli_code": code_fingerprint(),
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "python": platform.python_version(),
    }


def header(recipe: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from augcli.transforms.domain import reference_hashes

    references = reference_hashes(recipe)  # {folder: sha256} of the domain steps' reference images
    return {
        "type": "header",
        "schema": SCHEMA_VERSION,
        "versions": library_versions(),
        "recipe_sha256": recipe.sha256(),
        "recipe": json.loads(recipe.canonical_json()),
        **({"references": references} if references else {}),
        **(extra or {}),
    }


def dumps(record: dict[str, Any]) -> str:
    # ensure_ascii keeps names that are not valid UTF-8 (surrogate escapes) writable and round-trippable.
    return json.dumps(record, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


class ManifestWriter:
    """Writes `<dir>/manifest.jsonl` via a temporary file; `commit()` renames it into place."""

    def __init__(self, directory: Path, name: str = MANIFEST_NAME) -> None:
        self.path = directory / name
        self.temp = directory / f".{name}.tmp"
        self._handle: IO[str] | None = open(self.temp, "w", encoding="ascii", newline="\n")  # noqa: SIM115

    def write(self, record: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(dumps(record) + "\n")

    def write_lines(self, text: str) -> None:
        """Records already encoded by `dumps`, one per line (a resumed run's kept rows, copied as they are)."""
        assert self._handle is not None
        self._handle.write(text)

    def commit(self) -> Path:
        assert self._handle is not None
        self._handle.close()
        self._handle = None
        os.replace(self.temp, self.path)
        return self.path

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.temp.unlink(missing_ok=True)


def manifest_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, problem) for every line: streams, never raises on content (audit)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON ({exc.msg})"
                continue
            if not isinstance(record, dict) or not isinstance(record.get("type"), str):
                yield number, None, "not a manifest record (an object with a 'type')"
                continue
            yield number, record, ""


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Stream records, refusing the first line that does not parse or a header this augcli cannot read."""
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    for number, record, problem in manifest_lines(path):
        if record is None:
            raise ManifestError(f"{path}:{number}: {problem}")
        if number == 1:
            if record["type"] != "header":
                raise ManifestError(f"{path}:1: the first line must be the header")
            if record.get("schema") != SCHEMA_VERSION:
                raise ManifestError(
                    f"{path}:1: manifest schema {record.get('schema')!r} is not supported "
                    f"(this augcli reads schema {SCHEMA_VERSION})"
                )
        yield record


# --- rows ---------------------------------------------------------------------------------------------------


def output_row(path: str, kind: str, item: Any, source_sha: str, decoded: Any, image: Any, sha: str, size: int) -> dict:
    """The row of one written file (`image`: the pixels as the file holds them; `size`: its length in bytes,
    what a re-run's stat-and-size check compares with)."""
    return {
        "type": "output",
        "path": path,
        "kind": kind,
        "source": item.source,
        "source_sha256": source_sha,
        "label": item.label,
        "split": item.split,
        "copy": None,
        "seed": None,
        "transforms": [],
        "sha256": sha,
        "bytes": size,
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "channels": 1 if image.ndim == 2 else int(image.shape[2]),
        "bit_depth": 16 if image.dtype.itemsize == 2 else 8,
        "orientation": decoded.orientation,
        "notes": decoded.notes,
    }


def skipped_row(source: str, label: str | None, split: str | None, reason: str, message: str) -> dict[str, Any]:
    return {"type": "skipped", "source": source, "label": label, "split": split, "reason": reason, "message": message}


# --- paths read from a manifest -----------------------------------------------------------------------------


def lexically_safe(rel: Any) -> bool:
    """A relative path that cannot leave its root by its text alone (no file system needed: object keys,
    manifest-only audits). `safe_output_path` adds the check of symlinks on disk."""
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        return False
    parts = rel.replace("\\", "/").split("/")
    return not (rel.startswith(("/", "\\")) or os.path.isabs(rel) or ".." in parts or parts[0].endswith(":"))


def safe_output_path(out: Path, rel: Any) -> Path:
    """`out / rel` for a path read from a manifest or journal, refusing anything that leaves `out`.

    A manifest is data: a crafted or corrupted row must not make augcli read, hash or delete files outside
    the output tree. Refused: non-strings, empty paths, absolute paths, `..` parts, and paths whose real
    location (after symlinks) is outside `out`."""
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise ManifestError(f"unsafe path in manifest: {rel!r}")
    if not lexically_safe(rel):
        raise ManifestError(f"unsafe path in manifest: {rel!r} (must be relative to the output folder)")
    path = out / rel
    real_out = out.resolve()
    if not path.resolve().is_relative_to(real_out):
        raise ManifestError(f"unsafe path in manifest: {rel!r} leads outside {out}")
    return path
