"""`augcli ablate`: what each step of a recipe buys, measured by training on expanded variants of a dataset.

Variants: `baseline` (the originals only: copies 0), `full` (the recipe), `without-<i>-<name>` (top-level step i
left out) and, with `single`, `only-<i>-<name>` (step i alone). Each is an ordinary expanded dataset under
RUNS/<variant>/ (augcli.api.expand; a finished variant with the same recipe is not redone). A trainer scores every
variant `repeats` times with seeds 0..repeats-1: the builtin proxy (augcli/proxy.py) or the user's command. Every
run's result is written to RUNS/results/<variant>/repeat-<r>.json as soon as it ends (with the variant's recipe
hash, the trainer and the metric), so an interrupted or partly failed ablation resumes where it stopped: successful
runs of the same recipe, trainer and metric are skipped, failed ones are tried again. Results live outside the
variants' folders, so each stays a dataset that `augcli audit` accepts.
"""

from __future__ import annotations

import json
import math
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augcli.errors import DatasetError, OutputError
from augcli.imageio import write_atomic
from augcli.manifest import MANIFEST_NAME, read_records
from augcli.recipe import Recipe, load_recipe

VAL_SPLITS = ("val", "valid", "validation")
PLACEHOLDERS = ("{train}", "{val}", "{seed}", "{out}")
# two-sided 95 % Student t quantiles by degrees of freedom (numpy has no t distribution)
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
T975.update({12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980})


@dataclass
class RunResult:
    variant: str
    repeat: int
    status: str  # ok, failed
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    reused: bool = False  # recorded by an earlier invocation


@dataclass
class Estimate:
    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"mean": _finite(self.mean), "ci95": [_finite(self.low), _finite(self.high)], "n": self.n}


@dataclass
class AblationReport:
    runs_dir: Path
    metric: str
    trainer: str
    repeats: int
    variants: dict[str, Estimate]
    lift: dict[str, Estimate]  # variant minus baseline, paired by repeat
    contribution: dict[str, Estimate]  # step variant name -> full minus without-step, paired by repeat
    harmful: list[str]
    failures: list[RunResult]
    runs: list[RunResult]
    files: list[str] = field(default_factory=list)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def t_quantile(df: int) -> float:
    known = [d for d in sorted(T975) if d <= df]
    return T975[known[-1]] if df <= 120 else 1.960


def estimate(values: list[float]) -> Estimate:
    """Mean and 95 % Student t interval (undefined, NaN, with fewer than two values)."""
    data = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if not data.size:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if data.size < 2:
        return Estimate(mean, math.nan, math.nan, 1)
    half = t_quantile(data.size - 1) * float(data.std(ddof=1)) / math.sqrt(data.size)
    return Estimate(mean, mean - half, mean + half, int(data.size))


# --- variants -----------------------------------------------------------------------------------------------------


def variants(recipe: Recipe, single: bool = False) -> dict[str, dict[str, Any]]:
    """Variant name -> recipe (a plain mapping for augcli.api.expand)."""
    full = recipe.model_dump(mode="json")
    baseline = {**full, "copies": 0, "target_per_class": None, "balance": None, "keep_originals": True}
    baseline["classes"] = {
        name: {**settings, "copies": None, "target_per_class": None} for name, settings in full["classes"].items()
    }
    out = {"baseline": baseline, "full": full}
    steps = full["transforms"]
    for index, step in enumerate(steps):
        out[f"without-{index}-{step['name']}"] = {**full, "transforms": steps[:index] + steps[index + 1 :]}
    if single:
        for index, step in enumerate(steps):
            out[f"only-{index}-{step['name']}"] = {**full, "transforms": [step]}
    return out


def _finished(output: Path, recipe: dict[str, Any]) -> bool:
    """A variant expanded earlier with this very recipe (its committed manifest's header says so)."""
    manifest = output / MANIFEST_NAME
    if not manifest.is_file():
        return False
    header = next(read_records(manifest), {})
    return header.get("recipe_sha256") == recipe_sha(recipe)


def recipe_sha(recipe: dict[str, Any]) -> str:
    from augcli.api import load_recipe as api_load

    return api_load(recipe).sha256()


def _splits(output: Path) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]], str]:
    """(path, label) of the train and val outputs of an expanded variant, from its manifest; the val split's name."""
    train, val, names = [], {}, set()
    for record in read_records(output / MANIFEST_NAME):
        if record.get("type") != "output":
            continue
        split, item = record.get("split"), (output / record["path"], str(record.get("label")))
        names.add(split)
        if split == "train":
            train.append(item)
        elif split in VAL_SPLITS:
            val.setdefault(split, []).append(item)
    if not train or not val:
        found = ", ".join(sorted(str(n) for n in names)) or "none"
        raise DatasetError(
            f"ablate needs a dataset with a train split and a val split ({', '.join(VAL_SPLITS)});"
            f" splits found: {found}"
        )
    name = next(n for n in VAL_SPLITS if n in val)
    return train, val[name], name


# --- trainers -------------------------------------------------------------------------------------------------------


