"""Journeys as timelines: each journey the plan changes, step by step in the order they send,
with when each sends (in the account's timezone), its channel and where it stands. Pure: made
from the planner's own results (desired, live, and what it decided per key)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from ctflow.plan.desired import Desired
from ctflow.plan.live import LiveState
from ctflow.plan.model import (
    Change,
    LiveRef,
    Note,
    NoteKind,
    Repair,
    Replace,
    Status,
    StepState,
    Stop,
    Timeline,
    TimelineStep,
)

_LIVE = {
    Status.PENDING: StepState.SCHEDULED,
    Status.RUNNING: StepState.SENDING,
    Status.COMPLETED: StepState.SENT,
    Status.STOPPED: StepState.STOPPED,
}
_NOTED = {
    NoteKind.ALREADY_SENT: StepState.SENT,
    NoteKind.DRIFT: StepState.STOPPED,
    NoteKind.PAST_SCHEDULE: StepState.MISSED,
}


def timelines(
    desired: Sequence[Desired],
    live: LiveState,
    changes: Sequence[Change],
    notes: Sequence[Note],
    planned: Collection[str],
    timezone: str,
) -> tuple[Timeline, ...]:
    """A timeline of every journey one of ``changes`` belongs to; only its ``planned`` keys
    (``--target`` may leave some out)."""
    changed = {c.key: c for c in changes}
    noted = {n.key: n for n in notes}
    found: list[Timeline] = []
    for journey in sorted({c.journey for c in changes if c.journey is not None}):
        steps = sorted(
            (d for d in desired if d.journey == journey and d.key in planned),
            key=lambda d: (d.step if d.step is not None else len(desired), d.key),
        )
        rows: list[TimelineStep | None] = [
            _declared(d, live.by_key.get(d.key, ()), changed, noted) for d in steps
        ]
        declared = {d.key for d in steps}
        gone = sorted(
            key
            for key in live.by_key
            if key.startswith(f"{journey}.") and key in planned and key not in declared
        )
        rows += [_gone(key, journey, live.by_key[key], changed, timezone) for key in gone]
        found.append(Timeline(journey, timezone, tuple(r for r in rows if r is not None)))
    return tuple(found)


def _declared(
    want: Desired,
    refs: Sequence[LiveRef],
    changed: Mapping[str, Change],
    noted: Mapping[str, Note],
) -> TimelineStep:
    change = changed.get(want.key)
    return TimelineStep(
        key=want.key,
        step=want.key.removeprefix(f"{want.journey}."),
        after=want.after,
        sends_at=want.starts_at.isoformat() if want.starts_at is not None else None,
        channel=want.channel,
        state=_state(want, refs, change, noted.get(want.key)),
        action=change.action if change is not None else None,
    )


def _state(
    want: Desired, refs: Sequence[LiveRef], change: Change | None, note: Note | None
) -> StepState:
    if isinstance(change, Repair):
        return _LIVE[change.keep.status]
    if isinstance(change, Stop):
        return StepState.STOPPED
    if isinstance(change, Replace):
        return StepState.CHANGED
    if change is not None:
        return StepState.NEW
    if note is not None:
        return _NOTED[note.kind]
    if not want.enabled:
        return StepState.DISABLED
    current = [r for r in refs if r.hash == want.hash and r.status is not Status.STOPPED]
    return _LIVE[current[-1].status] if current else StepState.NEW


def _gone(
    key: str,
    journey: str,
    refs: Sequence[LiveRef],
    changed: Mapping[str, Change],
    timezone: str,
) -> TimelineStep | None:
    """A step declared no more: shown while the plan stops it (else it is just history)."""
    change = changed.get(key)
    if change is None:
        return None
    scheduled = refs[-1].scheduled_on
    return TimelineStep(
        key=key,
        step=key.removeprefix(f"{journey}."),
        after=None,
        sends_at=_in_zone(scheduled, timezone) if scheduled else None,
        channel=None,
        state=StepState.STOPPED,
        action=change.action,
    )


def _in_zone(text: str, timezone: str) -> str | None:
    """A listed schedule in the account's timezone (account-local when it gave none)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    zone = ZoneInfo(timezone)
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return moment.isoformat()
