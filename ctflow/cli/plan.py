"""``ctflow plan``, ``ctflow apply``, ``ctflow stop --all`` and ``ctflow show``: the options of
the plan's commands; each calls :mod:`ctflow.commands.plan`, ``.apply``, ``.stop`` or ``.show``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ctflow.cli import complete
from ctflow.cli.shared import (
    RUN_ENV_OPTION,
    AppState,
    confirm,
    example,
    invocation,
    pass_state,
    stdout_color,
    terminal,
)
from ctflow.errors import CtflowError, ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def _target_option(verb: str) -> Callable[[F], F]:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="KEY",
        help=f"{verb} only this campaign, or all steps of this journey (repeatable).",
        shell_complete=complete.targets,
    )


_OUTCOME_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout saying what became of each change "
    "(docs/plan-format.md); the rest goes to stderr.",
)


def _plan_format(help_text: str) -> Callable[[F], F]:
    """--format of a plan (plan and show print it alike)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "markdown"]),
        default="text",
        show_default=True,
        help=help_text,
    )


_REPLACE_OPTION = click.option(
    "--replace",
    "replace",
    multiple=True,
    metavar="KEY",
    help="Stop and create this campaign again even if unchanged, sent or stopped (repeatable).",
    shell_complete=complete.replaceable,
)


@click.command(epilog=example("ctflow plan --target onboarding-2027-01 --estimate --out plan.json"))
@RUN_ENV_OPTION
@_target_option("Plan")
@_REPLACE_OPTION
@_plan_format("markdown is for pull-request comments (also appended to $GITHUB_STEP_SUMMARY).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Save the plan; `ctflow apply FILE` applies exactly it.",
)
@click.option("--estimate", is_flag=True, help="Show the reach of every create (estimate_only).")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 with no changes, 2 with changes, 1 on any error (instead of its usual code).",
)
@click.option(
    "--base",
    "base",
    default=None,
    metavar="REF",
    help="Git revision to compare the triggers' rendered messages with "
    "[default: origin/$GITHUB_BASE_REF in a pull request, else HEAD].",
)
@pass_state
def plan(
    state: AppState,
    env: str | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    fmt: str,
    out_file: Path | None,
    estimate: bool,
    detailed_exitcode: bool,
    base: str | None,
) -> int:
    """Show what apply would change in the account: creates, replaces and stops (and how the
    triggers' rendered messages changed since REF)."""
    from ctflow.commands import plan as command

    pull_request = state.environ.get("GITHUB_BASE_REF")
    asked = base or (f"origin/{pull_request}" if pull_request else None)
    options = command.PlanOptions(
        targets,
        replace,
        fmt,
        state.under(out_file),
        estimate,
        detailed_exitcode,
        base=asked or "HEAD",
        base_asked=asked is not None,
    )
    try:
        return command.plan(invocation(state, env), options, out=sys.stdout, err=sys.stderr)
    except CtflowError:
        if detailed_exitcode:
            state.exit_override = ExitCode.ERROR
        raise


@click.command(epilog=example("ctflow apply --target winback-2027-q1-push --auto-approve"))
@click.argument(
    "plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False), metavar="[FILE]"
)
@RUN_ENV_OPTION
@_target_option("Apply")
@_REPLACE_OPTION
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--allow-stop", is_flag=True, help="Allow stopping campaigns that are running.")
@_OUTCOME_FORMAT
@pass_state
def apply(
    state: AppState,
    plan_file: Path | None,
    env: str | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    auto_approve: bool,
    allow_stop: bool,
    fmt: str,
) -> int:
    """Make the account match the declarations (or apply a saved plan FILE)."""
    from ctflow.commands import apply as command

    if plan_file is not None and (targets or replace):
        raise click.UsageError("--target and --replace belong to the plan; a saved plan is fixed")
    options = command.ApplyOptions(
        state.under(plan_file),
        targets,
        replace,
        auto_approve,
        allow_stop,
        confirm=confirm(),
        fmt=fmt,
        live=terminal(sys.stderr, state.environ),
    )
    return command.apply(invocation(state, env), options, out=sys.stdout, err=sys.stderr)


@click.command(epilog=example("ctflow stop --all --env production"))
@click.option("--all", "everything", is_flag=True, help="Required: stop every campaign.")
@RUN_ENV_OPTION
@click.option("--auto-approve", is_flag=True, help="Stop without asking (for CI).")
@_OUTCOME_FORMAT
@pass_state
def stop(state: AppState, everything: bool, env: str | None, auto_approve: bool, fmt: str) -> int:
    """The kill switch: stop every pending or running campaign of this project (--all)."""
    from ctflow.commands import stop as command

    if not everything:
        raise click.UsageError("say --all: stop stops every campaign of the project")
    return command.stop_all(
        invocation(state, env),
        auto_approve=auto_approve,
        confirm=confirm(),
        out=sys.stdout,
        err=sys.stderr,
        fmt=fmt,
    )


@click.command(epilog=example("ctflow show plan.json --format markdown"))
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE")
@_plan_format("As `ctflow plan --format` prints it.")
@pass_state
def show(state: AppState, plan_file: Path, fmt: str) -> int:
    """Print a plan saved by `ctflow plan --out FILE` again, contacting nothing (no
    credentials, sandbox or journal needed)."""
    from ctflow.commands import show as command

    colour = stdout_color(state.environ)
    where = state.under(plan_file) or plan_file
    return command.show(where, state.directory, fmt, color=colour, out=sys.stdout)


COMMANDS = (plan, apply, stop, show)
