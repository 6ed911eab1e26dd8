"""The date, date-time and duration texts of declarations → datetime values.

Pure functions; the JSON Schemas check the shapes, these give the values (and refuse impossible
calendar dates such as 2026-02-30).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION_PART = re.compile(
    r"(\d+)\s*(m|min|mins|minute|minutes|h|hour|hours|d|day|days|w|week|weeks)(?![a-z])",
    re.IGNORECASE,
)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$")


@lru_cache(maxsize=1024)
def parse_duration(text: str) -> timedelta | None:
    """``2d``, ``36h``, ``1d 12h``, ``90 minutes``, ``1 week`` → timedelta; ``None`` if not one
    (remembered: thousands of audiences say ``30d``)."""
    remaining = text.strip()
    if not remaining:
        return None
    total = timedelta()
    position = 0
    for match in _DURATION_PART.finditer(remaining):
        if remaining[position : match.start()].strip():
            return None
        total += timedelta(**{_UNITS[match[2][0].lower()]: int(match[1])})
        position = match.end()
    if position == 0 or remaining[position:].strip():
        return None
    return total


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def parse_datetime(text: str) -> datetime | None:
    """``2026-12-01 09:30`` (or with ``T``, optional seconds) → naive datetime; else ``None``."""
    match = _DATETIME.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    try:
        return datetime.fromisoformat(f"{match[1]}T{match[2]}:{match[3]}:{match[4] or '00'}")
    except ValueError:
        return None


def zone(name: str) -> ZoneInfo | None:
    """The IANA timezone ``name``, or ``None`` when there is no such zone (a name the file
    system refuses, too long for a file name, included)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
