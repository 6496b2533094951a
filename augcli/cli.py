"""The command line: parse, call the library, render, exit. Heavy modules load inside commands so
`augcli --help` stays instant."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from augcli.errors import AugcliError, ExitCode

app = typer.Typer(
    name="augcli",
    help="Offline, reproducible, auditable image dataset augmentation from a YAML recipe.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(error: AugcliError) -> typer.Exit:
    typer.secho(f"augcli: error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(int(error.exit_code))


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from augcli import __version__

        typer.echo(f"augcli {__version__}")
        raise typer.Exit()


@app.command()
def expand(
    recipe: Annotated[Path, typer.Argument(help="YAML recipe.")],
    dataset: Annotated[Path, typer.Argument(help="Dataset root: root/<class>/ or root/<split>/<class>/.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (outside the dataset).")],
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).", min=1)] = None,
    max_pixels: Annotated[int, typer.Option(help="Refuse images larger than this many pixels.", min=1)] = 100_000_000,
    force: Annotated[bool, typer.Option(help="Write into a non-empty output folder.")] = False,
    keep_going: Annotated[bool, typer.Option(help="Exit 0 even if some images could not be read.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Augment a dataset into OUTPUT and write OUTPUT/manifest.jsonl."""
    from tqdm import tqdm

    from augcli.expand import expand as run_expand
    from augcli.render import expand_summary

    bar: tqdm | None = None

    def start(total: int) -> None:
        nonlocal bar
        bar = tqdm(total=total, unit="img", disable=quiet or None, dynamic_ncols=True, file=sys.stderr)

    try:
        result = run_expand(
            recipe,
            dataset,
            output,
            workers=workers,
            max_pixels=max_pixels,
            force=force,
            on_start=start,
            on_progress=lambda n: bar.update(n) if bar else None,
        )
    except AugcliError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        typer.secho("augcli: interrupted; no manifest was written", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    finally:
        if bar is not None:
            bar.close()
    typer.echo(expand_summary(result))
    if result.skipped and not keep_going:
        raise typer.Exit(int(ExitCode.FAILURES))


@app.command()
def transforms(
    name: Annotated[str | None, typer.Argument(help="Show one transform in detail.")] = None,
) -> None:
    """List every transform with its parameters and defaults (generated from the registry)."""
    from augcli.render import transform_detail, transform_table

    try:
        typer.echo(transform_detail(name) if name else transform_table())
    except AugcliError as error:
        raise fail(error) from None


@app.command()
def schema() -> None:
    """Print the recipe's JSON Schema (point your editor's YAML plugin at it)."""
    import json

    from augcli.recipe import Recipe

    typer.echo(json.dumps(Recipe.model_json_schema(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    app()
