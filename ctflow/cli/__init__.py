"""The command line: parses argv, reads the process environment, wires commands, maps exit codes.

The only package that touches the process (argv, ``os.environ``, exit codes) and the only one
that imports click. Each command is a plain function elsewhere returning an exit code; the one
error handler is :func:`run`. This module holds the group, the shared options and the project
commands (validate, init, plan, apply, stop, upload, sandbox); ``reads.py`` the read commands,
``sends.py`` send, render and drift.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from ctflow import __version__
from ctflow.config import Project, Target, find_project, resolve_target
from ctflow.errors import CtflowError, ExitCode, InvalidInput
from ctflow.masking import mask


@dataclass
class AppState:
    """What the top-level options decided, shared with every command through click's ``obj``."""

    environ: Mapping[str, str] = field(repr=False)
    directory: Path = Path(".")
    debug: bool = False
    secrets: set[str] = field(default_factory=set, repr=False)
    exit_override: int | None = None

    def project(self) -> Project:
        return find_project(self.directory)

    def target(self, env: str | None) -> Target:
        target = resolve_target(self.project(), env, self.environ)
        if target.passcode:
            self.secrets.add(target.passcode)
        if target.notice:
            click.echo(f"ctflow: {target.notice}", err=True)
        return target


pass_state = click.make_pass_decorator(AppState)


def _directory(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise click.BadParameter(f"{value} is not a directory", ctx=ctx)
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="ctflow", message="%(prog)s %(version)s")
@click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    callback=_directory,
    help="Run as if started in DIR (where ctflow.yaml lives).",
    metavar="DIR",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, debug: bool) -> None:
    """Manage a CleverTap account as code: validate, plan, apply, send and upload.

    With no credentials every command runs against the built-in sandbox, an emulator of the
    CleverTap API kept in .ctflow/sandbox.db.

    \b
    Exit codes: 0 ok · 1 error · 2 plan has changes (--detailed-exitcode) · 3 invalid input
    4 credentials · 5 CleverTap unavailable · 6 safety gate · 7 stale plan or journal locked
    64 usage · 130 interrupted
    """
    state: AppState = ctx.ensure_object(AppState)
    state.debug = debug
    if directory is not None:
        state.directory = directory
    _configure_logging(debug)


