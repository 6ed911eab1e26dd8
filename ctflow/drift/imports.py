"""What ``ctflow import schemas`` writes (:func:`to_import`, pure): the live events and profile
properties no EventSchema or ProfileSchema declares, with ctflow types read from the account's;
and the tolerant reading of the account's profile schema (:func:`live_profile`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctflow.drift.compare import PropertyFinding, drift
from ctflow.drift.live import LiveEvent, live_properties, read_type
from ctflow.upload.rules import Schemas

_PROFILE_CONTAINERS = ("profile", "profileData", "properties", "data", "schema")


@dataclass(frozen=True)
class ImportedProperty:
    name: str
    type: str
    """The ctflow type written; ``string`` when the account's type is unknown to ctflow."""
    reported: str | None = None
    """The account's own type name, kept when ctflow does not know it (None otherwise)."""


@dataclass(frozen=True)
class ImportedEvent:
    name: str
    properties: tuple[ImportedProperty, ...] = ()


@dataclass(frozen=True)
class Imports:
    """What to write, and what is left to people (every list sorted)."""

    events: tuple[ImportedEvent, ...] = ()
    profile: tuple[ImportedProperty, ...] = ()
    system_events: tuple[str, ...] = ()
    """CleverTap's own events, live and undeclared: not written (``drift`` ignores them too)."""
    undeclared_properties: tuple[PropertyFinding, ...] = ()
    """Live properties of declared events: their files are the project's, never rewritten."""

    @property
    def empty(self) -> bool:
        return not self.events and not self.profile


def _imported(name: str, reported: str | None) -> ImportedProperty:
    known = read_type(reported)
    return ImportedProperty(name, known or "string", None if known else reported)


def _order(name: str) -> tuple[str, str]:
    return (name.casefold(), name)


def to_import(
    declared: Schemas,
    live: Iterable[LiveEvent],
    declared_profile: Collection[str] = (),
    live_profile_properties: Mapping[str, str | None] | None = None,
) -> Imports:
    """The live events and profile properties the project does not declare."""
    events = {event.name: event for event in live}
    found = drift(declared, events.values())
    imported = tuple(
        ImportedEvent(
            finding.event,
            tuple(
                _imported(name, reported)
                for name, reported in sorted(
                    events[finding.event].properties.items(), key=lambda item: _order(item[0])
                )
            ),
        )
        for finding in found.undeclared_events
    )
    profile = tuple(
        _imported(name, reported)
        for name, reported in sorted(
            (live_profile_properties or {}).items(), key=lambda i: _order(i[0])
        )
        if name not in declared_profile
    )
    return Imports(
        events=imported,
        profile=profile,
        system_events=tuple(f.event for f in found.system_events),
        undeclared_properties=found.strict_undeclared_properties + found.undeclared_properties,
    )


def live_profile(raw: Any) -> dict[str, str | None] | None:
    """The profile properties of a ``/getSchema?type=profile`` answer, read tolerantly (neither
    the type nor the shape is documented, clevertap-api.md §9): a list or a name-keyed object of
    properties under ``profile`` / ``profileData`` / ``properties`` / ``data`` / ``schema``.
    None when there is no such thing (an answer ctflow cannot read is not an empty account)."""
    for _ in range(4):
        if isinstance(raw, list):
            return live_properties(raw)
        if not isinstance(raw, Mapping):
            return None
        key = next((k for k in _PROFILE_CONTAINERS if k in raw), None)
        if key is None:
            return None
        inner = raw[key]
        if isinstance(inner, Mapping) and not any(k in inner for k in _PROFILE_CONTAINERS):
            return live_properties(inner)
        raw = inner
    return None
