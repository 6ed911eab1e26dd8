"""Campaign declaration → create body: exact bodies per channel, schedules, the fields around
them, and proof that the sandbox (the API emulator) accepts what we send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Clock, Sandbox, SandboxConfig
from ctflow.spec.audience import check_audience
from ctflow.spec.payload import create_payload
from ctflow.spec.types import parse_properties

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
OURS = ["ctflow", "ctflow:shop"]
EVENTS = {
    "App Launched": {},
    "Product Viewed": parse_properties({"Category": "string", "Price": "number"}),
    "Charged": parse_properties({"Amount": "number", "Payment Mode": "string", "Paid On": "date"}),
}
PROFILE = parse_properties(
    {
        "Customer Type": {"type": "string", "enum": ["Silver", "Gold", "Platinum"]},
        "Age": "integer",
        "Birthday": "date",
    }
)


def campaign(channel: str, content: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "key": f"{channel}-test",
        "name": f"A {channel} campaign",
        "channel": channel,
        "audience": "everyone",
        "content": content,
        "schedule": "now",
        **fields,
    }


def payload(declared: dict[str, Any], **options: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "labels": OURS,
        "today": TODAY,
        "account_timezone": "UTC",
        "events": EVENTS,
        "profile": PROFILE,
        **options,
    }
    return create_payload(declared, **kwargs)


def body(target_mode: str, **fields: Any) -> dict[str, Any]:
    """The expected body of `campaign(...)` with defaults, in ctflow's key order."""
    channel = "app_inbox" if target_mode == "notificationinbox" else target_mode
    head = {"name": f"A {channel} campaign", "target_mode": target_mode, "where": {}}
    tail = {"when": "now", "labels": OURS, "respect_frequency_caps": True}
    return {**head, **fields, **tail}


PUSH_CONTENT = {
    "title": "We miss you, {{ Profile.Name | default: 'friend' }}",
    "body": "Here is 10% off",
    "android": {
        "channel_id": "marketing",
        "deep_link": "shop://home",
        "large_icon": "https://shop.example/i.png",
        "background_image": "https://shop.example/b.png",
        "sound": "ding.mp3",
    },
    "ios": {
        "deep_link": "shop://home",
        "sound": "ding.caf",
        "category": "offers",
        "badge_count": 1,
        "mutable_content": True,
    },
    "custom_data": {"offer": "WINBACK10", "deep_link": "ignored: the platform's own wins"},
}


def test_push_maps_platform_fields_and_adds_custom_data_per_device() -> None:
    assert payload(campaign("push", PUSH_CONTENT)) == body(
        "push",
        content={
            "title": "We miss you, {{ Profile.Name | default: 'friend' }}",
            "body": "Here is 10% off",
            "platform_specific": {
                "android": {
                    "wzrk_cid": "marketing",
                    "deep_link": "shop://home",
                    "large_icon": "https://shop.example/i.png",
                    "background_image": "https://shop.example/b.png",
                    "sound_file": "ding.mp3",
                    "offer": "WINBACK10",
                },
                "ios": {
                    "deep_link": "shop://home",
                    "sound_file": "ding.caf",
                    "category": "offers",
                    "badge_count": 1,
                    "mutable-content": True,
                    "offer": "WINBACK10",
                },
            },
        },
        devices=["android", "ios"],
    )


def test_push_custom_data_reaches_every_device_even_without_platform_fields() -> None:
    content = {"title": "T", "body": "B", "windows": {"deep_link": "w://"}, "custom_data": {"k": 1}}
    declared = campaign("push", content, devices=["windows", "ios", "windows"])
    assert payload(declared)["content"] == {
        "title": "T",
        "body": "B",
        "platform_specific": {"ios": {"k": 1}, "windows": {"deep_link": "w://", "k": 1}},
    }
    assert payload(declared)["devices"] == ["windows", "ios"]


def test_email() -> None:
    content = {
        "subject": "Need a hand?",
        "body": "<p>Hi</p>",
        "sender_name": "Shop",
        "from_email": "hello@shop.example",
        "reply_to": "help@shop.example",
        "pre_header": "We are here",
        "cc": "cc@shop.example",
        "bcc": "bcc@shop.example",
    }
    assert payload(campaign("email", content, provider="ses")) == {
        **body("email", content=content),
        "provider_nick_name": "ses",
    }


def test_sms_with_india_dlt() -> None:
    content = {
        "body": "Your code",
        "sender_id": "SHOPIN",
        "unicode": False,
        "dlt": {"template_id": "T1", "entity_id": "E1", "pe_id": "P1"},
    }
    assert payload(campaign("sms", content)) == body(
        "sms",
        content={
            "body": "Your code",
            "sender_id": "SHOPIN",
            "unicode": False,
            "message_info": {"template_id": "T1", "entity_id": "E1", "pe_id": "P1"},
        },
    )


