"""What every command group of the command line shares: the state the top-level options decide
(:class:`AppState`), the options several commands take, and what the commands are handed from
the process (the invocation, a confirmation prompt, paths under ``-C``, whether a stream is a
terminal). Click and the process only; the commands themselves are :mod:`ctflow.commands`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from ctflow.cli import complete
from ctflow.config import Project, Target, find_project, resolve_target

if TYPE_CHECKING:
    from ctflow.commands.shared import Invocation


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
        for secret in (target.passcode, target.token):
            if secret:
                self.secrets.add(secret)
        if target.notice:
            click.echo(f"ctflow: {target.notice}", err=True)
        return target

    def known_secrets(self) -> set[str]:
        """Every passcode and token resolved, and any variable named like a passcode."""
        found = set(self.secrets)
        found.update(v for k, v in self.environ.items() if "PASSCODE" in k.upper())
        return found

    def under(self, path: Path | None) -> Path | None:
        """A relative FILE means one in the -C directory ("run as if started in DIR")."""
        if path is None or path.is_absolute():
            return path
        return self.directory / path


pass_state = click.make_pass_decorator(AppState)


def directory_option(
    ctx: click.Context, _param: click.Parameter, value: Path | None
) -> Path | None:
    """The callback of ``-C DIR``: the directory must exist."""
    if value is not None and not value.is_dir():
        raise click.BadParameter(f"{value} is not a directory", ctx=ctx)
    return value


ENV_HELP = (
    "Environment from ctflow.yaml (default: $CTFLOW_ENV, else ctflow.yaml's "
    "default_environment, else sandbox)."
)
ENV_OPTION = click.option(
    "--env",
    "env",
    default=None,
    metavar="ENV",
    help=ENV_HELP,
    shell_complete=complete.environments,
)
RUN_ENV_OPTION = ENV_OPTION
"""``--env`` of the commands that run against the account: plan, apply, stop, upload."""
FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def example(command: str) -> str:
    """A command's help epilog: one example command line, kept on its own line. The test of
    the help runs it, in the example project."""
    return f"\b\nExample:\n  {command}"


def invocation(state: AppState, env: str | None, *, offline: bool = False) -> Invocation:
    """What plan/apply/stop/upload/send read from the process: the clock, who, where, the
    terminal. ``offline``: the environment only, without its credentials (nothing will be
    called)."""
    import shlex
    import socket

    from ctflow.commands.shared import Invocation

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
        secrets=state.known_secrets(),
    )


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "-"


def _color(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour where progress is drawn (:func:`terminal`: one rule for both), unless ``NO_COLOR``
    says never or ``FORCE_COLOR`` always, each when set to anything but the empty text
    (https://no-color.org, https://force-color.org); ``NO_COLOR`` wins."""
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return terminal(stream, environ)


def stdout_color(environ: Mapping[str, str]) -> bool:
    """Whether what goes to stdout is coloured (the rule of :func:`_color`)."""
    return _color(sys.stdout, environ)


def terminal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A progress bar (or a table) only on a terminal that can redraw lines, and not in CI."""
    if environ.get("TERM") == "dumb" or environ.get("CI"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def confirm() -> Callable[[str], bool] | None:
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
