"""``ctflow upload events|profiles|tokens FILE...``: its options; it calls
:mod:`ctflow.commands.upload`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ctflow.cli.shared import (
    FORMAT_OPTION,
    RUN_ENV_OPTION,
    AppState,
    invocation,
    pass_state,
    terminal,
)

if TYPE_CHECKING:
    from ctflow.upload.rules import Kind


@click.command()
@click.argument("kind", type=click.Choice(["events", "profiles", "tokens"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@RUN_ENV_OPTION
@click.option(
    "--concurrency",
    type=click.IntRange(1, 15),
    default=15,
    show_default=True,
    help="Calls in flight; CleverTap allows 15 per account, so share them between jobs.",
)
@click.option("--restart", is_flag=True, help="Forget what was sent and upload everything again.")
@click.option(
    "--resend-ambiguous",
    is_flag=True,
    help="Send again batches whose outcome is unknown (events may then arrive twice).",
)
@click.option(
    "--accept-ambiguous",
    is_flag=True,
    help="Count batches whose outcome is unknown as arrived (you checked that they did).",
)
@click.option(
    "--dead-letter",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Append rejected records here (default: .ctflow/rejected/<file>.<id>.<env>.jsonl).",
)
@FORMAT_OPTION
@pass_state
def upload(
    state: AppState,
    kind: Kind,
    files: tuple[Path, ...],
    env: str | None,
    concurrency: int,
    restart: bool,
    resend_ambiguous: bool,
    accept_ambiguous: bool,
    dead_letter: Path | None,
    fmt: str,
) -> int:
    """Upload JSONL or CSV files (optionally .gz) of events, profiles or device tokens.

    Every record is checked against the declared schemas and CleverTap's rules first; rejected
    ones are written, with their file, line and reason, to a dead-letter file. A re-run sends
    only the batches that did not arrive.
    """
    from ctflow.commands import upload as command

    if resend_ambiguous and accept_ambiguous:
        raise click.UsageError("--resend-ambiguous and --accept-ambiguous contradict each other")
    options = command.UploadOptions(
        kind,
        tuple(p for p in (state.under(f) for f in files) if p is not None),
        concurrency=concurrency,
        restart=restart,
        resend_ambiguous=resend_ambiguous,
        accept_ambiguous=accept_ambiguous,
        dead_letter=state.under(dead_letter),
        fmt=fmt,
        terminal=terminal(sys.stderr, state.environ),
    )
    return command.upload(invocation(state, env), options, out=sys.stdout, err=sys.stderr)


COMMANDS = (upload,)
