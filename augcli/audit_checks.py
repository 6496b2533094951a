"""Pieces of `augcli audit` that look at one thing: a manifest line, a row, a file.

The manifest is data that may be corrupted or crafted, so lines are parsed one by one (a bad line is a
finding, not a crash), rows are checked against a schema of required keys and types (unknown keys are
allowed: newer writers may add some), and paths are vetted before anything is opened. File inspection
(`inspect_files`) runs in worker processes: it gets small picklable jobs and returns hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

HEX64 = re.compile(r"[0-9a-f]{64}")
TRAIN = "train"

# key -> accepted types (None means null is allowed). Checked on every row of that type.
OUTPUT_SCHEMA: dict[str, tuple] = {
    "path": (str,),
    "kind": (str,),
    "source": (str,),
    "source_sha256": (str,),
    "label": (str,),
    "split": (str, type(None)),
    "sha256": (str,),
    "transforms": (list,),
    "width": (int,),
    "height": (int,),
}
SKIPPED_SCHEMA: dict[str, tuple] = {"source": (str,), "reason": (str,)}
STEP_SCHEMA: dict[str, tuple] = {"name": (str,), "step": (str,), "params": (dict,)}


def schema_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with a row's shape; empty when it is well-formed."""
    kind = record["type"]
    schema = OUTPUT_SCHEMA if kind == "output" else SKIPPED_SCHEMA if kind == "skipped" else {}
    problems = _missing_or_mistyped(record, schema)
    if kind != "output" or problems:
        return problems
    if record["kind"] not in ("original", "augmented"):
        problems.append(f"kind must be 'original' or 'augmented', not {record['kind']!r}")
    for key in ("sha256", "source_sha256"):
        if not HEX64.fullmatch(record[key]):
            problems.append(f"{key} is not a sha256 hex digest")
    for index, step in enumerate(record["transforms"]):
        if not isinstance(step, dict):
            problems.append(f"transforms[{index}] is not an object")
        else:
            problems += [f"transforms[{index}]: {p}" for p in _missing_or_mistyped(step, STEP_SCHEMA)]
    if record["kind"] == "augmented":
        sources = record.get("sources")
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            problems.append("sources must be a list of paths")
    return problems


