"""``ctflow upload events|profiles|tokens FILE...``: its options; it calls
:mod:`ctflow.commands.upload`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ctflow.cli.shared import (
    FORMAT_OPTION,
    RUN_ENV_OPTION,
    AppState,
    example,
    invocation,
    pass_state,
    terminal,
)

ALL = "all"  # ctflow.upload.ambiguous.ALL: every ambiguous batch (not imported: kept light)
GIVE_UP_AFTER = 300  # ctflow.upload.engine.GIVE_UP_AFTER, shown as the default

if TYPE_CHECKING:
    from ctflow.upload.rules import Kind


@click.command(epilog=example("ctflow upload events data/loyalty.csv"))
@click.argument("kind", type=click.Choice(["events", "profiles", "tokens"]))
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
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
    "--ambiguous",
    "list_ambiguous",
    is_flag=True,
    help="List the batches whose outcome is unknown (id, lines, records, since); send nothing.",
)
@click.option(
    "--resend-ambiguous",
    multiple=True,
    is_flag=False,
    flag_value=ALL,
    metavar="[BATCH]",
    help="Send again the batches whose outcome is unknown (events may then arrive twice): all, "
    "or those named by id or line range (1-1000), repeatable or comma-separated.",
)
@click.option(
    "--accept-ambiguous",
    multiple=True,
    is_flag=False,
    flag_value=ALL,
    metavar="[BATCH]",
    help="Count the batches whose outcome is unknown as arrived (you checked that they did): "
    "all, or those named by id or line range.",
)
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0, min_open=True),
    default=GIVE_UP_AFTER,
    show_default=True,
    metavar="SECONDS",
    help="How long a batch is retried while CleverTap cannot be reached (or answers 429) "
    "before the upload stops (exit 5).",
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
    /,
    kind: Kind,
    files: tuple[Path, ...],
    env: str | None,
    list_ambiguous: bool,
    resend_ambiguous: tuple[str, ...],
    accept_ambiguous: tuple[str, ...],
    dead_letter: Path | None,
    fmt: str,
    **flags: Any,
) -> int:
    """Upload JSONL or CSV files (optionally .gz) of events, profiles or device tokens.

    Every record is checked against the declared schemas and CleverTap's rules first; rejected
    ones are written, with their file, line and reason, to a dead-letter file. A re-run sends
    only the batches that did not arrive.
    """
    from ctflow.commands import upload as command

    if not files:
        raise click.UsageError(_no_files(resend_ambiguous + accept_ambiguous))
    options = command.UploadOptions(
        kind,
        tuple(p for p in (state.under(f) for f in files) if p is not None),
        resend_ambiguous=resend_ambiguous,
        accept_ambiguous=accept_ambiguous,
        list_ambiguous=list_ambiguous,
        dead_letter=state.under(dead_letter),
        fmt=fmt,
        terminal=terminal(sys.stderr, state.environ),
        **flags,
    )
    inv = invocation(state, env, offline=list_ambiguous)  # a listing reads the journal only
    if list_ambiguous:
        where = state.project().journal_for(inv.target.environment, state.environ)
        inv = replace(inv, target=replace(inv.target, journal=where))
    return command.upload(inv, options, out=sys.stdout, err=sys.stderr)


def _no_files(batches: tuple[str, ...]) -> str:
    taken = [b for b in batches if "." in b or "/" in b]
    if taken:
        return (
            f"missing FILE: {taken[0]!r} was read as a batch; put --resend-ambiguous or "
            "--accept-ambiguous after the files"
        )
    return "missing FILE: name the file(s) to upload"


COMMANDS = (upload,)
