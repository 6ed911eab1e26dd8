"""Clock: real time until set, frozen after, moved by advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ctflow.sandbox import Clock


def test_real_until_set_then_frozen_and_advanced() -> None:
    clock = Clock()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    clock.advance(hours=1)
    assert abs(clock.now() - datetime.now(UTC) - timedelta(hours=1)) < timedelta(seconds=5)
    clock.set("2026-01-01T00:00:00")
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.now() == clock.now()
    clock.advance(seconds=90, days=1)
    assert clock.now() == datetime(2026, 1, 2, 0, 1, 30, tzinfo=UTC)
