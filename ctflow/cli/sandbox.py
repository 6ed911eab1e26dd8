"""``ctflow sandbox serve|reset|seed``: the built-in CleverTap emulator; each calls
:mod:`ctflow.commands.sandbox`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from ctflow.cli.shared import AppState, example, pass_state


@click.group(epilog=example("ctflow sandbox seed --profiles 500"))
def sandbox() -> None:
    """Run, reset or seed the built-in CleverTap emulator."""


def _sandbox_db(state: AppState, db: Path | None) -> Path:
    if db is not None:
        return db
    target = state.target("sandbox")
    assert target.sandbox_db is not None
    return target.sandbox_db


_DB_OPTION = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Sandbox database file (default: .ctflow/sandbox.db).",
)


@sandbox.command(epilog=example("ctflow sandbox serve --port 8790 --fail-429 0.1"))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8790, show_default=True)
@_DB_OPTION
@click.option(
    "--latency-ms",
    type=click.IntRange(0),
    default=0,
    help="Every request takes this long, its work included.",
)
@click.option("--fail-429", type=click.FloatRange(0, 1), default=0.0, help="Share of 429 answers.")
@click.option("--fail-5xx", type=click.FloatRange(0, 1), default=0.0, help="Share of 5xx answers.")
@click.option(
    "--drop-response",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests processed whose response is then lost.",
)
@click.option("--account-id", default=None, help="Account id the sandbox accepts.")
@click.option("--passcode", default=None, help="Passcode the sandbox accepts.")
@click.option(
    "--token", default=None, help="Account token the sandbox accepts (X-CleverTap-Token)."
)
@pass_state
def serve(
    state: AppState,
    host: str,
    port: int,
    db: Path | None,
    latency_ms: int,
    fail_429: float,
    fail_5xx: float,
    drop_response: float,
    account_id: str | None,
    passcode: str | None,
    token: str | None,
) -> int:
    """Serve the sandbox over HTTP, e.g. for curl or another tool."""
    from ctflow.commands import sandbox as command

    project = state.project()
    timezone = project.timezone_for(project.environment("sandbox"))
    options = command.ServeOptions(
        host,
        port,
        latency_ms,
        fail_429,
        fail_5xx,
        drop_response,
        account_id,
        passcode,
        timezone,
        token,
    )
    return command.serve(_sandbox_db(state, db), options, out=sys.stdout, err=sys.stderr)


@sandbox.command(epilog=example("ctflow sandbox reset"))
@_DB_OPTION
@pass_state
def reset(state: AppState, db: Path | None) -> int:
    """Delete every profile, event, campaign, segment and send the sandbox holds."""
    from ctflow.commands import sandbox as command

    journal = None
    if db is None:  # the project's own sandbox: its journal's uploads go with it
        journal = state.target("sandbox").journal
    project = state.project().name
    return command.reset(_sandbox_db(state, db), out=sys.stdout, journal=journal, project=project)


@sandbox.command(epilog=example("ctflow sandbox seed --profiles 500"))
@_DB_OPTION
@click.option("--profiles", type=click.IntRange(1, 1_000_000), default=3000, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, help="RNG seed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_state
def seed(state: AppState, db: Path | None, profiles: int, seed_value: int, fmt: str) -> int:
    """Replace the sandbox's profiles and events with a realistic demo population (campaigns
    and sends stay), then query it through the client.

    What the journal recorded as uploaded to the sandbox is forgotten, as by `reset`: the next
    apply uploads the declared datasets again."""
    from ctflow.commands import sandbox as command

    journal, project = None, None
    if db is None:  # the project's own sandbox: its journal's uploads go with its data
        journal, project = state.target("sandbox").journal, state.project().name
    return command.seed(
        _sandbox_db(state, db),
        profiles,
        seed_value,
        fmt,
        today=datetime.now(UTC).date(),
        out=sys.stdout,
        err=sys.stderr,
        journal=journal,
        project=project,
    )


COMMANDS = (sandbox,)
