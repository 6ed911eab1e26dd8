"""API segments (§9) through the client: create with the client's id (asked again, the same
segment), membership by identity or GUID with unknown profiles reported, the 100-profile ceiling,
and campaigns targeting a segment reaching its members only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ctflow.clevertap import CleverTap, InvalidRequest, NotFoundError, ValidationError
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, NOW

TS = int(NOW.timestamp()) - 3600
AUTH = {"X-CleverTap-Account-Id": CREDS.account_id, "X-CleverTap-Passcode": CREDS.passcode}


async def people(ct: CleverTap, n: int) -> None:
    records = [
        {"identity": f"u-{i}", "ts": TS, "profileData": {"Email": f"u{i}@example.com"}}
        for i in range(n)
    ]
    assert (await ct.upload_profiles(records)).ok


def campaign(segment: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "VIP offer",
        "target_mode": "email",
        "segment": segment,
        "content": {"subject": "For you", "body": "<p>Hi</p>", "sender_name": "Shop"},
        "when": "now",
        **extra,
    }


async def raw(sandbox: Sandbox, path: str, body: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb", headers=AUTH) as http:
        return await http.post(path, json=body)


async def test_a_second_create_with_the_same_id_answers_with_the_first_segment(
    client: CleverTap, sandbox: Sandbox
) -> None:
    first = await client.create_segment("VIP", "shop/vip")
    again = await client.create_segment("VIP renamed", "shop/vip")
    other = await client.create_segment("Lapsed", "shop/lapsed")

    assert again.ct_id == first.ct_id != other.ct_id
    assert [(s["customer_segment_id"], s["segment_name"]) for s in sandbox.segments()] == [
        ("shop/vip", "VIP"),
        ("shop/lapsed", "Lapsed"),
    ]


async def test_members_are_added_and_removed_and_unknown_profiles_reported(
    client: CleverTap, sandbox: Sandbox
) -> None:
    await people(client, 5)
    segment = await client.create_segment("VIP", "shop/vip")

    added = await client.update_segment("shop/vip", add=["u-0", "u-1", "u-2", "ghost"])
    assert added.processed == 3
    assert [u["identity"] for u in added.unprocessed] == ["ghost"]
    again = await client.update_segment("shop/vip", add=["u-1"], remove=["u-0"])
    assert again.processed == 2
    assert not again.unprocessed
    assert sandbox.segment_members(segment.ct_id) == {"u-1", "u-2"}

    guid = sandbox.profile("u-3")
    assert guid is not None
    await client.update_segment("shop/vip", add=[guid["objectId"]], key="guid")
    assert sandbox.segment_members(segment.ct_id) == {"u-1", "u-2", "u-3"}


async def test_a_segment_is_named_by_either_id_and_must_exist(
    local: CleverTap, sandbox: Sandbox
) -> None:
    await people(local, 2)
    segment = await local.create_segment("VIP", "shop/vip")
    by_ct = {"ct_segment_id": segment.ct_id, "action": "ADD"}
    body = {"bulk_profiles": [{"user_profiles": [{"identity": "u-0"}], "segments": [by_ct]}]}
    answer = await raw(sandbox, "/api/updateSegment", body)
    assert answer.status_code == 200
    assert answer.json()["processed"] == 1
    assert sandbox.segment_members(segment.ct_id) == {"u-0"}

    with pytest.raises(NotFoundError) as missing:
        await local.update_segment("shop/nobody", add=["u-1"])
    assert "Segment not found" in str(missing.value)


async def test_at_most_100_profiles_a_call(local: CleverTap, sandbox: Sandbox) -> None:
    await local.create_segment("VIP", "shop/vip")
    with pytest.raises(InvalidRequest, match="1 to 100"):
        await local.update_segment("shop/vip", add=[f"u-{i}" for i in range(101)])
    ids = [{"identity": f"u-{i}"} for i in range(101)]
    segments = [{"customer_segment_id": "shop/vip", "action": "ADD"}]
    answer = await raw(
        sandbox,
        "/api/updateSegment",
        {"bulk_profiles": [{"user_profiles": ids, "segments": segments}]},
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "fail",
        "error": "Too many profiles: 101 in one request, at most 100",
        "code": 400,
    }


async def test_create_refuses_names_twice_in_one_request(sandbox: Sandbox) -> None:
    body = [
        {"segment_name": "VIP", "customer_segment_id": "a"},
        {"segment_name": "VIP", "customer_segment_id": "b"},
    ]
    answer = await raw(sandbox, "/api/createSegment", body)
    assert answer.status_code == 400
    assert "unique" in answer.json()["error"]
    assert sandbox.segments() == []


async def test_a_campaign_on_a_segment_reaches_its_members_only(
    client: CleverTap, sandbox: Sandbox
) -> None:
    await people(client, 10)
    segment = await client.create_segment("VIP", "shop/vip")
    await client.update_segment("shop/vip", add=["u-1", "u-4", "u-7"])

    estimate = await client.estimate_campaign(campaign(segment.ct_id))
    assert estimate.total == 3
    created = await client.create_campaign(campaign(segment.ct_id))
    assert created.estimates.total == 3

    with pytest.raises(ValidationError, match="Invalid segment"):
        await client.estimate_campaign(campaign(999))
