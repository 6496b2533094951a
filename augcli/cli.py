"""The command line: parse, call the library, render, exit. Heavy modules load inside commands so
`augcli --help` stays instant."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from augcli.errors import AugcliError, ExitCode, RecipeError
from augcli.textsafe import printable

app = typer.Typer(
    name="augcli",
    help="Offline, reproducible, auditable image dataset augmentation from a YAML recipe.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich adds ~0.1 s to `augcli --help` (target < 0.3 s)
)


def command(interrupted: Callable[..., str] | None = None) -> Callable[[Callable[..., ExitCode]], Callable]:
    """Register a command on `app` behind the one error path every command shares.

    The command's body parses, calls the library, prints its summary and returns an exit code. Here an
    `AugcliError` becomes its message on stderr and its class's exit code, and Ctrl-C becomes exit 130 with
    one line on stderr, extended by `interrupted(**params)` when the command can say what was kept.
    Typer's own usage errors (a missing argument, `--workers 0`) are raised before the body runs and keep
    typer's message and exit code 2."""

    def register(body: Callable[..., ExitCode]) -> Callable:
        @functools.wraps(body)
        def run(**params: object) -> None:
            try:
                code = body(**params)
            except AugcliError as error:
                typer.secho(f"augcli: error: {shown_error(error)}", fg=typer.colors.RED, err=True)
                raise typer.Exit(int(error.exit_code)) from None
            except KeyboardInterrupt:
                hint = f"; {printable(interrupted(**params))}" if interrupted else ""
                typer.secho(f"augcli: interrupted{hint}", fg=typer.colors.YELLOW, err=True)
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
            if code != ExitCode.OK:
                raise typer.Exit(int(code))

        return app.command()(run)

    return register


def shown_error(error: AugcliError) -> str:
    """Messages name files, which may hold escape sequences, newlines or bytes that are not UTF-8: shown
    escaped. A recipe error lists one problem per line, so its newlines are its own."""
    text = str(error)
    return "\n".join(map(printable, text.split("\n"))) if isinstance(error, RecipeError) else printable(text)


class Progress:
    """A tqdm bar on stderr, created when the library announces its total (`start`), closed on exit."""

    def __init__(self, unit: str, quiet: bool) -> None:
        self.unit, self.quiet, self.bar = unit, quiet, None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the driver stays single-threaded, so workers can fork
        # smoothing=0: the ETA from the average rate since the start. Results come back a chunk at a time, in
        # bursts, and tqdm's default (an exponential average of recent bursts, smoothing=0.3) swung the ETA
        # far off the actual finish (benchmarks/scale.py measures it).
        self.bar = tqdm(
            total=total, unit=self.unit, disable=self.quiet or None, dynamic_ncols=True, file=sys.stderr, smoothing=0
        )

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def finish(summary: str, skipped: list, keep_going: bool) -> ExitCode:
    """Print a run's summary; some sources skipped is exit 1 unless --keep-going."""
    typer.echo(summary)
    return ExitCode.FAILURES if skipped and not keep_going else ExitCode.OK


def _resume_hint(output: str, **_: object) -> str:
    return f"the work done so far is kept in {_shown(output)}. Run the same command again to resume"


LAYOUT_OPTION = typer.Option(
    "--layout",
    help="auto, classes (root/<class>/), yolo, coco, voc or masks (detection/segmentation: boxes and masks follow "
    "every transform). auto refuses a tree that looks annotated but is incomplete.",
)
STORAGE_OPTION = typer.Option(
    metavar="KEY=VALUE",
    help="key=value for fsspec URLs (repeatable), e.g. endpoint_url=http://host:9000 or profile=NAME. Credentials"
    " are best left to the environment (AWS_ACCESS_KEY_ID ...); values given here are never printed.",
)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from augcli.version import __version__

        typer.echo(f"augcli {__version__}")
        raise typer.Exit()


