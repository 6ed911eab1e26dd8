"""Drift of the tracking plan: the declared EventSchemas against the account's event schema.

Owns the comparison (:func:`drift`, a pure function of plain data), the tolerant reading of the
``/getSchema`` answer (:func:`live_events`), the type table, and the text and JSON renderers. No
I/O; imports the upload rules' declared schemas and system events, never the client or the
sandbox (docs/drift.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ctflow.upload.rules import SYSTEM_EVENTS, Schemas

TYPE_TABLE: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    # (the names an account may report, in lower case), reads as, (declared types it satisfies)
    (("string", "str", "text"), "string", ("string",)),
    (("number", "float", "double", "decimal", "numeric"), "number", ("number", "integer")),
    (("integer", "int", "long"), "integer", ("integer", "number")),
    (("boolean", "bool"), "boolean", ("boolean",)),
    (("date", "datetime", "timestamp"), "date", ("date",)),
    (("list", "array", "multi-value", "multivalue", "set"), "list", ("list",)),
)
"""The one type table (docs/drift.md "Types"). CleverTap keeps a single numeric kind, so a
live ``number`` satisfies a declared ``integer`` and the other way round: whether a value is
whole is checked per record at upload, and the account's schema cannot tell."""

_READS_AS = {name: ctflow for names, ctflow, _ in TYPE_TABLE for name in names}
_SATISFIES = {ctflow: frozenset(declared) for _, ctflow, declared in TYPE_TABLE}


def read_type(reported: str | None) -> str | None:
    """The ctflow type an account's type name reads as; None when ctflow does not know it."""
    return None if reported is None else _READS_AS.get(reported.strip().lower())


# --- the live schema ------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveEvent:
    """One event of the account's schema: its properties with the type names the account
    reports (None: not given), how often it was seen when the answer says so, and whether the
    answer marks it as one of CleverTap's own events."""

    name: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    count: int | None = None
    system: bool = False


_CONTAINERS = ("events", "data", "schema", "eventSchema")
_EVENT_NAMES = ("name", "event_name", "evtName", "eventName", "event")
_PROPERTY_LISTS = ("properties", "props", "eventProperties", "event_properties", "attributes")
_PROPERTY_NAMES = ("name", "property", "key", "propertyName", "property_name")
_TYPES = ("type", "dataType", "data_type", "datatype")
_COUNTS = ("count", "event_count", "eventCount", "total", "occurrences")
_KINDS = ("type", "eventType", "event_type", "category")

T = TypeVar("T")


def live_events(raw: Any) -> tuple[LiveEvent, ...] | None:
    """The events of a ``/getSchema?type=events`` answer, read tolerantly (its shape is not
    documented, clevertap-api.md §9): a list of names or of objects with a name, or an object
    keyed by name, found under ``events`` / ``data`` / ``schema`` / ``eventSchema``. None when
    no such list or object is there (an answer ctflow cannot read is not an empty account)."""
    container = _container(raw)
    if container is None:
        return None
    found: dict[str, LiveEvent] = {}
    for name, entry in _entries(container):
        event = _event(name, entry)
        before = found.get(name)
        if before is not None:  # listed twice: one event with what both say
            event = LiveEvent(
                name,
                {**event.properties, **before.properties},
                before.count if before.count is not None else event.count,
                before.system or event.system,
            )
        found[name] = event
    return tuple(found[name] for name in sorted(found))


def _container(raw: Any) -> Any:
    for _ in range(4):
        if isinstance(raw, list):
            return raw
        if not isinstance(raw, Mapping):
            return None
        key = next((k for k in _CONTAINERS if k in raw), None)
        if key is None:
            return None
        inner = raw[key]
        if isinstance(inner, Mapping) and not any(k in inner for k in _CONTAINERS):
            return inner  # keyed by event name
        raw = inner
    return None


def _entries(container: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(container, Mapping):
        yield from ((str(name), entry) for name, entry in container.items())
        return
    for item in container:
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, Mapping):
            name = _first(item, _EVENT_NAMES, str)
            if name is not None:
                yield name, item


def _event(name: str, entry: Any) -> LiveEvent:
    if not isinstance(entry, Mapping):
        return LiveEvent(name, _properties(entry))
    properties = next((entry[k] for k in _PROPERTY_LISTS if k in entry), None)
    kind = _first(entry, _KINDS, str)
    system = entry.get("system") is True or entry.get("isSystem") is True
    return LiveEvent(
        name,
        _properties(properties),
        count=_first(entry, _COUNTS, int),
        system=system or (kind is not None and kind.strip().lower() == "system"),
    )


