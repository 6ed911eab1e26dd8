"""From a row of a file to a CleverTap upload record (clevertap-api.md §2.1).

A row is either already in CleverTap's shape (``identity``/``objectId``, ``ts``, ``evtName`` +
``evtData`` or ``profileData``; JSONL) or a flat row that a declared Dataset maps: its identity
column, its timestamp column, the other columns as properties (renamed by ``columns:``). CSV cells
are text, so they are read as the declared property type says. ISO dates and date-times become
CleverTap's ``$D_<epoch seconds>`` for declared date properties, and epoch seconds for ``ts``;
a value that cannot be read is left as it is for the rules to reject with a reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ctflow.spec.types import Property, date_epoch
from ctflow.upload.rules import CLEVERTAP_DATE, RECORD_TYPE, Kind, Schemas

_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True)
class DatasetMapping:
    """How a declared Dataset's flat rows become records."""

    event: str | None = None
    identity: str = "identity"
    timestamp: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)


class Shaper:
    """``shape(row, text_cells)`` is the record to check and send; ``text_cells``: CSV text."""

    def __init__(
        self, kind: Kind, schemas: Schemas, timezone: ZoneInfo, mapping: DatasetMapping | None
    ) -> None:
        self.kind = kind
        self.type = RECORD_TYPE[kind]
        self.mapping = mapping
        self.tz = timezone
        self._profile = schemas.profile or {}
        self._events = schemas.events
        self.event_dates: dict[str, tuple[str, ...]] = {
            name: dates
            for name, props in self._events.items()
            if (dates := tuple(n for n, p in props.items() if p.type == "date"))
        }
        self._profile_dates = tuple(n for n, p in self._profile.items() if p.type == "date")
        self.known_dates: dict[Any, str | None] = {}
        """Date values met so far: their CleverTap form, or None when they are not dates."""

    def shape(self, row: dict[str, Any], text_cells: bool = False) -> dict[str, Any]:
        # The row itself is changed only by adding ``type`` (make_batches takes it off again
        # when the row is rejected); anything else is changed on a copy, so that the
        # dead-letter file shows the row as read.
        record = row if self.mapping is None else self.from_flat(row, text_cells)
        ts = record.get("ts")
        if ts is not None and type(ts) is not int:
            record = dict(record)
            record["ts"] = _epoch(ts, self.tz)
        if "type" not in record:  # a row's own type is checked by the rules
            record["type"] = self.type
        if self.kind == "events":
            name = record.get("evtName")
            dates = self.event_dates.get(name) if type(name) is str else None
            key = "evtData"
        elif self.kind == "profiles":
            dates = self._profile_dates or None
            key = "profileData"
        else:
            return record
        data = record.get(key)
        if dates and type(data) is dict and (present := [k for k in dates if k in data]):
            if record is row:
                record = dict(row)
            data = record[key] = dict(data)  # the row's own stays as read
            for name in present:
                data[name] = self.date(data[name])
        return record

    def date(self, value: Any) -> Any:
        """A date property's value as CleverTap's ``$D_<epoch seconds>``, or as it is when it is
        not a date."""
        converted = self.clevertap_date(value)
        return value if converted is None else converted

    def clevertap_date(self, value: Any) -> str | None:
        """A date property's value as CleverTap's ``$D_<epoch seconds>``, None when it is not a
        date; remembered (:attr:`known_dates`), since the same dates recur through a file."""
        try:
            return self.known_dates[value]
        except KeyError:
            converted = _clevertap_date(value, self.tz)
            if len(self.known_dates) > 100_000:
                self.known_dates.clear()
            self.known_dates[value] = converted
            return converted
        except TypeError:  # unhashable: a list where a date should be
            return None

    def from_flat(self, row: dict[str, Any], text_cells: bool) -> dict[str, Any]:
        """A new record from a Dataset's flat row (``ts`` as epoch seconds when it reads as a
        time; dates as they are); the row is not changed."""
        mapping = self.mapping
        assert mapping is not None
        record: dict[str, Any] = {}
        properties: Mapping[str, Property] = (
            self._events.get(mapping.event or "", {}) if self.kind == "events" else self._profile
        )
        data: dict[str, Any] = {}
        for column, value in row.items():
            if column == mapping.identity:
                if value is not None and value != "":
                    record["identity"] = value
            elif column == mapping.timestamp:
                if value is not None and value != "":
                    record["ts"] = value if type(value) is int else _epoch(value, self.tz)
            else:
                if value is None or (text_cells and value == ""):
                    continue  # an empty cell sets nothing
                name = mapping.columns.get(column, column)
                prop = properties.get(name)
                data[name] = _read_cell(value, prop) if text_cells and prop else value
        if self.kind == "events":
            record["evtName"] = mapping.event
            record["evtData"] = data
        else:
            record["profileData"] = data
        return record


def _read_cell(text: Any, prop: Property) -> Any:
    """A CSV cell read as its declared type; left as text when it is not one (rejected later)."""
    if not isinstance(text, str):
        return text
    kind = prop.type
    stripped = text.strip()
    if kind == "integer":
        return int(stripped) if _INTEGER.fullmatch(stripped) else text
    if kind == "number":
        if _INTEGER.fullmatch(stripped):
            return int(stripped)
        try:
            number = float(stripped)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    if kind == "boolean":
        lowered = stripped.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if kind == "list":
        if stripped.startswith("["):
            try:
                return orjson.loads(stripped)
            except orjson.JSONDecodeError:
                return text
        return [text]
    if kind == "date" and _INTEGER.fullmatch(stripped):
        return int(stripped)
    return text


def _epoch(value: Any, tz: ZoneInfo) -> Any:
    """``ts`` as epoch seconds: from an ISO date-time (in the project's timezone unless it says
    its own), a string of digits, or a float; anything else as it is."""
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        seconds = _iso_seconds(text, tz)
        if seconds is not None:
            return seconds
    return value


def _clevertap_date(value: Any, tz: ZoneInfo) -> str | None:
    """A date property value as ``$D_<epoch seconds>`` (§1.6); None when it is not a date."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"$D_{value}"
    if isinstance(value, str):
        if CLEVERTAP_DATE.fullmatch(value):
            return value
        seconds = _iso_seconds(value.strip(), tz)
        if seconds is not None:
            return f"$D_{seconds}"
    return None


@lru_cache(maxsize=1 << 16)  # dates repeat within a file; parsing one costs microseconds
def _iso_seconds(text: str, tz: ZoneInfo) -> int | None:
    """Epoch seconds of ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]``, with ``T`` and an offset or
    ``Z`` too; None when the text is none of those."""
    seconds = date_epoch(text, tz)
    if seconds is not None:
        return seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp())
