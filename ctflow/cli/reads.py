"""The read commands: ``now``, ``campaigns list``, ``report``, ``count``, ``export``,
``profile get|delete``, ``drift`` and ``history`` (the journal); each calls a plain function of
:mod:`ctflow.commands` (``now.py``, ``campaigns.py``, ``report.py``, ``count.py``,
``export.py``, ``profile.py``, ``drift.py``, ``history.py``)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ctflow.cli import complete
from ctflow.cli.shared import (
    ENV_OPTION,
    FORMAT_OPTION,
    AppState,
    confirm,
    example,
    pass_state,
    terminal,
)

if TYPE_CHECKING:
    from ctflow.commands.reading import Reader


@click.command(epilog=example("ctflow now --by device"))
@ENV_OPTION
@click.option(
    "--by",
    "breakdowns",
    multiple=True,
    type=click.Choice(["user_type", "session_source", "browser", "os", "device", "new"]),
    help="Add a breakdown (repeatable).",
)
@FORMAT_OPTION
@pass_state
def now(state: AppState, env: str | None, breakdowns: tuple[str, ...], fmt: str) -> int:
    """Show how many users are active right now (real-time counts)."""
    from ctflow.commands import now as command

    return command.now(state.target(env), breakdowns, fmt, out=sys.stdout)


def _reader(state: AppState, env: str | None) -> Reader:
    """What the read commands are handed: target, project, clock, streams."""
    from ctflow.commands.reading import Reader

    project = state.project()
    target = state.target(env)
    return Reader(
        target=target,
        project=project.name,
        timezone=project.timezone_for(target.environment),
        now=datetime.now(UTC),
        out=sys.stdout,
        err=sys.stderr,
        tables=terminal(sys.stdout, state.environ),
        live=terminal(sys.stderr, state.environ),
    )


reader_of = _reader
"""What the other modules' read commands are handed too (``account.py``)."""

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


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


@click.group(epilog=example("ctflow campaigns list --from 2026-11-01 --to 2026-11-30"))
def campaigns() -> None:
    """Read the account's API-created campaigns."""


@campaigns.command(
    "list", epilog=example("ctflow campaigns list --from 2026-11-01 --to 2026-11-30")
)
@_FROM_OPTION
@_TO_OPTION
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Also the campaigns built in the dashboard (from the message report).",
)
@ENV_OPTION
@FORMAT_OPTION
@pass_state
def campaigns_list(
    state: AppState,
    start: datetime | None,
    end: datetime | None,
    every: bool,
    env: str | None,
    fmt: str,
) -> int:
    """Campaigns scheduled in a window (default: 30 days back to a year ahead); ours are marked."""
    from ctflow.commands import campaigns as command

    reader = _reader(state, env)
    return command.list_campaigns(reader, _day(start), _day(end), fmt, every=every)


@click.command(epilog=example("ctflow report --from 2026-11-01 --to 2026-11-30 --format csv"))
@click.argument("campaign_id", required=False, type=click.IntRange(min=1), metavar="[CAMPAIGN_ID]")
@click.option(
    "--from", "start", type=_DATE, metavar="YYYY-MM-DD", help="First start day (no CAMPAIGN_ID)."
)
@click.option(
    "--to", "end", type=_DATE, metavar="YYYY-MM-DD", help="Last start day (default today)."
)
@click.option(
    "--label", "labels", multiple=True, metavar="LABEL", help="Only campaigns with this label."
)
@ENV_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@pass_state
def report(
    state: AppState,
    campaign_id: int | None,
    start: datetime | None,
    end: datetime | None,
    labels: tuple[str, ...],
    env: str | None,
    fmt: str,
) -> int:
    """Show a finished campaign's figures (sent, clicked, …), or, without CAMPAIGN_ID, every
    campaign's that started in a window (default the last 30 days), dashboard-built ones too."""
    from ctflow.commands import report as command

    options = command.ReportOptions(campaign_id, _day(start), _day(end), labels, fmt)
    return command.run(_reader(state, env), options)


@click.command(
    epilog=example("ctflow count events --event Charged --from 2026-11-01 --to 2026-11-22")
)
@_KIND_ARGUMENT
@click.option("--event", metavar="NAME", help="The event (required for events).")
@_FROM_OPTION
@_TO_OPTION
@_WHERE_OPTION
@ENV_OPTION
@FORMAT_OPTION
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
    from ctflow.commands import count as command

    reader = _reader(state, env)
    where = state.under(where_file)
    window = {"start": _day(start), "end": _day(end)}
    return command.count(reader, kind, event=event, where_file=where, fmt=fmt, **window)


