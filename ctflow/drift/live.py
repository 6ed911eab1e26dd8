"""The account's event schema as ctflow reads it: the tolerant reading of the ``/getSchema``
answer (:func:`live_events`) and the one type table that reads the account's type names as
ctflow's types (docs/drift.md "Types"). Pure; standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

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


def satisfies(live_type: str, declared_type: str) -> bool:
    """Whether a live property of ``live_type`` (a ctflow type) fits a declared one."""
    return declared_type in _SATISFIES[live_type]


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


def live_properties(raw: Any) -> dict[str, str | None]:
    """Property names with the type names the account reports (None: not given), from a list
    of names or of objects with a name, or an object keyed by name; read as events' are."""
    return _properties(raw)


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
