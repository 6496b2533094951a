"""`augcli stats`: what a run's recipe actually did, read from its manifest alone.

For every transform step of the header's recipe (inside blocks too, and in each class's own `classes:` list):
how often it fired against the probability the recipe gives it, with the central 95 % interval of a binomial
count at that probability; every sampled numeric parameter (min / median / max, histograms); outputs per split
and class; and warnings for steps that never fire, fire far from their probability, or sample a constant from a
range that is not one.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcli.errors import DatasetError, ManifestError
from augcli.manifest import MANIFEST_NAME, read_records

NEVER_FIRED_MIN = 20  # augmented outputs without a firing before "never fired" is worth a warning
WARN_LEVEL = 0.999  # "far outside": beyond the central 99.9 % binomial interval
CONSTANT_MIN = 5  # firings with one value before a sampled parameter over a real range is called constant
LIST_PARAM_MAX = 8  # a numeric list param up to this length is split into name[0], name[1], ...

MAIN = ""  # the scope of the recipe's own `transforms`; a class's own list has the class name as its scope


@dataclass
class StepStats:
    scope: str  # MAIN, or the class whose `classes:` list holds the step
    path: str  # index path in that list ("2", "3.1")
    name: str
    spec: dict[str, Any]  # the step as the header's recipe records it
    expected: float  # probability that one augmented output applies the step
    trials: int = 0  # augmented outputs that ran this step list
    fired: int = 0
    params: dict[str, list[float]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.path if self.scope == MAIN else f"classes.{self.scope}:{self.path}"

    @property
    def observed(self) -> float | None:
        return self.fired / self.trials if self.trials else None

    def interval(self, level: float = 0.95) -> tuple[float, float] | None:
        """Central interval of the fired fraction if the step fires with probability `expected`."""
        if not self.trials:
            return None
        low, high = binomial_interval(self.trials, self.expected, level)
        return low / self.trials, high / self.trials

    def outside(self, level: float = 0.95) -> bool:
        interval = self.interval(level)
        return interval is not None and not (interval[0] <= self.fired / self.trials <= interval[1])


@dataclass
class StatsReport:
    manifest: str
    steps: list[StepStats]
    outputs: dict[tuple[str | None, str | None], Counter]  # (split, label) -> {original, augmented, skipped}
    warnings: list[str]
    header: dict[str, Any]
    plots: list[str] = field(default_factory=list)

    @property
    def augmented(self) -> int:
        return sum(counts["augmented"] for counts in self.outputs.values())


def manifest_path(target: str | Path) -> Path:
    """OUT or OUT/manifest.jsonl -> the manifest file (local paths)."""
    path = Path(target)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(f"no manifest at {path} (give an expanded dataset folder or its {MANIFEST_NAME})")
    return path


def binomial_interval(n: int, p: float, level: float = 0.95) -> tuple[int, int]:
    """Smallest and largest count of the central `level` interval of Binomial(n, p) (exact, numpy only)."""
    if p <= 0.0:
        return 0, 0
    if p >= 1.0:
        return n, n
    k = np.arange(n + 1)
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    log_pmf = log_factorial[n] - log_factorial[k] - log_factorial[n - k] + k * math.log(p) + (n - k) * math.log1p(-p)
    cdf = np.cumsum(np.exp(log_pmf - log_pmf.max()))
    cdf /= cdf[-1]
    tail = (1.0 - level) / 2
    low = int(np.searchsorted(cdf, tail - 1e-12))
    high = int(np.searchsorted(cdf, 1.0 - tail - 1e-12))
    return low, min(high, n)


def _children_share(block: dict[str, Any]) -> list[float]:
    """Probability that each child of a block is chosen, given that the block runs."""
    children = block.get("transforms") or []
    count = len(children)
    if block["name"] == "one_of":
        weights = block.get("weights") or [1.0] * count
        total = float(sum(weights))
        return [w / total for w in weights]
    if block["name"] == "some_of":
        low, high = block.get("n_range") or (1, 1)
        return [((low + high) / 2) / count] * count if count else []
    return [1.0] * count


def leaf_steps(steps: list[dict[str, Any]], scope: str = MAIN) -> list[StepStats]:
    """Every transform step of a list (blocks opened), with the probability that one output applies it."""
    found: list[StepStats] = []

    def walk(nodes: list[dict[str, Any]], prefix: str, share: list[float], reach: float) -> None:
        for index, node in enumerate(nodes):
            path = f"{prefix}{index}"
            chance = reach * share[index] * float(node.get("p", 1.0))
            if "transforms" in node and node["name"] in ("one_of", "some_of", "sequence", "random_order"):
                walk(node["transforms"], f"{path}.", _children_share(node), chance)
            else:
                found.append(StepStats(scope, path, node["name"], node, chance))

    walk(steps, "", [1.0] * len(steps), 1.0)
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_params(params: Any) -> dict[str, float]:
    """The numbers among a step's params: scalars by name, short numeric lists as name[i]; the rest ignored."""
    out: dict[str, float] = {}
    if not isinstance(params, dict):
        return out
    for name, value in params.items():
        if _number(value):
            out[name] = float(value)
        elif isinstance(value, list) and 0 < len(value) <= LIST_PARAM_MAX and all(map(_number, value)):
            out.update({f"{name}[{i}]": float(v) for i, v in enumerate(value)})
    return out


