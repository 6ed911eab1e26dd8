"""Shell completion of the project's names (click's ``_CTFLOW_COMPLETE``): environments for
``--env``, keys for ``--target``, ``--replace``, ``render`` and ``send``. Each TAB is a fresh
process, so this reads only :mod:`ctflow.spec.names` (no schema, no templates, no network), and a
project it cannot read completes nothing: a TAB never prints an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from ctflow.spec.names import Declared, declared

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _completer(pick: Callable[[Declared], Iterable[tuple[str, str]]]) -> Completer:
    """Complete with the (name, what it is) pairs ``pick`` takes from the project's names."""

    def complete(
        ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            names = declared(_directory(ctx))
            return [
                CompletionItem(name, help=what)
                for name, what in pick(names)
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


environments = _completer(lambda n: _each(n.environments, "environment"))
triggers = _completer(lambda n: _each(n.triggers, "trigger"))
replaceable = _completer(
    lambda n: [
        *_each(n.campaigns, "campaign"),
        *_each(n.journeys, "journey: all its steps"),
        *_each(n.steps, "journey step"),
    ]
)
"""``--replace``: what the planner re-creates, a campaign or every step of a journey."""
targets = _completer(
    lambda n: [
        *_each(n.campaigns, "campaign"),
        *_each(n.journeys, "journey: all its steps"),
        *_each(n.steps, "journey step"),
        *_each(n.datasets, "dataset"),
    ]
)
"""``--target``: ``--replace``'s names and the datasets (their uploads are planned too)."""
renderable = _completer(
    lambda n: [
        *_each(n.triggers, "trigger"),
        *_each(n.campaigns, "campaign"),
        *_each(n.steps, "journey step"),
    ]
)
"""``render NAME``: a trigger, or one campaign (a journey's step, not the journey)."""
