"""The client never exceeds CleverTap's concurrency ceilings or the create start rate."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from ctflow.clevertap import Limits
from ctflow.clevertap.limits import WINDOW_SECONDS, StartRateLimiter
from tests.client.ct_helpers import FakeClock, Recorder, make_client, ok

RECORD = {"type": "profile", "identity": "u1", "profileData": {"Name": "A"}}
PAYLOAD = {"name": "N", "where": {}, "content": {"title": "t", "body": "b"}, "when": "now"}


class PeakMeter:
    """A slow handler that measures how many requests are in flight at once."""

    def __init__(self, answer: httpx.Response, delay: float = 0.02) -> None:
        self.answer = answer
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        return self.answer


async def test_at_most_15_uploads_in_flight() -> None:
    meter = PeakMeter(ok({"status": "success", "processed": 1, "unprocessed": []}))
    async with make_client(Recorder(meter)) as ct:
        results = await asyncio.gather(*(ct.upload([RECORD]) for _ in range(40)))
    assert all(r.ok for r in results)
    assert meter.peak == 15


async def test_at_most_3_creates_in_flight() -> None:
    meter = PeakMeter(ok({"status": "success", "id": 1, "estimates": {}}))
    async with make_client(Recorder(meter), limits=Limits(create_per_second=100)) as ct:
        await asyncio.gather(*(ct.create_campaign(PAYLOAD) for _ in range(10)))
    assert meter.peak == 3


async def test_families_have_separate_slots() -> None:
    """Three slow stops do not hold up a list call."""
    meter = PeakMeter(ok({"status": "success", "targets": []}))
    async with make_client(Recorder(meter)) as ct:
        day = date(2026, 1, 1)
        await asyncio.gather(
            *(ct.stop_campaign(n) for n in range(3)),
            *(ct.list_campaigns(day, day) for _ in range(3)),
        )
    assert meter.peak == 6


async def test_limits_are_configurable() -> None:
    meter = PeakMeter(ok({"status": "success", "processed": 1, "unprocessed": []}))
    async with make_client(Recorder(meter), limits=Limits(upload=4)) as ct:
        await asyncio.gather(*(ct.upload([RECORD]) for _ in range(12)))
    assert meter.peak == 4


async def test_creates_start_at_most_3_per_second() -> None:
    clock = FakeClock()
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock())
        return ok({"status": "success", "id": len(starts), "estimates": {}})

    async with make_client(Recorder(handler), clock=clock) as ct:
        await asyncio.gather(*(ct.create_campaign(PAYLOAD) for _ in range(10)))
    assert len(starts) == 10
    # any 4 consecutive starts span more than a second (with the margin for arrival jitter);
    # the first 3 go at once
    assert all(starts[i + 3] - starts[i] >= WINDOW_SECONDS > 1.0 for i in range(len(starts) - 3))
    assert starts[:3] == [0.0, 0.0, 0.0]
    assert starts[-1] == pytest.approx(3 * WINDOW_SECONDS)


async def test_estimates_share_the_create_rate() -> None:
    clock = FakeClock()
    starts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock())
        return ok({"status": "success", "estimates": {"android": 1}})

    async with make_client(Recorder(handler), clock=clock) as ct:
        await asyncio.gather(*(ct.estimate_campaign(PAYLOAD) for _ in range(4)))
    assert starts[3] - starts[0] >= 1.0


async def test_rate_limiter_does_not_wait_when_starts_are_spread_out() -> None:
    clock = FakeClock()
    limiter = StartRateLimiter(3, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        await limiter.wait()
        clock.now += 0.5
    assert clock.sleeps == []


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Limits(other=0)
