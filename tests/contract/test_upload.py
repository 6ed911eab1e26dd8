"""Upload through the client into the sandbox: per-record outcomes, ceilings, upserts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ctflow.clevertap import CleverTap, Limits
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY

TS = 1_763_600_000


def event(i: int, name: str = "Product Viewed", **props: Any) -> dict[str, Any]:
    return {"type": "event", "identity": f"u-{i}", "ts": TS + i, "evtName": name, "evtData": props}


def profile(i: int, **data: Any) -> dict[str, Any]:
    return {"type": "profile", "identity": f"u-{i}", "ts": TS, "profileData": data}


async def test_mixed_batch_reports_each_rejected_record_by_its_number(
    client: CleverTap, sandbox: Sandbox
) -> None:
    records = [
        profile(1, Name="Asha", Email="asha@example.com"),
        profile(2, Gender="X"),
        event(3, Category="shoes"),
        {"type": "event", "ts": TS, "evtName": "Product Viewed", "evtData": {}},
        profile(5, Phone="not-a-number"),
    ]
    result = await client.upload(records)
    assert result.processed == 2
    assert not result.ok
    rejected = {(u.record_number, u.code) for u in result.unprocessed}
    assert rejected == {(2, 514), (4, 523), (5, 516)}
    assert all(
        u.error.endswith(f"Skipped record number : {u.record_number}") for u in result.unprocessed
    )
    assert sandbox.profile("u-1") is not None
    assert sandbox.profile("u-2") is None
    assert len(sandbox.events("Product Viewed")) == 1


async def test_profiles_upsert_and_events_append(client: CleverTap, sandbox: Sandbox) -> None:
    await client.upload([profile(1, Name="Asha", City="Pune")])
    await client.upload([profile(1, City="Mumbai")])
    stored = sandbox.profile("u-1")
    assert stored is not None
    assert stored["profileData"]["Name"] == "Asha"
    assert stored["profileData"]["City"] == "Mumbai"
    twice = [event(1), event(1)]
    assert (await client.upload(twice)).ok
    assert len(sandbox.events("Product Viewed")) == 2, "CleverTap keeps duplicate events"


async def test_more_than_1000_records_is_refused_before_sending(
    local: CleverTap, sandbox: Sandbox
) -> None:
    with pytest.raises(Exception, match="1000") as caught:
        await local.upload([event(i) for i in range(1001)])
    assert getattr(caught.value, "exit_code", None) is not None
    assert sandbox.events() == []


async def test_sixteen_concurrent_uploads_stay_under_the_ceiling(sandbox: Sandbox) -> None:
    """The client holds 15 in flight; the 16th waits instead of drawing a 429."""
    sandbox.faults.latency_ms = 150
    async with CleverTap.in_process(sandbox.app, CREDS, retry=FAST_RETRY) as ct:
        results = await asyncio.gather(*(ct.upload([event(i)]) for i in range(16)))
    assert all(r.ok for r in results)
    assert len(sandbox.events()) == 16


async def test_a_client_configured_over_the_ceiling_meets_429_and_recovers(
    sandbox: Sandbox,
) -> None:
    sandbox.faults.latency_ms = 150
    async with CleverTap.in_process(
        sandbox.app, CREDS, retry=FAST_RETRY, limits=Limits(upload=16)
    ) as ct:
        results = await asyncio.gather(*(ct.upload([event(i)]) for i in range(16)))
    assert all(r.ok for r in results)
    assert len(sandbox.events()) == 16, "the rejected request was retried, and only once accepted"


async def test_delete_profiles(client: CleverTap, sandbox: Sandbox) -> None:
    await client.upload([profile(1, Name="A"), profile(2, Name="B")])
    await client.delete_profiles(identities=["u-1"])
    assert sandbox.profile("u-1") is None
    assert sandbox.profile("u-2") is not None
