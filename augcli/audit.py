"""`augcli audit`: prove an expanded dataset is intact, consistent and free of split leakage.

One streaming pass over the manifest checks each row (schema, safe path, duplicates, label and split
against the path, train rows built from val/test sources) and feeds its file to a process pool that
returns sha256 and a perceptual hash; only small per-row values are kept (path set, 64-bit hashes). Then:
orphans (files no row lists), near-duplicates across splits, replay of a seeded sample of outputs, and
the balance table. Findings are collected in an AuditReport; the CLI renders it and exits with its code.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import tempfile
from pathlib import Path
from typing import Any

from augcli import review as reviewing
from augcli import storage
from augcli.audit_checks import (
    TRAIN,
    batched,
    crashed_file,
    crashed_replay,
    inspect_files,
    place,
    recipe_findings,
    replay_rows,
    schema_problems,
    version_drift,
)
from augcli.audit_report import AuditReport, balance_warnings
from augcli.errors import DatasetError, ManifestError
from augcli.executor import Job, default_workers, run
from augcli.imageio import DEFAULT_MAX_PIXELS
from augcli.manifest import (
    MANIFEST_NAME,
    SCHEMA_VERSION,
    STATE_DIR,
    lexically_safe,
    manifest_lines,
    safe_output_path,
)
from augcli.recipe import Recipe, load_recipe

BATCH = 32
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def audit(
    target: str | Path,
    *,
    source: str | Path | None = None,
    recipe: str | Path | None = None,
    replay: float | None = None,
    near_dup_threshold: int = 6,
    imbalance_warn: float = 3.0,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    review: str | Path | None = None,
) -> AuditReport:
    """Audit an output folder (everything) or a manifest file alone (what needs no files).

    `replay`: a whole number of outputs to rebuild, or a fraction in (0, 1) of them. `target` and `source` may
    be URLs (s3://...): objects are read through storage.py, and the manifest is fetched to a temporary file."""
    remote = storage.is_url(target)
    target = str(target).rstrip("/") if remote else Path(target)
    shown = storage.redact(target) if remote else str(target)
    files = not str(target).endswith(".jsonl") if remote else target.is_dir()  # type: ignore[union-attr]
    if not remote and not target.exists():  # type: ignore[union-attr]
        raise DatasetError(f"nothing to audit at {target}: give an expanded dataset folder or its manifest")
    out, manifest_rel = (target, MANIFEST_NAME) if files else _split(target, remote)
    source_root = source_location(source)
    wanted = load_recipe(recipe) if recipe is not None else None
    shown_manifest = storage.redact(storage.join(str(out), manifest_rel)) if remote else str(Path(out) / manifest_rel)
    report = AuditReport(shown, shown_manifest, files)
    auditor = _Audit(report, out if files else None, source_root, workers or default_workers())
    auditor.wanted, auditor.threshold, auditor.max_pixels = wanted, near_dup_threshold, max_pixels
    auditor.replay = replay
    verdicts = reviewing.load_review(review) if review is not None else None
    with tempfile.TemporaryDirectory(prefix="augcli-audit-") as local:
        auditor.run(_local_manifest(out, manifest_rel, remote, files, shown, Path(local)))
    balance_warnings(report, imbalance_warn)
    if verdicts is not None:
        reviewing.review_findings(report, auditor.header, auditor.paths, verdicts, str(review))
        if files and not remote:  # the sign-off travels with the dataset, beside its manifest
            reviewing.record(Path(out), verdicts)
    return report


def _split(target: Any, remote: bool) -> tuple[Any, str]:
    if remote:
        out, _, rel = target.rpartition("/")
        return out, rel
    return target.parent, target.name


def _local_manifest(out: Any, rel: str, remote: bool, files: bool, shown: str, local: Path) -> Path:
    """The manifest as a local file: itself, or a temporary copy of the object."""
    missing = f"{shown} holds no {MANIFEST_NAME}: not an expanded dataset, or its run never finished"
    if not remote:
        manifest = Path(out) / rel
        if not manifest.is_file():
            raise ManifestError(missing)
        return manifest
    manifest = local / MANIFEST_NAME
    try:
        storage.download(out, rel, manifest)
    except FileNotFoundError:
        if files and not storage.exists(out):
            raise DatasetError(f"nothing to audit at {shown}: give an expanded dataset or its manifest") from None
        raise ManifestError(missing) from None
    except OSError as exc:
        raise DatasetError(f"cannot read {shown}: {storage.describe(exc)}") from None
    return manifest


def source_location(source: str | Path | None) -> Path | str | None:
    """The --source root: a Path, or a URL kept as a string; refused when it is not there."""
    if source is None:
        return None
    if storage.is_url(source):
        if not storage.exists(str(source)):
            raise DatasetError(f"source dataset {storage.redact(source)} not found")
        return str(source)
    if not Path(source).is_dir():
        raise DatasetError(f"source dataset {source} is not a folder")
    return Path(source)


class _Audit:
    def __init__(self, report: AuditReport, out: Path | None, source_root: Path | None, workers: int) -> None:
        self.report, self.out, self.source_root, self.workers = report, out, source_root, workers
        self.wanted: Recipe | None = None
        self.threshold, self.max_pixels, self.replay = 6, DEFAULT_MAX_PIXELS, None
        self.header: dict[str, Any] = {}
        self.recipe: Recipe | None = None
        self.layout = "flat"
        self.footer: dict[str, Any] | None = None
        self.outputs = 0
        self.paths: set[str] = set()
        self.sources_checked: set[str] = set()
        self.source_hash: dict[str, int] = {}  # source -> dHash of its original, for perceptual identity
        self.pools: dict[bool, tuple[list[int], list[str]]] = {True: ([], []), False: ([], [])}  # is_train -> ...
        self.chosen: list[tuple[int, str, dict[str, Any]]] = []  # replay candidates (heap on -key)
        self.names: list[str] | None = None  # an annotated dataset's category names (header)
        self.source_split: dict[str, str | None] = {}  # annotated layouts: each source's split, from its rows
        self.train_rows: list[tuple[int, str, list[str]]] = []

    # --- the streaming pass ---------------------------------------------------------------------------
    def run(self, manifest: Path) -> None:
        for results in self._inspect(self._jobs(manifest)):
            for result in results:
                self._on_file(*result)
        if self.footer is None:
            self.report.add(
                "incomplete", "integrity", "the manifest has no footer: the run did not finish or it was cut"
            )
        elif self.footer.get("outputs") != self.outputs:
            self.report.add(
                "footer_mismatch",
                "integrity",
                f"footer counts {self.footer.get('outputs')} outputs, rows list {self.outputs}",
            )
        self._annotated_leaks()
        if self.out is not None:
            self._orphans()
        self._near_duplicates()
        self._replay()

    def _inspect(self, jobs):
        job = Job(inspect_files, self.max_pixels, crashed_file, storage.get_options())
        return run(job, batched(jobs, BATCH), self.workers)

    def _jobs(self, manifest: Path):
        for number, record, problem in manifest_lines(manifest):
            if number == 1:
                self._header(record, problem)
                continue
            if record is None:
                self.report.add("malformed_row", "integrity", problem, line=number)
            elif record["type"] == "output":
                yield from self._output_row(number, record)
            elif record["type"] == "footer":
                self.footer = record
            elif record["type"] == "dataset_file":  # an annotated dataset's file per split (COCO JSON, data.yaml)
                yield from self._annotation_files(number, [record])
            elif record["type"] == "skipped":
                for issue in schema_problems(record):
                    self.report.add("malformed_row", "integrity", issue, line=number)
            else:  # a newer writer's record type: not ours to judge
                self.report.add("unknown_record", "warning", f"record type {record['type']!r} ignored", line=number)

    def _header(self, record: dict[str, Any] | None, problem: str) -> None:
        if record is None or record["type"] != "header":
            raise ManifestError(
                f"{self.report.manifest}:1: the first line must be the manifest header {problem}".strip()
            )
        if record.get("schema") != SCHEMA_VERSION:
            raise ManifestError(
                f"{self.report.manifest}:1: manifest schema {record.get('schema')!r} is not supported "
                f"(this augcli reads schema {SCHEMA_VERSION})"
            )
        self.header = record
        self.layout = record.get("layout") if record.get("layout") in ("flat", "split") else "flat"
        if record.get("layout") not in ("flat", "split"):
            self.report.add("malformed_row", "integrity", f"header layout {record.get('layout')!r} unknown", line=1)
        self.names = record.get("names") if isinstance(record.get("names"), list) else None
        self.recipe, problems = recipe_findings(record, self.wanted, f"{self.report.manifest} header")
        from augcli.transforms.domain import reference_findings

        problems += reference_findings(record)  # the domain steps' reference images, hashed at expand
        for problem in problems:
            self.report.add("recipe_mismatch", "integrity", problem, line=1)

    def _output_row(self, number: int, row: dict[str, Any]):
        self.outputs += 1
        self.report.rows = self.outputs
        problems = schema_problems(row)
        if problems:
            self.report.add(
                "malformed_row",
                "integrity",
                "; ".join(problems),
                row.get("path") if isinstance(row.get("path"), str) and lexically_safe(row["path"]) else None,
                number,
            )
            return
        path, source, split, label = row["path"], row["source"], row["split"], row["label"]
        if not self._safe(path, number):
            return
        if path in self.paths:
            self.report.add("duplicate_path", "integrity", "listed twice in the manifest", path, number)
            return
        self.paths.add(path)
        contributors = [source] + [s for s in row.get("sources") or [] if s != source]
        unsafe = [s for s in contributors if not lexically_safe(s)]
        if unsafe:
            self.report.add(
                "unsafe_path", "integrity", f"source {unsafe[0]!r} leaves the dataset (tampering)", path, number
            )
            return
        self._consistency(number, row, contributors)
        counts = self.report.balance.setdefault(split or "-", {}).setdefault(label, {"originals": 0, "augmented": 0})
        counts["originals" if row["kind"] == "original" else "augmented"] += 1
        augmented = row["kind"] == "augmented"
        if augmented and row["sha256"] == row["source_sha256"]:
            self._identity(path, "identical_bytes")
        elif augmented and not row["transforms"]:
            self._identity(path, "no_transforms")
        if augmented or row.get("preprocess"):  # a preprocessed original is rebuilt too
            self._consider_replay(row)
        if self.source_root is not None and source not in self.sources_checked:
            self.sources_checked.add(source)
            yield str(self.source_root), source, ("src", number, source, row["source_sha256"])
        if self.out is not None:
            flagged = augmented and (not row["transforms"] or row["sha256"] == row["source_sha256"])
            meta = ("out", number, path, row["sha256"], split, row["kind"], source, flagged)
            yield str(self.out), path, meta
        if self.names is not None:
            self._targets(number, row)
            yield from self._annotation_files(number, row.get("annotations") or [])

    def _annotation_files(self, number: int, files: list[Any]):
        """Label files, masks, COCO/YOLO dataset files: listed with their sha256, checked like images."""
        for entry in files:
            path = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) or not self._safe(path, number):
                self.report.add(
                    "malformed_row", "integrity", "an annotation file entry needs a safe path and a sha256", line=number
                )
                continue
            self.paths.add(path)
            if self.out is not None:
                yield str(self.out), path, ("ann", number, path, entry["sha256"])

    def _targets(self, number: int, row: dict[str, Any]) -> None:
        """Every object of an annotated output lies in its image and has a known class."""
        for index, record in enumerate(row.get("objects") or []):
            try:
                box, category = [float(v) for v in record["box"]], int(record["category"])
            except (KeyError, TypeError, ValueError):
                self.report.add("malformed_row", "integrity", f"objects[{index}] is not an object", row["path"], number)
                continue
            if not 0 <= category < len(self.names or []):
                self.report.add(
                    "unknown_class", "integrity", f"objects[{index}]: class id {category} unknown", row["path"], number
                )
            slack = 1e-3
            inside = (
                -slack <= box[0] < box[2] <= row["width"] + slack and -slack <= box[1] < box[3] <= row["height"] + slack
            )
            if not inside:
                size = f"{row['width']}x{row['height']}"
                message = f"objects[{index}]: box {box} outside the {size} image"
                self.report.add("box_outside_image", "integrity", message, row["path"], number)

    def _safe(self, path: str, number: int) -> bool:
        try:
            if self.out is not None and not storage.is_url(self.out):
                safe_output_path(self.out, path)
            elif not lexically_safe(path):
                raise ManifestError(f"unsafe path in manifest: {path!r} (must be relative to the output folder)")
        except ManifestError as exc:
            self.report.add("unsafe_path", "integrity", f"{exc}; not opened (tampering)", line=number)
            return False
        return True

    def _consistency(self, number: int, row: dict[str, Any], contributors: list[str]) -> None:
        path, split, label = row["path"], row["split"], row["label"]
        checked = (("path", path), ("source", row["source"]))
        if self.names is not None or "split_from" in self.header:  # sources' splits are not in their paths
            self.source_split[row["source"]] = split
            if split == TRAIN:
                self.train_rows.append((number, path, contributors))
            if self.names is not None:
                return  # annotated layouts keep splits where their format does (VOC: in lists)
            checked = (("path", path),)  # split by the recipe: outputs are under OUT/<split>/<class>/
        for what, rel in checked:
            implied = place(rel, self.layout)
            if implied != (split, label):
                self.report.add(
                    "label_mismatch",
                    "integrity",
                    f"row says split {split!r} class {label!r}, but its {what} {rel} lies in split {implied[0]!r} "
                    f"class {implied[1]!r}",
                    path,
                    number,
                )
        if self.layout == "split" and split == TRAIN and "split_from" not in self.header:
            self._leaks(number, path, [(c, place(c, self.layout)[0]) for c in contributors])

    def _annotated_leaks(self) -> None:
        """Annotated layouts: a train output's sources must be train sources (splits known from the rows)."""
        for number, path, contributors in self.train_rows:
            self._leaks(number, path, [(c, self.source_split.get(c, TRAIN)) for c in contributors])

    def _leaks(self, number: int, path: str, origins: list[tuple[str, str | None]]) -> None:
        for contributor, origin in origins:
            if origin != TRAIN:
                message = f"train output derives from {contributor} ({origin} split)"
                self.report.add("source_leak", "leakage", message, path, number)

    def _on_file(self, meta: tuple, sha: str | None, image_hash: int | None, problem: str) -> None:
        if meta[0] == "ann":
            _, number, path, expected = meta
            if problem == "empty" and expected == EMPTY_SHA256:  # a label file of an image with no objects
                return
            if problem == "missing":
                self.report.add(
                    "missing", "integrity", "annotation file listed in the manifest but not on disk", path, number
                )
            elif problem:
                self.report.add("unreadable", "integrity", f"annotation file cannot be read ({problem})", path, number)
            elif sha != expected:
                self.report.add(
                    "changed", "integrity", "annotation file sha256 differs from the manifest (edited)", path, number
                )
            return
        if meta[0] == "src":
            _, number, source, expected = meta
            root = self.source_root
            where = storage.redact(storage.join(root, source)) if storage.is_url(root) else str(root / source)  # type: ignore[operator]
            if problem:
                self.report.add("source_missing", "integrity", f"source {problem} in the source dataset", where, number)
            elif sha != expected:
                self.report.add(
                    "source_changed",
                    "integrity",
                    "source sha256 differs from the manifest (changed since expand)",
                    where,
                    number,
                )
            elif image_hash is not None:
                self.source_hash.setdefault(source, image_hash)
            return
        if meta[0] == "orphan":
            self._pool(meta[1], place(meta[1], self.layout)[0], image_hash)
            return
        _, number, path, expected, split, kind, source, flagged = meta
        self.report.files_hashed += sha is not None
        if problem == "missing":
            self.report.add("missing", "integrity", "listed in the manifest but not on disk", path, number)
            return
        if problem:
            self.report.add("unreadable", "integrity", f"cannot be read ({problem})", path, number)
            return
        if sha != expected:
            self.report.add(
                "changed", "integrity", "sha256 differs from the manifest (edited or replaced)", path, number
            )
            return
        self._pool(path, split, image_hash)
        if kind == "original" and image_hash is not None:
            self.source_hash.setdefault(source, image_hash)
        elif (
            kind == "augmented"
            and not flagged
            and image_hash is not None
            and self.source_hash.get(source) == image_hash
        ):
            self._identity(path, "perceptual")

    def _pool(self, path: str, split: str | None, image_hash: int | None) -> None:
        if image_hash is not None and self.layout == "split" and split is not None:
            hashes, paths = self.pools[split == TRAIN]
            hashes.append(image_hash)
            paths.append(path)

    def _identity(self, path: str, how: str) -> None:
        self.report.totals[("info", f"identity_{how}")] += 1
        if len(self.report.identity) < 1000:
            self.report.identity.append({"path": path, "how": how})

    # --- after the pass -------------------------------------------------------------------------------
    def _orphans(self) -> None:
        assert self.out is not None
        jobs = []
        # Objects: one listing arranged as os.walk would give it (relpath/islink below work on URL strings too:
        # the difference of two URLs under one root, and never a link).
        walk = storage.walk(str(self.out)) if storage.is_url(self.out) else os.walk(self.out)
        for folder, dirs, names in walk:
            rel_folder = os.path.relpath(folder, self.out).replace(os.sep, "/")
            if rel_folder == "." and STATE_DIR in dirs:
                dirs.remove(STATE_DIR)
                self.report.add(
                    "run_state", "warning", f"{STATE_DIR}/ exists: an expand run is in progress or was interrupted"
                )
            for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:  # os.walk lists, never enters
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                self.report.add("orphan", "integrity", "folder symlink not in the manifest (not followed)", rel)
            for name in sorted(names):
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                if rel in (MANIFEST_NAME, reviewing.REVIEW_NAME) or rel in self.paths:
                    continue
                link = os.path.islink(os.path.join(folder, name))
                self.report.add(
                    "orphan",
                    "integrity",
                    "symlink not in the manifest (not followed)" if link else "file not in the manifest",
                    rel,
                )
                if not link:
                    jobs.append((str(self.out), rel, ("orphan", rel)))
        for results in self._inspect(jobs):
            for result in results:
                self._on_file(*result)

    def _near_duplicates(self) -> None:
        import numpy as np

        from augcli.phash import near_pairs

        train_hashes, train_paths = self.pools[True]
        eval_hashes, eval_paths = self.pools[False]
        pairs = near_pairs(
            np.array(eval_hashes, dtype=np.uint64), np.array(train_hashes, dtype=np.uint64), self.threshold
        )
        for q, p, distance in pairs:
            evaluation, train = eval_paths[q], train_paths[p]
            self.report.add(
                "near_duplicate", "leakage", f"{distance} bits (dHash) from train image {train}", evaluation
            )
            if len(self.report.near_duplicates) < 1000:
                self.report.near_duplicates.append({"eval": evaluation, "train": train, "distance": distance})

    def _consider_replay(self, row: dict[str, Any]) -> None:
        if not self.replay:
            return
        key = int.from_bytes(
            hashlib.sha256(b"augcli-replay\0" + row["path"].encode("utf-8", "surrogateescape")).digest()[:8], "big"
        )
        small = {k: row[k] for k in ("path", "source", "label", "transforms", "sha256", "copy")}
        small.update({k: row[k] for k in ("split", "objects", "annotations", "preprocess", "kind") if k in row})
        if isinstance(self.replay, float):
            if key < self.replay * 2**64:
                self.chosen.append((-key, row["path"], small))
        elif len(self.chosen) < self.replay:
            heapq.heappush(self.chosen, (-key, row["path"], small))
        elif -key > self.chosen[0][0]:
            heapq.heapreplace(self.chosen, (-key, row["path"], small))

    def _annotated_source(self, root: Any) -> Any:
        """An annotated dataset's reading of `root` for replaying targets: (format's dataset, references)."""
        if self.names is None:
            return None
        from augcli.dataset import scan

        dataset = scan(root, str(self.header.get("format")))
        return dataset.annotations, {s.relpath: (s.split, s.annotation) for s in dataset.samples}

    def _replay(self) -> None:
        if not self.replay or not self.chosen:
            return
        root = self.source_root or self.out
        if root is None or self.recipe is None:
            why = "the header's recipe is unusable" if self.recipe is None else "no files: pass --source"
            self.report.add("replay_skipped", "warning", f"replay not possible: {why}")
            return
        jobs = []
        for _, path, row in sorted(self.chosen, key=lambda c: c[1]):
            if root == self.out and not storage.is_file(str(self.out), row["source"]):
                self.report.add(
                    "replay_skipped", "warning", f"source {row['source']} not in the output; pass --source", path
                )
                continue
            jobs.append((str(root), row))
        versions = version_drift(self.header.get("versions") or {})
        settings = (self.recipe.model_dump_json(), self.max_pixels, self._annotated_source(root))
        job = Job(replay_rows, settings, crashed_replay, storage.get_options())
        for results in run(job, batched(jobs, 4), self.workers):
            for path, problem in results:
                self.report.replayed += 1
                if problem:
                    self.report.add("replay_mismatch", "integrity", f"{problem}; {versions}", path)
                else:
                    self.report.replay_matched += 1