def collect(target: str | Path) -> StatsReport:
    """Read a manifest once: firings and param values per step, outputs per split and class."""
    path = manifest_path(target)
    records = read_records(path)
    header = next(records, None)
    if header is None:
        raise ManifestError(f"{path}: empty manifest")
    recipe = header.get("recipe") or {}
    overrides = {
        label: list(settings["transforms"])
        for label, settings in (recipe.get("classes") or {}).items()
        if isinstance(settings, dict) and settings.get("transforms") is not None
    }
    scopes = {MAIN: leaf_steps(list(recipe.get("transforms") or []))}
    scopes.update({label: leaf_steps(steps, label) for label, steps in overrides.items()})
    by_path = {(scope, s.path): s for scope, steps in scopes.items() for s in steps}
    outputs: dict[tuple[str | None, str | None], Counter] = {}
    unknown: Counter = Counter()
    for record in records:
        kind = record.get("type")
        if kind not in ("output", "skipped"):
            continue
        counts = outputs.setdefault((record.get("split"), record.get("label")), Counter())
        counts["skipped" if kind == "skipped" else str(record.get("kind"))] += 1
        if kind != "output" or record.get("kind") != "augmented":
            continue
        scope = record.get("label") if record.get("label") in overrides else MAIN
        for step in scopes[scope]:
            step.trials += 1
        for applied in record.get("transforms") or []:
            step = by_path.get((scope, str(applied.get("step"))))
            if step is None or step.name != applied.get("name"):
                unknown[(scope, str(applied.get("step")), str(applied.get("name")))] += 1
                continue
            step.fired += 1
            for name, value in numeric_params(applied.get("params")).items():
                step.params.setdefault(name, []).append(value)
    steps = [s for scope in scopes.values() for s in scope]
    report = StatsReport(str(path), steps, outputs, [], header)
    report.warnings = _warnings(steps, unknown)
    return report


def _warnings(steps: list[StepStats], unknown: Counter) -> list[str]:
    warnings = []
    for step in steps:
        where = f"step {step.key} ({step.name})"
        if step.fired == 0 and step.trials >= NEVER_FIRED_MIN:
            warnings.append(
                f"{where} never fired in {step.trials} augmented outputs (expected rate {step.expected:.3g})"
            )
        elif step.outside(WARN_LEVEL):
            low, high = step.interval()
            warnings.append(
                f"{where} fired in {step.fired} of {step.trials} outputs ({step.fired / step.trials:.3f}), far"
                f" outside its expected {step.expected:.3f} (95 % interval {low:.3f}-{high:.3f})"
            )
        for field_name, value in step.spec.items():
            if not field_name.endswith("_range") or not isinstance(value, list) or len(value) != 2:
                continue
            values = step.params.get(field_name.removesuffix("_range"))
            if values and len(values) >= CONSTANT_MIN and value[0] != value[1] and min(values) == max(values):
                warnings.append(
                    f"{where}: {field_name.removesuffix('_range')} was {values[0]:g} in all {len(values)} firings"
                    f" although {field_name} is [{value[0]:g}, {value[1]:g}]"
                )
    for (scope, path, name), count in sorted(unknown.items()):
        where = path if scope == MAIN else f"classes.{scope}:{path}"
        warnings.append(f"{count} applied steps name step {where} ({name}), which the header's recipe does not have")
    return warnings


