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
@click.argument("trigger", required=False, shell_complete=complete.triggers)
@click.option(
    "--test",
    "test",
    metavar="CAMPAIGN",
    help="Send a campaign's (or journey step's) content to test recipients; no campaign made.",
    shell_complete=complete.testable,
)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="RECIPIENT",
    help="Who receives it (repeatable); with --test a test list or identity:ID.",
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
def send(
    state: AppState,
    /,
    trigger: str | None,
    test: str | None,
    env: str | None,
    fmt: str,
    **flags: Any,
) -> int:
    """Send a declared transactional message (a Trigger), rendered and checked, once; or, with
    --test CAMPAIGN, a campaign's content to the environment's test recipients."""
    if test is not None:
        return _test(state, trigger, test, env, fmt, flags)
    if trigger is None:
        raise click.UsageError("name the TRIGGER to send, or --test CAMPAIGN for a test send")
    from ctflow.commands import send as command

    flags["batch"] = state.under(flags["batch"])
    options = command.SendOptions(trigger=trigger, fmt=fmt, **flags)
    inv = invocation(state, env, offline=options.dry_run)  # a dry run needs no credentials
    return command.send(inv, options, out=sys.stdout, err=sys.stderr)


def _test(
    state: AppState, trigger: str | None, test: str, env: str | None, fmt: str, flags: Any
) -> int:
    from ctflow.commands import testsend as command

    others = [
        f"--{k.replace('_', '-')}" for k, v in flags.items() if v and k not in ("to", "dry_run")
    ]
    if trigger is not None or others:
        given = ([repr(trigger)] if trigger is not None else []) + others
        raise click.UsageError(
            f"--test sends a campaign's own content: drop {', '.join(given)} (they are for "
            "sending a Trigger)"
        )
    options = command.TestSendOptions(test, flags["to"], flags["dry_run"], fmt)
    inv = invocation(state, env, offline=options.dry_run)
    return command.test_send(inv, options, out=sys.stdout, err=sys.stderr)


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