def check_command(template: str) -> list[str]:
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise DatasetError(f"--train command cannot be parsed: {exc}") from None
    if not words:
        raise DatasetError("--train must be 'builtin' or a command")
    return words


def run_command(words: list[str], values: dict[str, str], metric: str) -> tuple[dict[str, Any], str]:
    """Run one training command; (metrics, "") or ({}, what went wrong)."""
    argv = [_fill(word, values) for word in words]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        return {}, f"cannot run {argv[0]!r}: {exc.strerror}"
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no stderr"])[-1]
        return {}, f"exit code {done.returncode}: {tail}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        metrics = json.loads(lines[-1], parse_constant=lambda _: None) if lines else None
    except json.JSONDecodeError:
        metrics = None
    if not isinstance(metrics, dict):
        return {}, "the last line of stdout is not a JSON object"
    value = metrics.get(metric)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return {}, f"the JSON object has no numeric {metric!r}"
    return metrics, ""


def _fill(word: str, values: dict[str, str]) -> str:
    for placeholder in PLACEHOLDERS:
        word = word.replace(placeholder, values[placeholder[1:-1]])
    return word


# --- the ablation -------------------------------------------------------------------------------------------------


def ablate(
    recipe_path: str | Path,
    dataset: str | Path,
    runs_dir: str | Path,
    *,
    train: str = "builtin",
    repeats: int = 3,
    single: bool = False,
    metric: str = "accuracy",
    workers: int | None = None,
    on_run: Callable[[RunResult], None] | None = None,
) -> AblationReport:
    if repeats < 1:
        raise DatasetError(f"--repeats must be at least 1, not {repeats}")
    words = None if train == "builtin" else check_command(train)
    recipe = load_recipe(recipe_path)
    runs = Path(runs_dir)
    if Path(dataset).resolve() == runs.resolve() or runs.resolve().is_relative_to(Path(dataset).resolve()):
        raise OutputError(f"RUNS folder {runs} must lie outside the dataset {dataset}")
    runs.mkdir(parents=True, exist_ok=True)
    from augcli.api import expand

    results: list[RunResult] = []
    for name, variant in variants(recipe, single).items():
        output = runs / name
        if not _finished(output, variant):
            expand(variant, dataset, output, workers=workers, force=output.exists())
        split_items = _splits(output)
        key = {"recipe_sha256": recipe_sha(variant), "trainer": train, "metric": metric}
        for repeat in range(repeats):
            result = _one_run(name, repeat, runs, split_items, words, key)
            results.append(result)
            if on_run:
                on_run(result)
    report = summarise(runs, results, metric, "builtin proxy" if words is None else train, repeats)
    report.files = write_report(report)
    return report


def _one_run(name: str, repeat: int, runs: Path, split_items: tuple, words: list[str] | None, key: dict) -> RunResult:
    """One training run of a variant, or its recorded result when an earlier invocation finished it."""
    train_items, val_items, val_name = split_items
    output, metric = runs / name, key["metric"]
    record = runs / "results" / name / f"repeat-{repeat}.json"
    if record.is_file():
        try:
            earlier = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            earlier = {}
        same = all(earlier.get(k) == v for k, v in key.items())
        if same and earlier.get("status") == "ok" and isinstance(earlier.get("metrics"), dict):
            return RunResult(name, repeat, "ok", earlier["metrics"], reused=True)
    folder = runs / "results" / name / f"repeat-{repeat}"
    folder.mkdir(parents=True, exist_ok=True)
    if words is None:
        from augcli.proxy import train_and_score

        metrics, error = train_and_score(train_items, val_items, seed=repeat), ""
        if metric not in metrics:
            metrics, error = {}, f"the builtin trainer reports no {metric!r} (it reports accuracy)"
    else:
        values = {
            "train": str(output / "train"),
            "val": str(output / val_name),
            "seed": str(repeat),
            "out": str(folder),
        }
        metrics, error = run_command(words, values, metric)
    result = RunResult(name, repeat, "failed" if error else "ok", metrics, error)
    document = {"variant": name, "repeat": repeat, "seed": repeat, **key, "status": result.status, "metrics": metrics}
    write_atomic(record, (json.dumps({**document, "error": error or None}, indent=2) + "\n").encode())
    return result


def summarise(runs: Path, results: list[RunResult], metric: str, trainer: str, repeats: int) -> AblationReport:
    scores: dict[str, dict[int, float]] = {}
    for result in results:
        value = result.metrics.get(metric) if result.status == "ok" else None
        scores.setdefault(result.variant, {})
        if isinstance(value, (int, float)) and math.isfinite(value):
            scores[result.variant][result.repeat] = float(value)

    def paired(a: str, b: str) -> Estimate:
        common = sorted(scores.get(a, {}).keys() & scores.get(b, {}).keys())
        return estimate([scores[a][r] - scores[b][r] for r in common])

    names = list(scores)
    report = AblationReport(
        runs_dir=runs,
        metric=metric,
        trainer=trainer,
        repeats=repeats,
        variants={name: estimate(list(scores[name].values())) for name in names},
        lift={name: paired(name, "baseline") for name in names if name != "baseline"},
        contribution={
            name.removeprefix("without-"): paired("full", name) for name in names if name.startswith("without-")
        },
        harmful=[],
        failures=[r for r in results if r.status != "ok"],
        runs=results,
    )
    report.harmful = [step for step, e in report.contribution.items() if math.isfinite(e.high) and e.high < 0]
    return report


