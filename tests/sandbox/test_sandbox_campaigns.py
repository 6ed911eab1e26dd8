"""Campaign create validation, estimates, lifecycle on the clock, stop, list and reports (§4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from ctflow.sandbox import Sandbox

from .conftest import NOW, campaign


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/1/targets/create.json", json=body)


async def created_id(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
    response = await create(client, body)
    assert response.status_code == 200, response.text
    campaign_id: int = response.json()["id"]
    return campaign_id


async def statuses(client: httpx.AsyncClient) -> dict[int, str]:
    response = await client.post("/1/targets/list.json", json={"from": 20260101, "to": 20271231})
    return {t["id"]: t["status"] for t in response.json()["targets"]}


EMAIL = {"subject": "S", "body": "<p>B</p>", "sender_name": "Shop"}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": None}, "Field name is empty"),
        ({"name": "  "}, "Field name is empty"),
        ({"target_mode": "carrier-pigeon"}, "Invalid target_mode : carrier-pigeon"),
        ({"content": {"body": "b"}}, "Field title is empty (inside content)"),
        ({"target_mode": None, "content": {"body": "b"}}, "Field title is empty (inside content)"),
        (
            {"target_mode": "email", "content": {"body": "b", "sender_name": "s"}},
            "Field subject is empty (inside content)",
        ),
        (
            {"target_mode": "email", "content": {"subject": "s", "body": "b"}},
            "Field sender_name is empty (inside content)",
        ),
        ({"target_mode": "sms", "content": {}}, "Field body is empty (inside content)"),
        (
            {"target_mode": "webpush", "content": {"title": "t"}},
            "Field body is empty (inside content)",
        ),
        (
            {"target_mode": "whatsapp", "content": {"message_type": "template"}},
            "Field template_name is empty (inside content)",
        ),
        ({"target_mode": "webhook", "content": {}}, "Field webhook_endpoint_name is empty"),
        ({"when": None}, "Field when is empty"),
        ({"where": None}, "Query specified in where failed to parse"),
        ({"where": {"event_name": "Charged"}}, "Query specified in where failed to parse"),
        ({"where": "everyone"}, "Query specified in where failed to parse"),
        (
            {"where": {"event_name": "Charged", "from": 20261120, "to": 20261101}},
            "Query parse failure - The from date cannot be after the to date",
        ),
        (
            {"where": {"event_name": "Charged", "from": 20261101, "to": 20261201}},
            "Query parse failure - The to date cannot be in the future",
        ),
        (
            {"content": {"title": "t", "body": "b"}},
            "Notification channel is required for devices having Android 8.0 or above",
        ),
        (
            {"control_group": {"type": "custom", "name": "RamndomNm77"}},
            "No custom control group with name RamndomNm77 is defined",
        ),
    ],
)
async def test_create_validation_messages(
    sb: Sandbox, client: httpx.AsyncClient, changes: dict[str, Any], error: str
) -> None:
    response = await create(client, campaign(**changes))
    assert response.status_code == 400
    assert response.json() == {"status": "fail", "error": error}
    assert sb.campaigns() == []


async def test_validation_status_can_be_200(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.config.validation_http_status = 200
    response = await create(client, campaign(name=None))
    assert (response.status_code, response.json()["status"]) == (200, "fail")


async def test_ios_only_push_needs_no_android_channel(client: httpx.AsyncClient) -> None:
    body = campaign(devices=["ios"], content={"title": "t", "body": "b"})
    response = await create(client, body)
    assert response.status_code == 200
    assert set(response.json()["estimates"]) == {"ios"}


async def test_unknown_notification_channel(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.config.notification_channels = {"promos"}
    response = await create(client, campaign())
    assert response.json()["error"] == "Invalid Notification Channel ID"


async def test_created_campaign_gets_unique_epoch_ids(client: httpx.AsyncClient) -> None:
    first = await created_id(client, campaign())
    second = await created_id(client, campaign())  # same name: duplicates are allowed
    assert first != second
    assert len(str(first)) == len(str(second)) == 10


async def test_estimates_count_matching_profiles_with_a_token_per_device(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=300, seed=7)
    platinum = [p for p in sb.store.profiles() if p.data["Customer Type"] == "Platinum"]
    where = {
        "common_profile_properties": {
            "profile_fields": [{"name": "Customer Type", "operator": "equals", "value": "Platinum"}]
        }
    }
    response = await create(client, campaign(where=where, estimate_only=True))
    expected = {
        device: sum(any(e["platform"] == name for e in p.platform) for p in platinum)
        for device, name in (("android", "Android"), ("ios", "iOS"))
    }
    assert response.json() == {"status": "success", "estimates": expected}
    assert 0 < expected["android"] < len(platinum)


async def test_estimates_follow_events_and_change_when_data_changes(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=200, seed=1)
    where = {
        "event_name": "Charged",
        "from": 20260901,
        "to": 20261122,
        "event_properties": [{"name": "Amount", "operator": "greater_than", "value": 2000}],
    }
    body = campaign(where=where, estimate_only=True, target_mode="email", content=EMAIL)
    before = (await create(client, body)).json()["estimates"]["web"]
    buyers = {e["identity"] for e in sb.events("Charged") if e["props"]["Amount"] > 2000}
    emailable = {
        p.identity for p in sb.store.profiles() if p.data.get("MSG-email") and p.identity in buyers
    }
    assert before == len(emailable) > 0
    new_buyer = [
        {"type": "profile", "identity": "vip", "profileData": {"Email": "vip@example.com"}},
        {"type": "event", "identity": "vip", "evtName": "Charged", "evtData": {"Amount": 9999}},
    ]
    await client.post("/1/upload", json={"d": new_buyer})
    after = (await create(client, body)).json()["estimates"]["web"]
    assert after == before + 1


async def test_estimate_keys_per_channel(client: httpx.AsyncClient) -> None:
    webpush = campaign(target_mode="webpush", estimate_only=True)
    sms = campaign(target_mode="sms", content={"body": "b"}, estimate_only=True)
    assert (await create(client, webpush)).json()["estimates"] == {"chrome": 0}
    assert (await create(client, sms)).json()["estimates"] == {"web": 0}


async def test_advanced_query_did_all_and_did_none(sb: Sandbox, client: httpx.AsyncClient) -> None:
    records = [
        {"type": "profile", "identity": i, "profileData": {"Email": f"{i}@x.io"}}
        for i in ("a", "b", "c")
    ] + [
        {"type": "event", "identity": i, "evtName": name, "ts": 1_795_000_000}
        for i, name in (("a", "Added To Cart"), ("b", "Added To Cart"), ("b", "Charged"))
    ]
    await client.post("/1/upload", json={"d": records})
    window = {"from": 20261101, "to": 20261122}
    where = {
        "advanced_query": {
            "did_all": [{"event_name": "Added To Cart", **window}],
            "did_none": [{"event_name": "Charged", **window}],
        }
    }
    body = campaign(where=where, target_mode="email", content=EMAIL, estimate_only=True)
    assert (await create(client, body)).json()["estimates"] == {"web": 1}


async def test_estimate_only_stores_nothing(sb: Sandbox, client: httpx.AsyncClient) -> None:
    response = await create(client, campaign(estimate_only=True))
    assert "id" not in response.json()
    assert sb.campaigns() == []
    assert (await statuses(client)) == {}


async def test_skip_estimate_creates_with_empty_estimates(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    response = await create(client, campaign(skip_estimate=True))
    assert response.json()["estimates"] == {}
    assert [c["id"] for c in sb.campaigns()] == [response.json()["id"]]


async def test_lifecycle_follows_the_clock(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.seed(profiles=50)
    scheduled = await created_id(client, campaign(when="20261122 12:30"))
    now = await created_id(client, campaign())
    assert await statuses(client) == {scheduled: "pending", now: "running"}
    report = await client.post("/1/targets/result.json", json={"id": scheduled})
    assert report.status_code == 200
    assert report.json() == {"status": "fail", "error": "This target hasn't been completed"}

    sb.clock.advance(seconds=sb.config.run_seconds)
    assert await statuses(client) == {scheduled: "pending", now: "completed"}
    sb.clock.advance(hours=2, minutes=20)  # 12:35
    assert await statuses(client) == {scheduled: "running", now: "completed"}
    sb.clock.advance(seconds=sb.config.run_seconds)
    assert (await statuses(client))[scheduled] == "completed"

    report = await client.post("/1/targets/result.json", json={"id": scheduled})
    result = report.json()["result"]
    stored = next(c for c in sb.campaigns() if c["id"] == scheduled)
    assert result["sent"] == sum(stored["estimates"].values()) > 0
    assert 0 <= result["clicked"] <= result["sent"]


async def test_schedule_uses_the_account_timezone(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.config.timezone = "Asia/Kolkata"  # UTC+5:30; the clock reads 15:30 there
    early = await create(client, campaign(when="20261122 15:00"))
    assert early.status_code == 400
    campaign_id = await created_id(client, campaign(when="20261122 16:00"))
    [stored] = sb.campaigns()
    assert stored["id"] == campaign_id
    assert stored["scheduled_at"].isoformat() == "2026-11-22T10:30:00+00:00"


async def test_recurring_stays_running(sb: Sandbox, client: httpx.AsyncClient) -> None:
    campaign_id = await created_id(
        client, campaign(when={"type": "recurring", "repeat_type": "day"})
    )
    sb.clock.advance(days=30)
    assert await statuses(client) == {campaign_id: "running"}


async def test_stop_is_idempotent_and_unknown_ids_fail(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    campaign_id = await created_id(client, campaign(when="20261123 09:00"))
    for _ in range(2):
        response = await client.post("/1/targets/stop.json", json={"id": campaign_id})
        assert response.json() == {"status": "success"}
    assert await statuses(client) == {campaign_id: "stopped"}
    sb.clock.advance(days=2)
    assert await statuses(client) == {campaign_id: "stopped"}
    missing = await client.post("/1/targets/stop.json", json={"id": 1234567890})
    assert missing.status_code == 400
    assert missing.json()["status"] == "fail"


async def test_stopping_a_completed_campaign_keeps_it_completed(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    campaign_id = await created_id(client, campaign())
    sb.clock.advance(hours=1)
    response = await client.post("/1/targets/stop.json", json={"id": campaign_id})
    assert response.json() == {"status": "success"}
    assert await statuses(client) == {campaign_id: "completed"}


async def test_list_window_filters_by_scheduled_start(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    today = await created_id(client, campaign())
    later = await created_id(client, campaign(when="20261205 08:15"))
    response = await client.post("/1/targets/list.json", json={"from": 20261122, "to": 20261122})
    assert response.json() == {
        "status": "success",
        "targets": [
            {"id": today, "name": "Welcome push", "status": "running", "scheduled_on": 202611221000}
        ],
    }
    december = await client.post("/1/targets/list.json", json={"from": 20261201, "to": 20261231})
    assert [t["id"] for t in december.json()["targets"]] == [later]
    sb.config.list_scheduled_format = "epoch"
    sb.config.list_echo_labels = True
    epoch = await client.post("/1/targets/list.json", json={"from": 20261201, "to": 20261231})
    assert epoch.json()["targets"][0]["scheduled_on"] == 1796458500
    assert epoch.json()["targets"][0]["labels"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"from": 20261122},
        {"from": "20261122", "to": "20261122"},
        {"from": 20261123, "to": 20261122},
    ],
)
async def test_list_rejects_bad_windows(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/1/targets/list.json", json=body)
    assert response.status_code == 400
    assert response.json()["status"] == "fail"


async def test_message_report_filters(client: httpx.AsyncClient) -> None:
    ours = await created_id(client, campaign(labels=["ctflow", "ctflow:shop"]))
    await created_id(
        client, campaign(target_mode="sms", content={"body": "b"}, when="20261130 10:00")
    )
    response = await client.post(
        "/1/message/report.json", json={"from": "20261101", "to": "20261130", "label": ["ctflow"]}
    )
    assert response.json() == {
        "status": "success",
        "total_results": 1,
        "messages": [
            {
                "message id": ours,
                "message_name": "Welcome push",
                "start_date": "22 Nov, 2026 10:00:00",
                "channel": "push",
                "status": "running",
                "labels": ["ctflow", "ctflow:shop"],
                "sent": 0,  # nobody to send to: the sandbox holds no profiles
                "viewed": 0,
                "clicked": 0,
                "errors": 0,
            }
        ],
    }
    scheduled = await client.post(
        "/1/message/report.json",
        json={"from": "20261101", "to": "20261130", "status": ["scheduled"]},
    )
    assert [m["channel"] for m in scheduled.json()["messages"]] == ["sms"]


async def test_message_report_shows_dashboard_campaigns_that_list_never_does(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=40)
    ours = await created_id(client, campaign())
    sb.clock.advance(hours=1)
    theirs = sb.add_dashboard_campaign(
        "Diwali sale", channel="email", start=NOW + timedelta(minutes=50), sent=500
    )
    listed = await client.post("/1/targets/list.json", json={"from": 20261122, "to": 20261122})
    assert [t["id"] for t in listed.json()["targets"]] == [ours]
    report = await client.post(
        "/1/message/report.json", json={"from": "20261122", "to": "20261122"}
    )
    messages = {m["message id"]: m for m in report.json()["messages"]}
    assert set(messages) == {ours, theirs}
    dashboard = messages[theirs]
    assert (dashboard["message_name"], dashboard["channel"]) == ("Diwali sale", "email")
    assert dashboard["status"] == "running"  # started 10 minutes ago; sends for 5 more
    assert dashboard["sent"] == 500
    assert 0 < dashboard["clicked"] < dashboard["viewed"] < dashboard["sent"]
    stored = next(c for c in sb.campaigns() if c["id"] == ours)
    assert messages[ours]["sent"] == sum(stored["estimates"].values()) > 0


async def test_report_figures_count_the_notification_events_that_name_the_campaign(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.seed(profiles=40)
    campaign_id = await created_id(client, campaign())
    sb.clock.advance(hours=1)
    ts = int(sb.clock.timestamp())
    # Devices raise CleverTap's notification events (an upload may not: code 513).
    for profile_id in (1, 2, 3):
        sb.store.add_event(profile_id, "Notification Clicked", ts, {"Campaign id": campaign_id}, {})
    sb.store.add_event(4, "Notification Clicked", ts, {"Campaign id": 1}, {})  # another's
    result = await client.post("/1/targets/result.json", json={"id": campaign_id})
    assert result.json()["result"]["clicked"] == 3
    report = await client.post(
        "/1/message/report.json", json={"from": "20261122", "to": "20261122"}
    )
    assert report.json()["messages"][0]["clicked"] == 3


async def test_message_report_holds_back_past_its_cap_and_says_how_many_matched(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    sb.config.message_report_max_results = 2
    for n in range(3):
        sb.add_dashboard_campaign(f"Blast {n}", start=NOW - timedelta(days=n))
    report = await client.post(
        "/1/message/report.json", json={"from": "20261101", "to": "20261130"}
    )
    body = report.json()
    assert body["total_results"] == 3
    assert [m["message_name"] for m in body["messages"]] == ["Blast 2", "Blast 1"]


async def test_a_dashboard_campaign_reports_the_identity_sends_made_under_its_id(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    api_campaign = sb.add_dashboard_campaign("Order updates", channel="email", sent=0)
    early = await client.post("/1/targets/result.json", json={"id": api_campaign})
    assert early.json() == {"status": "fail", "error": "This target hasn't been completed"}
    send = {
        "to": {"Identity": ["a-1", "a-2", "a-3"]},
        "campaign_id": api_campaign,
        "content": {"subject": "S", "body": "B", "sender_name": "Shop"},
    }
    assert (await client.post("/1/send/email.json", json=send)).status_code == 200
    sb.clock.advance(hours=1)
    result = await client.post("/1/targets/result.json", json={"id": api_campaign})
    assert result.json()["result"]["sent"] == 3
    report = await client.post(
        "/1/message/report.json", json={"from": "20261122", "to": "20261122"}
    )
    assert report.json()["messages"][0]["sent"] == 3