# --- rendering ------------------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    data = np.asarray(values, dtype=np.float64)
    return {
        "count": int(data.size),
        "min": float(data.min()),
        "median": float(np.median(data)),
        "max": float(data.max()),
        "mean": float(data.mean()),
    }


def to_json(report: StatsReport) -> str:
    steps = []
    for step in report.steps:
        interval = step.interval()
        steps.append(
            {
                "step": step.key,
                "scope": step.scope or None,
                "path": step.path,
                "name": step.name,
                "expected": step.expected,
                "trials": step.trials,
                "fired": step.fired,
                "observed": step.observed,
                "interval_95": list(interval) if interval else None,
                "outside_95": step.outside(),
                "params": {name: summary(values) for name, values in sorted(step.params.items())},
            }
        )
    outputs = [
        {"split": split, "label": label, **{k: counts[k] for k in ("original", "augmented", "skipped")}}
        for (split, label), counts in sorted(report.outputs.items(), key=lambda item: _sort_key(item[0]))
    ]
    document = {
        "manifest": report.manifest,
        "augmented": report.augmented,
        "steps": steps,
        "outputs": outputs,
        "warnings": report.warnings,
        "plots": report.plots,
    }
    return json.dumps(document, indent=2)


def _sort_key(key: tuple[str | None, str | None]) -> tuple[str, str]:
    return (key[0] or "", key[1] or "")


def to_text(report: StatsReport) -> str:
    lines = [f"{report.manifest}: {report.augmented} augmented outputs", "", "steps (fired / augmented outputs):"]
    for step in report.steps:
        interval = step.interval()
        if interval is None:
            lines.append(f"  {step.key:<8} {step.name:<22} expected {step.expected:.3f}  no augmented outputs")
            continue
        mark = "  OUTSIDE" if step.outside() else ""
        lines.append(
            f"  {step.key:<8} {step.name:<22} expected {step.expected:.3f}  observed {step.observed:.3f}"
            f" ({step.fired}/{step.trials})  95% [{interval[0]:.3f}, {interval[1]:.3f}]{mark}"
        )
        for name, values in sorted(step.params.items()):
            s = summary(values)
            lines.append(
                f"  {'':<8}   {name:<20} min {s['min']:.4g}  median {s['median']:.4g}  max {s['max']:.4g}"
                f"  (n={s['count']})"
            )
    lines += ["", "outputs (split / class: originals, augmented, skipped):"]
    for (split, label), counts in sorted(report.outputs.items(), key=lambda item: _sort_key(item[0])):
        where = f"{split}/{label}" if split else str(label)
        lines.append(f"  {where:<24} {counts['original']:>6} {counts['augmented']:>8} {counts['skipped']:>6}")
    if report.plots:
        lines += ["", f"{len(report.plots)} histograms written"]
    lines += [""] + ([f"warning: {w}" for w in report.warnings] or ["no warnings"])
    return "\n".join(lines)


RENDERERS = {"text": to_text, "json": to_json}


def renderer(output_format: str):
    if output_format not in RENDERERS:
        raise DatasetError(f"--format must be one of {', '.join(RENDERERS)}, not {output_format!r}")
    return RENDERERS[output_format]


def plot_name(step: StepStats, param: str) -> str:
    raw = f"{'' if step.scope == MAIN else 'classes.' + step.scope + '.'}step{step.path}_{step.name}_{param}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in raw) + ".png"


def write_plots(report: StatsReport, directory: str | Path) -> list[str]:
    """One PNG histogram per step and sampled parameter; returns the file names written."""
    from augcli.charts import histogram, png

    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create --plots folder {folder}: {exc.strerror}") from None
    written = []
    for step in report.steps:
        for param, values in sorted(step.params.items()):
            name = plot_name(step, param)
            title = f"step {step.key} {step.name}: {param}"
            (folder / name).write_bytes(png(histogram(values, title)))
            written.append(name)
    report.plots = written
    return written