def test_webpush_fields_apply_to_every_browser() -> None:
    content = {
        "title": "T",
        "body": "B",
        "icon": "https://shop.example/i.png",
        "deep_link": "https://shop.example",
        "require_interaction": True,
        "ttl": 3600,
    }
    browser = {
        "icon": "https://shop.example/i.png",
        "deep_link": "https://shop.example",
        "require_interaction": True,
        "ttl": 3600,
    }
    assert payload(campaign("webpush", content)) == body(
        "webpush",
        content={
            "title": "T",
            "body": "B",
            "platform_specific": {"chrome": browser, "firefox": browser, "safari": browser},
        },
    )
    assert payload(campaign("webpush", {"title": "T", "body": "B"}))["content"] == {
        "title": "T",
        "body": "B",
    }


def test_whatsapp_template_and_text() -> None:
    template = {
        "name": "order_update",
        "locale": "en",
        "header": "https://shop.example/h.png",
        "body": ["{{ Profile.Name }}", "A-1001"],
        "buttons": ["track/A-1001", "help"],
    }
    assert payload(campaign("whatsapp", {"template": template})) == body(
        "whatsapp",
        content={
            "message_type": "template",
            "template_name": "order_update",
            "locale": "en",
            "header": "https://shop.example/h.png",
            "body": {"replacements": ["{{ Profile.Name }}", "A-1001"]},
            "buttons": [{"replacements": ["track/A-1001"]}, {"replacements": ["help"]}],
        },
    )
    assert payload(campaign("whatsapp", {"text": "Hello"}))["content"] == {
        "message_type": "Freeform",
        "body": "Hello",
    }


def test_webhook_fields_are_top_level() -> None:
    content = {"endpoint": "crm-sync", "key_values": {"source": "ctflow"}}
    assert payload(campaign("webhook", content)) == body(
        "webhook", webhook_endpoint_name="crm-sync", webhook_key_value={"source": "ctflow"}
    )


def test_app_inbox() -> None:
    content = {
        "title": "T",
        "body": "B",
        "image": "https://shop.example/i.png",
        "deep_link": "shop://inbox",
        "tags": ["offers"],
        "ttl_days": 7,
    }
    assert payload(campaign("app_inbox", content)) == body(
        "notificationinbox",
        content={
            "title": "T",
            "body": "B",
            "image": "https://shop.example/i.png",
            "deep_link": "shop://inbox",
            "tags": ["offers"],
        },
        time_to_live=7,
    )


EMAIL = {"subject": "S", "body": "<p>B</p>", "sender_name": "Shop"}


def test_every_optional_field_in_order() -> None:
    declared = campaign(
        "email",
        EMAIL,
        labels=["retention", "ctflow", "retention"],
        audience={"did": [{"event": "App Launched", "in_last": "7d"}]},
        respect_frequency_caps=False,
        respect_throttle=True,
        user_limit={"overall": 5000, "per_run": 1000},
        control_group={"custom": "holdout"},
        system_control_group=True,
        conversion_goal={
            "event": "Charged",
            "within": "3D",
            "revenue_property": "Amount",
            "where": {"Payment Mode": "UPI", "Amount": {"greater_than": 100}},
        },
        provider="ses",
        api_fields={"dnd": {"message_state": "delay"}, "wzrk_bc": 2},
    )
    result = payload(declared)
    assert result == {
        "name": "A email campaign",
        "target_mode": "email",
        "where": {"event_name": "App Launched", "from": 20261116, "to": 20261122},
        "content": EMAIL,
        "when": "now",
        "labels": ["ctflow", "ctflow:shop", "retention"],
        "respect_frequency_caps": False,
        "respect_throttle": True,
        "users_limit_overall": 5000,
        "users_limit_per_run": 1000,
        "control_group": {"type": "custom", "name": "holdout"},
        "system_control_group_include": True,
        "conversion_goal": {
            "event_name": "Charged",
            "conversion_time": "3D",
            "revenue_property": "Amount",
            "filter_type": {
                "event_properties": [
                    {"name": "Amount", "operator": "greater_than", "value": 100},
                    {"name": "Payment Mode", "operator": "equals", "value": "UPI"},
                ]
            },
        },
        "provider_nick_name": "ses",
        "dnd": {"message_state": "delay"},
        "wzrk_bc": 2,
    }
    assert list(result) == list(payload(declared))  # same key order every time: it is hashed


def test_percentage_control_group() -> None:
    declared = campaign("email", EMAIL, control_group={"percentage": 10})
    assert payload(declared)["control_group"] == {"type": "campaign", "percentage": 10}


def test_api_fields_may_not_repeat_a_field_ctflow_sets() -> None:
    with pytest.raises(AssertionError, match=r"api_fields repeat fields ctflow sets: \['when'\]"):
        payload(campaign("email", EMAIL, api_fields={"when": "now"}))


