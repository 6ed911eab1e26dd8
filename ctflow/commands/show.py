"""``ctflow show FILE``: a saved plan rendered again (text, Markdown or JSON) without contacting
anything: no credentials, no sandbox, no journal. Secret-named template variables of the project
it runs in are masked, as ``plan`` masks them."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ctflow.config import find_project
from ctflow.errors import ExitCode, UsageError
from ctflow.masking import mask
from ctflow.plan.model import Plan
from ctflow.plan.render_json import PlanFormatError, load, render_json
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text

MARKDOWN_LIMIT = 65_000
"""GitHub refuses comments over 65,536 characters; the comment actions add a header."""


def read_plan(path: Path) -> Plan:
    """The plan saved in ``path`` by ``ctflow plan --out``; a usage error when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
    try:
        return load(text)
    except PlanFormatError as exc:
        raise UsageError(f"{path}: {exc}") from None


def render(made: Plan, fmt: str, *, color: bool = False) -> str:
    """The plan as ``ctflow plan --format FMT`` prints it."""
    if fmt == "json":
        return render_json(made)
    if fmt == "markdown":
        return render_markdown(made, limit=MARKDOWN_LIMIT)
    return render_text(made, color=color)


def show(path: Path, directory: Path, fmt: str, *, color: bool, out: TextIO) -> int:
    """Print the plan in ``path``, masking the values of the secret-named variables of the
    project found from ``directory`` (the saved plan carries them, for apply), as ``plan`` does."""
    made = read_plan(path)
    secrets = find_project(directory).secret_values()
    out.write(mask(render(made, fmt, color=color), secrets))
    return ExitCode.OK
