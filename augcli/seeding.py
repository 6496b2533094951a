"""Per-output random generators that do not depend on worker count, order or process.

Python's `hash()` is salted per process, so the source id is hashed with sha256 instead.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1024)  # asked once per output and once more for its row; sources repeat K times
def stable_id(source_id: str) -> int:
    """A 64-bit integer for a source's dataset-relative path, the same on every machine."""
    digest = hashlib.sha256(source_id.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, source_id: str, copy_index: int) -> np.random.Generator:
    """The generator for one output: a pure function of (recipe seed, source, copy index)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stable_id(source_id), copy_index])))


def stream_rng(seed: int, key: str, stream: str) -> np.random.Generator:
    """The generator for an auxiliary draw named `stream` (balance's spread, preview's pick) about `key`
    (a split/class, say): a pure function of its arguments, apart from every per-output stream because the
    third entropy word is the stream's name as a little-endian integer, not a copy index."""
    name = int.from_bytes(stream.encode("utf-8"), "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stable_id(key), name])))
