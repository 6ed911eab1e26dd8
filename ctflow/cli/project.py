"""``ctflow init``, ``validate`` and ``schema``: the project's own commands, offline."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from ctflow.cli.shared import AppState, directory_option, example, pass_state

# validate and schema also take -C after the command name (ctflow validate -C DIR).
_PROJECT_DIR_OPTION = click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    callback=directory_option,
    metavar="DIR",
    help="The project directory (default: the global -C, else the current one).",
)


@click.command(epilog=example("ctflow validate --format json"))
@_PROJECT_DIR_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_state
def validate(state: AppState, directory: Path | None, fmt: str) -> int:
    """Check every declaration offline; list every problem as file:line:col (exit 3)."""
    from ctflow.commands import validate as command

    return command.validate(
        directory or state.directory, fmt, out=sys.stdout, err=sys.stderr, now=datetime.now(UTC)
    )


@click.command(epilog=example("ctflow init shop --project shop"))
@click.argument(
    "target", type=click.Path(path_type=Path, file_okay=False), default=".", metavar="[DIR]"
)
@click.option("--project", "project_id", metavar="ID", help="Project id (default: DIR's name).")
@pass_state
def init(state: AppState, target: Path, project_id: str | None) -> int:
    """Create a working project in DIR: ctflow.yaml, an event schema, a campaign, a trigger."""
    from ctflow.commands import init as command

    directory = target if target.is_absolute() else state.directory / target
    today = datetime.now(UTC).date()
    return command.init(directory, project_id, today, out=sys.stdout)


@click.command(epilog=example("ctflow schema --write"))
@_PROJECT_DIR_OPTION
@click.option(
    "--write",
    is_flag=True,
    help="Refresh the project's schemas/ and map them in .vscode/settings.json (merged).",
)
@pass_state
def schema(state: AppState, directory: Path | None, write: bool) -> int:
    """Print where the installed JSON Schemas are; --write sets up the editor to use them."""
    from ctflow.commands import schema as command

    return command.schema(directory or state.directory, write, out=sys.stdout)


COMMANDS = (init, validate, schema)
