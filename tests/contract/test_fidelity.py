"""The sandbox against CleverTap's own samples (clevertap-api.md), through the real client, in
process and over loopback HTTP: user ids, real-time counts, profile operators."""

from __future__ import annotations

import pytest

from ctflow.clevertap import CleverTap
from ctflow.sandbox import Sandbox

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
CHROME_KEYS = {"p256dh": "BLc4xRzKlKORKWlbdgFaBrrPK3ydWAHo4M0gs0i1oEKg", "auth": "5I2Bu2oKdyy9Cw"}


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
