"""One journaled send run, shared by ``ctflow send`` and ``LoadedProject.send``: the run is
begun in the journal (who, where, what), the sends are made, and the run is closed with the
counts (``ok`` when every recipient has the message, else ``partial``; ``interrupted`` or
``failed`` when it was cut short)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass

from ctflow.clevertap import CleverTap
from ctflow.errors import JournalUnavailable
from ctflow.journal import Journal
from ctflow.send import report
from ctflow.send.batch import Refused
from ctflow.send.deliver import Outcome, Send, Sender


@dataclass(frozen=True)
class Audit:
    """What the journal records of the run; ``command`` with no secret or message data in it."""

    project: str
    environment: str
    user: str
    host: str
    command: str


async def journaled(
    journal: Journal,
    audit: Audit,
    sends: Sequence[Send],
    client: Callable[[], AbstractAsyncContextManager[CleverTap]],
    *,
    refused: Sequence[Refused] = (),
    resend_ambiguous: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
    scrub: Callable[[str], str] = lambda text: text,
) -> list[Outcome]:
    """Send ``sends`` through the client ``client()`` opens, under a run of kind ``send``."""
    run_id = journal.begin(
        "send",
        project=audit.project,
        environment=audit.environment,
        user=audit.user,
        host=audit.host,
        git_commit=None,
        command=audit.command,
    )
    try:
        async with client() as connected:
            sender = Sender(
                connected,
                journal,
                audit.environment,
                run_id=run_id,
                resend_ambiguous=resend_ambiguous,
                on_outcome=on_outcome,
            )
            outcomes = await sender.send_all(sends)
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        with suppress(JournalUnavailable):
            journal.finish_if_open(run_id, "interrupted", {"error": type(exc).__name__})
        raise
    except BaseException as exc:
        with suppress(JournalUnavailable):
            journal.finish_if_open(run_id, "failed", {"error": scrub(str(exc))[:500]})
        raise
    counts = report.totals(outcomes, refused)
    with suppress(JournalUnavailable):  # a lost journal: the outcomes say so, one by one
        journal.finish(run_id, "ok" if report.exit_code(counts) == 0 else "partial", counts)
    return outcomes
