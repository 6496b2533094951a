"""Where bytes live: a local path, or an fsspec URL (`s3://`, `gs://`, anything fsspec knows).

Local paths keep the plain `os`/`open` code of `imageio` (the fast path is not routed through fsspec);
only URLs go through fsspec, imported lazily so the core install never needs it. Every object is written
in ONE call (`pipe_file`, or `put_file` of a finished local file): an exception inside
`with fs.open(path, "wb")` would still commit a partial object.

Credentials come from the environment and the standard configuration files (botocore, gcsfs read them
themselves) or from `--storage-option key=value` (`set_options`). They are never shown: `redact()` strips
`user:secret@` from a URL before it is printed or recorded, option values are never echoed, and the
manifest records dataset-relative paths only.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from augcli.errors import ImageReadError, StorageError

# Protocols whose fsspec implementation lives in an augcli extra.
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@")

_options: tuple[tuple[str, Any], ...] = ()  # --storage-option pairs for every URL of this process


def is_url(location: str | Path) -> bool:
    """True for `scheme://...` other than `file://` (a file URL is a local path)."""
    if not isinstance(location, str) or "://" not in location:  # the local fast path: no regex
        return False
    match = _SCHEME.match(location)
    return bool(match) and match.group(1).lower() != "file"


def local_path(location: str | Path) -> Path:
    return Path(_local_text(location))


def _local_text(location: str | Path) -> str:
    text = str(location)
    return text[len("file://") :] if text.lower().startswith("file://") else text


def redact(location: str | Path) -> str:
    """The location as it may be printed or recorded: without `user:secret@`."""
    return _USERINFO.sub(r"\1", str(location))


def join(root: str, rel: str) -> str:
    return f"{root.rstrip('/')}/{rel}" if rel else root.rstrip("/")


def parse_options(pairs: list[str]) -> tuple[tuple[str, Any], ...]:
    """`key=value` strings to options; `true`/`false` become booleans. Values are never echoed in errors."""
    options = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StorageError(f"--storage-option expects key=value (for example endpoint_url=http://...), got {key!r}")
        lowered = value.strip().lower()
        options.append((key.strip(), True if lowered == "true" else False if lowered == "false" else value))
    return tuple(options)


def set_options(options: tuple[tuple[str, Any], ...] | dict[str, Any]) -> None:
    """The storage options for every URL this process opens (the CLI's, or a worker's from its Settings)."""
    global _options
    _options = tuple(sorted(dict(options).items()))


def get_options() -> tuple[tuple[str, Any], ...]:
    return _options


def filesystem(url: str):
    """(fsspec filesystem, path inside it) for a URL."""
    protocol = _SCHEME.match(url).group(1).lower()  # type: ignore[union-attr]
    if protocol in EXTRAS and _USERINFO.match(url):  # object stores would send it on as a bucket name
        raise StorageError(
            f"{redact(url)}: credentials in a {protocol}:// URL are not supported (and would be logged by the store);"
            " use the environment (AWS_ACCESS_KEY_ID ..., GOOGLE_APPLICATION_CREDENTIALS) or --storage-option"
        )
    fs = _filesystem(protocol, _options)
    return fs, fs._strip_protocol(url)


@functools.lru_cache(maxsize=8)
def _filesystem(protocol: str, options: tuple[tuple[str, Any], ...]):
    hint = (
        f"pip install 'augcli[{EXTRAS[protocol]}]'"
        if protocol in EXTRAS
        else f"install fsspec and the package fsspec names for {protocol}://"
    )
    try:
        import fsspec
    except ImportError:
        raise StorageError(f"{protocol}:// locations need fsspec and a storage extra: {hint}") from None
    try:
        # No listings cache for the object stores: another process (a worker, a user) may change the store
        # between two looks.
        defaults = {"use_listings_cache": False} if protocol in EXTRAS else {}
        fs = fsspec.filesystem(protocol, **{**defaults, **dict(options)})
        if EXTRAS.get(protocol) == "s3":  # s3fs builds its session lazily: meet a bad option here, not mid-run
            fs.connect()
        return fs
    except ImportError:
        raise StorageError(f"{protocol}:// locations need a storage package that is not installed: {hint}") from None
    except ValueError as exc:  # unknown protocol
        raise StorageError(f"{protocol}:// is not a storage protocol fsspec knows ({exc})") from None
    except TypeError:  # an option the filesystem does not take; its value may be a secret: name the keys only
        keys = ", ".join(k for k, _ in options) or "none"
        raise StorageError(f"{protocol}:// does not accept these --storage-option keys: {keys}") from None


def require(location: str) -> None:
    """Fail early (before anything is written) if a URL cannot be opened on this install."""
    if is_url(location):
        filesystem(location)


# --- operations (root: a local path or URL; rel: posix, relative to it) ------------------------------------


def read(root: str, rel: str) -> bytes:
    """A file's bytes, with imageio's reasons for what cannot be read (missing, empty, not a file)."""
    if not is_url(root):
        from augcli.imageio import read_bytes

        return read_bytes(local_path(root) / rel)
    fs, path = filesystem(join(root, rel))
    # s3fs asks for the size first (HEAD) to download big objects in parallel; images are small: one GET.
    extra = {"max_concurrency": 1} if "s3" in _protocols(fs) else {}
    try:
        data = fs.cat_file(path, **extra)
    except FileNotFoundError:
        raise ImageReadError(rel, "missing", "object not found") from None
    except IsADirectoryError:
        raise ImageReadError(rel, "not_a_file", "not an object") from None
    except PermissionError:
        raise ImageReadError(rel, "unreadable", "access denied") from None
    if not data:
        raise ImageReadError(rel, "empty", "zero-byte file")
    return data


def _protocols(fs) -> tuple[str, ...]:
    return (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)


def write(root: str, rel: str, data: bytes, *, batch: bool = False) -> None:
    """Write a whole file: locally to a temporary name then renamed, remotely as one object in one call.

    `batch` (remote only): queue the object and send it with the others at `flush()`, concurrently: one
    object at a time, a worker would spend most of its time waiting for the store's round trips."""
    if not is_url(root):
        from augcli.imageio import write_atomic

        write_atomic(os.path.join(_local_text(root), rel), data)
        return
    fs, path = filesystem(join(root, rel))
    if batch:
        global _pending_bytes
        _pending.setdefault(fs, {})[path] = data
        _pending_bytes += len(data)
        if _pending_bytes > BATCH_BYTES:
            flush()
        return
    _pipe(fs, {path: data})