@command(interrupted=_resume_hint)
def expand(
    recipe: Annotated[Path, typer.Argument(help="YAML recipe.")],
    dataset: Annotated[
        str, typer.Argument(help="Dataset root: root/<class>/ or root/<split>/<class>/; a path or a URL (s3://...).")
    ],
    output: Annotated[str, typer.Option("--output", "-o", help="Output folder or URL (outside the dataset).")],
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).", min=1)] = None,
    storage_option: Annotated[list[str] | None, STORAGE_OPTION] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on Dask: 'local-cluster' (started here with --workers processes) or a scheduler address"
            " such as tcp://host:8786. Needs pip install 'augcli[dask]'."
        ),
    ] = None,
    max_pixels: Annotated[int, typer.Option(help="Refuse images larger than this many pixels.", min=1)] = 100_000_000,
    force: Annotated[
        bool,
        typer.Option(
            help="Write into a folder holding other files; replace an earlier run made with another recipe"
            " (deleting only the files that run created)."
        ),
    ] = False,
    keep_going: Annotated[bool, typer.Option(help="Exit 0 even if some images could not be read.")] = False,
    strict: Annotated[bool, typer.Option(help="Stop at the first unreadable image (exit 1).")] = False,
    layout: Annotated[str, LAYOUT_OPTION] = "auto",
    export: Annotated[
        str | None,
        typer.Option(
            "--export", help="Then export the result: csv, hf or webdataset (beside OUT, as `augcli export`)."
        ),
    ] = None,
    verify: Annotated[
        str,
        typer.Option(
            help="How a re-run checks the outputs an earlier run left before keeping them: 'size' (each file"
            " exists with the size recorded when it was written; a file listed only by a finished run's manifest"
            " is re-hashed) or 'full' (every file re-hashed against its recorded sha256: also catches a change"
            " that keeps the size). Sources are re-hashed either way; whatever fails is redone.",
        ),
    ] = "size",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> ExitCode:
    """Augment a dataset into OUTPUT and write OUTPUT/manifest.jsonl.

    Run again on the same OUTPUT to resume an interrupted run or to add new sources: verified outputs are
    kept and only the rest is done."""
    from augcli.expand import expand as run_expand
    from augcli.render import expand_summary

    _use_storage(storage_option, dataset, output)
    if scheduler:  # a missing extra or a malformed address fails before anything is written
        from augcli.executor_dask import require_dask

        require_dask(scheduler)
    with Progress("img", quiet) as progress:
        result = run_expand(
            recipe,
            dataset,
            output,
            workers=workers,
            scheduler=scheduler,
            max_pixels=max_pixels,
            force=force,
            strict=strict,
            layout=layout,
            verify=verify,
            on_start=progress.start,
            on_progress=progress.update,
        )
    summary = expand_summary(result)
    if export:
        from augcli.export import export as run_export
        from augcli.export import export_summary

        summary += "\n" + export_summary(run_export(output, export))
    return finish(summary, result.skipped, keep_going)


def _use_storage(options: list[str] | None, *locations: str | None) -> None:
    """Storage options for this process (and, through the run's settings, its workers); fail early when a
    URL needs an extra that is not installed."""
    from augcli import storage

    storage.set_options(storage.parse_options(options or []))
    for location in locations:
        if location is not None:
            storage.require(location)


def _shown(location: str | Path) -> str:
    from augcli.storage import redact

    return redact(location)


