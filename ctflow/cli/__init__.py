"""The command line: parses argv, reads the process environment, wires commands, maps exit codes.

The only package that touches the process (argv, ``os.environ``, exit codes) and the only one
that imports click. Each command is a plain function of :mod:`ctflow.commands` returning an exit
code; the one error handler is :func:`run`. This module holds the group and the handler; one
module a command group holds its commands' options:

    shared.py   the state the top-level options decide, shared options, the invocation
    project.py  init, validate
    plan.py     plan, apply, stop, show
    upload.py   upload
    send.py     send, render
    reads.py    now, campaigns, report, count, export, profile, drift
    sandbox.py  sandbox serve|reset|seed
    journal.py  journal copy
    account.py  api, import schemas
    text.py     arguments that must be UTF-8, output that escapes what it cannot encode
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import click

from ctflow import __version__, gcpause
from ctflow.cli import account, journal, plan, project, reads, sandbox, send, upload
from ctflow.cli.shared import AppState, directory_option, example
from ctflow.cli.text import not_utf8, printable
from ctflow.errors import CtflowError, ExitCode, InvalidInput
from ctflow.masking import mask


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=example("ctflow -C examples/journeys plan"),
)
@click.version_option(__version__, "--version", prog_name="ctflow", message="%(prog)s %(version)s")
@click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    callback=directory_option,
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
    4 credentials · 5 CleverTap or the journal unavailable · 6 safety gate
    7 stale plan or journal locked · 64 usage · 130 interrupted
    """
    state: AppState = ctx.ensure_object(AppState)
    state.debug = debug
    if directory is not None:
        state.directory = directory
    _configure_logging(debug)


for _group in (project, plan, upload, send, reads, sandbox, journal, account):
    for _command in _group.COMMANDS:
        cli.add_command(_command)


def _configure_logging(debug: bool) -> None:
    """Debug: ctflow's debug lines (never headers); otherwise stamina's retry notes stay quiet."""
    import logging

    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        for noisy in ("httpcore", "httpx", "asyncio", "hpack"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    else:
        logging.getLogger("stamina").setLevel(logging.ERROR)


def run(argv: Sequence[str] | None, environ: Mapping[str, str]) -> int:
    """Run one command line and return its exit code; every error is reported here, once."""
    state = AppState(environ=environ)
    printable(sys.stdout, sys.stderr)
    args = list(argv) if argv is not None else sys.argv[1:]
    refused = not_utf8(args)
    if refused is not None:
        _say(f"ctflow: {refused}", state)
        return ExitCode.USAGE
    try:
        result: object = cli.main(
            args=args,
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
    click.echo(mask(text, state.known_secrets()), err=True)


def main() -> NoReturn:
    gcpause.keep_for_the_process = True  # this process ends with its command
    code = run(sys.argv[1:], os.environ)
    if gcpause.kept and threading.active_count() == 1:
        _leave(code)
    sys.exit(code)


def _leave(code: int) -> NoReturn:
    """End now, without freeing what the command kept (``gcpause.keep``), as mypy ends: the
    output flushed and the log closed first, as a normal exit does. Only with no other thread
    left, so nothing is cut short."""
    import contextlib
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: started with the stream closed
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: lost by any exit
                stream.flush()
    os._exit(code)
