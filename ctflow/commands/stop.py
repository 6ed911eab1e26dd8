"""``ctflow stop --all``: the kill switch. It reads only the live account (the declarations may
be broken) and does not wait for a running apply's lock; its plan comes from
:func:`ctflow.plan.planner.stop_everything` and runs through the plan's one executor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from ctflow.commands.shared import (
    Invocation,
    announce,
    applier,
    approved,
    connect,
    find_declared_project,
    journal_run,
    today_of,
)
from ctflow.errors import ExitCode
from ctflow.plan.live import LOOKBACK_DAYS, read_live
from ctflow.plan.planner import Context, stop_everything

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
                ctx = Context(
                    project=project.name,
                    environment=inv.target.environment.name,
                    sandbox=inv.target.is_sandbox,
                    created_at=inv.now.isoformat(timespec="seconds"),
                    specs={},
                )
                made = stop_everything(live, ctx)
                if not made.changes:
                    journal.finish(run_id, "ok", {"stopped": 0})
                    out.write(
                        f"Nothing to stop: no pending or running campaign carries the marker of "
                        f"project {project.name!r}.\n"
                    )
                    return ExitCode.OK
                ids = sum(len(c.stop) for c in made.changes)
                out.write(f"{ids} campaign(s) of project {project.name!r} will be stopped:\n")
                for change in made.changes:
                    for ref in change.stop:
                        out.write(f"  - {change.key}  {change.name}  ({ref.id} {ref.status})\n")
                question = f"Stop these {ids} campaign(s)? Only 'yes' will be accepted"
                unattended = "run `ctflow stop --all --auto-approve`"
                if not auto_approve and not approved(
                    question, confirm, journal, run_id, unattended=unattended
                ):
                    out.write("Cancelled; nothing was stopped.\n")
                    return ExitCode.ERROR
                executor = applier(inv, project, client, (journal, run_id), span, err)
                outcome = await executor.run(made)
                journal.finish(run_id, "ok" if outcome.ok else "failed", outcome.summary())
                out.write(
                    f"Stopped {len(outcome.stopped)} of {ids} campaign(s)"
                    + (f"; {len(outcome.failed)} failed." if outcome.failed else ".")
                    + "\n"
                )
                return outcome.exit_code

        return asyncio.run(run())