def _properties(raw: Any) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    if isinstance(raw, Mapping):
        for name, value in raw.items():
            found[str(name)] = _type_of(value)
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str):
                found.setdefault(item, None)
            elif isinstance(item, Mapping):
                name = _first(item, _PROPERTY_NAMES, str)
                if name is not None:
                    found.setdefault(name, _first(item, _TYPES, str))
    return found


def _type_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _first(value, _TYPES, str)
    return None


def _first(entry: Mapping[str, Any], keys: tuple[str, ...], kind: type[T]) -> T | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
    return None


# --- the comparison -------------------------------------------------------------------------


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
            elif prop.type not in _SATISFIES[live_type]:
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


# --- rendering ------------------------------------------------------------------------------


def _live(finding: PropertyFinding) -> str:
    if finding.live is None:
        return "live type not given" if finding.reported is None else f"live {finding.reported!r}"
    reported = finding.reported
    if reported is None or reported.strip().lower() == finding.live:
        return f"live {finding.live}"
    return f"live {finding.live} (reported as {reported!r})"


def _declared(finding: PropertyFinding) -> str:
    return f"{finding.declared}, required" if finding.required else f"{finding.declared}"


_PROPERTY_LINE: dict[str, Callable[[PropertyFinding], str]] = {
    "type_mismatches": lambda f: f"declared {f.declared}, {_live(f)}",
    "strict_undeclared_properties": _live,
    "undeclared_properties": _live,
    "unseen_properties": _declared,
    "unknown_types": lambda f: f"declared {f.declared}, {_live(f)}",
}
"""How each list of property findings says one property (after ``name: ``)."""


def _event_line(finding: EventFinding) -> str:
    if finding.count is None:
        return f"  {finding.event}"
    return f"  {finding.event} (seen {finding.count:,} {'time' if finding.count == 1 else 'times'})"


def _section(kind: str, title: str, items: tuple[Any, ...]) -> list[str]:
    lines = [f"{title} ({len(items)})"]
    line = _PROPERTY_LINE.get(kind)
    if line is None:
        return [*lines, *(_event_line(item) for item in items)]
    event = None
    for item in items:
        if item.event != event:
            event = item.event
            lines.append(f"  {event}")
        lines.append(f"    {item.property}: {line(item)}")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def render_text(found: Drift, where: str) -> str:
    """For people: a headline, then one section per kind of drift, then the notes; sorted.
    ``where`` names the account (``the sandbox``, ``environment 'production'``)."""
    sizes = f"({_plural(found.declared_events, 'declared event')}, {found.live_events:,} live)"
    if found.found:
        head = f"Drift against {where}: {_plural(found.findings, 'finding')} {sizes}."
    else:
        head = f"No drift against {where} {sizes}."
    blocks = [[head]]
    for kinds, intro in ((DRIFT_KINDS, None), (NOTE_KINDS, "Not drift:")):
        sections = [(k, t, getattr(found, k)) for k, t in kinds if getattr(found, k)]
        if intro and sections:
            blocks.append([intro])
        blocks.extend(_section(kind, title, items) for kind, title, items in sections)
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _event_json(finding: EventFinding) -> dict[str, Any]:
    return {"event": finding.event, "count": finding.count}


_PROPERTY_JSON = ("event", "property", "declared", "live", "reported")


def _property_json(kind: str, finding: PropertyFinding) -> dict[str, Any]:
    entry = {key: getattr(finding, key) for key in _PROPERTY_JSON}
    if kind == "unseen_properties":
        entry["required"] = finding.required
    return entry


def to_json(found: Drift, environment: str) -> dict[str, Any]:
    """The ``--format json`` object (docs/drift.md "JSON")."""

    def entries(kind: str) -> list[dict[str, Any]]:
        items = getattr(found, kind)
        if kind in _PROPERTY_LINE:
            return [_property_json(kind, item) for item in items]
        return [_event_json(item) for item in items]

    return {
        "environment": environment,
        "drift": found.found,
        "declared_events": found.declared_events,
        "live_events": found.live_events,
        "findings": {kind: entries(kind) for kind, _ in DRIFT_KINDS},
        "notes": {kind: entries(kind) for kind, _ in NOTE_KINDS},
    }


def render_json(found: Drift, environment: str) -> str:
    return json.dumps(to_json(found, environment), indent=2, ensure_ascii=False) + "\n"
