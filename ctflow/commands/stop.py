"""``ctflow stop --all``: the kill switch. It reads only the live account (the declarations may
be broken) and does not wait for a running apply's lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from ctflow.commands.shared import (
    Invocation,
    announce,
    connect,
    find_declared_project,
    journal_run,
    say_line,
    today_of,
)
from ctflow.errors import ExitCode, GateError
from ctflow.plan.apply import Applier
from ctflow.plan.live import LOOKBACK_DAYS, LiveState, read_live
from ctflow.plan.marker import display_name
from ctflow.plan.model import ACTIVE, Action, Change, Plan

KILL_SWITCH_LOOKAHEAD_DAYS = 3660
"""The kill switch cannot read the declarations (they may be broken), so it looks ten years
ahead for what is pending."""


def stop_all(
    inv: Invocation,
    *,
    auto_approve: bool,
    confirm: Callable[[str], bool] | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """The kill switch: stop every pending or running campaign with this project's marker."""
    project = find_declared_project(inv)
    announce(inv, "stopping campaigns in", err)
    with journal_run(project, inv, "stop-all", err, exclusive=False) as (journal, run_id):

        async def run() -> int:
            async with connect(inv, project) as client:
                today = today_of(inv, project)
                span = (
                    today - timedelta(days=LOOKBACK_DAYS),
                    today + timedelta(days=KILL_SWITCH_LOOKAHEAD_DAYS),
                )
                live = await read_live(client, project.name, span)
                changes = _stop_everything(live)
                if not changes:
                    journal.finish(run_id, "ok", {"stopped": 0})
                    out.write(
                        f"Nothing to stop: no pending or running campaign carries the marker of "
                        f"project {project.name!r}.\n"
                    )
                    return ExitCode.OK
                ids = sum(len(c.stop) for c in changes)
                out.write(f"{ids} campaign(s) of project {project.name!r} will be stopped:\n")
                for change in changes:
                    for ref in change.stop:
                        out.write(f"  - {change.key}  {change.name}  ({ref.id} {ref.status})\n")
                if not auto_approve:
                    if confirm is None:
                        journal.finish(run_id, "gated", {"why": "no terminal to confirm on"})
                        raise GateError(
                            "not on a terminal, so ctflow cannot ask for confirmation: run "
                            "`ctflow stop --all --auto-approve`"
                        )
                    if not confirm(f"Stop these {ids} campaign(s)? Only 'yes' will be accepted"):
                        journal.finish(run_id, "cancelled")
                        out.write("Cancelled; nothing was stopped.\n")
                        return ExitCode.ERROR
                applier = Applier(
                    client,
                    journal,
                    run_id,
                    project=project.name,
                    environment=inv.target.environment.name,
                    window=span,
                    say=lambda line: say_line(err, line, inv.secrets),
                )
                made = Plan(
                    project=project.name,
                    environment=inv.target.environment.name,
                    sandbox=inv.target.is_sandbox,
                    created_at=inv.now.isoformat(timespec="seconds"),
                    window=(span[0].isoformat(), span[1].isoformat()),
                    fingerprint=live.fingerprint,
                    changes=tuple(changes),
                )
                outcome = await applier.run(made)
                journal.finish(run_id, "ok" if outcome.ok else "failed", outcome.summary())
                out.write(
                    f"Stopped {len(outcome.stopped)} of {ids} campaign(s)"
                    + (f"; {len(outcome.failed)} failed." if outcome.failed else ".")
                    + "\n"
                )
                return outcome.exit_code

        return asyncio.run(run())


def _stop_everything(live: LiveState) -> list[Change]:
    changes = []
    for key in sorted(live.by_key):
        active = [r for r in live.by_key[key] if r.status in ACTIVE]
        if active:
            name = display_name(active[-1].name)
            changes.append(Change(Action.STOP, key, name, "stop --all", stop=tuple(active)))
    return changes
