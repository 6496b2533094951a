"""`augcli split`: divide a flat class-folder dataset into train/val/test, stratified per class, reproducibly,
with near-duplicates kept together; and `split --check`, which verifies a split output against its manifest.

Every image is read once (on the process pool): its sha256, and its dHash decoded as audit decodes it. Pairs of
images within the threshold (exact copies are at distance 0), in one class or across classes, are joined by
union-find into groups. Groups of two or more are placed first, whole, each in the split its members' classes
still need most (ties: train, val, test), in an order drawn from the seed; then each class's single images fill
its val and test quotas in an order drawn from the seed (`stream_rng(seed, class, "split")`) and the rest goes to
train. Quotas per class of n images: val = floor(n * val + 0.5), test = floor(n * test + 0.5), train = the rest.

Files keep their names (root/<class>/a/b.jpg -> OUT/<split>/<class>/a/b.jpg) and their bytes: hard links where the
file system allows, else copies, each placed atomically. OUT/split.jsonl (written last, under a temporary name)
lists every file with its source, split, class, group, sha256 and dHash, and every image that could not be used,
with its reason.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augcli.dataset import scan
from augcli.errors import DatasetError, ExitCode, ManifestError, OutputError
from augcli.executor import Job, balanced_size, chunked, default_workers, run
from augcli.imageio import DEFAULT_MAX_PIXELS
from augcli.manifest import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    ManifestWriter,
    library_versions,
    read_records,
    safe_output_path,
    skipped_row,
)
from augcli.placing import link_or_copy
from augcli.seeding import stream_rng
from augcli.textsafe import printable

SPLIT_MANIFEST = "split.jsonl"
SPLITS = ("train", "val", "test")


@dataclass
class SplitResult:
    output: Path
    manifest: Path
    layout: str  # the dataset's: "flat", or "split" (--resplit)
    counts: dict[str, dict[str, int]]  # split -> class -> images
    quotas: dict[str, dict[str, int]]  # class -> split -> images asked for
    groups: int = 0  # near-duplicate groups of two or more images
    grouped: int = 0  # images in those groups
    cross_class: int = 0  # groups whose images are in two or more classes
    links: int = 0
    copies: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    ignored: int = 0


def quotas(count: int, val: float, test: float) -> dict[str, int]:
    """A class's images per split: val and test rounded half up, train the rest (never negative)."""
    n_val, n_test = int(count * val + 0.5 + 1e-9), int(count * test + 0.5 + 1e-9)
    return {"train": count - n_val - n_test, "val": n_val, "test": n_test}