# --- the report ------------------------------------------------------------------------------------------------------


def _cell(e: Estimate) -> str:
    if e.n == 0:
        return "no result"
    if not math.isfinite(e.low):
        return f"{e.mean:.4f} (n=1, no interval)"
    return f"{e.mean:.4f} [{e.low:.4f}, {e.high:.4f}]"


def to_markdown(report: AblationReport) -> str:
    lines = [
        "# augcli ablate",
        "",
        f"Trainer: `{report.trainer}`; metric: {report.metric} on the val split; {report.repeats} repeats"
        f" (seeds 0..{report.repeats - 1}); means with 95 % t intervals over repeats; lift and contribution are"
        " paired by seed. Each variant's originals are plain copies.",
        "",
        f"| variant | {report.metric} | lift over baseline |",
        "|---|---|---|",
    ]
    for name, e in report.variants.items():
        lift = report.lift.get(name)
        lines.append(f"| {name} | {_cell(e)} | {_cell(lift) if lift else ''} |")
    if report.contribution:
        lines += ["", "| step | contribution (full minus without it) | harmful |", "|---|---|---|"]
        for step, e in report.contribution.items():
            lines.append(f"| {step} | {_cell(e)} | {'**yes**' if step in report.harmful else ''} |")
    if report.failures:
        lines += ["", "Failed runs (tried again on the next invocation):", ""]
        lines += [f"- {r.variant} repeat {r.repeat}: {r.error}" for r in report.failures]
    return "\n".join(lines) + "\n"


def to_html(report: AblationReport) -> str:
    """The report as one offline page: the tables, the chart, and every run each figure comes from."""
    from html import escape

    def table(head: list[str], rows: list[list[str]]) -> str:
        cells = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{cells}</tr>{body}</table>"

    variants = [[n, _cell(e), _cell(report.lift[n]) if n in report.lift else ""] for n, e in report.variants.items()]
    steps = [[s, _cell(e), "yes" if s in report.harmful else ""] for s, e in report.contribution.items()]
    runs = [
        [r.variant, str(r.repeat), r.status + (" (recorded)" if r.reused else ""), json.dumps(r.metrics, default=str)]
        for r in report.runs
    ]
    return "\n".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>augcli ablate</title>',
            "<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px} table{border-collapse:collapse;margin:8px 0}"
            " td,th{border:1px solid #ccc;padding:3px 8px;text-align:left} img{max-width:100%}</style></head><body>",
            "<h1>augcli ablate</h1>",
            f"<p>Trainer: <code>{escape(report.trainer)}</code>; metric: {escape(report.metric)} on the val split; "
            f"{report.repeats} repeats; means with 95 % t intervals; lift and contribution paired by seed.</p>",
            table(["variant", report.metric, "lift over baseline"], variants),
            table(["step", "contribution (full minus without it)", "harmful"], steps) if steps else "",
            '<p><img src="report.png" alt="lift over baseline per variant, with intervals"></p>',
            "<h2>Runs</h2><p>Each figure above is the mean of these runs (results under <code>results/</code>).</p>",
            table(["variant", "repeat", "status", "metrics"], runs),
            "</body></html>",
            "",
        ]
    )


def to_json(report: AblationReport) -> str:
    document = {
        "trainer": report.trainer,
        "metric": report.metric,
        "repeats": report.repeats,
        "variants": {name: e.as_dict() for name, e in report.variants.items()},
        "lift": {name: e.as_dict() for name, e in report.lift.items()},
        "contribution": {name: e.as_dict() for name, e in report.contribution.items()},
        "harmful": report.harmful,
        "failures": [{"variant": r.variant, "repeat": r.repeat, "error": r.error} for r in report.failures],
        "runs": [
            {"variant": r.variant, "repeat": r.repeat, "status": r.status, "reused": r.reused, "metrics": r.metrics}
            for r in report.runs
        ],
    }
    return json.dumps(document, indent=2, allow_nan=False, default=str) + "\n"


def write_report(report: AblationReport) -> list[str]:
    from augcli.charts import interval_bars, png

    names = [n for n in report.variants if n != "baseline"]
    lifts = [report.lift[n] for n in names]
    harmful = {f"without-{step}" for step in report.harmful}
    chart = interval_bars(
        names,
        [e.mean for e in lifts],
        [(e.low, e.high) for e in lifts],
        f"{report.metric}: lift over baseline, 95% interval ({report.trainer})",
        flagged=[n in harmful for n in names],
    )
    files = {
        "report.md": to_markdown(report).encode(),
        "report.json": to_json(report).encode(),
        "report.png": png(chart),
        "report.html": to_html(report).encode(),
    }
    for name, data in files.items():
        write_atomic(report.runs_dir / name, data)
    return [str(report.runs_dir / name) for name in files]
