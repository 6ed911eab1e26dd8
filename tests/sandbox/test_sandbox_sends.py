"""Identity sends (§5) and the external trigger (§6.1): validated, recorded, acknowledged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ctflow.sandbox import Sandbox

QUEUED = {"status": "success", "message": "Added to queue for processing"}


async def test_identity_push_is_queued_and_recorded(sb: Sandbox, client: httpx.AsyncClient) -> None:
    body = {"to": {"Identity": ["u1", "u2"]}, "content": {"title": "Hi", "body": "There"}}
    response = await client.post("/1/send/push.json", json=body)
    assert response.json() == QUEUED
    [send] = sb.sends()
    assert (send["endpoint"], send["body"]) == ("/1/send/push.json", body)
    assert send["at"] == sb.clock.now()
    again = await client.post("/1/send/push.json", json=body)
    assert again.json() == QUEUED
    assert len(sb.sends()) == 2  # §5: never de-duplicated


async def test_push_android_section_without_channel_is_code_9(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    body = {
        "to": {"Identity": ["u1"]},
        "content": {"title": "t", "body": "b", "platform_specific": {"android": {}}},
    }
    response = await client.post("/1/send/push.json", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "status": "fail",
        "error": "Notification channel is required for devices having Android 8.0 or above",
        "code": 9,
    }
    assert sb.sends() == []


@pytest.mark.parametrize(
    ("channel", "body", "error"),
    [
        (
            "email",
            {"to": {"Email": ["a@b.co"]}, "content": {"body": "b", "sender_name": "s"}},
            "Field subject is empty (inside content)",
        ),
        (
            "sms",
            {"to": {"Identity": ["u1"]}, "content": {}},
            "Field body is empty (inside content)",
        ),
        ("push", {"content": {"title": "t", "body": "b"}}, "Field to is empty"),
        (
            "push",
            {"to": {"identity": ["u1"]}, "content": {"title": "t", "body": "b"}},
            "Invalid key in to: identity (allowed: FBID, GPID, Email, Identity, objectId)",
        ),
        (
            "push",
            {
                "to": {"Identity": [f"u{i}" for i in range(1001)]},
                "content": {"title": "t", "body": "b"},
            },
            "Too many recipients: 1001 in to, at most 1000 per request",
        ),
    ],
)
async def test_send_validation(
    sb: Sandbox, client: httpx.AsyncClient, channel: str, body: dict[str, Any], error: str
) -> None:
    response = await client.post(f"/1/send/{channel}.json", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert sb.sends() == []


async def test_external_trigger_plain_and_wrapped(sb: Sandbox, client: httpx.AsyncClient) -> None:
    one = {
        "to": {"identity": ["u1"]},
        "campaign_id": "1695721550",
        "ExternalTrigger": {"Name": "Jo"},
    }
    assert (await client.post("/1/send/externaltrigger.json", json=one)).json() == QUEUED
    wrapped = {"d": [one, {**one, "campaign_id": 1695721551}]}
    assert (await client.post("/1/send/externaltrigger.json", json=wrapped)).json() == QUEUED
    assert [s["body"] for s in sb.sends()] == [one, wrapped]


async def test_external_trigger_values_must_be_strings(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    body = {"to": {"email": ["a@b.co"]}, "campaign_id": 1, "ExternalTrigger": {"Items": [1, 2]}}
    response = await client.post("/1/send/externaltrigger.json", json=body)
    assert response.status_code == 400
    assert "Items" in response.json()["error"]
    sb.config.external_trigger_strings_only = False
    assert (await client.post("/1/send/externaltrigger.json", json=body)).json() == QUEUED


async def test_external_trigger_needs_a_campaign_id(client: httpx.AsyncClient) -> None:
    body = {"to": {"identity": ["u1"]}, "ExternalTrigger": {}}
    response = await client.post("/1/send/externaltrigger.json", json=body)
    assert response.json()["error"] == "Field campaign_id is invalid"
