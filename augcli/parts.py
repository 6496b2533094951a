"""Manifest parts: how a run into object storage records progress, since an object cannot be appended to.

Each chunk writes its outputs, then one part object `OUT/.augcli/parts/<key>.jsonl` holding its manifest
rows. The key is a hash of the recipe and of the chunk's items (sources, their size and ETag or mtime,
labels, splits, planned output paths): a part exists only for work that is complete, and only for the
same recipe and inputs. The driver merges the parts in chunk order into `OUT/manifest.jsonl`, so a
resumed or retried run skips the chunks whose part exists and still writes the manifest an uninterrupted
run writes. Local outputs keep the journal of resume.py instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from augcli import storage
from augcli.manifest import dumps

PARTS_DIR = ".augcli/parts"
PARTS_SCHEMA = 1

Rows = list[list[dict[str, Any]]]


def chunk_key(recipe_sha256: str, items: Sequence[Any]) -> str:
    described = [[i.source, i.stamp, i.label, i.split, i.original_out, [list(o) for o in i.outputs]] for i in items]
    text = json.dumps([PARTS_SCHEMA, recipe_sha256, described], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def part_rel(key: str) -> str:
    return f"{PARTS_DIR}/{key}.jsonl"


def write_part(output_root: str, recipe_sha256: str, items: Sequence[Any], rows: Rows) -> None:
    """One object, one call: the rows of each item on its own line."""
    key = chunk_key(recipe_sha256, items)
    text = "".join(dumps({"source": item.source, "rows": r}) + "\n" for item, r in zip(items, rows, strict=True))
    storage.write(output_root, part_rel(key), text.encode("ascii"))


def read_part(output_root: str, key: str, items: Sequence[Any]) -> Rows | None:
    """The rows a part holds for `items`, or None if it is missing or does not match them (then redo)."""
    try:
        text = storage.read(output_root, part_rel(key)).decode("ascii")
        entries = [json.loads(line) for line in text.splitlines()]
    except Exception:  # noqa: BLE001  (missing, torn by hand, not JSON: the chunk is simply done again)
        return None
    if [e.get("source") if isinstance(e, dict) else None for e in entries] != [i.source for i in items]:
        return None
    rows = [e.get("rows") for e in entries]
    return rows if all(isinstance(r, list) for r in rows) else None


def existing_keys(output_root: str) -> set[str]:
    listing = storage.list_files(storage.join(output_root, PARTS_DIR))
    return {rel[: -len(".jsonl")] for rel in listing if rel.endswith(".jsonl") and "/" not in rel}
