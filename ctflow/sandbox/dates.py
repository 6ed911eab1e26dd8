"""Date helpers for CleverTap's formats (clevertap-api.md §1.6), in the account timezone.

Imports only the standard library.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_yyyymmdd(value: object) -> date | None:
    """An int (or digit string) YYYYMMDD as a date; None when it is not one."""
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int | str) else ""
    if len(text) != 8 or not text.isdecimal():
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[int, int]:
    """Epoch seconds of the start of `first` and the last second of `last`, inclusive."""
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return int(start.timestamp()), int(end.timestamp()) - 1


def local(epoch: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz)


def today(epoch: float, tz: ZoneInfo) -> date:
    return local(epoch, tz).date()


def compact_ts(epoch: float, tz: ZoneInfo) -> int:
    """§8.1: export records carry `ts` as an int yyyyMMddHHmmss."""
    return int(local(epoch, tz).strftime("%Y%m%d%H%M%S"))
