"""The read commands' click wiring: ``now``, ``campaigns list``, ``report``, ``count``,
``export`` and ``profile get|delete``; each calls a plain function of ``ctflow.reads``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ctflow.cli import (
    _ENV_OPTION,
    _FORMAT_OPTION,
    AppState,
    _confirm,
    _terminal,
    _under,
    cli,
    pass_state,
)


@cli.command()
@_ENV_OPTION
@click.option(
    "--by",
    "breakdowns",
    multiple=True,
    type=click.Choice(["user_type", "session_source", "browser", "os", "device", "new"]),
    help="Add a breakdown (repeatable).",
)
@_FORMAT_OPTION
@pass_state
def now(state: AppState, env: str | None, breakdowns: tuple[str, ...], fmt: str) -> int:
    """Show how many users are active right now (real-time counts)."""
    from ctflow import readcmd

    return readcmd.now(state.target(env), breakdowns, fmt, out=sys.stdout)


def _reader(state: AppState, env: str | None) -> Any:
    """What the read commands of ``ctflow.reads`` are handed: target, project, clock, streams."""
    from ctflow.reads.context import Reader

    project = state.project()
    target = state.target(env)
    return Reader(
        target=target,
        project=project.name,
        timezone=project.timezone_for(target.environment),
        now=datetime.now(UTC),
        out=sys.stdout,
        err=sys.stderr,
        tables=_terminal(sys.stdout, state.environ),
        live=_terminal(sys.stderr, state.environ),
    )


_DATE = click.DateTime(formats=["%Y-%m-%d"])
_FROM_OPTION = click.option("--from", "start", type=_DATE, metavar="YYYY-MM-DD", help="First day.")
_TO_OPTION = click.option("--to", "end", type=_DATE, metavar="YYYY-MM-DD", help="Last day.")
_WHERE_OPTION = click.option(
    "--where",
    "where_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="A YAML or JSON file holding a CleverTap `where` query; flags override its keys.",
)
_KIND_ARGUMENT = click.argument("kind", type=click.Choice(["events", "profiles"]))


def _day(value: datetime | None) -> Any:
    return None if value is None else value.date()


@cli.group()
def campaigns() -> None:
    """Read the account's API-created campaigns."""


@campaigns.command("list")
@_FROM_OPTION
@_TO_OPTION
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def campaigns_list(
    state: AppState, start: datetime | None, end: datetime | None, env: str | None, fmt: str
) -> int:
    """Campaigns scheduled in a window (default: 30 days back to a year ahead); ours are marked."""
    from ctflow.reads import campaigns as reads

    return reads.list_campaigns(_reader(state, env), _day(start), _day(end), fmt)


@cli.command()
@click.argument("campaign_id", type=click.IntRange(min=1), metavar="CAMPAIGN_ID")
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def report(state: AppState, campaign_id: int, env: str | None, fmt: str) -> int:
    """Show a finished campaign's results (sent, clicked, …)."""
    from ctflow.reads import campaigns as reads

    return reads.report(_reader(state, env), campaign_id, fmt)


@cli.command()
@_KIND_ARGUMENT
@click.option("--event", metavar="NAME", help="The event (required for events).")
@_FROM_OPTION
@_TO_OPTION
@_WHERE_OPTION
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def count(
    state: AppState,
    kind: str,
    event: str | None,
    start: datetime | None,
    end: datetime | None,
    where_file: Path | None,
    env: str | None,
    fmt: str,
) -> int:
    """Count the events, or the profiles, that match a query."""
    from ctflow.reads import counts

    reader = _reader(state, env)
    where = _under(state, where_file)
    window = {"start": _day(start), "end": _day(end)}
    return counts.count(reader, kind, event=event, where_file=where, fmt=fmt, **window)


@cli.command()
@_KIND_ARGUMENT
@_WHERE_OPTION
@click.option("--event", metavar="NAME", help="The event (required for events).")
@_FROM_OPTION
@_TO_OPTION
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Write the JSON lines here (complete or not at all) instead of to stdout.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 5000),
    default=5000,
    show_default=True,
    metavar="N",
    help="The most records CleverTap returns a page.",
)
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def export(
    state: AppState,
    kind: str,
    where_file: Path | None,
    event: str | None,
    start: datetime | None,
    end: datetime | None,
    output: Path | None,
    batch_size: int,
    env: str | None,
    fmt: str,
) -> int:
    """Stream every matching event or profile as JSON lines; progress and summary on stderr."""
    from ctflow.reads import export as reads

    where, out_file = _under(state, where_file), _under(state, output)
    options = reads.ExportOptions(
        kind, where, event, _day(start), _day(end), out_file, batch_size=batch_size, fmt=fmt
    )
    return reads.export(_reader(state, env), options)


@cli.group()
def profile() -> None:
    """Look up or delete user profiles."""


@profile.command("get")
@click.option("--identity", metavar="ID")
@click.option("--email", metavar="EMAIL")
@click.option("--object-id", metavar="ID", help="CleverTap's id of the profile (objectId).")
@_ENV_OPTION
@_FORMAT_OPTION
@pass_state
def profile_get(
    state: AppState,
    identity: str | None,
    email: str | None,
    object_id: str | None,
    env: str | None,
    fmt: str,
) -> int:
    """Show one profile: its properties, event counts and devices."""
    from ctflow.reads import profiles

    given = {"identity": identity, "email": email, "object_id": object_id}
    keys = [(k, v) for k, v in given.items() if v is not None]
    if len(keys) != 1:
        raise click.UsageError("give exactly one of --identity, --email, --object-id")
    return profiles.get(_reader(state, env), *keys[0], fmt)


@profile.command("delete")
@click.option("--identity", "identities", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--object-id", "object_ids", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--yes", is_flag=True, help="Delete without asking (needed off a terminal).")
@_ENV_OPTION
@pass_state
def profile_delete(
    state: AppState,
    identities: tuple[str, ...],
    object_ids: tuple[str, ...],
    yes: bool,
    env: str | None,
) -> int:
    """Delete profiles and their history, irreversibly; asks first unless --yes."""
    from ctflow.reads import profiles

    reader = _reader(state, env)
    return profiles.delete(reader, identities, object_ids, yes=yes, confirm=_confirm())
