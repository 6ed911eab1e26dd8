"""Every command's ``--help`` ends with one example, and the example is a real command: each is
parsed by the command line and, where it can run against the sandbox, run in a copy of the
example project (in the order a reader would try them), exiting 0."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import click
import pytest

from ctflow import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "journeys"
EXAMPLE_LINE = re.compile(r"^  Example:\n    (ctflow .+)$", flags=re.M)

RUN_ORDER = [
    "validate",
    "schema",
    "render",
    "send",
    "plan",
    "show",
    "apply",
    "upload",
    "drift",
    "history",
    "sandbox",
    "sandbox seed",
    "now",
    "api",
    "import",
    "import schemas",
    "campaigns",
    "campaigns list",
    "report",
    "count",
    "export",
    "profile",
    "profile get",
    "profile delete",
    "sandbox reset",
    "",
    "init",
]
"""The commands whose example runs, in this order, in one copy of the example project (`init`
last: the project it makes inside the copy would be read as the copy's declarations)."""

CANNOT_RUN = {
    "stop": "names the production environment (no credentials here)",
    "sandbox serve": "serves until interrupted",
    "journal": "copies into a PostgreSQL server",
    "journal copy": "copies into a PostgreSQL server",
}


def _commands(group: click.Group, words: tuple[str, ...] = ()) -> list[str]:
    found = [" ".join(words)]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*words, name)))
        else:
            found.append(" ".join((*words, name)))
    return found


COMMANDS = _commands(cli.cli)


def _help(words: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.run([*words.split(), "--help"], {})
    assert code == 0
    return out.getvalue()


def example(words: str) -> str:
    """The example line of ``ctflow WORDS --help``."""
    found = EXAMPLE_LINE.findall(_help(words))
    assert len(found) == 1, f"`ctflow {words} --help` shows {len(found)} examples, not one"
    return str(found[0])


def test_every_command_is_either_run_or_said_why_not() -> None:
    assert sorted(RUN_ORDER) == sorted(set(COMMANDS) - set(CANNOT_RUN))
    assert set(CANNOT_RUN) <= set(COMMANDS)


@pytest.mark.parametrize("words", COMMANDS)
def test_the_help_shows_one_example_of_that_command(words: str) -> None:
    argv = shlex.split(example(words))[1:]
    with_options = [w for w in argv if not w.startswith("-")]
    assert " ".join(with_options).startswith(words), f"{words!r}'s example runs {argv}"
    parse(argv)


def parse(argv: list[str]) -> None:
    """Parse ``ctflow ARGV`` as the command line would, without running it: every option
    exists and every value is of its type (else click raises a usage error)."""
    args = list(argv)
    while args[:1] == ["-C"]:
        args = args[2:]
    command: click.Command = cli.cli
    name = "ctflow"
    while isinstance(command, click.Group):
        name, args = args[0], args[1:]
        command = command.commands[name]
    with command.make_context(name, args, obj=cli.AppState(environ={})):
        pass


def test_the_examples_run_against_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "examples" / "journeys"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    for words in RUN_ORDER:
        line = example(words)
        argv = shlex.split(line)[1:]
        if argv[:2] == ["-C", "examples/journeys"]:
            argv = argv[2:]
        code = cli.run(["-C", str(project), *argv], {})
        captured = capsys.readouterr()
        assert code == 0, f"{line} exited {code}: {captured.err}"
