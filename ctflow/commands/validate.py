"""``ctflow validate``: check every declaration offline and list every problem.

Imports the spec layer only — no client, no httpx — so it stays fast enough for a pre-commit hook.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ctflow import gcpause
from ctflow.errors import ExitCode
from ctflow.problems import Problem, one_line
from ctflow.spec.validate import Result, check


def validate(
    directory: Path, fmt: str, *, out: TextIO, err: TextIO, now: datetime | None = None
) -> int:
    """Print every problem (``file:line:col: message``) to ``out``, then the warnings and notes
    (``file:line:col: warning: message``); exit 3 if there is any problem."""
    result = check(directory, now)
    gcpause.keep(result)  # the process ends next: nothing to gain by freeing it first
    if fmt == "json":
        json.dump(_json(result), out, indent=2)
        out.write("\n")
    else:
        for problem in result.problems:
            out.write(f"{problem}\n")
        for severity, found in (("warning", result.warnings), ("note", result.notes)):
            for item in found:
                out.write(f"{_labelled(item, severity)}\n")
        err.write(f"ctflow: {_summary(result)}\n")
    return ExitCode.OK if result.valid else ExitCode.INVALID


def _json(result: Result) -> dict[str, object]:
    return {
        "valid": result.valid,
        "files": result.files,
        "counts": result.declarations.counts(),
        "problems": [p.to_json() for p in result.problems],
        "warnings": [p.to_json() for p in result.warnings],
        "notes": [p.to_json() for p in result.notes],
    }


def _labelled(problem: Problem, severity: str) -> str:
    return one_line(
        f"{problem.path}:{problem.line}:{problem.column}: {severity}: {problem.message}"
    )


def _summary(result: Result) -> str:
    if not result.valid:
        files = len({p.path for p in result.problems})
        return f"{_plural(len(result.problems), 'problem')} in {_plural(files, 'file')}"
    counts = result.declarations.counts()
    steps = sum(1 for c in result.declarations.campaigns.values() if c.journey is not None)
    parts = [
        _plural(counts["EventSchema"], "event"),
        _plural(counts["ProfileSchema"], "profile schema"),
        _plural(counts["Campaign"], "campaign"),
        _plural(counts["Journey"], "journey") + (f" ({_plural(steps, 'step')})" if steps else ""),
        _plural(counts["Trigger"], "trigger"),
        _plural(counts["Dataset"], "dataset"),
    ]
    if counts["Audience"]:
        parts.append(_plural(counts["Audience"], "audience"))
    extra = [_plural(len(result.warnings), "warning")] if result.warnings else []
    extra += [_plural(len(result.notes), "note")] if result.notes else []
    more = f" ({', '.join(extra)})" if extra else ""
    return f"valid: {', '.join(parts)} in {_plural(result.files, 'file')}{more}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