@pytest.mark.parametrize(
    ("schedule", "account", "when"),
    [
        ("now", "UTC", "now"),
        ({"at": "2026-12-01 10:00", "timezone": "Asia/Kolkata"}, "UTC", "20261201 04:30"),
        ({"at": "2026-12-01T10:00", "timezone": "Asia/Kolkata"}, "Asia/Kolkata", "20261201 10:00"),
        ({"at": "2026-12-01 01:00", "timezone": "Asia/Kolkata"}, "UTC", "20261130 19:30"),
        ({"at": "2026-12-01 10:00"}, "Europe/Berlin", "20261201 10:00"),  # account's own zone
        ({"at": "2027-03-28 12:00", "timezone": "UTC"}, "Europe/Berlin", "20270328 14:00"),  # DST
    ],
)
def test_one_time_schedules_are_sent_in_the_account_timezone(
    schedule: Any, account: str, when: str
) -> None:
    declared = campaign("email", EMAIL, schedule=schedule)
    assert payload(declared, account_timezone=account)["when"] == when


@pytest.mark.parametrize(
    ("schedule", "when"),
    [
        (
            {"repeat": "daily", "at": "10:00", "start": "2026-12-01"},
            {
                "type": "recurring",
                "repeat_type": "day",
                "repeats_every": 1,
                "start_time": "20261201 10:00",
                "delivery_date_time": "20261201 10:00",
            },
        ),
        (
            {"repeat": "daily", "at": "09:00", "start": "2026-11-23", "every": 3, "occurrences": 5},
            {
                "type": "recurring",
                "repeat_type": "day",
                "repeats_every": 3,
                "start_time": "20261123 09:00",
                "delivery_date_time": "20261123 09:00",
                "end_by_occurrences": 5,
            },
        ),
        (
            {
                "repeat": "weekly",
                "at": "10:00",
                "start": "2026-12-01",
                "end": "2026-12-31",
                "on": ["sat", "sun", "wed"],
            },
            {
                "type": "recurring",
                "repeat_type": "week",
                "repeats_every": 1,
                "start_time": "20261201 10:00",
                "delivery_date_time": "20261201 10:00",
                "end_by_date": 20261231,
                "repeat_on_days_of_week": [1, 4, 7],
            },
        ),
        (
            # 01:00 in Kolkata is 19:30 UTC the day before: Monday and Saturday runs become
            # Sunday and Friday runs in the account's timezone.
            {
                "repeat": "weekly",
                "at": "01:00",
                "start": "2026-12-01",
                "end": "2026-12-31",
                "on": ["mon", "sat"],
                "every": 2,
                "timezone": "Asia/Kolkata",
            },
            {
                "type": "recurring",
                "repeat_type": "week",
                "repeats_every": 2,
                "start_time": "20261130 19:30",
                "delivery_date_time": "20261130 19:30",
                "end_by_date": 20261230,
                "repeat_on_days_of_week": [1, 6],
            },
        ),
    ],
)
def test_recurring_schedules(schedule: dict[str, Any], when: dict[str, Any]) -> None:
    assert payload(campaign("email", EMAIL, schedule=schedule))["when"] == when


def test_symbolic_payload_does_not_change_with_the_day() -> None:
    declared = campaign(
        "email",
        EMAIL,
        audience={"did": [{"event": "App Launched", "in_last": "30d"}]},
        schedule={"repeat": "daily", "at": "09:00", "start": "2026-12-01"},
    )
    first = payload(declared, symbolic=True)
    assert first == payload(declared, symbolic=True, today=date(2027, 1, 5))
    assert first["where"] == {"event_name": "App Launched", "in_last_days": 30}
    assert payload(declared)["where"]["to"] == 20261122
    assert payload(declared, today=date(2027, 1, 5))["where"]["to"] == 20270105


# -- the sandbox accepts what we send --------------------------------------------------------
@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(":memory:", config=SandboxConfig(create_per_second=0), clock=Clock(NOW))
    sb.seed(profiles=300, seed=7)
    yield sb
    sb.close()


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    headers = {
        "X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID,
        "X-CleverTap-Passcode": DEFAULT_PASSCODE,
    }
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=headers
    ) as client:
        yield client


async def estimate(api: httpx.AsyncClient, declared: dict[str, Any]) -> dict[str, int]:
    assert check_audience(declared["audience"], EVENTS, PROFILE, today=TODAY) == []
    sent = {**payload(declared), "estimate_only": True}
    response = await api.post("/1/targets/create.json", json=sent)
    reply = response.json()
    assert (response.status_code, reply["status"]) == (200, "success"), reply
    estimates: dict[str, int] = reply["estimates"]
    return estimates


