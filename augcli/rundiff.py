"""`augcli diff`: what changed between two runs, from their manifests.

The header recipes key by key (dotted paths; step lists are aligned by transform name, so an inserted step is one
addition, not a shift of every later step), the library versions and code fingerprint, the outputs added, removed
and changed (by path and sha256), and for every step and sampled parameter present in both runs the shift of its
distribution: the means and the two-sample Kolmogorov-Smirnov statistic.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcli.errors import DatasetError
from augcli.manifest import read_records
from augcli.stats import MAIN, StatsReport, collect, manifest_path

KS_THRESHOLD = 0.2  # default: a shift is flagged above this KS statistic ...
KS_ALPHA_C = 1.95  # ... when it is also significant at the 0.1 % level: D > c * sqrt((n + m) / (n * m))
SHOWN = 20  # text output: outputs listed per kind


@dataclass
class Change:
    kind: str  # added, removed, changed
    path: str
    old: Any = None
    new: Any = None
    note: str = ""


@dataclass
class Shift:
    step: str  # the step's key in run B
    step_a: str
    name: str
    param: str
    count_a: int
    count_b: int
    mean_a: float
    mean_b: float
    ks: float
    critical: float
    flagged: bool


@dataclass
class DiffReport:
    a: str
    b: str
    recipe: list[Change]
    versions: list[Change]
    outputs: dict[str, list[str]]  # added, removed, changed -> paths
    unchanged: int
    sources: dict[str, list[str]]  # added, removed -> dataset-relative sources
    shifts: list[Shift] = field(default_factory=list)
    threshold: float = KS_THRESHOLD

    @property
    def identical(self) -> bool:
        return not (self.recipe or self.versions or any(self.outputs.values()) or any(s.flagged for s in self.shifts))


# --- recipes ----------------------------------------------------------------------------------------------------


def _is_step_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "name" in v for v in value)


def align(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[tuple[int | None, int | None]]:
    """Pairs (index in a, index in b) of the same steps, by transform name; None where a step is only in one."""
    matcher = difflib.SequenceMatcher(None, [s["name"] for s in a], [s["name"] for s in b], autojunk=False)
    pairs: list[tuple[int | None, int | None]] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            pairs += list(zip(range(a0, a1), range(b0, b1), strict=True))
        else:
            pairs += [(i, None) for i in range(a0, a1)] + [(None, j) for j in range(b0, b1)]
    return pairs


def diff_values(a: Any, b: Any, path: str = "", out: list[Change] | None = None) -> list[Change]:
    """Key-by-key differences; lists of plain values (ranges, weights) are compared whole."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append(Change("added", where, new=b[key]))
            elif key not in b:
                out.append(Change("removed", where, old=a[key]))
            else:
                diff_values(a[key], b[key], where, out)
    elif (_is_step_list(a) or a == []) and (_is_step_list(b) or b == []) and (a or b):
        for ia, ib in align(a, b):
            if ib is None:
                out.append(Change("removed", f"{path}.{ia}", old=a[ia]))
            elif ia is None:
                out.append(Change("added", f"{path}.{ib}", new=b[ib]))
            else:
                before = len(out)
                diff_values(a[ia], b[ib], f"{path}.{ib}", out)
                for change in out[before:]:
                    change.note = change.note or (f"step {ia} in A" if ia != ib else "")
    elif a != b:
        out.append(Change("changed", path, old=a, new=b))
    return out


def step_map(a: list[dict[str, Any]], b: list[dict[str, Any]], prefix_a: str = "", prefix_b: str = "") -> dict:
    """Step path in run A -> the same step's path in run B, inside blocks too."""
    mapping: dict[str, str] = {}
    for ia, ib in align(a, b) if a and b else []:
        if ia is None or ib is None:
            continue
        path_a, path_b = f"{prefix_a}{ia}", f"{prefix_b}{ib}"
        mapping[path_a] = path_b
        if _is_step_list(a[ia].get("transforms")) and _is_step_list(b[ib].get("transforms")):
            mapping.update(step_map(a[ia]["transforms"], b[ib]["transforms"], f"{path_a}.", f"{path_b}."))
    return mapping


# --- parameter distributions -------------------------------------------------------------------------------------


def ks_statistic(a: Any, b: Any) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    x, y = np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))
    if not x.size or not y.size:
        return float("nan")
    points = np.concatenate([x, y])
    gap = np.searchsorted(x, points, side="right") / x.size - np.searchsorted(y, points, side="right") / y.size
    return float(np.abs(gap).max())


def _shifts(stats_a: StatsReport, stats_b: StatsReport, threshold: float) -> list[Shift]:
    recipe_a, recipe_b = stats_a.header.get("recipe") or {}, stats_b.header.get("recipe") or {}
    lists_a = {MAIN: recipe_a.get("transforms") or []}
    lists_b = {MAIN: recipe_b.get("transforms") or []}
    for recipe, lists in ((recipe_a, lists_a), (recipe_b, lists_b)):
        for label, settings in (recipe.get("classes") or {}).items():
            if isinstance(settings, dict) and settings.get("transforms") is not None:
                lists[label] = settings["transforms"]
    steps_b = {(s.scope, s.path): s for s in stats_b.steps}
    shifts = []
    for step_a in stats_a.steps:
        mapping = step_map(lists_a[step_a.scope], lists_b.get(step_a.scope) or [])
        step_b = steps_b.get((step_a.scope, mapping.get(step_a.path, "")))
        if step_b is None or step_b.name != step_a.name:
            continue
        for param in sorted(set(step_a.params) & set(step_b.params)):
            values_a, values_b = step_a.params[param], step_b.params[param]
            n, m = len(values_a), len(values_b)
            ks = ks_statistic(values_a, values_b)
            critical = KS_ALPHA_C * math.sqrt((n + m) / (n * m))
            shifts.append(
                Shift(
                    step=step_b.key,
                    step_a=step_a.key,
                    name=step_a.name,
                    param=param,
                    count_a=n,
                    count_b=m,
                    mean_a=float(np.mean(values_a)),
                    mean_b=float(np.mean(values_b)),
                    ks=ks,
                    critical=critical,
                    flagged=ks > threshold and ks > critical,
                )
            )
    return shifts


