"""`/1/upload`: per-record codes with 1-based record numbers, limits, upserts and appends (§2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ctflow.sandbox import Sandbox


def event(identity: str = "u1", name: str = "Product Viewed", **extra: Any) -> dict[str, Any]:
    return {"type": "event", "identity": identity, "evtName": name, **extra}


def profile(identity: str = "u1", **data: Any) -> dict[str, Any]:
    return {"type": "profile", "identity": identity, "profileData": data}


async def upload(client: httpx.AsyncClient, *records: Any, path: str = "/1/upload") -> Any:
    response = await client.post(path, json={"d": list(records)})
    assert response.status_code == 200, response.text
    return response.json()


async def test_all_valid_records_succeed(sb: Sandbox, client: httpx.AsyncClient) -> None:
    reply = await upload(client, profile(Name="Ann", Email="ann@example.com"), event())
    assert reply == {"status": "success", "processed": 2, "unprocessed": []}
    assert sb.profile("u1") is not None
    assert [e["name"] for e in sb.events()] == ["Product Viewed"]


async def test_partial_upload_names_the_bad_record_by_its_1_based_number(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    bad = profile("u2", Gender="Male")
    reply = await upload(client, profile("u1", Gender="F"), bad, event("u3"))
    assert reply["status"] == "partial"
    assert reply["processed"] == 2
    assert reply["unprocessed"] == [
        {
            "status": "fail",
            "code": 514,
            "error": "Profile data is incorrect. Gender needs to be M/F.Skipped record number : 2",
            "record": bad,
        }
    ]
    assert sb.profile("u2") is None


async def test_all_invalid_is_fail_with_http_200(client: httpx.AsyncClient) -> None:
    reply = await upload(client, {"type": "event", "evtName": "X"})
    assert reply["status"] == "fail"
    assert reply["processed"] == 0
    assert reply["unprocessed"][0]["code"] == 523
    assert reply["unprocessed"][0]["error"] == (
        "'identity' or 'fbId' or 'gpId' or 'objectId' is necessary under 120 chars "
        "to identify the user. Skipped record number : 1"
    )


async def test_an_event_key_is_measured_in_characters_and_a_profile_key_in_bytes(
    client: httpx.AsyncClient,
) -> None:
    """§1.5: "120 chars" for an event's keys, "120 bytes" for a profile's."""
    key = "é" * 61  # 61 characters, 122 bytes
    reply = await upload(client, event(evtData={key: 1}), profile(**{key: 1}))
    assert [f["code"] for f in reply["unprocessed"]] == [512]
    assert reply["unprocessed"][0]["record"]["type"] == "profile"


async def test_properties_per_event_follow_the_accounts_setting(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    """100 by default (the 2026 page); an account set to 256 (the older page) takes more."""
    hundred, more = event(evtData={f"p{i}": i for i in range(100)}), event(evtData={"p": 1})
    more["evtData"] = {f"p{i}": i for i in range(256)}
    reply = await upload(client, hundred, more)
    assert [(f["code"], f["error"]) for f in reply["unprocessed"]] == [
        (522, "Event properties limit exceeded: 256 > 100. Skipped record number : 2")
    ]
    sb.config.event_properties = 256
    assert (await upload(client, more))["status"] == "success"


@pytest.mark.parametrize(
    ("record", "code", "error"),
    [
        (event(name=""), 509, "Event name is mandatory. "),
        (event(name="App Launched"), 513, "Raised a restricted system event : App Launched. "),
        (event(name="Notification Viewed"), 513, None),
        (event(evtData={f"p{i}": i for i in range(101)}), 522, None),
        (event(evtData={"k" * 121: 1}), 512, None),
        (profile(**{"é" * 61: 1}), 512, f"Profile property key exceeds 120 bytes: {'é' * 40}. "),
        (event(evtData={"long": "x" * 513}), 512, None),
        (event(evtData="nope"), 512, None),
        (profile(Email="not-an-email"), 515, "Profile data is incorrect. Email is not valid."),
        (
            profile(Phone="98200 12345"),
            516,
            "Profile data is incorrect. Phone number is not valid.",
        ),
        (profile(Employed="yes"), 517, "Profile data is incorrect. Employed needs to be Y/N."),
        (
            profile(Education="PhD"),
            518,
            "Profile data is incorrect. Education needs to be School/College/Graduate..",
        ),
        (profile(Married="maybe"), 519, "Profile data is incorrect. Married needs to be Y/N."),
        (profile(Age=-3), 520, "Profile data is incorrect. Age is invalid."),
        ({"type": "event", "identity": "x" * 120, "evtName": "A"}, 523, None),
        ({"type": "event", "identity": "a", "objectId": "b", "evtName": "A"}, 523, None),
        ({"type": "page", "identity": "a"}, 524, None),
        (event(ts=0), 525, "Timestamp should be present in the Unix Epoch format. "),
        (event(ts=1_700_000_000_000), 525, None),
        (event(ts="1700000000"), 525, None),
        ({"type": "event", "objectId": "bad id!", "evtName": "A"}, 526, None),
        (
            {"type": "token", "objectId": "nobody", "tokenData": {"id": "t", "type": "fcm"}},
            530,
            None,
        ),
        ({"type": "token", "objectId": "g1", "tokenData": "t"}, 531, None),
        ({"type": "token", "objectId": "g1", "tokenData": {"type": "fcm"}}, 532, None),
        ({"type": "token", "objectId": "g1", "tokenData": {"id": "t"}}, 533, None),
        ({"type": "token", "objectId": "g1", "tokenData": {"id": "t", "type": "sms"}}, 534, None),
        (
            {"type": "token", "objectId": "g1", "tokenData": {"id": "t", "type": "chrome"}},
            535,
            None,
        ),
    ],
)
async def test_record_codes(
    client: httpx.AsyncClient, record: dict[str, Any], code: int, error: str | None
) -> None:
    await upload(client, {"type": "profile", "objectId": "g1", "profileData": {}})
    reply = await upload(client, event("ok"), record)
    assert reply["status"] == "partial"
    [failure] = reply["unprocessed"]
    assert failure["code"] == code
    assert failure["error"].endswith("Skipped record number : 2")
    if error is not None:
        assert failure["error"] == f"{error}Skipped record number : 2"


async def test_discarded_events_get_528(sb: Sandbox, client: httpx.AsyncClient) -> None:
    sb.config.discarded_events.add("Old Event")
    reply = await upload(client, event(name="Old Event"))
    assert reply["unprocessed"][0]["code"] == 528


@pytest.mark.parametrize(("size", "tokens"), [(0, 0), (1001, 0), (101, 101)])
async def test_call_level_limits_reject_the_whole_call(
    sb: Sandbox, client: httpx.AsyncClient, size: int, tokens: int
) -> None:
    await upload(client, {"type": "profile", "objectId": "g1", "profileData": {}})
    token = {"type": "token", "objectId": "g1", "tokenData": {"id": "t", "type": "fcm"}}
    records = [token] * tokens + [event(f"u{i}") for i in range(size - tokens)]
    response = await client.post("/1/upload", json={"d": records})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "fail"
    assert body["code"] == 400
    assert ("1000" if tokens == 0 else "100") in body["error"]
    assert sb.counts()["events"] == 0


async def test_1000_records_and_100_tokens_are_accepted(client: httpx.AsyncClient) -> None:
    reply = await upload(client, *[event(f"u{i}") for i in range(1000)])
    assert reply["processed"] == 1000
    await upload(client, {"type": "profile", "objectId": "g1", "profileData": {}})
    tokens = [
        {"type": "token", "objectId": "g1", "tokenData": {"id": f"t{i}", "type": "fcm"}}
        for i in range(100)
    ]
    assert (await upload(client, *tokens))["processed"] == 100


async def test_profiles_upsert_but_events_append(sb: Sandbox, client: httpx.AsyncClient) -> None:
    await upload(client, profile(Name="Ann", City="Pune"), event(ts=1_790_000_000))
    await upload(client, profile(City="Goa"), event(ts=1_790_000_000))
    assert sb.counts()["profiles"] == 1
    stored = sb.profile("u1")
    assert stored is not None
    assert stored["profileData"] == {"Name": "Ann", "City": "Goa"}
    assert len(sb.events("Product Viewed")) == 2  # §2.3: no de-duplication


async def test_event_for_unknown_identity_creates_the_profile(
    sb: Sandbox, client: httpx.AsyncClient
) -> None:
    await upload(client, event("new-user", evtData={"Price": 10}))
    assert sb.profile("new-user") is not None
    assert sb.events()[0]["props"] == {"Price": 10}


async def test_profile_value_operators(sb: Sandbox, client: httpx.AsyncClient) -> None:
    await upload(client, profile(Score=5, Tags=["a"], Gone="x", When="$D_1790000000"))
    await upload(
        client,
        profile(
            Score={"$incr": 3},
            Tags={"$add": ["b", "c"]},
            Gone={"$delete": True},
            Visits={"$decr": 1},
        ),
    )
    await upload(client, profile(Tags={"$remove": ["a"]}))
    stored = sb.profile("u1")
    assert stored is not None
    assert stored["profileData"] == {
        "Score": 8,
        "Tags": ["b", "c"],
        "When": "$D_1790000000",
        "Visits": -1,
    }


async def test_tokens_land_on_platform_info(sb: Sandbox, client: httpx.AsyncClient) -> None:
    await upload(client, {"type": "profile", "objectId": "g1", "profileData": {"Name": "T"}})
    token = {"type": "token", "objectId": "g1", "tokenData": {"id": "tok", "type": "apns"}}
    assert (await upload(client, token))["status"] == "success"
    response = await client.get("/1/profile.json", params={"objectId": "g1"})
    platform = response.json()["record"]["platformInfo"]
    assert platform == [
        {"platform": "iOS", "push_token": "tok", "token_type": "apns", "objectId": "g1"}
    ]


async def test_dry_run_validates_without_persisting(sb: Sandbox, client: httpx.AsyncClient) -> None:
    reply = await upload(client, event(), profile("u2", Gender="X"), path="/1/upload?dryRun=1")
    assert reply["processed"] == 1
    assert reply["unprocessed"][0]["code"] == 514
    assert sb.counts() == {"profiles": 0, "events": 0, "campaigns": 0, "sends": 0}


async def test_missing_d_is_malformed(client: httpx.AsyncClient) -> None:
    response = await client.post("/1/upload", json={"records": []})
    assert response.status_code == 400
    assert response.json()["error"] == "Malformed request"
