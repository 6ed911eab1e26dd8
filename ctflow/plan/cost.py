"""What applying a plan costs: its calls to CleverTap, by kind, and how long they take at the
account's limits under a stated round trip. Pure: standard library and ``ctflow.plan.model``.

A new kind of change says what it calls in :data:`CALLS` (and, if it calls an API of its own,
how those calls are paced in :data:`PHASES`); a test checks that every action has its entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctflow.plan.model import Action, AudienceUpdate, Change, Repair, Replace, Stop, Upload

ROUND_TRIP = 0.3
"""A typical round trip of one call, in seconds: what the estimate assumes (and says)."""


@dataclass(frozen=True)
class Pace:
    """What the client keeps to (``ctflow.clevertap.limits``: a test holds the two equal) and
    the round trip assumed."""

    round_trip: float = ROUND_TRIP
    uploads_in_flight: int = 15
    calls_in_flight: int = 3
    """Of every API but upload: stops, creates (an apply's audience calls go one at a time)."""
    creates_per_second: int = 3
    rate_window: float = 1.1
    """The client's window for ``creates_per_second`` (a second and a margin)."""

    def words(self) -> str:
        """The assumptions as the plan states them."""
        return (
            f"{self.creates_per_second} creates a second, {self.calls_in_flight} calls in "
            f"flight ({self.uploads_in_flight} for uploads), ~{self.round_trip * 1000:.0f} ms "
            "a call"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "round_trip_seconds": self.round_trip,
            "uploads_in_flight": self.uploads_in_flight,
            "calls_in_flight": self.calls_in_flight,
            "creates_per_second": self.creates_per_second,
        }


def _in_flight(calls: int, at_once: int, pace: Pace) -> float:
    """``calls`` that run ``at_once`` at a time, each a round trip."""
    return math.ceil(calls / at_once) * pace.round_trip


def _uploads(calls: int, pace: Pace) -> float:
    return _in_flight(calls, pace.uploads_in_flight, pace)


def _stops(calls: int, pace: Pace) -> float:
    return _in_flight(calls, pace.calls_in_flight, pace)


def _creates(calls: int, pace: Pace) -> float:
    """The last create starts once both the calls in flight and the start rate let it."""
    if calls == 0:
        return 0.0
    last = calls - 1
    by_rate = (last // pace.creates_per_second) * pace.rate_window
    by_slots = (last // pace.calls_in_flight) * pace.round_trip
    return max(by_rate, by_slots) + pace.round_trip


def _one_at_a_time(calls: int, pace: Pace) -> float:
    """Apply brings audiences up to date one call after another, each recorded as it ends."""
    return calls * pace.round_trip


PHASES: dict[str, Callable[[int, Pace], float]] = {
    "upload": _uploads,
    "segment": _one_at_a_time,
    "members": _one_at_a_time,
    "custom_list": _one_at_a_time,
    "stop": _stops,
    "create": _creates,
}
"""Each kind of call, in the order apply makes them (one kind after the other), and the seconds
``n`` of them take."""

ALWAYS = ("upload", "stop", "create")
"""The kinds every cost lists (its JSON too), even at 0; the audiences' only when they call."""


def _upload_calls(change: Upload) -> dict[str, int]:
    """The batches still to send: those an interrupted upload delivered are skipped."""
    return {"upload": max(0, change.dataset.batches - change.dataset.accepted_batches)}


MEMBERS_A_CALL = 100
"""Profiles one updateSegment call adds or removes (``ctflow.plan.audience_apply.BATCH``)."""

CUSTOM_LIST_CALLS = 3
"""A custom list's upload: its presigned URL, the PUT of its CSV there, the completion."""


def _audience_calls(change: AudienceUpdate) -> dict[str, int]:
    """A segment created when new, then the members in batches of one key kind each (identity,
    guid); a custom list is uploaded whole."""
    if change.custom_list:
        return {"custom_list": CUSTOM_LIST_CALLS}
    batches = 0
    for by in ("identity", "guid"):
        n = sum(1 for t in (*change.add, *change.remove) if t.partition(":")[0] == by)
        batches += math.ceil(n / MEMBERS_A_CALL)
    return {"segment": int(change.new_segment), "members": batches}


def _stop_calls(change: Stop | Repair) -> dict[str, int]:
    return {"stop": len(change.stop)}


def _replace_calls(change: Replace) -> dict[str, int]:
    return {"stop": len(change.stop), "create": 1}


CALLS: dict[Action, Callable[[Any], Mapping[str, int]]] = {
    Action.UPLOAD: _upload_calls,
    Action.STOP: _stop_calls,
    Action.REPAIR: _stop_calls,
    Action.REPLACE: _replace_calls,
    Action.CREATE: lambda change: {"create": 1},
    Action.AUDIENCE: _audience_calls,
}
"""The calls to CleverTap applying one change makes, by kind (a key of :data:`PHASES`)."""


@dataclass(frozen=True)
class Cost:
    """The calls by kind (in apply's order) and the seconds each kind takes at ``pace``."""

    calls: Mapping[str, int]
    pace: Pace

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def seconds_of(self, kind: str) -> float:
        return PHASES[kind](self.calls.get(kind, 0), self.pace)

    @property
    def seconds(self) -> float:
        return sum(self.seconds_of(kind) for kind in self.calls)

    def left(self, done: Mapping[str, int]) -> Cost:
        """What remains once ``done`` calls (by kind) were made."""
        calls = {kind: max(0, n - done.get(kind, 0)) for kind, n in self.calls.items()}
        return Cost(calls, self.pace)

    def text(self) -> str:
        """``Applying it makes 3 calls (1 stop, 2 creates): ≈ 2 s at …``."""
        if not self.total:
            return "Applying it makes no call to CleverTap."
        parts = [_count(n, kind) for kind, n in self.calls.items() if n]
        made = f"{self.total:,} call{'s' if self.total != 1 else ''}"
        about = duration(self.seconds)
        about = about if about == UNDER_A_SECOND else f"≈ {about}"
        return f"Applying it makes {made} ({', '.join(parts)}): {about} at {self.pace.words()}."

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.total,
            "seconds": round(self.seconds, 1),
            "by_kind": [
                {"kind": kind, "calls": n, "seconds": round(self.seconds_of(kind), 1)}
                for kind, n in self.calls.items()
            ],
            "assumptions": self.pace.to_json(),
            "text": self.text(),
        }


UNDER_A_SECOND = "under a second"
_NOUNS = {
    "upload": ("upload batch", "upload batches"),
    "segment": ("segment create", "segment creates"),
    "members": ("membership batch", "membership batches"),
    "custom_list": ("custom-list call", "custom-list calls"),
}


def _count(n: int, kind: str) -> str:
    one, many = _NOUNS.get(kind, (kind, kind + "s"))
    return f"{n:,} {one if n == 1 else many}"


def plan_cost(changes: Iterable[Change], pace: Pace | None = None) -> Cost:
    """The calls applying ``changes`` makes, by kind in apply's order, and at what pace."""
    made: dict[str, int] = {}
    for change in changes:
        for kind, n in CALLS[change.action](change).items():
            made[kind] = made.get(kind, 0) + n
    calls = {kind: made.get(kind, 0) for kind in PHASES if kind in ALWAYS or made.get(kind)}
    return Cost(calls, pace or Pace())


def duration(seconds: float) -> str:
    """``under a second``, ``40 s``, ``2 min 10 s``, ``3 h 5 min``."""
    if seconds < 1:
        return UNDER_A_SECOND
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
