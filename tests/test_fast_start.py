"""`ctflow --version`, `--help` and shell completion start without importing what only commands
use: each TAB of completion and each glance at the help pays for every module imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("jsonschema", "referencing", "jinja2", "httpx", "starlette", "uvicorn", "rich", "liquid")
PROBE = """
import json, runpy, sys
argv, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["ctflow", *argv]
try:
    runpy.run_module("ctflow", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def imported(argv: list[str], **environ: str) -> list[str]:
    """The HEAVY modules a fresh process has imported after running `ctflow ARGV`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **environ},
        timeout=60,
        check=False,
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["plan", "--help"]])
def test_version_and_help_import_no_command_machinery(argv: list[str]) -> None:
    assert imported(argv) == []


def test_shell_completion_imports_no_command_machinery() -> None:
    found = imported([], _CTFLOW_COMPLETE="bash_complete", COMP_WORDS="ctflow pl", COMP_CWORD="1")
    assert found == []


@pytest.mark.parametrize(
    "words",
    [
        "ctflow -C examples/journeys plan --env ",
        "ctflow -C examples/journeys plan --target ",
        "ctflow -C examples/journeys apply --replace ",
        "ctflow -C examples/journeys render ",
        "ctflow -C examples/journeys send ",
    ],
)
def test_completing_the_projects_names_imports_no_command_machinery(words: str) -> None:
    """The names come from a scan of the files: no schema check, no templates, no client."""
    cword = str(len(words.split()))
    found = imported([], _CTFLOW_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword)
    assert found == []
