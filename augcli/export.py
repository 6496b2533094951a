"""`augcli export`: an expanded dataset (its manifest.jsonl) in the form a training stack reads.

- csv: one index file, a row per output: path (relative to the expanded dataset), label, split, kind, source,
  sha256, width, height.
- hf: a Hugging Face `imagefolder` tree. The images are placed at the same paths (hard links, else copies) and
  each split folder gets a `metadata.jsonl`: `file_name` relative to that folder, `label` (the class name) and
  the provenance columns `source`, `kind`, `sha256` and `transforms` (the applied steps as a JSON string).
  `datasets` takes the columns of metadata.jsonl instead of inferring labels from folder names, and wants the same
  columns in every split: so every row has them all.
- webdataset: tar shards of `shard_size` images per split (`<split>-000000.tar`, `data-...` for a dataset without
  splits); a sample is `<key>.<ext>` (the file's bytes), `<key>.json` (its manifest row) and `<key>.cls` (the
  class index: classes sorted by name, as torchvision's ImageFolder numbers them). Keys are the sample's position
  in its split (`0000000`), since webdataset splits keys at the first dot. The tar bytes are deterministic
  (sorted members, mtime 0, uid/gid 0, no user names, mode 0644) and each shard is written under a temporary
  name and renamed.

Nothing is written inside the expanded dataset, so `augcli audit` still passes on it after an export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tarfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.errors import DatasetError, ManifestError, OutputError
from augcli.imageio import read_bytes, temporary_name, write_atomic
from augcli.manifest import MANIFEST_NAME, dumps, read_records, safe_output_path
from augcli.placing import link_or_copy
from augcli.textsafe import printable

FORMATS = ("csv", "hf", "webdataset")
CSV_COLUMNS = ("path", "label", "split", "kind", "source", "sha256", "width", "height")
HF_METADATA = "metadata.jsonl"
NO_SPLIT = "data"  # the shard prefix of a dataset without splits


@dataclass
class ExportResult:
    fmt: str
    dest: Path
    images: int = 0
    written: list[Path] = field(default_factory=list)  # the index, metadata files or shards
    links: int = 0
    copies: int = 0
    classes: list[str] = field(default_factory=list)


def default_destination(target: Path, fmt: str) -> Path:
    """Beside the expanded dataset: OUT.csv, OUT-hf/, OUT-webdataset/."""
    return target.parent / (f"{target.name}.csv" if fmt == "csv" else f"{target.name}-{fmt}")


def export(target: str | Path, fmt: str, dest: str | Path | None = None, *, shard_size: int = 1000) -> ExportResult:
    if fmt not in FORMATS:
        raise DatasetError(f"--to must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if shard_size < 1:
        raise DatasetError(f"--shard-size must be at least 1, not {shard_size}")
    out = Path(target)
    if not out.is_dir():
        raise DatasetError(f"nothing to export at {out}: give an expanded dataset folder")
    rows = output_rows(out)
    destination = Path(dest) if dest is not None else default_destination(out, fmt)
    _check_destination(out, destination, fmt)
    result = ExportResult(fmt, destination, len(rows), classes=sorted({row["label"] for row in rows}))
    if fmt == "csv":
        write_csv(rows, destination)
        result.written.append(destination)
    elif fmt == "hf":
        write_imagefolder(out, rows, destination, result)
    else:
        write_webdataset(out, rows, destination, shard_size, result)
    return result


def output_rows(out: Path) -> list[dict[str, Any]]:
    """The output rows of a finished class-folder expansion, sorted by path; their paths checked safe."""
    manifest = out / MANIFEST_NAME
    rows, footer, layout = [], None, None
    for record in read_records(manifest):
        if record["type"] == "header":
            layout = record.get("layout")
        elif record["type"] == "output":
            safe_output_path(out, record.get("path"))
            rows.append(record)
        elif record["type"] == "footer":
            footer = record
    if layout not in ("flat", "split"):
        raise DatasetError(f"{manifest}: export handles class-folder datasets; this one's layout is {layout!r}")
    if footer is None:
        raise ManifestError(f"{manifest} has no footer: the expand run did not finish (run it again to complete it)")
    return sorted(rows, key=lambda row: row["path"])


def _check_destination(out: Path, dest: Path, fmt: str) -> None:
    real_out, real_dest = out.resolve(), dest.resolve()
    if real_dest == real_out or real_dest.is_relative_to(real_out):
        raise OutputError(
            f"export destination {dest} is inside {out}; `augcli audit` would report it: choose a place outside"
        )
    if real_out.is_relative_to(real_dest):
        raise OutputError(f"export destination {dest} contains {out}; choose another place")
    if fmt == "csv":
        if dest.is_dir():
            raise OutputError(f"--to csv writes a file, and {dest} is a folder; give a file name (index.csv)")
        if not dest.parent.is_dir():
            raise OutputError(f"folder {dest.parent} does not exist")
    elif dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise OutputError(f"export destination {dest} exists and is not an empty folder; choose a new one")


# --- csv -----------------------------------------------------------------------------------------------------


def write_csv(rows: list[dict[str, Any]], dest: Path) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row[column] for column in CSV_COLUMNS])
    write_atomic(dest, text.getvalue().encode("utf-8", "surrogateescape"))


# --- Hugging Face imagefolder --------------------------------------------------------------------------------


def _split_folder(row: dict[str, Any]) -> tuple[str, str]:
    """(split folder, file name inside it): `train/cat/a.jpg` -> (`train`, `cat/a.jpg`); flat -> (``, path)."""
    split, path = row.get("split"), row["path"]
    if split is None:
        return "", path
    if not path.startswith(f"{split}/"):
        raise ManifestError(f"{path}: the row's split is {split!r} but the path is not in that folder")
    return split, path[len(split) + 1 :]


def metadata_record(row: dict[str, Any], file_name: str) -> dict[str, Any]:
    return {
        "file_name": file_name,
        "label": row["label"],
        "source": row.get("source"),
        "kind": row.get("kind"),
        "sha256": row.get("sha256"),
        "transforms": json.dumps(row.get("transforms") or [], separators=(",", ":"), ensure_ascii=True),
    }


def write_imagefolder(out: Path, rows: list[dict[str, Any]], dest: Path, result: ExportResult) -> None:
    per_split: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        folder, file_name = _split_folder(row)
        if link_or_copy(safe_output_path(out, row["path"]), dest / row["path"], row.get("sha256")):
            result.links += 1
        else:
            result.copies += 1
        per_split[folder].append(dumps(metadata_record(row, file_name)))
    for folder, lines in sorted(per_split.items()):
        path = dest / folder / HF_METADATA if folder else dest / HF_METADATA
        write_atomic(path, ("\n".join(lines) + "\n").encode("ascii"))
        result.written.append(path)


# --- webdataset ----------------------------------------------------------------------------------------------


def write_webdataset(out: Path, rows: list[dict[str, Any]], dest: Path, shard_size: int, result: ExportResult) -> None:
    index = {label: number for number, label in enumerate(result.classes)}
    per_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        per_split[row.get("split") or NO_SPLIT].append(row)
    dest.mkdir(parents=True, exist_ok=True)
    for split, split_rows in sorted(per_split.items()):
        for shard, start in enumerate(range(0, len(split_rows), shard_size)):
            path = dest / f"{split}-{shard:06d}.tar"
            write_tar(path, _members(out, split_rows[start : start + shard_size], start, index))
            result.written.append(path)


def _members(out: Path, rows: list[dict[str, Any]], start: int, index: dict[str, int]) -> Iterator[tuple[str, bytes]]:
    for number, row in enumerate(rows, start):
        data = read_bytes(safe_output_path(out, row["path"]))
        if hashlib.sha256(data).hexdigest() != row.get("sha256"):
            raise ManifestError(f"{row['path']} differs from its manifest row (sha256); run `augcli audit {out}`")
        key = f"{number:07d}"
        extension = os.path.splitext(row["path"])[1].lower().lstrip(".")
        yield f"{key}.{extension}", data
        yield f"{key}.json", json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        yield f"{key}.cls", str(index[row["label"]]).encode()


def write_tar(path: Path, members: Iterator[tuple[str, bytes]]) -> None:
    """A tar whose bytes depend only on the members: fixed times, owners and modes; renamed into place."""
    temp = temporary_name(path)
    try:
        with open(temp, "wb") as handle, tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def export_summary(result: ExportResult) -> str:
    what = {"csv": "index", "hf": "imagefolder tree", "webdataset": "webdataset shards"}[result.fmt]
    lines = [f"{result.images} images, {len(result.classes)} classes -> {what} {printable(result.dest)}"]
    if result.fmt == "hf":
        lines.append(
            f"{result.links} hard links, {result.copies} copies; "
            f"{len(result.written)} {HF_METADATA} files (load: datasets.load_dataset('imagefolder', data_dir=...))"
        )
    elif result.fmt == "webdataset":
        lines.append(
            f"{len(result.written)} shards; .cls indices follow the sorted class names: "
            + ", ".join(printable(f"{i}={c}") for i, c in enumerate(result.classes[:10]))
            + (" ..." if len(result.classes) > 10 else "")
        )
    return "\n".join(lines)
