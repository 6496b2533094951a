"""The one error path of the CLI: every command maps Ctrl-C to 130 and an AugcliError to its class's code,
with its message on stderr and no traceback; typer's usage errors keep typer's message and code 2."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from augcli.cli import app
from augcli.errors import AugcliError, DatasetError, ExitCode, ImageReadError, ManifestError

# command -> (the library function it calls, as module and attribute; its command line, {tmp} for tmp_path)
COMMANDS = {
    "expand": ("augcli.expand", "expand", ["expand", "{tmp}/recipe.yaml", "{tmp}/data", "-o", "{tmp}/out"]),
    "tta": ("augcli.tta", "tta", ["tta", "{tmp}/recipe.yaml", "{tmp}/data", "-o", "{tmp}/out"]),
    "audit": ("augcli.audit", "audit", ["audit", "{tmp}/out"]),
    "preview": ("augcli.preview", "preview", ["preview", "{tmp}/recipe.yaml", "{tmp}/data", "-o", "{tmp}/s.png"]),
    "transforms": ("augcli.render", "transform_table", ["transforms"]),
    "schema": ("augcli.recipe", "Recipe.model_json_schema", ["schema"]),
    "split": ("augcli.split", "split", ["split", "{tmp}/data", "-o", "{tmp}/out", "--seed", "1"]),
    "export": ("augcli.export", "export", ["export", "{tmp}/out", "--to", "csv"]),
    "stats": ("augcli.stats", "collect", ["stats", "{tmp}/out"]),
    "diff": ("augcli.rundiff", "diff", ["diff", "{tmp}/a", "{tmp}/b"]),
    "ablate": ("augcli.ablate", "ablate", ["ablate", "{tmp}/recipe.yaml", "{tmp}/data", "-o", "{tmp}/runs"]),
    "convert": ("augcli.convert", "convert_file", ["convert", "{tmp}/pipeline.yaml", "-o", "{tmp}/recipe.yaml"]),
}


def test_the_table_names_every_command() -> None:
    """A new command joins COMMANDS, so the tests below prove it goes through the one error path."""
    assert {c.name or c.callback.__name__ for c in app.registered_commands} == set(COMMANDS)


def invoke_raising(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, error: BaseException):
    module_name, attribute, argv = COMMANDS[command]
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)

    def raising(*args: object, **kwargs: object):
        raise error

    monkeypatch.setattr(owner, name, raising)
    return CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in argv])


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str) -> None:
    result = invoke_raising(monkeypatch, tmp_path, command, KeyboardInterrupt())
    assert result.exit_code == ExitCode.INTERRUPTED == 130, result.output
    assert result.stderr.startswith("augcli: interrupted") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output and "Aborted" not in result.output


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("error", "code"),
    [
        (DatasetError("no such dataset here"), ExitCode.USAGE),
        (ManifestError("no such dataset here"), ExitCode.INTEGRITY),
        (ImageReadError("no such dataset here", "truncated"), ExitCode.FAILURES),
    ],
)
def test_an_augcli_error_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, error: AugcliError, code: ExitCode
) -> None:
    result = invoke_raising(monkeypatch, tmp_path, command, error)
    assert result.exit_code == code == error.exit_code, result.output
    assert result.stderr == f"augcli: error: {error}\n"
    assert "no such dataset here" not in result.stdout


def test_expand_interrupted_says_where_the_work_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = invoke_raising(monkeypatch, tmp_path, "expand", KeyboardInterrupt())
    assert f"the work done so far is kept in {tmp_path}/out. Run the same command again to resume" in result.stderr


def test_a_bug_is_not_dressed_up_as_a_user_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = invoke_raising(monkeypatch, tmp_path, "audit", ZeroDivisionError("a bug"))
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)
    assert "augcli: error" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["expand", "r.yaml", "data"], "Missing option '--output'"),
        (["tta", "r.yaml", "data", "-o", "out", "--workers", "0"], "Invalid value for '--workers'"),
        (["audit"], "Missing argument 'target'"),
        (["schema", "extra"], "Got unexpected extra argument"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_usage_errors_are_typers_own(argv: list[str], message: str) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2 and message in result.stderr and "augcli: error" not in result.stderr
