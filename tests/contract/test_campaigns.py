"""Campaign lifecycle through the client: estimate, create, list, stop, report, ceilings."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    CampaignNotCompleted,
    CleverTap,
    RetryPolicy,
    ValidationError,
)
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, NOW

TODAY = NOW.date()


def email_campaign(name: str = "Winback", when: str = "now", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "target_mode": "email",
        "where": {
            "event_name": "Charged",
            "from": int((TODAY - timedelta(days=30)).strftime("%Y%m%d")),
            "to": int(TODAY.strftime("%Y%m%d")),
        },
        "content": {"subject": "We miss you", "body": "<p>Come back</p>", "sender_name": "Shop"},
        "when": when,
        **extra,
    }


async def buyers(client: CleverTap, n: int, start: int = 0) -> None:
    ts = int(NOW.timestamp()) - 86400
    records: list[dict[str, Any]] = []
    for i in range(start, start + n):
        records.append(
            {
                "type": "profile",
                "identity": f"b-{i}",
                "ts": ts,
                "profileData": {"Email": f"b{i}@example.com"},
            }
        )
        records.append(
            {
                "type": "event",
                "identity": f"b-{i}",
                "ts": ts,
                "evtName": "Charged",
                "evtData": {"Amount": 10 + i},
            }
        )
    assert (await client.upload(records)).ok


async def test_estimate_counts_matching_profiles_and_creates_nothing(
    client: CleverTap, sandbox: Sandbox
) -> None:
    await buyers(client, 5)
    first = await client.estimate_campaign(email_campaign())
    await buyers(client, 3, start=5)
    second = await client.estimate_campaign(email_campaign())
    assert second.total - first.total == 3
    assert sandbox.campaigns() == []


async def test_create_list_stop_round_trip(client: CleverTap, sandbox: Sandbox) -> None:
    later = (NOW + timedelta(days=2)).strftime("%Y%m%d %H:%M")
    created = await client.create_campaign(
        email_campaign("Winback [ctflow:shop/winback@ab12cd34]", when=later)
    )
    assert created.id > 1_000_000_000
    listed = await client.list_campaigns(TODAY, TODAY + timedelta(days=3))
    assert [(c.id, c.name, c.status) for c in listed] == [
        (created.id, "Winback [ctflow:shop/winback@ab12cd34]", "pending")
    ]
    assert listed[0].scheduled_on is not None
    assert listed[0].scheduled_on.date() == TODAY + timedelta(days=2)
    await client.stop_campaign(created.id)
    await client.stop_campaign(created.id)  # stopping twice is fine
    (after,) = await client.list_campaigns(TODAY, TODAY + timedelta(days=3))
    assert after.status == "stopped"


async def test_list_window_excludes_campaigns_scheduled_outside_it(client: CleverTap) -> None:
    far = (NOW + timedelta(days=40)).strftime("%Y%m%d %H:%M")
    await client.create_campaign(email_campaign("Far away", when=far))
    assert await client.list_campaigns(TODAY, TODAY + timedelta(days=7)) == []


async def test_lifecycle_follows_the_clock_and_report_waits_for_completion(
    local: CleverTap, sandbox: Sandbox
) -> None:
    await buyers(local, 4)
    created = await local.create_campaign(email_campaign())
    (running,) = await local.list_campaigns(TODAY, TODAY)
    assert running.status == "running"
    with pytest.raises(CampaignNotCompleted, match="hasn't been completed"):
        await local.campaign_report(created.id)
    sandbox.clock.advance(seconds=sandbox.config.run_seconds + 1)
    (done,) = await local.list_campaigns(TODAY, TODAY)
    assert done.status == "completed"
    report = await local.campaign_report(created.id)
    assert report.metrics["sent"] == 4


async def test_invalid_campaign_carries_clevertaps_message(client: CleverTap) -> None:
    bad = email_campaign()
    del bad["content"]["subject"]
    with pytest.raises(ValidationError, match=r"Field subject is empty \(inside content\)") as e:
        await client.create_campaign(bad)
    assert e.value.exit_code == 3


async def test_from_after_to_is_refused(client: CleverTap) -> None:
    bad = email_campaign()
    bad["where"]["from"], bad["where"]["to"] = bad["where"]["to"], bad["where"]["from"]
    with pytest.raises(ValidationError, match="from date cannot be after the to date"):
        await client.create_campaign(bad)


async def test_four_concurrent_creates_never_draw_a_429(sandbox: Sandbox) -> None:
    """No retries allowed: a single 429 from the sandbox would fail this test."""
    sandbox.faults.latency_ms = 200
    seen: list[int] = []
    async with CleverTap.in_process(sandbox.app, CREDS, retry=RetryPolicy(attempts=1)) as ct:
        started = time.monotonic()
        created = await asyncio.gather(
            *(ct.create_campaign(email_campaign(f"c{i}")) for i in range(4))
        )
        seen.extend(c.id for c in created)
        elapsed = time.monotonic() - started
    assert len(set(seen)) == 4
    assert len(sandbox.campaigns()) == 4
    assert elapsed >= 0.4, "the fourth create had to wait for a slot"


@pytest.mark.slow
async def test_creates_are_paced_to_three_per_second(sandbox: Sandbox) -> None:
    """Paced by the client, so the sandbox's 3-per-second window never answers 429."""
    async with CleverTap.in_process(sandbox.app, CREDS, retry=RetryPolicy(attempts=1)) as ct:
        started = time.monotonic()
        for i in range(7):
            await ct.create_campaign(email_campaign(f"c{i}"))
        elapsed = time.monotonic() - started
    assert len(sandbox.campaigns()) == 7
    assert elapsed >= 1.0, "seven creates cannot fit in one second at 3 per second"


