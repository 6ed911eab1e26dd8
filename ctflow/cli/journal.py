"""``ctflow journal copy``: moving to a shared journal; calls :mod:`ctflow.commands.journal`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ctflow.cli.shared import AppState, example, invocation, pass_state


@click.group(epilog=example("ctflow journal copy --to postgresql://ctflow@db.internal/ctflow"))
def journal() -> None:
    """Manage the journal, ctflow's memory of runs, uploads and sends."""


@journal.command(epilog=example("ctflow journal copy --to postgresql://ctflow@db.internal/ctflow"))
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The SQLite journal to copy (default: .ctflow/journal.db).",
)
@click.option(
    "--to",
    "destination",
    metavar="URL",
    help="The PostgreSQL journal to copy into (default: CTFLOW_JOURNAL_URL, else journal:).",
)
@pass_state
def copy(state: AppState, source: Path | None, destination: str | None) -> int:
    """Copy a SQLite journal into a PostgreSQL one.

    Copies runs and their steps, applied specs, the upload ledger, send keys and audiences.
    Rows already there are left alone; if one differs, nothing is copied (exit 7). The SQLite
    file is left as it was."""
    from ctflow.commands import journal as command
    from ctflow.config import JOURNAL_FILE
    from ctflow.journal.location import parse_location

    project = state.project()
    if destination is not None:
        where = parse_location(destination, state.directory, source="--to")
    else:
        where = project.journal_for(project.environment(None), state.environ)
    if where.kind != "postgresql":
        raise click.UsageError(
            "say which PostgreSQL journal to copy into: --to postgresql://… or CTFLOW_JOURNAL_URL"
        )
    path = state.under(source) or project.state_dir / JOURNAL_FILE
    inv = invocation(state, None, offline=True)
    return command.copy(inv, project, path, where, out=sys.stdout)


COMMANDS = (journal,)