def _missing_or_mistyped(record: dict[str, Any], schema: dict[str, tuple]) -> list[str]:
    problems = []
    for key, types in schema.items():
        if key not in record:
            problems.append(f"missing key {key!r}")
        elif not isinstance(record[key], types) or (isinstance(record[key], bool) and bool not in types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            problems.append(f"{key!r} must be {names}, not {type(record[key]).__name__}")
    return problems


def place(rel: str, layout: str) -> tuple[str | None, str | None]:
    """(split, label) a dataset-relative path implies: split/label/... or label/..."""
    parts = rel.split("/")
    if layout == "split":
        return (parts[0], parts[1]) if len(parts) > 2 else (parts[0], None)
    return None, (parts[0] if len(parts) > 1 else None)


def recipe_findings(header: dict[str, Any], wanted: Any, where: str) -> tuple[Any, list[str]]:
    """The header's recipe (None if unusable) and what is wrong with it.

    Tampering: the stored recipe, dumped as expand dumps it, must hash to `recipe_sha256`. Staleness: compared
    with `wanted` (the --recipe file) after both are validated by this augcli, so a recipe field added by a
    newer augcli (its default filled in on both sides) does not count as a difference."""
    from augcli.recipe import recipe_from_dict

    stored = header.get("recipe")
    problems = []
    text = json.dumps(stored, sort_keys=True, separators=(",", ":"))
    if hashlib.sha256(text.encode()).hexdigest() != header.get("recipe_sha256"):
        problems.append("the header's recipe does not hash to its recipe_sha256 (edited header)")
    try:
        recipe = recipe_from_dict(stored, where)
    except Exception as exc:  # noqa: BLE001  (RecipeError, or worse: the header is damaged)
        return None, [*problems, f"the header's recipe does not validate: {exc}"]
    if wanted is not None:
        ours, theirs = wanted.model_dump(mode="json"), recipe.model_dump(mode="json")
        keys = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
        if keys:
            problems.append(
                f"made with another recipe (sha256 {str(header.get('recipe_sha256'))[:12]}, --recipe has "
                f"{wanted.sha256()[:12]}); keys that differ: {', '.join(keys)}"
            )
    return recipe, problems


# --- work done in worker processes ------------------------------------------------------------------------

Job = tuple[str, str, Any]  # (root, relative path, caller's data passed through untouched)
Inspected = tuple[Any, str | None, int | None, str]  # (caller's data, sha256, dhash, problem)


def inspect_files(max_pixels: int, jobs: list[Job]) -> list[Inspected]:
    """sha256 and dHash of each file; a missing or unreadable file gives a problem instead, an undecodable one
    no dHash (still hashed; just not comparable by appearance). A root may be a URL (storage.py)."""
    from augcli.phash import fingerprint

    results: list[Inspected] = []
    for root, rel, data in jobs:
        sha, image_hash, reason, _ = fingerprint(root, rel, max_pixels)
        results.append((data, None, None, reason) if sha is None else (data, sha, image_hash, ""))
    return results


def crashed_file(job: Job) -> Inspected:
    return (job[2], None, None, "crashed the worker reading it (a native decoder crash, or out of memory?)")


def replay_rows(settings: tuple[str, int, Any], jobs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(output path, problem or "") per job; a job is (source root, the row's path/source/label/transforms/sha256).

    The output is rebuilt by the one renderer from its source and the recorded params (no randomness drawn),
    encoded as expand encodes it, and compared by sha256: equal bytes prove the recorded params complete. An
    annotated output's targets are rebuilt too (its objects and the bytes of its annotation files)."""
    return [(row["path"], _replay_one(root, row, *settings)) for root, row in jobs]


def crashed_replay(job: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    return job[1]["path"], "replay failed: the worker process died (a native decoder crash, or out of memory?)"


def _replay_one(root: str, row: dict[str, Any], recipe_json: str, max_pixels: int, annotated: Any = None) -> str:
    from augcli import storage
    from augcli.errors import ImageReadError
    from augcli.imageio import decode
    from augcli.renderer import render
    from augcli.transforms.base import ApplyContext
    from augcli.worker import partner_loader, recipe_of

    recipe = recipe_of(recipe_json)
    ctx, targets, settings = ApplyContext(load=partner_loader(root, max_pixels)), None, None
    try:
        image = decode(storage.read(root, row["source"]), row["source"], max_pixels).image
        if annotated is not None:
            settings, targets = _replay_targets(root, row, recipe_json, max_pixels, annotated, image, ctx)
        rendered = render(
            recipe,
            image,
            source=row["source"],
            label=row["label"],
            copy=row.get("copy") or 0,
            suffix=os.path.splitext(row["path"])[1],
            ctx=ctx,
            steps=[] if row.get("kind") == "original" else None,  # an original only got the preprocessing
            applied=row["transforms"],
            targets=targets,
            preprocess=row.get("preprocess"),
        )
    except ImageReadError as exc:
        return f"cannot read a source to replay from: {exc}"
    except Exception as exc:  # a param the kernel rejects is itself a finding about the row
        return f"replay failed: {type(exc).__name__}: {exc}"
    sha = rendered.sha256
    if sha != row["sha256"]:
        return f"replayed bytes differ (sha256 {sha[:12]}, manifest {row['sha256'][:12]})"
    return "" if settings is None else _targets_differ(settings, row, rendered)


def _replay_targets(root, row, recipe_json, max_pixels, annotated, image, ctx):
    from augcli.worker import Settings, partner_targets, read_targets

    dataset, references = annotated
    settings = Settings(recipe_json, root, "", max_pixels, annotations=dataset, references=references)
    ctx.extra["targets"] = partner_targets(settings, ctx.load)
    split, annotation = references[row["source"]]
    return settings, read_targets(settings, row["source"], split, annotation, image.shape[1], image.shape[0])


def _targets_differ(settings: Any, row: dict[str, Any], rendered: Any) -> str:
    """The replayed targets against the row's objects and the annotation files expand wrote."""
    from augcli.formats import AnnotatedSample, write

    objects = [instance.to_json() for instance in rendered.targets.instances]
    recorded = row.get("objects") or []
    if objects != recorded:
        first = next(
            (i for i, (a, b) in enumerate(zip(objects, recorded, strict=False)) if a != b),
            min(len(objects), len(recorded)),
        )
        counts = f"{len(objects)} vs {len(recorded)}"
        return f"replayed targets differ from the row's objects (first at object {first}; {counts})"
    split, annotation = settings.references[row["source"]]
    height, width = rendered.image.shape[:2]
    files = write(settings.annotations, AnnotatedSample(row["source"], split, annotation), row["path"],
                  rendered.targets, width, height)  # fmt: skip
    written = {a["path"]: a["sha256"] for a in row.get("annotations") or []}
    replayed = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    return "" if replayed == written else f"replayed annotation files differ ({sorted(replayed)})"


def version_drift(recorded: dict[str, Any]) -> str:
    from augcli.manifest import library_versions

    running = library_versions()
    drift = [f"{k} {recorded.get(k)} (manifest) vs {v} (running)" for k, v in running.items() if recorded.get(k) != v]
    if drift:
        return "library versions differ: " + ", ".join(drift)
    return "library versions match, so the recorded params or the file do not belong to this row"


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
