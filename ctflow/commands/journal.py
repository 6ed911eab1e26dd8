"""``ctflow journal copy``: a SQLite journal copied into a PostgreSQL one, so a team that began
on a laptop keeps its history, its applied specs, its delivered batches and its send keys when
it moves to a shared journal. A plain function returning an exit code."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ctflow.commands.shared import Invocation, run_holder
from ctflow.config import Project
from ctflow.errors import ExitCode
from ctflow.journal import JournalLocation, copy_journal

SHOWN = (
    ("runs", "runs"),
    ("steps", "steps of those runs"),
    ("specs", "applied specs"),
    ("upload_batches", "upload batches"),
    ("uploads", "uploads"),
    ("sends", "send keys"),
    ("audiences", "audience segments"),
    ("audience_members", "audience members"),
    ("audience_pending", "audience members pending"),
)
"""The tables in the order the report names them, and what it calls them."""


def copy(
    inv: Invocation, project: Project, source: Path, destination: JournalLocation, out: TextIO
) -> int:
    done = copy_journal(source, destination, project=project.name, holder=run_holder(inv))
    out.write(f"Copied {source} into {destination.shown}, project {project.name}:\n")
    for table, label in SHOWN:
        line = f"  {label}: {done.copied.get(table, 0):,} copied"
        if done.already.get(table):
            line += f", {done.already[table]:,} already there"
        out.write(line + "\n")
    out.write(
        f"{source} is left as it was. Point ctflow at the PostgreSQL journal "
        "(CTFLOW_JOURNAL_URL, or journal: in ctflow.yaml) to use what was copied.\n"
    )
    return ExitCode.OK