@click.command(epilog=example("ctflow export profiles --batch-size 1000 -o profiles.jsonl"))
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
@ENV_OPTION
@FORMAT_OPTION
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
    from ctflow.commands import export as command

    where, out_file = state.under(where_file), state.under(output)
    options = command.ExportOptions(
        kind, where, event, _day(start), _day(end), out_file, batch_size=batch_size, fmt=fmt
    )
    return command.export(_reader(state, env), options)


@click.group(epilog=example("ctflow profile get --identity user-00026"))
def profile() -> None:
    """Look up or delete user profiles."""


@profile.command("get", epilog=example("ctflow profile get --identity user-00026"))
@click.option("--identity", metavar="ID")
@click.option("--email", metavar="EMAIL")
@click.option("--object-id", metavar="ID", help="CleverTap's id of the profile (objectId).")
@ENV_OPTION
@FORMAT_OPTION
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
    from ctflow.commands import profile as command

    given = {"identity": identity, "email": email, "object_id": object_id}
    keys = [(k, v) for k, v in given.items() if v is not None]
    if len(keys) != 1:
        raise click.UsageError("give exactly one of --identity, --email, --object-id")
    return command.get(_reader(state, env), *keys[0], fmt)


@profile.command("delete", epilog=example("ctflow profile delete --identity user-00999 --yes"))
@click.option("--identity", "identities", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--object-id", "object_ids", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--yes", is_flag=True, help="Delete without asking (needed off a terminal).")
@ENV_OPTION
@pass_state
def profile_delete(
    state: AppState,
    identities: tuple[str, ...],
    object_ids: tuple[str, ...],
    yes: bool,
    env: str | None,
) -> int:
    """Delete profiles and their history, irreversibly; asks first unless --yes."""
    from ctflow.commands import profile as command

    reader = _reader(state, env)
    return command.delete(reader, identities, object_ids, yes=yes, confirm=confirm())


@click.command(epilog=example("ctflow drift --format json"))
@ENV_OPTION
@FORMAT_OPTION
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no drift, 2 with drift.")
@pass_state
def drift(state: AppState, env: str | None, fmt: str, detailed_exitcode: bool) -> int:
    """Compare the declared EventSchemas with the account's event schema (getSchema)."""
    from ctflow.commands import drift as command

    target = state.target(env)
    return command.run(target, state.directory, fmt, detailed_exitcode, out=sys.stdout)


@click.command(epilog=example("ctflow history --kind apply --limit 5"))
@click.argument("run_id", required=False, type=click.IntRange(min=1), metavar="[RUN_ID]")
@click.option(
    "--env",
    "env",
    default=None,
    metavar="ENV",
    help="Only this environment's runs (read from its journal).",
    shell_complete=complete.environments,
)
@click.option(
    "--kind",
    type=click.Choice(["apply", "upload", "send", "test-send", "stop"]),
    help="Only these.",
)
@click.option(
    "--since", "since", type=_DATE, metavar="YYYY-MM-DD", help="Started that day or later."
)
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@FORMAT_OPTION
@pass_state
def history(
    state: AppState,
    run_id: int | None,
    env: str | None,
    kind: str | None,
    since: datetime | None,
    limit: int,
    fmt: str,
) -> int:
    """Show what the journal recorded: the latest runs (applies, uploads, sends, stops), or
    the steps of RUN_ID."""
    from ctflow.commands import history as command
    from ctflow.commands.reading import Reader
    from ctflow.config import Target

    project = state.project()
    environment = project.environment(env or state.environ.get("CTFLOW_ENV") or None)
    journal = project.journal_for(environment, state.environ)
    reader = Reader(
        target=Target(environment, journal=journal),
        project=project.name,
        timezone=project.timezone_for(environment),
        now=datetime.now(UTC),
        out=sys.stdout,
        err=sys.stderr,
        tables=terminal(sys.stdout, state.environ),
    )
    options = command.HistoryOptions(run_id, env, kind, _day(since), limit, fmt)
    return command.history(reader, journal, options, state.known_secrets())


COMMANDS = (now, campaigns, report, count, export, profile, drift, history)