# --- outputs -----------------------------------------------------------------------------------------------------


def _outputs(path: Path) -> tuple[dict[str, str], set[str]]:
    """path -> sha256 of every output row, and the sources named by any row."""
    outputs, sources = {}, set()
    for record in read_records(path):
        if record.get("type") in ("output", "skipped") and isinstance(record.get("source"), str):
            sources.add(record["source"])
        if record.get("type") == "output" and isinstance(record.get("path"), str):
            outputs[record["path"]] = str(record.get("sha256"))
    return outputs, sources


def diff(target_a: str | Path, target_b: str | Path, threshold: float = KS_THRESHOLD) -> DiffReport:
    if not 0.0 < threshold <= 1.0:
        raise DatasetError(f"--ks-threshold must lie in (0, 1], not {threshold}")
    path_a, path_b = manifest_path(target_a), manifest_path(target_b)
    stats_a, stats_b = collect(path_a), collect(path_b)
    recipe = diff_values(stats_a.header.get("recipe") or {}, stats_b.header.get("recipe") or {})
    versions = diff_values(stats_a.header.get("versions") or {}, stats_b.header.get("versions") or {})
    outputs_a, sources_a = _outputs(path_a)
    outputs_b, sources_b = _outputs(path_b)
    both = outputs_a.keys() & outputs_b.keys()
    changed = sorted(p for p in both if outputs_a[p] != outputs_b[p])
    return DiffReport(
        a=str(path_a),
        b=str(path_b),
        recipe=recipe,
        versions=versions,
        outputs={
            "added": sorted(outputs_b.keys() - outputs_a.keys()),
            "removed": sorted(outputs_a.keys() - outputs_b.keys()),
            "changed": changed,
        },
        unchanged=len(both) - len(changed),
        sources={"added": sorted(sources_b - sources_a), "removed": sorted(sources_a - sources_b)},
        shifts=_shifts(stats_a, stats_b, threshold),
        threshold=threshold,
    )


# --- rendering ---------------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _change_line(change: Change) -> str:
    note = f"  ({change.note})" if change.note else ""
    if change.kind == "changed":
        return f"  changed  {change.path}: {_shown(change.old)} -> {_shown(change.new)}{note}"
    value = change.new if change.kind == "added" else change.old
    return f"  {change.kind:<8} {change.path}: {_shown(value)}{note}"


def to_text(report: DiffReport) -> str:
    lines = [f"A: {report.a}", f"B: {report.b}", ""]
    lines += ["recipe:"] + ([_change_line(c) for c in report.recipe] or ["  same"])
    lines += ["versions:"] + ([_change_line(c) for c in report.versions] or ["  same"])
    counts = ", ".join(f"{len(paths)} {kind}" for kind, paths in report.outputs.items())
    lines.append(f"outputs: {counts}, {report.unchanged} unchanged")
    for kind, paths in report.outputs.items():
        lines += [f"  {kind:<8} {path}" for path in paths[:SHOWN]]
        if len(paths) > SHOWN:
            lines.append(f"  ... and {len(paths) - SHOWN} more {kind}")
    for kind, sources in report.sources.items():
        if sources:
            lines.append(f"sources {kind}: " + ", ".join(sources[:SHOWN]) + (" ..." if len(sources) > SHOWN else ""))
    lines.append(f"parameter shifts (two-sample KS statistic; flagged above {report.threshold:g} when significant):")
    for shift in report.shifts:
        where = shift.step if shift.step == shift.step_a else f"{shift.step} (A: {shift.step_a})"
        mark = "  SHIFTED" if shift.flagged else ""
        lines.append(
            f"  {where:<8} {shift.name} {shift.param}: mean {shift.mean_a:.4g} -> {shift.mean_b:.4g}"
            f"  KS {shift.ks:.3f} (n={shift.count_a}/{shift.count_b}){mark}"
        )
    if not report.shifts:
        lines.append("  no step and parameter in both runs")
    lines += ["", "no differences" if report.identical else "runs differ"]
    return "\n".join(lines)


def to_json(report: DiffReport) -> str:
    def change(c: Change) -> dict[str, Any]:
        return {"kind": c.kind, "path": c.path, "old": c.old, "new": c.new, "note": c.note or None}

    document = {
        "a": report.a,
        "b": report.b,
        "identical": report.identical,
        "recipe": [change(c) for c in report.recipe],
        "versions": [change(c) for c in report.versions],
        "outputs": {**report.outputs, "unchanged": report.unchanged},
        "sources": report.sources,
        "ks_threshold": report.threshold,
        "shifts": [shift.__dict__ for shift in report.shifts],
    }
    return json.dumps(document, indent=2)


RENDERERS = {"text": to_text, "json": to_json}


def renderer(output_format: str):
    if output_format not in RENDERERS:
        raise DatasetError(f"--format must be one of {', '.join(RENDERERS)}, not {output_format!r}")
    return RENDERERS[output_format]
