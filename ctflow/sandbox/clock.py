"""Clock: the sandbox's notion of now; real time until set, frozen after set.

Imports only the standard library.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Clock:
    """`Clock()` follows real time; `Clock(dt)` or `.set(dt)` freezes it; `.advance()` moves it."""

    def __init__(self, now: datetime | str | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None if now is None else _aware(now)
        self._offset = timedelta()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def set(self, moment: datetime | str) -> None:
        with self._lock:
            self._frozen = _aware(moment)

    def advance(
        self,
        seconds: float = 0,
        *,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> None:
        delta = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta
