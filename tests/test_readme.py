"""The README's two commands are the front door: CI must run exactly the documented test command;
its commands table shows every option each command has."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from ctflow import cli

ROOT = Path(__file__).resolve().parent.parent


def _shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    blocks = _shell_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2, "the README's front door is two commands"
    setup_and_run, tests = blocks
    assert "ctflow" in setup_and_run
    assert "pytest" in tests
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci_lines, ".ci/run must run the README's test command verbatim"


def test_every_documented_exit_code_is_implemented() -> None:
    from ctflow.errors import ExitCode

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", readme, flags=re.M)}
    assert documented == {code.value for code in ExitCode}


FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-o)\b")


def _help(argv: list[str]) -> str | None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.run([*argv, "--help"], {})
    return out.getvalue() if code == 0 else None


def _command_rows() -> list[tuple[list[str], str]]:
    """(the command's words, the row's text) for each row of the README's commands table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = []
    for synopsis, what in re.findall(r"^\| `ctflow ([^`]*)` \| (.*)\|$", readme, flags=re.M):
        words: list[str] = []
        for word in synopsis.split():
            if not re.fullmatch(r"[a-z]+(\\\|[a-z]+)*", word):
                break
            candidate = [*words, word.split("\\|")[0]]
            text = _help(candidate)
            if text is None:
                break
            words = candidate
            if "Commands:" not in text:
                break
        rows.append((words, synopsis + what))
    return rows


def test_the_commands_table_shows_every_option_of_every_command() -> None:
    rows = _command_rows()
    assert len(rows) >= 20
    for words, row in rows:
        text = _help(words)
        assert text is not None, words
        assert "Commands:" not in text, words
        real = set(FLAG.findall(text)) - {"--help"}
        shown = set(FLAG.findall(row))
        assert real - shown == set(), f"`ctflow {' '.join(words)}`: options the README omits"
        assert shown - real == set(), f"`ctflow {' '.join(words)}`: options it does not have"
