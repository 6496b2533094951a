"""Walk a class-folder dataset stored under a URL (`s3://bucket/data`), with `dataset.scan`'s rules.

One recursive listing (an object store has no folders, only keys; listing them flat is one paged request
per 1,000 keys) is arranged into the same tree a local walk sees: same layouts, same order (per folder,
files by name before subfolders by name, as the sorted `os.walk` of `dataset.scan`), hidden entries
ignored, images outside class folders reported. There are no symlinks, pipes or devices to refuse.
"""

from __future__ import annotations

from augcli import storage
from augcli.dataset import SPLIT_NAMES, Dataset, Sample, Skipped, _is_image_name, is_hidden
from augcli.errors import DatasetError


def scan_remote(root: str) -> Dataset:
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
    splits = [d for d in top if d.lower() in SPLIT_NAMES]
    if splits and len(splits) != len(top):
        others = sorted(set(top) - set(splits))
        raise DatasetError(
            f"{shown}: mixes split folders ({', '.join(splits)}) with class folders ({', '.join(others)}); "
            "use either root/<class>/ or root/<split>/<class>/"
        )
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
            if not _is_image_name(rel.rsplit("/", 1)[1]):
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
        if rel.startswith(prefix) and "/" not in name and _is_image_name(name):
            dataset.skipped.append(Skipped(rel, "outside_class", "image not inside a class folder; ignored"))
