"""The whole-account commands: ``api`` (one call to any endpoint) and ``import schemas`` (the
live tracking plan written as YAML); each calls a plain function of :mod:`ctflow.commands`
(``api.py``, ``importing.py``)."""

from __future__ import annotations

import sys

import click

from ctflow.cli.reads import reader_of
from ctflow.cli.shared import ENV_OPTION, AppState, confirm, example, pass_state


def _query(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE")
        if key in found:
            raise click.BadParameter(f"{key!r} is given twice")
        found[key] = text
    return found


@click.command(epilog=example("ctflow api POST /1/now.json --data '{\"device\": true}'"))
@click.argument(
    "method", type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE"], False), metavar="METHOD"
)
@click.argument("path")
@click.option(
    "--data", metavar="JSON|@FILE", help="The request body: JSON, or @FILE to send a file's."
)
@click.option(
    "--query",
    "query",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_query,
    help="A query parameter (repeatable).",
)
@click.option(
    "--yes", is_flag=True, help="Send a call that may change a real account without asking."
)
@ENV_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "raw"]),
    default="json",
    show_default=True,
    help="json: the answer indented; raw: as received.",
)
@pass_state
def api(
    state: AppState,
    method: str,
    path: str,
    data: str | None,
    query: dict[str, str],
    yes: bool,
    env: str | None,
    fmt: str,
) -> int:
    """Call any endpoint of the account (PATH such as /1/now.json) with its credentials,
    region, limits and retries, and print the answer."""
    from ctflow.commands import api as command

    call = command.Call(method, path, data, query or None, fmt)
    reader = reader_of(state, env)
    return command.api(reader, call, directory=state.directory, yes=yes, confirm=confirm())


@click.group("import", epilog=example("ctflow import schemas --write"))
def import_() -> None:
    """Write declarations for what the account already has."""


@import_.command("schemas", epilog=example("ctflow import schemas --write"))
@ENV_OPTION
@click.option("--write", is_flag=True, help="Write the files (else show what would be written).")
@pass_state
def import_schemas(state: AppState, env: str | None, write: bool) -> int:
    """Write an EventSchema for each live event the project does not declare, and a
    ProfileSchema for its undeclared profile properties; never over an existing file."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from ctflow.commands import importing as command

    target = state.target(env)
    timezone = state.project().timezone_for(target.environment)
    today = datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    return command.run(target, state.directory, write, today=today, out=sys.stdout, err=sys.stderr)


COMMANDS = (api, import_)
