"""The comparison of drift (:func:`drift`, a pure function of plain data): the declared
EventSchemas against the account's events, as findings of each kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ctflow.drift.live import LiveEvent, read_type, satisfies
from ctflow.upload.rules import SYSTEM_EVENTS, Schemas


@dataclass(frozen=True)
class EventFinding:
    event: str
    count: int | None = None
    """How often the account says it saw the event; None when its answer does not say."""


@dataclass(frozen=True)
class PropertyFinding:
    """One property of one event: its declared type (None: undeclared), the ctflow type its
    live type reads as (None: not seen, or a type ctflow does not know) and the account's own
    name for that type (None: not seen, or not given)."""

    event: str
    property: str
    declared: str | None = None
    live: str | None = None
    reported: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Drift:
    """What :func:`drift` found, every list sorted. The first four are drift; the rest are
    notes (extra properties a non-strict EventSchema allows, properties not seen yet, types
    ctflow cannot compare, CleverTap's own events)."""

    declared_events: int = 0
    live_events: int = 0
    undeclared_events: tuple[EventFinding, ...] = ()
    unseen_events: tuple[EventFinding, ...] = ()
    type_mismatches: tuple[PropertyFinding, ...] = ()
    strict_undeclared_properties: tuple[PropertyFinding, ...] = ()
    undeclared_properties: tuple[PropertyFinding, ...] = ()
    unseen_properties: tuple[PropertyFinding, ...] = ()
    unknown_types: tuple[PropertyFinding, ...] = ()
    system_events: tuple[EventFinding, ...] = ()

    @property
    def findings(self) -> int:
        """How many findings are drift."""
        return sum(len(getattr(self, name)) for name, _ in DRIFT_KINDS)

    @property
    def found(self) -> bool:
        return self.findings > 0


DRIFT_KINDS = (
    ("undeclared_events", "Events live but not declared"),
    ("unseen_events", "Events declared but never seen live"),
    ("type_mismatches", "Property types that differ"),
    ("strict_undeclared_properties", "Undeclared properties of strict events"),
)
NOTE_KINDS = (
    ("undeclared_properties", "Undeclared properties of events that allow extra ones (not strict)"),
    ("unseen_properties", "Declared properties never seen live"),
    ("unknown_types", "Properties whose live type ctflow does not know (not compared)"),
    ("system_events", "CleverTap's own events, not declared (ignored)"),
)
"""Each list of :class:`Drift` with its section title, in the order the text shows them."""


def _order(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


def drift(declared: Schemas, live: Iterable[LiveEvent]) -> Drift:
    """Compare the declared EventSchemas (``declared.events``, ``declared.strict_events``) with
    the account's events (one :class:`LiveEvent` per name)."""
    seen = {event.name: event for event in live}
    undeclared: list[EventFinding] = []
    system: list[EventFinding] = []
    mismatches: list[PropertyFinding] = []
    strict_extra: list[PropertyFinding] = []
    extra: list[PropertyFinding] = []
    unseen: list[PropertyFinding] = []
    unknown: list[PropertyFinding] = []
    for name in sorted(seen, key=_order):
        event = seen[name]
        properties = declared.events.get(name)
        if properties is None:
            own = event.system or name in SYSTEM_EVENTS
            (system if own else undeclared).append(EventFinding(name, event.count))
            continue
        extras = strict_extra if name in declared.strict_events else extra
        for prop_name in sorted(event.properties, key=_order):
            reported = event.properties[prop_name]
            live_type = read_type(reported)
            prop = properties.get(prop_name)
            if prop is None:
                extras.append(PropertyFinding(name, prop_name, None, live_type, reported))
            elif live_type is None:
                unknown.append(PropertyFinding(name, prop_name, prop.type, None, reported))
            elif not satisfies(live_type, prop.type):
                mismatches.append(PropertyFinding(name, prop_name, prop.type, live_type, reported))
        unseen.extend(
            PropertyFinding(name, prop_name, prop.type, required=prop.required)
            for prop_name, prop in sorted(properties.items(), key=lambda item: _order(item[0]))
            if prop_name not in event.properties
        )
    return Drift(
        declared_events=len(declared.events),
        live_events=len(seen),
        undeclared_events=tuple(undeclared),
        unseen_events=tuple(
            EventFinding(name) for name in sorted(declared.events, key=_order) if name not in seen
        ),
        type_mismatches=tuple(mismatches),
        strict_undeclared_properties=tuple(strict_extra),
        undeclared_properties=tuple(extra),
        unseen_properties=tuple(unseen),
        unknown_types=tuple(unknown),
        system_events=tuple(system),
    )
