"""Live state: the account's campaigns that carry this project's marker, from one listing call.

``/1/targets/list.json`` returns id, name, status and schedule of API-created campaigns whose
scheduled start is in a date window (clevertap-api.md §4.5); the marker in the name says which
are ours, which key and which version. The window is wide, so one call covers every campaign a
plan can touch, however many there are.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ctflow.clevertap import CampaignSummary, CleverTap
from ctflow.plan import marker
from ctflow.plan.desired import schedule_start
from ctflow.plan.model import LiveRef, Status

logger = logging.getLogger("ctflow.plan")

LOOKBACK_DAYS = 730
"""How far back the listing reaches: a one-off campaign sent within it is known as sent."""
LOOKAHEAD_DAYS = 730
"""How far ahead it reaches, at least: a pending campaign scheduled within it is found."""

# CleverTap's status words (§4.5 saw `pending` and `stopped`; the message report's vocabulary
# adds scheduled, running, completed). An unknown word is read as running: the cautious choice,
# since stopping a running campaign is gated.
_STATUS_WORDS = {
    Status.PENDING: ("pending", "scheduled", "waiting", "draft", "queued"),
    Status.RUNNING: ("running", "live", "active", "in progress", "in_progress", "sending"),
    Status.COMPLETED: ("completed", "complete", "finished", "sent", "done", "delivered"),
    Status.STOPPED: ("stopped", "cancelled", "canceled", "aborted", "deleted", "expired"),
}
_STATUS = {word: status for status, words in _STATUS_WORDS.items() for word in words}


def normalise(word: str) -> Status:
    status = _STATUS.get(word.strip().lower())
    if status is None:
        logger.warning("unknown campaign status %r: treated as running", word)
        return Status.RUNNING
    return status


@dataclass(frozen=True)
class LiveState:
    """Our live campaigns by key (oldest first), the window listed, and its fingerprint."""

    window: tuple[date, date]
    by_key: Mapping[str, tuple[LiveRef, ...]] = field(default_factory=dict)
    others: int = 0

    @property
    def fingerprint(self) -> str:
        """Changes whenever one of our campaigns appears, disappears or changes status."""
        rows = sorted(
            (ref.id, ref.name, ref.status.value) for refs in self.by_key.values() for ref in refs
        )
        text = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def refs(self) -> list[LiveRef]:
        return [ref for refs in self.by_key.values() for ref in refs]


def window(today: date, scheduled: Iterable[date] = ()) -> tuple[date, date]:
    """From ``LOOKBACK_DAYS`` before today to ``LOOKAHEAD_DAYS`` after, stretched to cover
    every declared schedule (a campaign scheduled long ago must be found as sent)."""
    dates = list(scheduled)
    first = min([today - timedelta(days=LOOKBACK_DAYS), *dates])
    last = max([today + timedelta(days=LOOKAHEAD_DAYS), *dates])
    return first, last


def scheduled_dates(payloads: Iterable[Mapping[str, Any]]) -> list[date]:
    """The start dates of the ``when`` of create bodies (``"YYYYMMDD HH:MM"`` or the object)."""
    starts = (schedule_start(payload) for payload in payloads)
    return [start.date() for start in starts if start is not None]


def from_summaries(
    summaries: Sequence[CampaignSummary], project: str, span: tuple[date, date]
) -> LiveState:
    by_key: dict[str, list[LiveRef]] = {}
    others = 0
    for summary in summaries:
        found = marker.parse(summary.name)
        if found is None or found.project != project:
            others += 1
            continue
        scheduled = summary.scheduled_on.isoformat() if summary.scheduled_on else None
        ref = LiveRef(summary.id, summary.name, normalise(summary.status), found.hash, scheduled)
        by_key.setdefault(found.key, []).append(ref)
    ordered = {key: tuple(sorted(refs, key=lambda r: r.id)) for key, refs in by_key.items()}
    return LiveState(window=span, by_key=ordered, others=others)


async def read_live(client: CleverTap, project: str, span: tuple[date, date]) -> LiveState:
    """One ``targets/list`` call over ``span``."""
    summaries = await client.list_campaigns(*span)
    return from_summaries(summaries, project, span)
