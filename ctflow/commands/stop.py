"""``ctflow stop --all``: the kill switch. It reads only the live account (the declarations may
be broken) and does not wait for a running apply's lock; its plan comes from
:func:`ctflow.plan.planner.stop_everything` and runs through the plan's one executor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from ctflow.commands.outcome import Ended, render_json
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
from ctflow.masking import mask
from ctflow.plan.apply import Outcome
from ctflow.plan.live import LOOKBACK_DAYS, read_live
from ctflow.plan.planner import Context, stop_everything

KIND = "stop --all"
"""What the outcome document calls this command."""

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
    fmt: str = "text",
) -> int:
    """The kill switch: stop every pending or running campaign with this project's marker.
    With ``fmt`` ``json`` stdout holds only the outcome document (what text prints: stderr)."""
    project = find_declared_project(inv)
    announce(inv, "stopping campaigns in", err)
    human = err if fmt == "json" else out

    def tell(ended: Ended) -> int:
        if fmt == "json":
            out.write(mask(render_json(ended), inv.secrets))
        return ended.exit_code

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
                    nothing = (
                        f"Nothing to stop: no pending or running campaign carries the marker of "
                        f"project {project.name!r}."
                    )
                    human.write(nothing + "\n")
                    return tell(Ended(KIND, made, Outcome(uploads_done=True), (), 0, nothing))
                ids = sum(len(c.stop) for c in made.changes)
                human.write(f"{ids} campaign(s) of project {project.name!r} will be stopped:\n")
                for change in made.changes:
                    for ref in change.stop:
                        human.write(f"  - {change.key}  {change.name}  ({ref.id} {ref.status})\n")
                question = f"Stop these {ids} campaign(s)? Only 'yes' will be accepted"
                unattended = "run `ctflow stop --all --auto-approve`"
                if not auto_approve and not approved(
                    question, confirm, journal, run_id, unattended=unattended
                ):
                    human.write("Cancelled; nothing was stopped.\n")
                    return ExitCode.ERROR
                executor = applier(inv, project, client, (journal, run_id), span, err)
                outcome = await executor.run(made)
                journal.finish(run_id, "ok" if outcome.ok else "failed", outcome.summary())
                said = f"Stopped {len(outcome.stopped)} of {ids} campaign(s)" + (
                    f"; {len(outcome.failed)} failed." if outcome.failed else "."
                )
                human.write(said + "\n")
                return tell(Ended(KIND, made, outcome, (), outcome.exit_code, said))

        return asyncio.run(run())