@command(interrupted=lambda **_: "no manifest was written")  # tta does not resume: its manifest is written at the end
def tta(
    recipe: Annotated[Path, typer.Argument(help="YAML recipe (its `tta:` section, if any, names the views).")],
    dataset: Annotated[Path, typer.Argument(help="Dataset root: root/<class>/ or root/<split>/<class>/.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (outside the dataset).")],
    split: Annotated[str | None, typer.Option(help="Split to make views of (default: the recipe's, or test).")] = None,
    views: Annotated[
        str | None, typer.Option(help="Comma-separated views, e.g. identity,hflip,ten_crop,scale_0.9.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).", min=1)] = None,
    max_pixels: Annotated[int, typer.Option(help="Refuse images larger than this many pixels.", min=1)] = 100_000_000,
    force: Annotated[bool, typer.Option(help="Write into a non-empty output folder.")] = False,
    keep_going: Annotated[bool, typer.Option(help="Exit 0 even if some images could not be read.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> ExitCode:
    """Write deterministic test-time-augmentation views of a split, with their inverse maps, into OUTPUT."""
    from augcli.render import tta_summary
    from augcli.tta import tta as run_tta

    view_list = [v.strip() for v in views.split(",") if v.strip()] if views else None
    with Progress("src", quiet) as progress:
        result = run_tta(
            recipe,
            dataset,
            output,
            split=split,
            views=view_list,
            workers=workers,
            max_pixels=max_pixels,
            force=force,
            on_start=progress.start,
            on_progress=progress.update,
        )
    return finish(tta_summary(result), result.skipped, keep_going)


@command()
def audit(
    target: Annotated[str, typer.Argument(help="Expanded dataset folder or URL, or a manifest.jsonl alone.")],
    source: Annotated[
        str | None, typer.Option(help="Source dataset (path or URL): check every source still matches.")
    ] = None,
    recipe: Annotated[Path | None, typer.Option(help="Recipe file the dataset must have been made with.")] = None,
    replay: Annotated[
        str | None, typer.Option(help="Rebuild N outputs (e.g. 20) or a fraction of them (e.g. 0.1) from their params.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="text, json or github (CI annotations).")] = "text",
    near_dup_threshold: Annotated[
        int, typer.Option(help="Hamming distance (bits of 64) for near-duplicates across splits; -1 disables.", min=-1)
    ] = 6,
    imbalance_warn: Annotated[float, typer.Option(help="Warn when a split's class size ratio exceeds this.")] = 3.0,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).", min=1)] = None,
    storage_option: Annotated[list[str] | None, STORAGE_OPTION] = None,
    review: Annotated[
        Path | None, typer.Option(help="review.json from `preview --html --review`: fail on outputs marked bad.")
    ] = None,
) -> ExitCode:
    """Check an expanded dataset: files vs manifest, sources, recipe, split leakage, replay, balance."""
    from augcli.audit import audit as run_audit
    from augcli.audit_report import to_github, to_json, to_text
    from augcli.errors import DatasetError

    renderers = {"text": to_text, "json": to_json, "github": to_github}
    if output_format not in renderers:
        raise DatasetError(f"--format must be one of {', '.join(renderers)}, not {output_format!r}")
    _use_storage(storage_option, target, source)
    report = run_audit(
        target,
        source=source,
        recipe=recipe,
        replay=_replay_amount(replay),
        near_dup_threshold=near_dup_threshold,
        imbalance_warn=imbalance_warn,
        workers=workers,
        review=review,
    )
    typer.echo(renderers[output_format](report))
    return report.exit_code


def _replay_amount(text: str | None) -> float | None:
    """`20` means 20 outputs; `0.1` (anything with a point) a fraction of them."""
    from augcli.errors import DatasetError

    if text is None:
        return None
    try:
        value = float(text) if "." in text else int(text)
    except ValueError:
        value = -1
    if value <= 0 or ("." in text and value > 1):
        raise DatasetError(f"--replay takes a count (20) or a fraction in (0, 1] (0.1), not {text!r}")
    return value


@command()
def preview(
    recipe: Annotated[Path, typer.Argument(help="YAML recipe.")],
    dataset: Annotated[Path, typer.Argument(help="Dataset root: root/<class>/ or root/<split>/<class>/.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Sheet file (.png), or a folder with --html (outside the dataset).")
    ],
    each: Annotated[
        bool, typer.Option("--each", help="One row per transform range: its low, middle and high end.")
    ] = False,
    html: Annotated[
        bool, typer.Option("--html", help="Write OUTPUT/index.html with every tile and its details.")
    ] = False,
    review: Annotated[
        bool,
        typer.Option("--review", help="With --html: mark tiles OK or bad and save review.json for audit --review."),
    ] = False,
    per_class: Annotated[int, typer.Option(help="Sources shown per class.", min=1)] = 2,
    copies: Annotated[int, typer.Option(help="Augmented copies shown per source (at most the recipe's).", min=0)] = 4,
    classes: Annotated[str | None, typer.Option(help="Comma-separated classes to show (default: all).")] = None,
    split: Annotated[str | None, typer.Option(help="Split to show (default: the first augmented one).")] = None,
    tile_size: Annotated[int | None, typer.Option(help="Tile side in pixels (default: fit ~1600 px).", min=32)] = None,
    seed: Annotated[int | None, typer.Option(help="Use this seed instead of the recipe's.", min=0)] = None,
    colors: Annotated[
        int | None, typer.Option(help="Write the sheet with a palette of N colours (smaller file).", min=2, max=256)
    ] = None,
    max_pixels: Annotated[int, typer.Option(help="Refuse images larger than this many pixels.", min=1)] = 100_000_000,
    layout: Annotated[str, LAYOUT_OPTION] = "auto",
) -> ExitCode:
    """Show what a recipe does to a few sources per class: a contact sheet (PNG) or an HTML page.

    The copies are exactly the files `expand` would write for those sources (same seeds, same code)."""
    from augcli.preview import check_target, write_html, write_sheet
    from augcli.preview import preview as run_preview

    class_list = [c.strip() for c in classes.split(",") if c.strip()] if classes else None
    check_target(dataset, output)
    result = run_preview(
        recipe,
        dataset,
        per_class=per_class,
        copies=copies,
        classes=class_list,
        split=split,
        seed=seed,
        each=each,
        max_pixels=max_pixels,
        layout=layout,
    )
    if review and not html:
        raise AugcliError("--review needs --html (the verdicts are given on the page)")
    written = write_html(result, output, tile_size, review) if html else write_sheet(result, output, tile_size, colors)
    for skipped in result.skipped:
        line = f"not shown: {skipped['source']}: {skipped['reason']} ({skipped['message']})"
        typer.secho(printable(line), err=True)
    typer.echo(printable(f"{result.tiles} tiles in {len(result.rows)} rows -> {written}"))
    return ExitCode.OK


@command()
def stats(
    target: Annotated[Path, typer.Argument(help="Expanded dataset folder, or its manifest.jsonl.")],
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    plots: Annotated[
        Path | None, typer.Option(help="Write one PNG histogram per step and sampled parameter into this folder.")
    ] = None,
) -> ExitCode:
    """From the manifest alone: how often each step fired against its p, its sampled params, outputs per class."""
    from augcli.stats import collect, renderer, write_plots

    render = renderer(output_format)
    report = collect(target)
    if plots is not None:
        write_plots(report, plots)
    typer.echo(render(report))
    return ExitCode.OK


@command()
def diff(
    run_a: Annotated[Path, typer.Argument(help="First expanded dataset folder, or its manifest.jsonl.")],
    run_b: Annotated[Path, typer.Argument(help="Second expanded dataset folder, or its manifest.jsonl.")],
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    ks_threshold: Annotated[
        float, typer.Option(help="Flag a parameter whose KS statistic exceeds this (and is significant).")
    ] = 0.2,
) -> ExitCode:
    """Compare two runs: recipes, versions, outputs added/removed/changed, parameter distribution shifts."""
    from augcli.rundiff import diff as run_diff
    from augcli.rundiff import renderer

    render = renderer(output_format)
    typer.echo(render(run_diff(run_a, run_b, ks_threshold)))
    return ExitCode.OK


@command()
def split(
    dataset: Annotated[Path, typer.Argument(help="Flat dataset root/<class>/ (or, with --check, a split output).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder (new or empty).")] = None,
    val: Annotated[float, typer.Option(help="Fraction of each class for val.", min=0, max=1)] = 0.2,
    test: Annotated[float, typer.Option(help="Fraction of each class for test.", min=0, max=1)] = 0.1,
    seed: Annotated[int | None, typer.Option(help="Seed of the assignment (required to split).", min=0)] = None,
    near_dup_threshold: Annotated[
        int, typer.Option(help="dHash distance (bits of 64) that makes a near-duplicate group; -1 disables.", min=-1)
    ] = 6,
    resplit: Annotated[bool, typer.Option(help="Re-split the union of an already split dataset's splits.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Verify a split output against its split.jsonl.")] = False,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).", min=1)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> ExitCode:
    """Split a flat dataset into train/val/test per class, near-duplicates kept together; write OUTPUT/split.jsonl."""
    from augcli import split as splitting
    from augcli.errors import DatasetError

    if check:
        report = splitting.check(dataset, near_dup_threshold=near_dup_threshold, workers=workers)
        typer.echo(splitting.check_summary(report))
        return report.exit_code
    if output is None or seed is None:
        raise DatasetError("split needs -o OUTPUT and --seed N (or --check to verify a split output)")
    with Progress("img", quiet) as progress:
        result = splitting.split(
            dataset,
            output,
            val=val,
            test=test,
            seed=seed,
            near_dup_threshold=near_dup_threshold,
            resplit=resplit,
            workers=workers,
            on_start=progress.start,
            on_progress=progress.update,
        )
    return finish(splitting.split_summary(result), result.skipped, keep_going=False)


@command()
def export(
    target: Annotated[Path, typer.Argument(help="Expanded dataset folder (holding manifest.jsonl).")],
    to: Annotated[str, typer.Option("--to", help="csv, hf (Hugging Face imagefolder) or webdataset.")],
    dest: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="csv: the file (default OUT.csv); hf, webdataset: a new folder (OUT-hf/ ...)."
        ),
    ] = None,
    shard_size: Annotated[int, typer.Option(help="webdataset: images per tar shard.", min=1)] = 1000,
) -> ExitCode:
    """Export an expanded dataset as a CSV index, a Hugging Face imagefolder or WebDataset shards."""
    from augcli.export import export as run_export
    from augcli.export import export_summary

    typer.echo(export_summary(run_export(target, to, dest, shard_size=shard_size)))
    return ExitCode.OK


@command()
def ablate(
    recipe: Annotated[Path, typer.Argument(help="YAML recipe.")],
    dataset: Annotated[Path, typer.Argument(help="Dataset root with train and val splits: root/<split>/<class>/.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="RUNS folder: one expanded dataset per variant.")],
    train: Annotated[
        str,
        typer.Option(
            help="'builtin' (a small proxy classifier, not a real model) or a command with {train} {val} {seed} {out}"
            " printing a JSON object on its last stdout line."
        ),
    ] = "builtin",
    repeats: Annotated[int, typer.Option(help="Training runs per variant (seeds 0..N-1).", min=1)] = 3,
    single: Annotated[bool, typer.Option("--single", help="Also try each top-level step alone.")] = False,
    metric: Annotated[str, typer.Option(help="Key of the trainer's JSON object to compare.")] = "accuracy",
    workers: Annotated[int | None, typer.Option(help="Worker processes for expand (default: all).", min=1)] = None,
) -> ExitCode:
    """Measure what each recipe step buys: train on the baseline, the full recipe and each step left out."""
    from augcli.ablate import ablate as run_ablate
    from augcli.ablate import to_markdown

    def shown(run) -> None:
        state = "recorded" if run.reused else run.status
        typer.echo(printable(f"{run.variant} repeat {run.repeat}: {state} {run.metrics.get(metric, run.error)}"))

    options = {"train": train, "repeats": repeats, "single": single, "metric": metric, "workers": workers}
    report = run_ablate(recipe, dataset, output, on_run=shown, **options)
    typer.echo(to_markdown(report) + "\n" + printable("written: " + ", ".join(report.files)))
    return ExitCode.FAILURES if report.failures else ExitCode.OK


@command()
def convert(
    pipeline: Annotated[Path, typer.Argument(help="albumentations pipeline saved with A.save (YAML or JSON).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Recipe file to write (YAML).")],
) -> ExitCode:
    """Convert a saved albumentations pipeline into a recipe; list what has no equivalent (then exit 1)."""
    from augcli.convert import convert_file

    result = convert_file(pipeline, output)
    for problem in result.skipped:
        typer.secho(printable(f"not converted: {problem}"), err=True)
    for problem in result.notes:
        typer.secho(printable(f"note: {problem}"), err=True)
    not_converted = f", {len(result.skipped)} not converted (see stderr, recipe header)" if result.skipped else ""
    typer.echo(printable(f"{result.converted} of {result.total} transforms converted{not_converted} -> {output}"))
    return ExitCode.FAILURES if result.skipped else ExitCode.OK


@command()
def transforms(
    name: Annotated[str | None, typer.Argument(help="Show one transform in detail.")] = None,
) -> ExitCode:
    """List every transform with its parameters and defaults (generated from the registry)."""
    from augcli.render import transform_detail, transform_table

    typer.echo(transform_detail(name) if name else transform_table())
    return ExitCode.OK


@command()
def schema() -> ExitCode:
    """Print the recipe's JSON Schema (point your editor's YAML plugin at it)."""
    import json

    from augcli.recipe import Recipe

    typer.echo(json.dumps(Recipe.model_json_schema(), indent=2))
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    app()
