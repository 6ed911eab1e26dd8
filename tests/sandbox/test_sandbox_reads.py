"""Counts with partial + req_id polling, cursor exports, profile, now, schema, delete (§8)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from ctflow.sandbox import Sandbox

CHARGED = {"event_name": "Charged", "from": 20260901, "to": 20261122}


async def test_event_count_answers_partial_then_final(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=200)
    sb.config.count_polls = 2
    first = await client.post("/1/counts/events.json", json=CHARGED)
    assert first.json()["status"] == "partial"
    req_id = first.json()["req_id"]
    assert isinstance(req_id, int)
    second = await client.get("/1/counts/events.json", params={"req_id": req_id})
    assert second.json() == {"status": "partial", "req_id": req_id}
    final = await client.get("/1/counts/events.json", params={"req_id": req_id})
    assert final.json() == {"status": "success", "count": len(sb.events("Charged"))}


async def test_profile_count_follow_up_may_be_a_post(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=200)
    first = await client.post("/1/counts/profiles.json", json=CHARGED)
    final = await client.post(f"/1/counts/profiles.json?req_id={first.json()['req_id']}")
    buyers = {e["identity"] for e in sb.events("Charged")}
    assert final.json() == {"status": "success", "count": len(buyers)}


async def test_count_polls_zero_answers_at_once(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.config.count_polls = 0
    response = await client.post("/1/counts/events.json", json=CHARGED)
    assert response.json() == {"status": "success", "count": 0}


async def test_unknown_req_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/1/counts/events.json", params={"req_id": 12345})
    assert response.status_code == 400
    assert "invalid request id" in response.json()["error"]


async def page_through(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], batch_size: int
) -> list[list[Any]]:
    start = await client.post(f"{path}?batch_size={batch_size}", json=body)
    cursor = start.json()["cursor"]
    assert "%3D" in cursor or "%2F" in cursor
    pages = []
    while True:
        # The cursor is already percent-encoded: it must go on the URL verbatim.
        reply = (await client.get(f"{path}?cursor={cursor}")).json()
        assert reply["status"] == "success"
        pages.append(reply["records"])
        if "next_cursor" not in reply:
            return pages
        cursor = reply["next_cursor"]


async def test_events_export_pages_to_the_end(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.seed(profiles=300)
    pages = await page_through(client, "/1/events.json", CHARGED, 20)
    expected = len(sb.events("Charged"))
    assert [len(p) for p in pages[:-1]] == [20] * (len(pages) - 1)
    assert 0 < len(pages[-1]) <= 20
    assert sum(len(p) for p in pages) == expected
    record = pages[0][0]
    assert set(record) == {"profile", "ts", "event_props", "session_props"}
    assert len(str(record["ts"])) == 14  # yyyyMMddHHmmss
    assert record["profile"]["identity"].startswith("user-")
    assert "Amount" in record["event_props"]


async def test_profiles_export_with_a_filter(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.seed(profiles=120)
    where = {
        "common_profile_properties": {
            "profile_fields": [{"name": "City", "operator": "equals", "value": "Pune"}]
        }
    }
    pages = await page_through(client, "/1/profiles.json", where, 7)
    records = [r for page in pages for r in page]
    pune = [p for p in sb.store.profiles() if p.data["City"] == "Pune"]
    assert [r["identity"] for r in records] == [p.identity for p in pune]
    assert set(records[0]) == {"identity", "profileData", "platformInfo"}


async def test_reencoded_or_unknown_cursor_is_incorrect_usage(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=50)
    cursor = (await client.post("/1/events.json?batch_size=5", json=CHARGED)).json()["cursor"]
    for bad in (quote(cursor, safe=""), "bm90LWEtY3Vyc29y%3D"):
        response = await client.get(f"/1/events.json?cursor={bad}")
        assert response.status_code == 400
        assert response.json()["error"] == "Incorrect Usage"
    ok = await client.get(f"/1/events.json?cursor={cursor}")
    assert ok.json()["status"] == "success"


async def test_export_not_ready_answers_code_2_first(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.config.export_not_ready_polls = 1
    cursor = (await client.post("/1/events.json", json=CHARGED)).json()["cursor"]
    waiting = await client.get(f"/1/events.json?cursor={cursor}")
    assert waiting.json() == {
        "status": "fail",
        "error": "Request still in progress, please retry later",
        "code": 2,
    }
    ready = await client.get(f"/1/events.json?cursor={cursor}")
    assert ready.json() == {"status": "success", "records": []}


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("?batch_size=5001", CHARGED),
        ("?batch_size=0", CHARGED),
        ("", {"from": 20261101, "to": 20261122}),
        ("", {"event_name": "Charged", "from": 20261122, "to": 20261101}),
    ],
)
async def test_export_start_validation(
    client: httpx.AsyncClient, query: str, body: dict[str, Any]
) -> None:
    response = await client.post(f"/1/events.json{query}", json=body)
    assert response.status_code == 400
    assert response.json()["status"] == "fail"


async def test_single_profile_by_identity_email_and_object_id(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=5)
    stored = sb.profile("user-00003")
    assert stored is not None
    for params in (
        {"identity": "user-00003"},
        {"email": stored["email"]},
        {"objectId": stored["objectId"]},
    ):
        record = (await client.get("/1/profile.json", params=params)).json()["record"]
        assert record["identity"] == "user-00003"
        assert record["events"]["Signed Up"]["count"] == 1
    missing = await client.get("/1/profile.json", params={"identity": "nobody"})
    assert missing.status_code == 404
    assert missing.json() == {"status": "fail", "error": "Profile not found", "code": 404}


async def test_delete_profiles(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.seed(profiles=5)
    response = await client.post(
        "/1/delete/profiles.json", json={"identity": ["user-00001", "user-00002"]}
    )
    assert response.json() == {"status": "success"}
    assert sb.profile("user-00001") is None
    assert sb.counts()["profiles"] == 3
    assert all(e["identity"] not in ("user-00001", "user-00002") for e in sb.events())
    for bad in ({}, {"identity": []}, {"identity": [f"u{i}" for i in range(101)]}):
        assert (await client.post("/1/delete/profiles.json", json=bad)).status_code == 400


async def test_now_counts_active_users_in_the_last_5_minutes(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    ts = int(sb.clock.timestamp())
    records = [
        {"type": "event", "identity": "fresh", "evtName": "Search", "ts": ts - 60},
        {"type": "event", "identity": "stale", "evtName": "Search", "ts": ts - 600},
    ]
    await client.post("/1/upload", json={"d": records})
    reply = (await client.post("/1/now.json", json={"user_type": True})).json()
    assert reply["count"] == 1
    assert reply["last_processed_ts"] == ts
    assert reply["user_type"]["new"] == 1
    assert "os" not in reply


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_schema_lists_events_with_inferred_property_types(
    client: httpx.AsyncClient, method: str
) -> None:
    data = {"Amount": 10.5, "Gift": False, "When": "$D_1790000000", "Items": [{"sku": "a"}]}
    event = {"type": "event", "identity": "u", "evtName": "Charged", "evtData": data}
    await client.post("/1/upload", json={"d": [event]})
    reply = (await client.request(method, "/getSchema?type=events")).json()
    assert reply == {
        "status": "success",
        "events": [
            {
                "name": "Charged",
                "type": "system",
                "properties": [
                    {"name": "Amount", "type": "number"},
                    {"name": "Gift", "type": "boolean"},
                    {"name": "Items", "type": "list"},
                    {"name": "When", "type": "date"},
                ],
            }
        ],
    }
