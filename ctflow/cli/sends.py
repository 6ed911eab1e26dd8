"""The click wiring of ``send``, ``render`` and ``drift``; each calls a plain function."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ctflow.cli import _ENV_OPTION, _FORMAT_OPTION, AppState, _invocation, _under, cli, pass_state


@cli.command()
@click.argument("trigger")
@click.option(
    "--to", "to", multiple=True, metavar="RECIPIENT", help="Who receives it (repeatable)."
)
@click.option("--data", metavar="JSON|@FILE", help="The send's data: JSON, or @file.json.")
@click.option("--fixture", metavar="NAME", help="Send the data of one of the trigger's fixtures.")
@click.option(
    "--batch",
    type=click.Path(path_type=Path, dir_okay=False),
    help='A JSONL file, one recipient a line: {"to": ..., "data": {...}}.',
)
@click.option("--idempotency-key", metavar="KEY", help="Send at most once under this key.")
@click.option("--dry-run", is_flag=True, help="Print the requests; send and record nothing.")
@click.option(
    "--resend-ambiguous", is_flag=True, help="Send again what an earlier run lost the answer of."
)
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def send(state: AppState, /, trigger: str, env: str | None, fmt: str, **flags: Any) -> int:
    """Send a declared transactional message (a Trigger), rendered and checked, once."""
    from ctflow import sendcmd

    flags["batch"] = _under(state, flags["batch"])
    options = sendcmd.SendOptions(trigger=trigger, fmt=fmt, **flags)
    inv = _invocation(state, env, offline=options.dry_run)  # a dry run needs no credentials
    return sendcmd.send(inv, options, out=sys.stdout, err=sys.stderr)


@cli.command()
@click.argument("name")
@click.option("--fixture", metavar="NAME", help="Only this fixture of a trigger.")
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def render(state: AppState, name: str, fixture: str | None, env: str | None, fmt: str) -> int:
    """Show the final content of a trigger (with each fixture) or a campaign, offline."""
    from ctflow import rendercmd

    env = env or state.environ.get("CTFLOW_ENV") or None
    now = datetime.now(UTC)
    return rendercmd.render(state.directory, env, name, fixture, fmt, out=sys.stdout, now=now)


@cli.command()
@_ENV_OPTION
@_FORMAT_OPTION
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no drift, 2 with drift.")
@pass_state
def drift(state: AppState, env: str | None, fmt: str, detailed_exitcode: bool) -> int:
    """Compare the declared EventSchemas with the account's event schema (getSchema)."""
    from ctflow import driftcmd

    target = state.target(env)
    return driftcmd.run(target, state.directory, fmt, detailed_exitcode, out=sys.stdout)
