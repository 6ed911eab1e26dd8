"""``ctflow send`` and ``ctflow render``: a declared transactional message, sent or shown;
each calls :mod:`ctflow.commands.send` or ``.render``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ctflow.cli import complete
from ctflow.cli.shared import ENV_OPTION, FORMAT_OPTION, AppState, example, invocation, pass_state


@click.command(epilog=example("ctflow send otp-sms --to C100234 --fixture login --dry-run"))
@click.argument("trigger", shell_complete=complete.triggers)
@click.option(
    "--to", "to", multiple=True, metavar="RECIPIENT", help="Who receives it (repeatable)."
)
@click.option("--data", metavar="JSON|@FILE", help="The send's data: JSON, or @file.json.")
@click.option(
    "--fixture",
    metavar="NAME",
    help="Send the data of one of the trigger's fixtures.",
    shell_complete=complete.fixtures,
)
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
@ENV_OPTION
@FORMAT_OPTION
@pass_state
def send(state: AppState, /, trigger: str, env: str | None, fmt: str, **flags: Any) -> int:
    """Send a declared transactional message (a Trigger), rendered and checked, once."""
    from ctflow.commands import send as command

    flags["batch"] = state.under(flags["batch"])
    options = command.SendOptions(trigger=trigger, fmt=fmt, **flags)
    inv = invocation(state, env, offline=options.dry_run)  # a dry run needs no credentials
    return command.send(inv, options, out=sys.stdout, err=sys.stderr)


@click.command(epilog=example("ctflow render order-shipped --fixture one-item"))
@click.argument("name", shell_complete=complete.renderable)
@click.option(
    "--fixture",
    metavar="NAME",
    help="Only this fixture of a trigger.",
    shell_complete=complete.fixtures,
)
@ENV_OPTION
@FORMAT_OPTION
@pass_state
def render(state: AppState, name: str, fixture: str | None, env: str | None, fmt: str) -> int:
    """Show the final content of a trigger (with each fixture) or a campaign, offline."""
    from ctflow.commands import render as command

    env = env or state.environ.get("CTFLOW_ENV") or None
    now = datetime.now(UTC)
    return command.render(state.directory, env, name, fixture, fmt, out=sys.stdout, now=now)


COMMANDS = (send, render)