CHANNELS = {
    "push": PUSH_CONTENT,
    "email": EMAIL,
    "sms": {"body": "B", "dlt": {"template_id": "T1", "entity_id": "E1", "pe_id": "P1"}},
    "webpush": {"title": "T", "body": "B", "icon": "https://shop.example/i.png", "ttl": 60},
    "whatsapp": {"template": {"name": "order_update", "locale": "en", "body": ["x"]}},
    "webhook": {"endpoint": "crm-sync", "key_values": {"a": "b"}},
    "app_inbox": {"title": "T", "body": "B", "ttl_days": 7},
}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
async def test_the_sandbox_accepts_every_channel(api: httpx.AsyncClient, channel: str) -> None:
    await estimate(api, campaign(channel, CHANNELS[channel]))


async def test_the_sandbox_accepts_every_optional_field(api: httpx.AsyncClient) -> None:
    declared = campaign(
        "email",
        EMAIL,
        respect_throttle=True,
        user_limit={"overall": 5000, "per_run": 1000},
        control_group={"percentage": 10},
        system_control_group=True,
        conversion_goal={
            "event": "Charged",
            "within": "1D",
            "where": {"Amount": {"between": [1, 9]}},
        },
        provider="ses",
    )
    await estimate(api, declared)


@pytest.mark.parametrize(
    "schedule",
    [
        {"at": "2026-12-01 10:00", "timezone": "Asia/Kolkata"},
        {"repeat": "daily", "at": "10:00", "start": "2026-12-01", "occurrences": 10},
        {
            "repeat": "weekly",
            "at": "01:00",
            "start": "2026-11-23",
            "on": ["mon"],
            "timezone": "Asia/Kolkata",
        },
    ],
)
async def test_the_sandbox_accepts_scheduled_and_recurring(
    api: httpx.AsyncClient, schedule: dict[str, Any]
) -> None:
    await estimate(api, campaign("email", EMAIL, schedule=schedule))


async def test_audience_filters_select_the_seeded_users_they_describe(
    api: httpx.AsyncClient,
) -> None:
    everyone = (await estimate(api, campaign("email", EMAIL)))["web"]
    tiers = {"profile": {"Customer Type": ["Gold", "Platinum"]}}
    charged = {
        "did": [
            {"event": "Charged", "in_last": "60d", "where": {"Amount": {"between": [1000, 6000]}}}
        ]
    }
    viewers = {
        "did": [
            {"event": "App Launched", "in_last": "90d"},
            {"event": "Product Viewed", "in_last": "60d", "count": {"at_least": 2}},
        ],
        "did_not": [{"event": "Charged", "since": "2026-10-01"}],
        "did_any": [
            {"event": "Added To Cart", "in_last": "60d"},
            {
                "event": "Product Viewed",
                "in_last": "60d",
                "where": {"Price": {"greater_than": 999}},
            },
        ],
        "reachable_by": ["email"],
    }
    declared_events = {**EVENTS, "Added To Cart": {}}
    for audience in (tiers, charged, viewers):
        declared = campaign("email", EMAIL, audience=audience)
        sent = {
            **create_payload(
                declared,
                labels=OURS,
                today=TODAY,
                account_timezone="UTC",
                events=declared_events,
                profile=PROFILE,
            ),
            "estimate_only": True,
        }
        reply = (await api.post("/1/targets/create.json", json=sent)).json()
        assert reply["status"] == "success", reply
        assert 0 < reply["estimates"]["web"] < everyone, audience


async def test_date_filters_mean_whole_days(api: httpx.AsyncClient) -> None:
    def person(n: int, birthday: datetime) -> dict[str, Any]:
        return {
            "type": "profile",
            "identity": f"bday-{n}",
            "profileData": {
                "Email": f"b{n}@shop.example",
                "Birthday": f"$D_{int(birthday.timestamp())}",
            },
        }

    people = [
        person(1, datetime(1990, 5, 1, 23, 59, tzinfo=UTC)),
        person(2, datetime(1990, 5, 2, 0, 0, tzinfo=UTC)),
        person(3, datetime(1990, 5, 2, 18, 0, tzinfo=UTC)),
        person(4, datetime(1990, 5, 3, 0, 0, tzinfo=UTC)),
    ]
    uploaded = (await api.post("/1/upload", json={"d": people})).json()
    assert uploaded["status"] == "success", uploaded

    async def reach(birthday: Any) -> int:
        audience = {"profile": {"Birthday": birthday}}
        return (await estimate(api, campaign("email", EMAIL, audience=audience)))["web"]

    assert await reach("1990-05-02") == 2
    assert await reach({"greater_than": "1990-05-01"}) == 3
    assert await reach({"less_than": "1990-05-02"}) == 1
    assert await reach({"between": ["1990-05-01", "1990-05-02"]}) == 3
    assert await reach({"greater_than": "1990-05-02 12:00"}) == 2