def split(
    dataset: str | Path,
    output: str | Path,
    *,
    val: float,
    test: float,
    seed: int,
    near_dup_threshold: int = 6,
    resplit: bool = False,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SplitResult:
    from augcli.state import check_output

    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise DatasetError(f"--val {val} and --test {test}: each must be in [0, 1) and their sum below 1")
    root, out = Path(dataset), Path(output)
    if (root / MANIFEST_NAME).is_file():
        raise DatasetError(
            f"{root} is an expanded dataset (it holds {MANIFEST_NAME}): augmented copies of one source would land "
            "in different splits. Split the source dataset, then expand the split output"
        )
    data = scan(root, layout="classes")
    if data.layout == "split" and not resplit:
        raise DatasetError(
            f"{root} is already split ({', '.join(str(s) for s in data.splits())}); --resplit re-splits the union "
            "of its splits"
        )
    check_output(root, out, force=True)  # nesting and locks; emptiness is ours (there is no --force to honour)
    if out.is_dir() and any(out.iterdir()):
        raise OutputError(f"output folder {out} is not empty; split into a new or empty folder")
    names = _class_names(data.samples)
    result = SplitResult(out, out / SPLIT_MANIFEST, data.layout, {}, {})
    result.ignored = data.ignored
    result.skipped = [skipped_row(s.relpath, None, None, s.reason, s.message) for s in data.skipped]
    workers = workers or default_workers()
    sources = [s.relpath for s in data.samples]
    if on_start:
        on_start(len(sources))
    hashed = _hash_all(root, sources, workers, max_pixels, on_progress)
    items: list[tuple[str, str, str, int]] = []  # (source, label, sha256, dhash) of the readable images
    for sample in data.samples:
        sha, image_hash, reason, message = hashed[sample.relpath]
        if reason:
            result.skipped.append(skipped_row(sample.relpath, sample.label, sample.split, reason, message))
        else:
            items.append((sample.relpath, sample.label, sha, image_hash))
    groups = near_duplicate_groups([item[3] for item in items], near_dup_threshold)
    labels = [item[1] for item in items]
    result.quotas = {label: quotas(n, val, test) for label, n in sorted(Counter(labels).items())}
    assignment = assign(labels, groups, result.quotas, seed)
    group_of = {index: number for number, members in enumerate(groups) for index in members}
    multi = [members for members in groups if len(members) > 1]
    result.groups, result.grouped = len(multi), sum(map(len, multi))
    result.cross_class = sum(1 for members in multi if len({labels[i] for i in members}) > 1)
    rows = []
    for index, (source, label, sha, image_hash) in enumerate(items):
        path = f"{assignment[index]}/{label}/{names[source]}"
        rows.append(
            {
                "type": "file",
                "path": path,
                "source": source,
                "split": assignment[index],
                "label": label,
                "group": group_of[index],
                "sha256": sha,
                "dhash": f"{image_hash:016x}",
            }
        )
    rows.sort(key=lambda row: row["path"])
    writer = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        for row in rows:
            if link_or_copy(root / row["source"], out / row["path"], row["sha256"]):
                result.links += 1
            else:
                result.copies += 1
            counts = result.counts.setdefault(row["split"], {})
            counts[row["label"]] = counts.get(row["label"], 0) + 1
        writer = ManifestWriter(out, SPLIT_MANIFEST)
        writer.write(_header(data.layout, seed, val, test, near_dup_threshold))
        for row in rows:
            writer.write(row)
        for row in sorted(result.skipped, key=lambda r: r["source"]):
            writer.write(row)
        writer.write({"type": "footer", "files": len(rows), "skipped": len(result.skipped), "groups": result.groups})
        writer.commit()
    except OSError as exc:
        if writer is not None:
            writer.discard()
        raise OutputError(f"cannot write the split into {out}: {exc.strerror or exc}") from None
    result.counts = {s: dict(sorted(result.counts[s].items())) for s in SPLITS if s in result.counts}
    return result


def _header(layout: str, seed: int, val: float, test: float, threshold: int) -> dict[str, Any]:
    return {
        "type": "header",
        "schema": SCHEMA_VERSION,
        "kind": "split",
        "versions": library_versions(),
        "layout": layout,
        "seed": seed,
        "val": val,
        "test": test,
        "near_dup_threshold": threshold,
        "rounding": "per class: val and test = floor(n * fraction + 0.5), train = the rest",
    }


def _class_names(samples: list[Any]) -> dict[str, str]:
    """Each source's path inside its class folder; two sources of one class with one such path (the same name
    in two splits, with --resplit) would overwrite each other in the output, so they are refused."""
    names: dict[str, str] = {}
    taken: dict[tuple[str, str], str] = {}
    for sample in samples:
        depth = 2 if sample.split is not None else 1
        name = sample.relpath.split("/", depth)[depth]
        other = taken.setdefault((sample.label, name), sample.relpath)
        if other != sample.relpath:
            raise DatasetError(
                f"{other} and {sample.relpath} would both become <split>/{sample.label}/{name}; rename one of them"
            )
        names[sample.relpath] = name
    return names


# --- hashing, on the pool ------------------------------------------------------------------------------------

Hashed = tuple[str, str, int, str, str]  # (source, sha256, dhash, reason, message); reason "" when readable


def hash_files(settings: tuple[str, int], sources: list[str]) -> list[Hashed]:
    """sha256 of each file's bytes and the dHash of its decoded image (phash.fingerprint, as audit hashes)."""
    from augcli.phash import fingerprint

    root, max_pixels = settings
    results: list[Hashed] = []
    for rel in sources:
        sha, image_hash, reason, message = fingerprint(root, rel, max_pixels)
        results.append((rel, sha or "", image_hash or 0, reason, message))  # sha kept when decoding fails
    return results


def _crashed(rel: str) -> Hashed:
    from augcli.jobs import CRASHED_MESSAGE

    return (rel, "", 0, "crashed_worker", CRASHED_MESSAGE)


def _hash_all(
    root: Path, sources: list[str], workers: int, max_pixels: int, on_progress: Callable[[int], None] | None
) -> dict[str, tuple[str, int, str, str]]:
    job = Job(hash_files, (str(root), max_pixels), _crashed)
    hashed = {}
    for results in run(job, chunked(sources, balanced_size(len(sources), workers, 32)), workers):
        for rel, sha, image_hash, reason, message in results:
            hashed[rel] = (sha, image_hash, reason, message)
        if on_progress:
            on_progress(len(results))
    return hashed


# --- a recipe's split: section (expand splits a flat dataset before augmenting it) ---------------------------


def split_for_recipe(data: Any, recipe: Any, workers: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> Any:
    """`data` (a flat class-folder scan) with each sample placed in train/val/test by the recipe's `split:`
    section, exactly as `augcli split` would place it with the recipe's seed. Nothing is copied: outputs are
    written under OUT/<split>/, and sources are still read where they are."""
    from dataclasses import replace

    section = recipe.split
    if section is None:
        return data
    if data.annotations is not None:
        raise DatasetError(f"{data.root}: the recipe's split: section works on class folders, not annotated layouts")
    if data.layout == "split":
        raise DatasetError(
            f"{data.root} is already split ({', '.join(str(s) for s in data.splits())}); remove the recipe's split: "
            "section, or re-split it with `augcli split --resplit`"
        )
    sources = [s.relpath for s in data.samples]
    hashed = _hash_all(Path(data.root), sources, workers, max_pixels, None)
    readable = [s for s in data.samples if not hashed[s.relpath][2]]
    groups = near_duplicate_groups([hashed[s.relpath][1] for s in readable], section.near_dup_threshold)
    labels = [s.label for s in readable]
    class_quotas = {label: quotas(n, section.val, section.test) for label, n in sorted(Counter(labels).items())}
    placed = dict(zip((s.relpath for s in readable), assign(labels, groups, class_quotas, recipe.seed), strict=True))
    # An unreadable image stays in train: the worker reports it there with its reason, as for any source.
    data.samples = [
        replace(s, split=placed.get(s.relpath, "train"), place=f"{placed.get(s.relpath, 'train')}/")
        for s in data.samples
    ]
    data.layout, data.split_from = "split", section.model_dump()
    return data


# --- groups and assignment (pure) ----------------------------------------------------------------------------


def near_duplicate_groups(hashes: list[int], threshold: int) -> list[list[int]]:
    """Connected components of the "within `threshold` bits" relation (union-find), each a sorted list of
    indices, the groups in order of their first index. A negative threshold makes every image its own group."""
    import numpy as np

    from augcli.phash import near_pairs

    parent = list(range(len(hashes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    array = np.array(hashes, dtype=np.uint64)
    for q, p, _ in near_pairs(array, array, threshold):
        if q < p:
            a, b = find(q), find(p)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(hashes)):
        members[find(index)].append(index)
    return sorted(members.values(), key=lambda group: group[0])


def assign(labels: list[str], groups: list[list[int]], class_quotas: dict[str, dict[str, int]], seed: int) -> list[str]:
    """The split of each image: groups whole, then single images per class in a seeded order."""
    taken: dict[str, Counter[str]] = {label: Counter() for label in class_quotas}
    split_of: list[str] = [""] * len(labels)
    multi = [group for group in groups if len(group) > 1]
    order = stream_rng(seed, "near-duplicate groups", "split").permutation(len(multi))
    multi = sorted((multi[i] for i in order), key=len, reverse=True)  # big groups first, while there is room
    for group in multi:
        need = {s: sum(class_quotas[labels[i]][s] - taken[labels[i]][s] for i in group) for s in SPLITS}
        chosen = max(SPLITS, key=lambda s: need[s])  # first of the largest: train on a tie
        for i in group:
            split_of[i] = chosen
            taken[labels[i]][chosen] += 1
    singles: dict[str, list[int]] = defaultdict(list)
    for group in groups:
        if len(group) == 1:
            singles[labels[group[0]]].append(group[0])
    for label, indices in sorted(singles.items()):
        shuffled = [indices[i] for i in stream_rng(seed, label, "split").permutation(len(indices))]
        for s in ("test", "val"):
            wanted = max(0, class_quotas[label][s] - taken[label][s])
            for i in shuffled[:wanted]:
                split_of[i] = s
            taken[label][s] += min(wanted, len(shuffled))
            shuffled = shuffled[wanted:]
        for i in shuffled:
            split_of[i] = "train"
    return split_of


# --- split --check -------------------------------------------------------------------------------------------


@dataclass
class SplitCheck:
    output: Path
    files: int = 0
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, path, message)

    LEAKS = ("group_straddles", "near_duplicate")

    def add(self, kind: str, path: str, message: str) -> None:
        self.findings.append((kind, path, message))

    @property
    def exit_code(self) -> ExitCode:
        if any(kind in self.LEAKS for kind, _, _ in self.findings):
            return ExitCode.LEAKAGE
        return ExitCode.INTEGRITY if self.findings else ExitCode.OK


def check(
    output: str | Path,
    *,
    near_dup_threshold: int = 6,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SplitCheck:
    """Re-hash every file listed in OUT/split.jsonl, list files it does not name, and look for leaks: a group in
    two splits, or images of two splits within `near_dup_threshold` bits of each other (dHash of the files)."""
    out = Path(output)
    manifest = out / SPLIT_MANIFEST
    if not out.is_dir():
        raise DatasetError(f"nothing to check at {out}: give the folder `augcli split` wrote")
    report = SplitCheck(out)
    rows: dict[str, dict[str, Any]] = {}
    footer = None
    for number, record in enumerate(read_records(manifest), 1):
        if number == 1 and record.get("kind") != "split":
            raise ManifestError(f"{manifest}:1: not a split manifest (its header has no kind 'split')")
        if record["type"] == "footer":
            footer = record
        elif record["type"] == "file":
            path = record.get("path")
            try:
                safe_output_path(out, path)
            except ManifestError as exc:
                report.add("unsafe_path", str(path), str(exc))
                continue
            expected = f"{record.get('split')}/{record.get('label')}/"
            if record.get("split") not in SPLITS or not path.startswith(expected):
                report.add(
                    "label_mismatch",
                    path,
                    f"row says split {record.get('split')!r}, class "
                    f"{record.get('label')!r}; its path does not start with {expected}",
                )
            if path in rows:
                report.add("duplicate_path", path, "listed twice")
            rows[path] = record
    if footer is None:
        report.add("incomplete", SPLIT_MANIFEST, "no footer: the split did not finish")
    elif footer.get("files") != len(rows):
        report.add("footer_mismatch", SPLIT_MANIFEST, f"footer counts {footer.get('files')} files, rows {len(rows)}")
    report.files = len(rows)
    workers = workers or default_workers()
    present = sorted(p for p in rows if (out / p).is_file())
    for path in sorted(set(rows) - set(present)):
        report.add("missing", path, "listed in split.jsonl, not found")
    measured = _hash_all(out, present, workers, max_pixels, None)
    for path in present:
        sha, _, reason, message = measured[path]
        if sha and sha != rows[path].get("sha256"):
            report.add("changed", path, "sha256 differs from split.jsonl")
        elif reason:
            report.add("unreadable", path, f"{reason}: {message}")
    for rel in _files_under(out):
        if rel != SPLIT_MANIFEST and rel not in rows:
            report.add("orphan", rel, "file not in split.jsonl")
    splits_of: dict[Any, set[str]] = defaultdict(set)
    for row in rows.values():
        splits_of[row.get("group")].add(row.get("split"))
    for group, splits in sorted(splits_of.items(), key=lambda kv: str(kv[0])):
        if len(splits) > 1:
            report.add("group_straddles", f"group {group}", f"near-duplicate group in {', '.join(sorted(splits))}")
    readable = [p for p in present if not measured[p][2]]
    for a, b, distance in _cross_split_pairs(readable, measured, rows, near_dup_threshold):
        if rows[b]["split"] == "train":  # name the evaluation image, as audit does
            a, b = b, a
        report.add("near_duplicate", b, f"{distance} bits (dHash) from {a} ({rows[a]['split']})")
    return report


def _cross_split_pairs(paths, measured, rows, threshold):
    import numpy as np

    from augcli.phash import near_pairs

    hashes = np.array([measured[p][1] for p in paths], dtype=np.uint64)
    for q, p, distance in near_pairs(hashes, hashes, threshold):
        if q < p and rows[paths[q]]["split"] != rows[paths[p]]["split"]:
            yield paths[q], paths[p], distance


def _files_under(out: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(out):
        dirs.sort()
        rel_folder = os.path.relpath(folder, out).replace(os.sep, "/")
        for name in sorted(names):
            found.append(name if rel_folder == "." else f"{rel_folder}/{name}")
    return found


# --- summaries (the CLI prints them) -------------------------------------------------------------------------


def split_summary(result: SplitResult) -> str:
    lines = []
    classes = sorted(result.quotas)
    width = max([len(c) for c in classes] + [5])
    lines.append(f"{'class':<{width}}  " + "  ".join(f"{s:>7}" for s in SPLITS))
    for label in classes:
        cells = []
        for s in SPLITS:
            got, asked = result.counts.get(s, {}).get(label, 0), result.quotas[label][s]
            cells.append(f"{got:>7}" if got == asked else f"{f'{got} ({asked})':>7}")
        lines.append(f"{printable(label):<{width}}  " + "  ".join(cells))
    files = result.links + result.copies
    lines.append(
        f"{files} files -> {printable(result.output)} ({result.links} hard links, {result.copies} copies); "
        f"manifest {printable(result.manifest)}"
    )
    if result.groups:
        lines.append(
            f"{result.groups} near-duplicate groups ({result.grouped} images, {result.cross_class} across classes) "
            "kept whole in one split; a count in brackets is the quota it moved from"
        )
    if result.skipped:
        lines.append(f"{len(result.skipped)} files not used:")
        lines += [printable(f"  {row['source']}: {row['reason']} ({row['message']})") for row in result.skipped]
    return "\n".join(lines)


def check_summary(report: SplitCheck) -> str:
    lines = [printable(f"{kind}: {path}: {message}") for kind, path, message in report.findings[:200]]
    if len(report.findings) > 200:
        lines.append(f"... and {len(report.findings) - 200} more")
    verdict = "OK" if not report.findings else f"{len(report.findings)} problems"
    lines.append(f"split check of {printable(report.output)}: {report.files} files, {verdict}")
    return "\n".join(lines)