async def test_lost_create_response_is_ambiguous_and_the_campaign_exists(
    client: CleverTap, sandbox: Sandbox
) -> None:
    sandbox.faults.drop_next = 1
    sandbox.faults.paths = {"/1/targets/create.json"}
    with pytest.raises(AmbiguousOutcomeError) as caught:
        await client.create_campaign(email_campaign("Lost [ctflow:shop/lost@00000000]"))
    assert caught.value.exit_code == 1
    campaigns = sandbox.campaigns()
    assert [c["name"] for c in campaigns] == ["Lost [ctflow:shop/lost@00000000]"], (
        "processed exactly once: the client did not retry"
    )
    listed = await client.list_campaigns(TODAY, TODAY)
    assert [c.name for c in listed] == ["Lost [ctflow:shop/lost@00000000]"]


async def test_message_report_lists_campaigns_with_labels(client: CleverTap) -> None:
    await client.create_campaign(email_campaign("Labelled", labels=["ctflow", "ctflow:shop"]))
    rows = await client.message_report(TODAY, TODAY)
    assert [row.name for row in rows] == ["Labelled"]


async def test_a_date_refused_as_in_the_future_names_the_timezone_ctflow_counted_in(
    sandbox: Sandbox,
) -> None:
    """Near midnight, a project whose timezone is not the account's asks for a day that has
    not begun in the account: the refusal says where ctflow counted, and how to fix it."""
    tomorrow = int((TODAY + timedelta(days=1)).strftime("%Y%m%d"))
    body = email_campaign(where={"event_name": "Charged", "from": tomorrow, "to": tomorrow})
    async with CleverTap.in_process(sandbox.app, CREDS, account_timezone="Asia/Kolkata") as ct:
        with pytest.raises(ValidationError) as refused:
            await ct.create_campaign(body)
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    assert str(refused.value).endswith(
        f"The to date cannot be in the future (HTTP 400); ctflow counted days in Asia/Kolkata, "
        f"where today is {today}: if the account's timezone is another, set ctflow.yaml's "
        "timezone: to the account's"
    )
    async with CleverTap.in_process(sandbox.app, CREDS) as ct:  # no timezone given: no guess
        with pytest.raises(ValidationError) as plain:
            await ct.create_campaign(body)
    assert str(plain.value).endswith("The to date cannot be in the future (HTTP 400)")
