"""The sandbox against CleverTap's own samples (clevertap-api.md), through the real client, in
process and over loopback HTTP: user ids, real-time counts, profile operators."""

from __future__ import annotations

import httpx
import pytest

from ctflow.clevertap import CleverTap
from ctflow.sandbox import Sandbox
from tests.contract.support import CHROME_KEYS, CREDS, LoopbackServer, active_people

TS = 1_763_600_000
# CleverTap's device-token sample (sample_token_payload_all.json): one objectId of each form.
SAMPLE_GUIDS = (
    "QBOpVJZmKilRAzfaiVS86Tovxm75lHxg",
    "__gc4grg4053N1eYkW6OBH71jhFev7b1iP",
    "__QlXHaDHBZxZPLEMpPo6VvwdZ7FnbGvWA",
    "-HwB9gZWb3RcKhXCQ222FhAhkjeYQs0Hj",
    "~9XrS4Dy6GsnDbdX98Ijs63kEtJDQbhJA",
    "~y9MqjkDGRfbzwwH8fZI6LIXgTKaEPxHr",
)
TOKEN_TYPES = ("chrome", "fcm", "gcm", "apns", "wns", "mpns")


async def test_the_objectids_of_clevertaps_token_sample_are_accepted(
    client: CleverTap, sandbox: Sandbox
) -> None:
    profiles = [
        {"type": "profile", "objectId": guid, "ts": TS, "profileData": {"Name": f"P{n}"}}
        for n, guid in enumerate(SAMPLE_GUIDS)
    ]
    assert (await client.upload(profiles)).unprocessed == ()
    tokens = [
        {
            "objectId": guid,
            "tokenData": {
                "id": f"token-{n}",
                "type": kind,
                **({"keys": CHROME_KEYS} if kind == "chrome" else {}),
            },
        }
        for n, (guid, kind) in enumerate(zip(SAMPLE_GUIDS, TOKEN_TYPES, strict=True))
    ]
    assert (await client.upload_tokens(tokens)).unprocessed == ()
    events = [
        {"type": "event", "objectId": guid, "ts": TS, "evtName": "Opened", "evtData": {}}
        for guid in SAMPLE_GUIDS
    ]
    assert (await client.upload(events)).unprocessed == ()
    found = await client.get_profile(object_id="~9XrS4Dy6GsnDbdX98Ijs63kEtJDQbhJA")
    assert found is not None
    assert found.profile_data == {"Name": "P4"}
    assert [p["push_token"] for p in found.platform_info] == ["token-4"]
    assert len(sandbox.events("Opened")) == len(SAMPLE_GUIDS)


@pytest.mark.parametrize(
    "object_id",
    ["bad id", "tab\tid", "slash/id", "quote'id", "näive", "#hash", "x" * 120],
)
async def test_objectids_with_characters_clevertap_never_uses_are_still_526(
    local: CleverTap, object_id: str
) -> None:
    record = {"type": "event", "objectId": object_id, "ts": TS, "evtName": "Opened"}
    result = await local.upload([record])
    assert [u.code for u in result.unprocessed] == [523 if len(object_id) >= 120 else 526]


async def test_remove_from_a_property_the_profile_lacks_changes_nothing(
    client: CleverTap, sandbox: Sandbox
) -> None:
    def change(data: dict[str, object]) -> dict[str, object]:
        return {"type": "profile", "identity": "ana", "ts": TS, "profileData": data}

    await client.upload([change({"Name": "Ana", "Tags": ["a", "b"]})])
    result = await client.upload(
        [change({"Colours": {"$remove": ["red"]}, "Tags": {"$remove": ["a"]}})]
    )
    assert result.unprocessed == ()
    stored = sandbox.profile("ana")
    assert stored is not None
    assert stored["profileData"] == {"Name": "Ana", "Tags": ["b"]}, "no empty Colours list"


NOW_FLAGS = {f: True for f in ("user_type", "session_source", "browser", "os", "device", "new")}
OS_WORDS = {"others", "android", "ios", "windows", "mac", "linux"}
SOURCE_WORDS = {"direct", "others", "search", "social", "email", "unavailable"}
BROWSER_WORDS = {"others", "firefox", "chrome", "ie", "mobileapp"}


@pytest.mark.loopback
def test_now_answers_in_the_vocabulary_and_nesting_of_clevertaps_sample(
    served: LoopbackServer, sandbox: Sandbox
) -> None:
    """sample_now_response_full.json: lower-case words, every word present, and ``new`` holding
    the new users' session_source, browser, os and device."""
    now = int(sandbox.clock.timestamp())
    headers = {"X-CleverTap-Account-Id": CREDS.account_id, "X-CleverTap-Passcode": CREDS.passcode}
    with httpx.Client(base_url=served.base_url, headers=headers) as http:
        for records in active_people(now):
            assert http.post("/1/upload", json={"d": records}).json()["status"] == "success"
        reply = http.post("/1/now.json", json=NOW_FLAGS).json()
    assert reply["status"] == "success"
    assert (reply["count"], reply["last_processed_ts"]) == (3, now)
    assert reply["user_type"] == {"new": 2, "repeat": 1, "addressable": 3, "customer": 0}
    assert reply["device"] == {"desktop": 1, "mobile": 2, "tablet": 0}
    assert reply["os"] == dict.fromkeys(OS_WORDS, 0) | {"android": 1, "ios": 1, "others": 1}
    assert reply["browser"] == dict.fromkeys(BROWSER_WORDS, 0) | {"mobileapp": 2, "chrome": 1}
    assert reply["session_source"] == dict.fromkeys(SOURCE_WORDS, 0) | {"unavailable": 3}
    new = reply["new"]
    assert set(new) == {"session_source", "browser", "os", "device"}
    assert new["device"] == {"desktop": 1, "mobile": 1, "tablet": 0}
    assert new["os"] == dict.fromkeys(OS_WORDS, 0) | {"ios": 1, "others": 1}
    assert new["browser"] == dict.fromkeys(BROWSER_WORDS, 0) | {"mobileapp": 1, "chrome": 1}
    only_device = httpx.post(
        f"{served.base_url}/1/now.json", json={"device": True}, headers=headers
    ).json()
    assert set(only_device) == {"status", "count", "last_processed_ts", "device"}


async def test_the_client_reads_the_nested_new_breakdowns(
    client: CleverTap, sandbox: Sandbox
) -> None:
    for records in active_people(int(sandbox.clock.timestamp())):
        assert (await client.upload(records)).ok
    counts = await client.now(**NOW_FLAGS)
    assert counts.count == 3
    assert counts.breakdowns["device"] == {"desktop": 1, "mobile": 2, "tablet": 0}
    assert "new" not in counts.breakdowns
    assert counts.new_users["device"] == {"desktop": 1, "mobile": 1, "tablet": 0}
    assert counts.new_users["os"]["ios"] == 1
