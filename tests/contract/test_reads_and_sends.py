"""Read endpoints, sends and faults through the client: exports, counts, profile, schema."""

from __future__ import annotations

from typing import Any

import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTap,
    Credentials,
    ServerError,
)
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, Sandbox
from tests.contract.support import CREDS, FAST_RETRY, NOW

TODAY = int(NOW.strftime("%Y%m%d"))
TS = int(NOW.timestamp()) - 3600


async def views(client: CleverTap, n: int) -> None:
    records = [
        {
            "type": "event",
            "identity": f"v-{i % 7}",
            "ts": TS + i,
            "evtName": "Product Viewed",
            "evtData": {"Category": "shoes" if i % 2 else "bags", "Price": i},
        }
        for i in range(n)
    ]
    for start in range(0, n, 1000):
        assert (await client.upload(records[start : start + 1000])).ok


async def test_events_export_follows_cursors_to_the_end(client: CleverTap) -> None:
    await views(client, 53)
    query = {"event_name": "Product Viewed", "from": TODAY, "to": TODAY}
    records = [r async for r in client.export_events(query, batch_size=10)]
    assert len(records) == 53
    assert sorted(r["event_props"]["Price"] for r in records) == list(range(53))


async def test_profiles_export_pages_every_profile(client: CleverTap) -> None:
    await views(client, 20)
    query = {"event_name": "Product Viewed", "from": TODAY, "to": TODAY}
    identities = [r["identity"] async for r in client.export_profiles(query, batch_size=3)]
    assert sorted(identities) == [f"v-{i}" for i in range(7)]


async def test_counts_poll_through_partial_answers(local: CleverTap, sandbox: Sandbox) -> None:
    sandbox.config.count_polls = 3
    await views(local, 40)
    query: dict[str, Any] = {"event_name": "Product Viewed", "from": TODAY, "to": TODAY}
    assert await local.count_events(query, poll_interval=0.0) == 40
    assert await local.count_profiles(query, poll_interval=0.0) == 7
    filtered = {
        **query,
        "event_properties": [{"name": "Category", "operator": "equals", "value": "shoes"}],
    }
    assert await local.count_events(filtered, poll_interval=0.0) == 20


async def test_single_profile_and_schema(client: CleverTap) -> None:
    await views(client, 3)
    await client.upload(
        [
            {
                "type": "profile",
                "identity": "v-1",
                "ts": TS,
                "profileData": {"Name": "Vera", "Email": "vera@example.com"},
            }
        ]
    )
    found = await client.get_profile(identity="v-1")
    assert found is not None
    assert found.profile_data["Name"] == "Vera"
    assert await client.get_profile(identity="nobody") is None
    schema = await client.get_schema()
    assert "Product Viewed" in schema.event_names()


async def test_sends_and_external_triggers_are_queued_and_recorded(
    client: CleverTap, sandbox: Sandbox
) -> None:
    ack = await client.send(
        "email",
        {"Identity": ["v-1", "v-2"]},
        {"subject": "Your order", "body": "<p>Shipped</p>", "sender_name": "Shop"},
    )
    assert ack.message == "Added to queue for processing"
    trig = await client.external_trigger(1695721550, {"identity": ["v-1"]}, {"Order": "A-17"})
    assert trig.message == "Added to queue for processing"
    assert [s["endpoint"] for s in sandbox.sends()] == [
        "/1/send/email.json",
        "/1/send/externaltrigger.json",
    ]


async def test_lost_send_response_is_ambiguous_and_not_repeated(
    client: CleverTap, sandbox: Sandbox
) -> None:
    sandbox.faults.drop_next = 1
    with pytest.raises(AmbiguousOutcomeError):
        await client.send("sms", {"Identity": ["v-1"]}, {"body": "Your OTP is 123456"})
    assert len(sandbox.sends()) == 1


async def test_now_reports_active_users(client: CleverTap) -> None:
    await client.upload(
        [
            {
                "type": "event",
                "identity": "active-1",
                "ts": int(NOW.timestamp()),
                "evtName": "Product Viewed",
                "evtData": {},
            }
        ]
    )
    assert (await client.now()).count >= 1


async def test_injected_429s_and_503s_are_retried_to_success(
    local: CleverTap, sandbox: Sandbox
) -> None:
    sandbox.faults.seed = 7
    sandbox.faults.rate_429 = 0.3
    await views(local, 10)
    assert len(sandbox.events()) == 10


async def test_server_errors_are_reported_after_retries(sandbox: Sandbox) -> None:
    sandbox.faults.rate_5xx = 1.0
    # Faults come after authentication: bad credentials are still told apart.
    async with CleverTap.in_process(
        sandbox.app, Credentials(DEFAULT_ACCOUNT_ID, "x"), retry=FAST_RETRY
    ) as ct:
        with pytest.raises(AuthError):
            await ct.now()
    sandbox.faults.paths = {"/1/now.json"}
    async with CleverTap.in_process(sandbox.app, CREDS, retry=FAST_RETRY) as ct:
        with pytest.raises(ServerError) as caught:
            await ct.now()
    assert caught.value.exit_code == 5


@pytest.mark.parametrize(
    ("account", "passcode", "message"),
    [
        ("NOT-AN-ACCOUNT", "x", "Account ID is not valid"),
        (DEFAULT_ACCOUNT_ID, "wrong-passcode", "Passcode Invalid"),
    ],
)
async def test_bad_credentials_are_auth_errors_without_the_passcode(
    sandbox: Sandbox, account: str, passcode: str, message: str
) -> None:
    async with CleverTap.in_process(sandbox.app, Credentials(account, passcode)) as ct:
        with pytest.raises(AuthError, match=message) as caught:
            await ct.now()
    assert caught.value.exit_code == 4
    assert passcode not in str(caught.value) + repr(caught.value)
