"""Injected faults: lost responses after commit, 429/5xx that do not process, path filters."""

from __future__ import annotations

import httpx
import pytest

from ctflow.sandbox import ResponseDropped, Sandbox

from .conftest import campaign

UPLOAD = {"d": [{"type": "event", "identity": "u1", "evtName": "Product Viewed"}]}


async def test_dropped_create_is_committed_and_raises(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.faults.drop_next = 1
    with pytest.raises(ResponseDropped):
        await client.post("/1/targets/create.json", json=campaign(name="lost"))
    assert [c["name"] for c in sb.campaigns()] == ["lost"]
    assert [c["status"] for c in sb.campaigns()] == ["running"]  # when: now is already sending
    response = await client.post("/1/targets/create.json", json=campaign(name="next"))
    assert response.status_code == 200  # drop_next counted down to zero


def test_response_dropped_is_a_connection_reset() -> None:
    assert issubclass(ResponseDropped, ConnectionResetError)


async def test_drop_probability_with_seed(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.faults.drop_response = 1.0
    sb.faults.seed = 3
    with pytest.raises(ResponseDropped):
        await client.post("/1/upload", json=UPLOAD)
    assert sb.counts()["events"] == 1


@pytest.mark.parametrize("kind", ["rate_429", "rate_5xx"])
async def test_injected_errors_do_not_process(
    sb: Sandbox, client: httpx.AsyncClient, kind: str
) -> None:
    setattr(sb.faults, kind, 1.0)
    sb.faults.seed = 11
    statuses = set()
    for _ in range(12):
        statuses.add((await client.post("/1/upload", json=UPLOAD)).status_code)
        created = await client.post("/1/targets/create.json", json=campaign())
        statuses.add(created.status_code)
    assert sb.counts() == {"profiles": 0, "events": 0, "campaigns": 0, "sends": 0}
    if kind == "rate_429":
        assert statuses == {429}
    else:
        assert statuses <= {500, 502, 503, 504}
        assert len(statuses) > 1


async def test_500_body_is_the_documented_one(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.faults.rate_5xx = 1.0
    for seed in range(40):
        sb.faults.seed = seed
        response = await client.post("/1/upload", json=UPLOAD)
        if response.status_code == 500:
            assert response.json() == {
                "status": "fail",
                "error": "An unknown error occurred",
                "code": 500,
            }
            return
    pytest.fail("no 500 in 40 seeds")


async def test_faults_limited_to_paths(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.faults.rate_429 = 1.0
    sb.faults.paths = {"/1/targets/create.json"}
    assert (await client.post("/1/upload", json=UPLOAD)).status_code == 200
    assert (await client.post("/1/targets/create.json", json=campaign())).status_code == 429


async def test_faults_come_after_auth(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.faults.rate_5xx = 1.0
    response = await client.post("/1/upload", json=UPLOAD, headers={"X-CleverTap-Passcode": "x"})
    assert response.status_code == 401


async def test_an_unexpected_sandbox_error_answers_the_documented_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await client.post("/_sandbox/seed", json={"profiles": "many"})
    assert answer.status_code == 500
    assert answer.json() == {"status": "fail", "error": "An unknown error occurred", "code": 500}
    assert "POST /_sandbox/seed failed" in caplog.text


async def test_campaign_ids_beyond_64_bits_are_refused_not_crashed(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/1/targets/stop.json", json={"id": 10**30})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("Field id is invalid")
