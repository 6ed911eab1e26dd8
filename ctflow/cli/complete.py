"""Shell completion of the project's names (click's ``_CTFLOW_COMPLETE``): environments for
``--env``, keys for ``--target``, ``--replace``, ``render`` and ``send``, a trigger's fixtures
for ``--fixture``. Each TAB is a fresh process, so this reads only :mod:`ctflow.spec.names` (no
schema, no templates, no network), and what it cannot read completes nothing: a TAB never prints
an error.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from ctflow.spec.names import Declared, declared

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]
Pick = Callable[[Declared, click.Context], Iterable[tuple[str, str]]]


def _completer(pick: Pick) -> Completer:
    """Complete with the (name, what it is) pairs ``pick`` takes from the project's names (and
    what the command line holds so far)."""

    def complete(
        ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            names = declared(_directory(ctx))
            return [
                CompletionItem(name, help=what)
                for name, what in pick(names, ctx)
                if name.startswith(incomplete)
            ]
        except Exception:  # a TAB completes nothing rather than print an error
            return []

    return complete


def _directory(ctx: click.Context) -> Path:
    """The ``-C DIR`` typed before the command (completion runs no callback), else here."""
    directory = ctx.find_root().params.get("directory")
    return Path(directory) if directory else Path(".")


def _each(names: Iterable[str], what: str) -> list[tuple[str, str]]:
    return [(name, what) for name in names]


environments = _completer(lambda n, _: _each(n.environments, "environment"))
triggers = _completer(lambda n, _: _each(n.triggers, "trigger"))


def _fixtures(names: Declared, ctx: click.Context) -> list[tuple[str, str]]:
    """``--fixture``: the fixtures of the trigger typed before it (``send TRIGGER``, ``render
    NAME``)."""
    trigger = ctx.params.get("trigger") or ctx.params.get("name")
    if not isinstance(trigger, str):
        trigger = _typed_trigger(ctx, names)
    return _each(names.fixtures.get(trigger, ()) if trigger is not None else (), "fixture")


def _typed_trigger(ctx: click.Context, names: Declared) -> str | None:
    """The first declared trigger typed after the command's name: click's parse of the line
    stops at the ``--fixture`` whose value is being completed, before the arguments."""
    environ = getattr(ctx.find_root().obj, "environ", None)  # the AppState's
    line = environ.get("COMP_WORDS", "") if isinstance(environ, Mapping) else ""
    try:
        words = shlex.split(line)
    except ValueError:  # an open quote
        words = line.split()
    after = words[words.index(ctx.info_name) + 1 :] if ctx.info_name in words else []
    return next((word for word in after if word in names.fixtures), None)


fixtures = _completer(_fixtures)
replaceable = _completer(
    lambda n, _: [
        *_each(n.campaigns, "campaign"),
        *_each(n.journeys, "journey: all its steps"),
        *_each(n.steps, "journey step"),
    ]
)
"""``--replace``: what the planner re-creates, a campaign or every step of a journey."""
targets = _completer(
    lambda n, _: [
        *_each(n.campaigns, "campaign"),
        *_each(n.journeys, "journey: all its steps"),
        *_each(n.steps, "journey step"),
        *_each(n.datasets, "dataset"),
        *_each(n.audiences, "audience"),
    ]
)
"""``--target``: ``--replace``'s names, the datasets and the audiences (planned too)."""
renderable = _completer(
    lambda n, _: [
        *_each(n.triggers, "trigger"),
        *_each(n.campaigns, "campaign"),
        *_each(n.steps, "journey step"),
    ]
)
"""``render NAME``: a trigger, or one campaign (a journey's step, not the journey)."""
testable = _completer(
    lambda n, _: [*_each(n.campaigns, "campaign"), *_each(n.steps, "journey step")]
)
