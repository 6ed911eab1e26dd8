"""Concurrency ceilings per account and family, and the create rate window (§1.4)."""

from __future__ import annotations

import asyncio

import httpx

from ctflow.sandbox import Sandbox

from .conftest import campaign


async def test_16_concurrent_uploads_one_over_the_ceiling_gets_429(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.faults.latency_ms = 300
    bodies = [
        {"d": [{"type": "event", "identity": f"u{i}", "evtName": "Product Viewed"}]}
        for i in range(16)
    ]
    responses = await asyncio.gather(*(client.post("/1/upload", json=b) for b in bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 15 + [429]
    rejected = next(r for r in responses if r.status_code == 429)
    assert rejected.json() == {
        "status": "fail",
        "error": "Too many concurrent requests",
        "code": 429,
    }
    assert sb.counts()["events"] == 15  # the rejected call was not processed


async def test_4_concurrent_creates_one_gets_429(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.faults.latency_ms = 200
    responses = await asyncio.gather(
        *(client.post("/1/targets/create.json", json=campaign(name=f"c{i}")) for i in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 429]
    assert len(sb.campaigns()) == 3


async def test_families_and_accounts_have_separate_budgets(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.faults.latency_ms = 200
    sb.config.accounts["OTHER"] = "pw"
    other = {"X-CleverTap-Account-Id": "OTHER", "X-CleverTap-Passcode": "pw"}
    window = {"from": 20261101, "to": 20261122}
    calls = [client.post("/1/targets/list.json", json=window) for _ in range(3)]
    calls += [client.post("/1/targets/list.json", json=window, headers=other) for _ in range(3)]
    calls += [client.post("/1/now.json", json={}) for _ in range(3)]
    responses = await asyncio.gather(*calls)
    assert [r.status_code for r in responses] == [200] * 9


async def test_limits_are_configurable_and_429_body_may_be_empty(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.faults.latency_ms = 200
    sb.config.limits["list"] = 1
    sb.config.rate_limit_body = "empty"
    window = {"from": 20261101, "to": 20261122}
    first, second = await asyncio.gather(
        *(client.post("/1/targets/list.json", json=window) for _ in range(2))
    )
    rejected = second if second.status_code == 429 else first
    assert sorted([first.status_code, second.status_code]) == [200, 429]
    assert rejected.content == b""
    assert rejected.headers["content-type"].startswith("text/plain")


async def test_more_than_3_creates_in_a_second_get_429(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.config.create_per_second = 3
    codes = [
        (await client.post("/1/targets/create.json", json=campaign(name=f"c{i}"))).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert len(sb.campaigns()) == 3
    await asyncio.sleep(1.05)
    response = await client.post("/1/targets/create.json", json=campaign(name="later"))
    assert response.status_code == 200