def _configure_logging(debug: bool) -> None:
    """Debug: ctflow's debug lines (never headers); otherwise stamina's retry notes stay quiet."""
    import logging

    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        for noisy in ("httpcore", "httpx", "asyncio", "hpack"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    else:
        logging.getLogger("stamina").setLevel(logging.ERROR)


# --- declarations ---------------------------------------------------------------------------


@cli.command()
@click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    callback=_directory,
    metavar="DIR",
    help="The project directory (default: the global -C, else the current one).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_state
def validate(state: AppState, directory: Path | None, fmt: str) -> int:
    """Check every declaration offline; list every problem as file:line:col (exit 3)."""
    from ctflow import validatecmd

    return validatecmd.validate(
        directory or state.directory, fmt, out=sys.stdout, err=sys.stderr, now=datetime.now(UTC)
    )


@cli.command()
@click.argument(
    "target", type=click.Path(path_type=Path, file_okay=False), default=".", metavar="[DIR]"
)
@click.option("--project", "project_id", metavar="ID", help="Project id (default: DIR's name).")
@pass_state
def init(state: AppState, target: Path, project_id: str | None) -> int:
    """Create a working project in DIR: ctflow.yaml, an event schema, a campaign, a trigger."""
    from ctflow import initcmd

    directory = target if target.is_absolute() else state.directory / target
    today = datetime.now(UTC).date()
    return initcmd.init(directory, project_id, today, out=sys.stdout)


# --- plan, apply, stop ----------------------------------------------------------------------


def _invocation(state: AppState, env: str | None, *, offline: bool = False) -> Any:
    """What plan/apply/stop read from the process: the clock, who, where, the terminal.
    ``offline``: the environment only, without its credentials (nothing will be called)."""
    import shlex
    import socket

    from ctflow.runs import Invocation

    if offline:
        name = env or state.environ.get("CTFLOW_ENV") or None
        target = Target(state.project().environment(name))
    else:
        target = state.target(env)
    environ = state.environ
    summary = environ.get("GITHUB_STEP_SUMMARY")
    return Invocation(
        directory=state.directory,
        target=target,
        now=datetime.now(UTC),
        user=environ.get("GITHUB_ACTOR") or _user(),
        host=socket.gethostname(),
        command=shlex.join(["ctflow", *sys.argv[1:]]),
        color=_color(sys.stdout, environ),
        step_summary=Path(summary) if summary else None,
        secrets=_secrets(state),
    )


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "-"


def _color(stream: Any, environ: Mapping[str, str]) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _confirm() -> Any:
    """A yes/no question on the terminal; ``None`` when stdin or stdout is not one."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None

    def ask(question: str) -> bool:
        """Anything but ``yes`` (end of input and Ctrl-C included) is no."""
        try:
            answer: str = click.prompt(question, default="", show_default=False)
        except click.Abort:
            click.echo("")
            return False
        return answer.strip() == "yes"

    return ask


_TARGET_OPTION = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="KEY",
    help="Plan only this campaign, or all steps of this journey (repeatable).",
)
_REPLACE_OPTION = click.option(
    "--replace",
    "replace",
    multiple=True,
    metavar="KEY",
    help="Stop and create this campaign again even if unchanged, sent or stopped (repeatable).",
)


@cli.command()
@click.option("--env", "env", default=None, metavar="ENV", help="Environment (default: sandbox).")
@_TARGET_OPTION
@_REPLACE_OPTION
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="markdown is for pull-request comments (also appended to $GITHUB_STEP_SUMMARY).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Save the plan; `ctflow apply FILE` applies exactly it.",
)
@click.option("--estimate", is_flag=True, help="Show the reach of every create (estimate_only).")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error."
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
    from ctflow import plancmd

    out_file = _under(state, out_file)
    pull_request = state.environ.get("GITHUB_BASE_REF")
    asked = base or (f"origin/{pull_request}" if pull_request else None)
    options = plancmd.PlanOptions(
        targets,
        replace,
        fmt,
        out_file,
        estimate,
        detailed_exitcode,
        base=asked or "HEAD",
        base_asked=asked is not None,
    )
    try:
        return plancmd.plan(_invocation(state, env), options, out=sys.stdout, err=sys.stderr)
    except CtflowError:
        if detailed_exitcode:
            state.exit_override = ExitCode.ERROR
        raise


@cli.command()
@click.argument(
    "plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False), metavar="[FILE]"
)
@click.option("--env", "env", default=None, metavar="ENV", help="Environment (default: sandbox).")
@_TARGET_OPTION
@_REPLACE_OPTION
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--allow-stop", is_flag=True, help="Allow stopping campaigns that are running.")
@pass_state
def apply(
    state: AppState,
    plan_file: Path | None,
    env: str | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    auto_approve: bool,
    allow_stop: bool,
) -> int:
    """Make the account match the declarations (or apply a saved plan FILE)."""
    from ctflow import plancmd

    if plan_file is not None and (targets or replace):
        raise click.UsageError("--target and --replace belong to the plan; a saved plan is fixed")
    options = plancmd.ApplyOptions(
        _under(state, plan_file), targets, replace, auto_approve, allow_stop, confirm=_confirm()
    )
    return plancmd.apply(_invocation(state, env), options, out=sys.stdout, err=sys.stderr)


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Required: stop every campaign.")
@click.option("--env", "env", default=None, metavar="ENV", help="Environment (default: sandbox).")
@click.option("--auto-approve", is_flag=True, help="Stop without asking (for CI).")
@pass_state
def stop(state: AppState, everything: bool, env: str | None, auto_approve: bool) -> int:
    """The kill switch: stop every pending or running campaign of this project (--all)."""
    from ctflow import stopcmd

    if not everything:
        raise click.UsageError("say --all: stop stops every campaign of the project")
    return stopcmd.stop_all(
        _invocation(state, env),
        auto_approve=auto_approve,
        confirm=_confirm(),
        out=sys.stdout,
        err=sys.stderr,
    )


_FORMAT_OPTION_EARLY = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def _under(state: AppState, path: Path | None) -> Path | None:
    """A relative FILE means one in the -C directory ("run as if started in DIR")."""
    if path is None or path.is_absolute():
        return path
    return state.directory / path


def _secrets(state: AppState) -> set[str]:
    found = set(state.secrets)
    found.update(v for k, v in state.environ.items() if "PASSCODE" in k.upper())
    return found


# --- upload --------------------------------------------------------------------------------


@cli.command()
@click.argument("kind", type=click.Choice(["events", "profiles", "tokens"]))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None, metavar="ENV", help="Environment (default: sandbox).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 15),
    default=15,
    show_default=True,
    help="Calls in flight; CleverTap allows 15 per account, so share them between jobs.",
)
@click.option("--restart", is_flag=True, help="Forget what was sent and upload everything again.")
@click.option(
    "--resend-ambiguous",
    is_flag=True,
    help="Send again batches whose answer was lost (events may then arrive twice).",
)
@click.option(
    "--accept-ambiguous",
    is_flag=True,
    help="Count batches whose answer was lost as arrived (you checked that they did).",
)
@click.option(
    "--dead-letter",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Append rejected records here (default: .ctflow/rejected/<file>.<id>.jsonl).",
)
@_FORMAT_OPTION_EARLY
@pass_state
def upload(
    state: AppState,
    kind: str,
    files: tuple[Path, ...],
    env: str | None,
    concurrency: int,
    restart: bool,
    resend_ambiguous: bool,
    accept_ambiguous: bool,
    dead_letter: Path | None,
    fmt: str,
) -> int:
    """Upload JSONL or CSV files (optionally .gz) of events, profiles or device tokens.

    Every record is checked against the declared schemas and CleverTap's rules first; rejected
    ones are written, with their file, line and reason, to a dead-letter file. A re-run sends
    only the batches that did not arrive.
    """
    from ctflow import uploadcmd

    if resend_ambiguous and accept_ambiguous:
        raise click.UsageError("--resend-ambiguous and --accept-ambiguous contradict each other")
    options = uploadcmd.UploadOptions(
        kind,  # type: ignore[arg-type]
        tuple(p for p in (_under(state, f) for f in files) if p is not None),
        concurrency=concurrency,
        restart=restart,
        resend_ambiguous=resend_ambiguous,
        accept_ambiguous=accept_ambiguous,
        dead_letter=_under(state, dead_letter),
        fmt=fmt,
        terminal=_terminal(sys.stderr, state.environ),
    )
    return uploadcmd.upload(_invocation(state, env), options, out=sys.stdout, err=sys.stderr)


def _terminal(stream: Any, environ: Mapping[str, str]) -> bool:
    """A progress bar only on a terminal that can redraw lines."""
    if environ.get("TERM") == "dumb" or environ.get("CI"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


# --- read commands --------------------------------------------------------------------------

_ENV_OPTION = click.option(
    "--env",
    "env",
    default=None,
    metavar="ENV",
    help="Environment from ctflow.yaml (default: sandbox).",
)
_FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


# --- sandbox -------------------------------------------------------------------------------


@cli.group()
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


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8790, show_default=True)
@_DB_OPTION
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Delay every request.")
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
) -> int:
    """Serve the sandbox over HTTP, e.g. for curl or another tool."""
    from ctflow import sandboxcmd

    project = state.project()
    timezone = project.timezone_for(project.environment("sandbox"))
    options = sandboxcmd.ServeOptions(
        host, port, latency_ms, fail_429, fail_5xx, drop_response, account_id, passcode, timezone
    )
    return sandboxcmd.serve(_sandbox_db(state, db), options, out=sys.stdout, err=sys.stderr)


@sandbox.command()
@_DB_OPTION
@pass_state
def reset(state: AppState, db: Path | None) -> int:
    """Delete every profile, event, campaign and send the sandbox holds."""
    from ctflow import sandboxcmd

    journal = None
    if db is None:  # the project's own sandbox: its journal's uploads go with it
        from ctflow.journal import JOURNAL_NAME

        journal = state.project().state_dir / JOURNAL_NAME
    return sandboxcmd.reset(_sandbox_db(state, db), out=sys.stdout, journal=journal)


@sandbox.command()
@_DB_OPTION
@click.option("--profiles", type=click.IntRange(1, 1_000_000), default=3000, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True, help="RNG seed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_state
def seed(state: AppState, db: Path | None, profiles: int, seed_value: int, fmt: str) -> int:
    """Fill the sandbox with a realistic demo population, then query it through the client."""
    from ctflow import sandboxcmd

    db_path = _sandbox_db(state, db)
    today = datetime.now(UTC).date()
    return sandboxcmd.seed(db_path, profiles, seed_value, fmt, today=today, out=sys.stdout)


# --- the one handler ------------------------------------------------------------------------


def run(argv: Sequence[str] | None, environ: Mapping[str, str]) -> int:
    """Run one command line and return its exit code; every error is reported here, once."""
    state = AppState(environ=environ)
    try:
        result: Any = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="ctflow",
            standalone_mode=False,
            obj=state,
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        return ExitCode.USAGE
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except (KeyboardInterrupt, click.Abort):
        click.echo("ctflow: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except InvalidInput as exc:
        for problem in exc.problems:
            _say(problem, state)
        _say(f"ctflow: {exc.message}", state)
        return state.exit_override if state.exit_override is not None else exc.exit_code
    except CtflowError as exc:
        _say(f"ctflow: {exc.message}", state)
        return state.exit_override if state.exit_override is not None else exc.exit_code
    except Exception as exc:
        if state.debug:
            _say(traceback.format_exc().rstrip(), state)
        summary = (str(exc).splitlines() or [""])[0][:200]
        _say(
            f"ctflow: this is a bug ({type(exc).__name__}: {summary}); re-run with --debug for "
            "the traceback and report it.",
            state,
        )
        return ExitCode.ERROR
    return int(result) if isinstance(result, int) else ExitCode.OK


def _say(text: str, state: AppState) -> None:
    """Print to stderr with every known passcode masked, whatever raised the message."""
    click.echo(mask(text, _secrets(state)), err=True)


def main() -> NoReturn:
    sys.exit(run(sys.argv[1:], os.environ))


# The commands defined in the package's other modules add themselves to ``cli`` on import.
from ctflow.cli import reads, sends  # noqa: E402, F401
