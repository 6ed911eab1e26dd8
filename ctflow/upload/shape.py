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
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from ctflow.spec.types import Property, date_epoch
from ctflow.upload.rules import RECORD_TYPE, Kind, Schemas

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
        self._dates: dict[str, tuple[str, ...]] = {}

    def shape(self, row: dict[str, Any], text_cells: bool = False) -> dict[str, Any]:
        # A copy: the row itself stays as read, for the dead-letter file.
        record = dict(row) if self.mapping is None else self._from_flat(row, text_cells)
        record["type"] = self.type
        ts = record.get("ts")
        if ts is not None and type(ts) is not int:
            record["ts"] = _epoch(ts, self.tz)
        if self.kind == "events":
            data = record.get("evtData")
            name = record.get("evtName")
            if isinstance(data, dict) and isinstance(name, str):
                dates = self._dates.get(name)
                if dates is None:
                    props = self._events.get(name, {})
                    dates = self._dates[name] = tuple(
                        n for n, p in props.items() if p.type == "date"
                    )
                for key in dates:
                    if key in data:
                        data[key] = _clevertap_date(data[key], self.tz)
        elif self.kind == "profiles":
            data = record.get("profileData")
            if isinstance(data, dict):
                for key, value in data.items():
                    prop = self._profile.get(key)
                    if prop is not None and prop.type == "date":
                        data[key] = _clevertap_date(value, self.tz)
        return record

    def _from_flat(self, row: dict[str, Any], text_cells: bool) -> dict[str, Any]:
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
                    record["ts"] = value
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


def repeatable_kind(kind: Kind) -> bool:
    """Profiles and tokens are upserts: sending one twice leaves the account as once."""
    return kind != "events"


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


def _clevertap_date(value: Any, tz: ZoneInfo) -> Any:
    """A date property value as ``$D_<epoch seconds>`` (§1.6)."""
    if isinstance(value, str) and value.startswith("$D_"):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return f"$D_{value}"
    if isinstance(value, str):
        seconds = _iso_seconds(value.strip(), tz)
        if seconds is not None:
            return f"$D_{seconds}"
    return value


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