BATCH_BYTES = 64 << 20  # queued objects are sent once they hold this much, whatever flush() says
_pending: dict[Any, dict[str, bytes]] = {}
_pending_bytes = 0


def flush() -> None:
    """Send every queued object (each still one object in one call); raises OSError if any failed."""
    global _pending_bytes
    batches = list(_pending.items())
    _pending.clear()
    _pending_bytes = 0
    for fs, objects in batches:
        _pipe(fs, objects)


def _pipe(fs, objects: dict[str, bytes]) -> None:
    try:
        if len(objects) == 1:
            fs.pipe_file(*next(iter(objects.items())))
        else:
            fs.pipe(objects)  # async stores (s3fs, gcsfs) send these concurrently
    except OSError:
        raise
    except Exception as exc:  # the store's own errors: an OSError stops the run (never a skipped source)
        raise OSError(f"cannot write to {_protocols(fs)[0]}:// ({describe(exc)})") from exc


def upload(local_file: Path, root: str, rel: str) -> None:
    """Copy a finished local file to one object (s3fs's multipart upload becomes visible only when complete)."""
    fs, path = filesystem(join(root, rel))
    fs.put_file(str(local_file), path)


def lines(root: str, rel: str) -> Iterator[bytes]:
    """A text file's lines, streamed (a manifest of millions of rows is never held whole). Raises
    FileNotFoundError if it is missing."""
    if not is_url(root):
        with open(local_path(root) / rel, "rb") as handle:
            yield from handle
        return
    fs, path = filesystem(join(root, rel))
    with fs.open(path, "rb") as handle:
        yield from handle


def download(root: str, rel: str, local_file: Path) -> None:
    """Copy one object to a local file (raises FileNotFoundError if it is missing)."""
    fs, path = filesystem(join(root, rel))
    fs.get_file(path, str(local_file))


def exists(root: str, rel: str = "") -> bool:
    if not is_url(root):
        return (local_path(root) / rel).exists()
    fs, path = filesystem(join(root, rel))
    return fs.exists(path)


def is_file(root: str, rel: str) -> bool:
    if not is_url(root):
        return (local_path(root) / rel).is_file()
    fs, path = filesystem(join(root, rel))
    return fs.isfile(path)


def delete(root: str, rels: list[str]) -> None:
    """Delete files; missing ones are not an error."""
    if not rels:
        return
    if not is_url(root):
        for rel in rels:
            (local_path(root) / rel).unlink(missing_ok=True)
        return
    fs, base = filesystem(root)
    paths = [f"{base.rstrip('/')}/{rel}" for rel in rels]
    existing = [p for p in paths if fs.exists(p)]
    if existing:
        fs.rm(existing)
    fs.invalidate_cache()


def list_files(root: str) -> dict[str, dict[str, Any]]:
    """Every object under a URL root: relative posix path -> its listing details (size, ETag ...)."""
    fs, base = filesystem(root)
    base = base.rstrip("/")
    fs.invalidate_cache()
    try:
        found = fs.find(base, withdirs=False, detail=True)
    except FileNotFoundError:
        return {}
    files = {}
    for path, info in found.items():
        rel = path[len(base) + 1 :] if path.startswith(base + "/") else None
        if rel and not rel.endswith("/") and info.get("type", "file") == "file":
            files[rel] = info
    return files


def stamp(info: dict[str, Any]) -> str:
    """What identifies an object's content in a listing, without reading it: size and ETag (or mtime)."""
    tag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("mtime") or info.get("LastModified")
    return f"{info.get('size')}:{tag}"


def describe(exc: BaseException) -> str:
    """An error from a store, for a message: its type and text (botocore's never hold the secret key)."""
    return f"{type(exc).__name__}: {exc}"


def walk(root: str) -> Iterator[tuple[str, list[str], list[str]]]:
    """`os.walk` for a URL root, from one listing: (folder URL, subfolder names, file names), top-down;
    removing a name from the subfolder list prunes it, as with os.walk."""
    tree: dict[str, tuple[set[str], list[str]]] = {"": (set(), [])}
    for rel in list_files(root):
        folder, _, name = rel.rpartition("/")
        tree.setdefault(folder, (set(), []))[1].append(name)
        while folder:  # register each folder with its parent
            parent, _, child = folder.rpartition("/")
            tree.setdefault(parent, (set(), []))[0].add(child)
            folder = parent
    pending = [""]
    while pending:
        folder = pending.pop()
        dirs, names = sorted(tree[folder][0]), sorted(tree[folder][1])
        yield join(root, folder), dirs, names
        pending.extend(f"{folder}/{d}" if folder else d for d in reversed(dirs))
