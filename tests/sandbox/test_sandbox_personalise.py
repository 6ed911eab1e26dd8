"""CleverTap's Liquid filled in with each recipient's profile: what the sandbox records for an
identity send and shows for a campaign's audience."""

from __future__ import annotations

import httpx

from ctflow.sandbox import Sandbox
from tests.sandbox.conftest import campaign

GREETING = "Hi {{ Profile.Name | default: 'friend' }}"
PEOPLE = [
    {"type": "profile", "identity": "asha", "profileData": {"Name": "Asha", "Tier": "Gold"}},
    {"type": "profile", "identity": "ben", "profileData": {"Tier": "Silver"}},
]


async def test_an_identity_send_records_each_recipients_message(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await client.post("/1/upload", json={"d": PEOPLE})
    content = {"title": GREETING, "body": "{% if Profile.Tier == 'Gold' %}Gold perks{% endif %}!"}
    body = {"to": {"Identity": ["asha", "ben", "nobody"]}, "content": content}
    response = await client.post("/1/send/push.json", json=body)
    assert response.json()["status"] == "success"
    [send] = sb.sends()
    assert send["body"] == body  # the request as received
    assert send["personalised"] == [
        {"to": {"Identity": "asha"}, "content": {"title": "Hi Asha", "body": "Gold perks!"}},
        {"to": {"Identity": "ben"}, "content": {"title": "Hi friend", "body": "!"}},
        {"to": {"Identity": "nobody"}, "content": {"title": "Hi friend", "body": "!"}},
    ]


async def test_a_send_without_liquid_records_no_copies(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    body = {"to": {"Identity": ["u1"]}, "content": {"title": "Hi", "body": "There"}}
    await client.post("/1/send/push.json", json=body)
    [send] = sb.sends()
    assert "personalised" not in send


async def test_text_that_is_not_liquid_is_delivered_as_written(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    body = {"to": {"Identity": ["u1"]}, "content": {"title": "Hi {{ Profile.", "body": "b"}}
    await client.post("/1/send/push.json", json=body)
    [send] = sb.sends()
    assert send["personalised"][0]["content"] == {"title": "Hi {{ Profile.", "body": "b"}


async def test_a_campaigns_audience_gets_its_content_personalised(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await client.post("/1/upload", json={"d": PEOPLE})
    content = {**campaign()["content"], "title": GREETING}
    created = await client.post("/1/targets/create.json", json=campaign(content=content))
    messages = sb.messages(created.json()["id"])
    titles = {m["identity"]: m["content"]["title"] for m in messages}
    assert titles == {"asha": "Hi Asha", "ben": "Hi friend"}
    assert all(m["content"]["platform_specific"] == content["platform_specific"] for m in messages)


async def test_the_control_endpoint_shows_a_campaigns_messages(client: httpx.AsyncClient) -> None:
    await client.post("/1/upload", json={"d": PEOPLE})
    content = {**campaign()["content"], "title": GREETING}
    created = (await client.post("/1/targets/create.json", json=campaign(content=content))).json()
    listed = (await client.get(f"/_sandbox/campaigns/{created['id']}/messages")).json()
    assert sorted(m["content"]["title"] for m in listed["messages"]) == ["Hi Asha", "Hi friend"]
    missing = await client.get("/_sandbox/campaigns/12/messages")
    assert (missing.status_code, missing.json()["error"]) == (404, "no campaign 12")
