"""Perceptual difference hash (dHash) and fast near-duplicate search by Hamming distance.

dHash: shrink to 9x8 grey, one bit per horizontal neighbour pair (is the right pixel brighter?). It
survives re-encoding, resizing and brightness or contrast shifts, so a re-saved or lightly edited copy of
an evaluation image lands within a few bits of it. Search is plain numpy: XOR + popcount over uint64
arrays, in blocks so memory stays bounded (20k x 80k comparisons: about 4 s on one core).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

BITS = 64


def fingerprint(root: str, rel: str, max_pixels: int) -> tuple[str | None, int | None, str, str]:
    """(sha256 of the file's bytes, dHash of its decoded image, reason, message) for audit and split alike.

    A file that cannot be read gives (None, None, reason, message); one that reads but does not decode keeps
    its sha256 (it can still be compared byte for byte) with (None, reason, message)."""
    import hashlib

    from augcli import storage
    from augcli.errors import ImageReadError
    from augcli.imageio import decode

    try:
        content = storage.read(root, rel)
    except ImageReadError as exc:
        return None, None, exc.reason, exc.detail or str(exc)
    sha = hashlib.sha256(content).hexdigest()
    try:
        return sha, dhash(decode(content, rel, max_pixels).image), "", ""
    except ImageReadError as exc:
        return sha, None, exc.reason, exc.detail or str(exc)


def dhash(image: np.ndarray) -> int:
    """64-bit difference hash of a decoded image (any of augcli's kinds: grey, BGR, BGRA, 16-bit)."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 3:
        image = image[:, :, 0] if image.shape[2] == 1 else cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)
    small = cv2.resize(image, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).reshape(-1)
    return int(np.packbits(bits).view(">u8")[0])


def near_pairs(
    queries: np.ndarray, pool: np.ndarray, threshold: int, block: int = 16
) -> Iterator[tuple[int, int, int]]:
    """(query index, pool index, distance) for every pair within `threshold` bits, query by query.

    Buffers are allocated once and written in place (`out=`): on 20k x 80k hashes that is ~4x faster
    than letting numpy allocate a fresh temporary per block."""
    queries = np.asarray(queries, dtype=np.uint64)
    pool = np.asarray(pool, dtype=np.uint64)
    if threshold < 0 or not len(queries) or not len(pool):
        return
    xor = np.empty((block, len(pool)), dtype=np.uint64)
    bits = np.empty((block, len(pool)), dtype=np.uint8)
    for start in range(0, len(queries), block):
        rows = queries[start : start + block, None]
        n = len(rows)
        np.bitwise_xor(rows, pool[None, :], out=xor[:n])
        np.bitwise_count(xor[:n], out=bits[:n])
        hits_q, hits_p = np.nonzero(bits[:n] <= threshold)
        for q, p in zip(hits_q.tolist(), hits_p.tolist(), strict=True):
            yield start + q, p, int(bits[q, p])
