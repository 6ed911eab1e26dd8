"""Each client method: what goes on the wire, what comes back, what is refused before sending."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from typing import Any

import httpx
import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    CampaignNotCompleted,
    CleverTap,
    InvalidRequest,
    MethodNotAllowedError,
    ResultNotReadyError,
    UnexpectedResponseError,
    ValidationError,
)
from tests.client.ct_helpers import CREDS, FakeClock, Recorder, body_of, make_client, ok

SUCCESS = ok({"status": "success"})
QUEUED = ok({"status": "success", "message": "Added to queue for processing"})
PAYLOAD = {"name": "N", "where": {}, "content": {"title": "t", "body": "b"}, "when": "now"}
EVENT = {"identity": "u1", "evtName": "Signup", "evtData": {"plan": "pro"}}


def fail(status: int, error: str, code: int | None = None) -> httpx.Response:
    return httpx.Response(status, json={"status": "fail", "error": error, "code": code or status})


# --- upload -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "0 records"),
        ([EVENT] * 1001, "1001 records"),
        ([{"type": "token", "objectId": "g"}] * 101, "101 token records"),
    ],
)
async def test_upload_limits_are_enforced_before_sending(
    records: list[dict[str, Any]], message: str
) -> None:
    rec = Recorder(SUCCESS)
    async with make_client(rec) as ct:
        with pytest.raises(InvalidRequest, match=message) as info:
            await ct.upload(records)
    assert info.value.exit_code == 3
    assert rec.requests == []


async def test_upload_events_sets_type_and_dry_run_is_a_query_flag() -> None:
    rec = Recorder(ok({"status": "success", "processed": 1000, "unprocessed": []}))
    async with make_client(rec) as ct:
        result = await ct.upload_events([EVENT] * 1000, dry_run=True)
    assert result.processed == 1000
    (request,) = rec.requests
    assert request.url.params["dryRun"] == "1"
    sent = body_of(request)["d"]
    assert len(sent) == 1000
    assert sent[0] == {**EVENT, "type": "event"}


async def test_upload_with_all_records_rejected_returns_them_rather_than_raising() -> None:
    body = {
        "status": "fail",
        "processed": 0,
        "unprocessed": [{"status": "fail", "code": 525, "error": "ts. Skipped record number : 1"}],
    }
    async with make_client(Recorder(ok(body))) as ct:
        result = await ct.upload_profiles([{"identity": "u1", "ts": 0, "profileData": {}}])
    assert not result.ok
    assert result.unprocessed[0].code == 525


async def test_delete_profiles_sends_chunks_of_100() -> None:
    rec = Recorder(SUCCESS)
    identities = [f"u{n}" for n in range(250)]
    async with make_client(rec) as ct:
        await ct.delete_profiles(identities=identities, guids=["g1", "g2"])
    bodies = [body_of(r) for r in rec.requests]
    assert [len(b.get("identity", b.get("guid"))) for b in bodies] == [100, 100, 50, 2]
    assert bodies[0]["identity"][0] == "u0"
    assert bodies[3] == {"guid": ["g1", "g2"]}
    assert {r.url.path for r in rec.requests} == {"/1/delete/profiles.json"}


async def test_delete_profiles_refuses_a_bare_string() -> None:
    async with make_client(Recorder(SUCCESS)) as ct:
        with pytest.raises(InvalidRequest, match="not a string"):
            await ct.delete_profiles(identities="u1")


# --- campaigns ------------------------------------------------------------------------------


async def test_create_campaign_returns_id_and_estimates() -> None:
    rec = Recorder(ok({"status": "success", "id": 1457433898, "estimates": {"android": 10}}))
    async with make_client(rec) as ct:
        created = await ct.create_campaign(PAYLOAD)
    assert created.id == 1457433898
    assert created.estimates.total == 10
    assert body_of(rec.requests[0]) == PAYLOAD


async def test_create_success_without_id_is_ambiguous() -> None:
    async with make_client(Recorder(ok({"status": "success", "estimates": {}}))) as ct:
        with pytest.raises(UnexpectedResponseError, match="may exist") as info:
            await ct.create_campaign(PAYLOAD)
    assert isinstance(info.value, AmbiguousOutcomeError)


async def test_create_refuses_estimate_only_payloads() -> None:
    async with make_client(Recorder(SUCCESS)) as ct:
        with pytest.raises(InvalidRequest, match="estimate_campaign"):
            await ct.create_campaign({**PAYLOAD, "estimate_only": True})


async def test_estimate_sets_estimate_only_and_is_retried_on_gateway_errors() -> None:
    rec = Recorder(httpx.Response(504), ok({"status": "success", "estimates": {"web": 2}}))
    async with make_client(rec) as ct:
        estimates = await ct.estimate_campaign(PAYLOAD)
    assert estimates.by_device == {"web": 2}
    assert body_of(rec.requests[-1]) == {**PAYLOAD, "estimate_only": True}
    assert len(rec.requests) == 2


async def test_list_campaigns_sends_int_dates_and_parses_targets() -> None:
    rec = Recorder(
        ok(
            {
                "status": "success",
                "targets": [
                    {"id": 1, "name": "A", "status": "pending", "scheduled_on": 202601151030},
                    {"name": "no id"},
                    {"id": 2, "name": "B", "status": "stopped"},
                ],
            }
        )
    )
    async with make_client(rec) as ct:
        campaigns = await ct.list_campaigns(date(2017, 12, 1), date(2017, 12, 25))
    assert body_of(rec.requests[0]) == {"from": 20171201, "to": 20171225}
    assert [(c.id, c.status) for c in campaigns] == [(1, "pending"), (2, "stopped")]
    assert campaigns[0].scheduled_on is not None
    assert campaigns[0].scheduled_on.hour == 10


async def test_list_campaigns_refuses_reversed_range() -> None:
    async with make_client(Recorder(SUCCESS)) as ct:
        with pytest.raises(InvalidRequest, match="after"):
            await ct.list_campaigns(date(2026, 2, 1), date(2026, 1, 1))


async def test_stop_campaign_sends_the_id() -> None:
    rec = Recorder(SUCCESS)
    async with make_client(rec) as ct:
        await ct.stop_campaign(1457432766)
    assert rec.paths == ["POST /1/targets/stop.json"]
    assert body_of(rec.requests[0]) == {"id": 1457432766}


async def test_campaign_report_metrics_and_not_completed() -> None:
    rec = Recorder(ok({"status": "success", "result": {"sent": 82, "clicked": 28}}))
    async with make_client(rec) as ct:
        report = await ct.campaign_report(5)
    assert report.metrics == {"sent": 82, "clicked": 28}

    rec = Recorder(ok({"status": "fail", "error": "This target hasn't been completed"}))
    async with make_client(rec) as ct:
        with pytest.raises(CampaignNotCompleted, match=r"POST /1/targets/result\.json"):
            await ct.campaign_report(5)
    assert len(rec.requests) == 1


async def test_message_report_sends_string_dates_and_array_filters() -> None:
    messages = [{"message id": 17, "message_name": "Welcome", "channel": "push"}]
    rec = Recorder(ok({"status": "success", "total_results": 1, "messages": messages}))
    async with make_client(rec) as ct:
        rows = await ct.message_report(
            date(2026, 1, 1), date(2026, 1, 14), status="running", label=["ctflow"]
        )
    assert body_of(rec.requests[0]) == {
        "from": "20260101",
        "to": "20260114",
        "status": ["running"],
        "label": ["ctflow"],
    }
    assert [(r.message_id, r.name) for r in rows] == [(17, "Welcome")]


# --- sends ----------------------------------------------------------------------------------


async def test_send_posts_to_the_channel_and_returns_the_ack() -> None:
    rec = Recorder(QUEUED)
    async with make_client(rec) as ct:
        ack = await ct.send(
            "email", {"Email": ["a@x.io"]}, {"subject": "s", "body": "b"}, tag_group="g"
        )
    assert ack.message == "Added to queue for processing"
    assert rec.paths == ["POST /1/send/email.json"]
    assert body_of(rec.requests[0]) == {
        "to": {"Email": ["a@x.io"]},
        "content": {"subject": "s", "body": "b"},
        "tag_group": "g",
    }


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ({"Identity": [f"u{n}" for n in range(600)], "Email": ["e"] * 401}, "1001 recipients"),
        ({"Identity": []}, "0 recipients"),
        ({"Identity": "u1"}, "not a string"),
    ],
)
async def test_send_recipient_limits_are_enforced_before_sending(
    to: dict[str, Any], message: str
) -> None:
    rec = Recorder(QUEUED)
    async with make_client(rec) as ct:
        with pytest.raises(InvalidRequest, match=message):
            await ct.send("push", to, {"title": "t", "body": "b"})
    assert rec.requests == []


async def test_send_refuses_unknown_channel() -> None:
    async with make_client(Recorder(QUEUED)) as ct:
        with pytest.raises(InvalidRequest, match="channel"):
            await ct.send("pigeon", {"Identity": ["u"]}, {})  # type: ignore[arg-type]


async def test_external_trigger_body() -> None:
    rec = Recorder(QUEUED)
    async with make_client(rec) as ct:
        await ct.external_trigger("1695721550", {"identity": ["u1"]}, {"Name": "John"})
    assert rec.paths == ["POST /1/send/externaltrigger.json"]
    assert body_of(rec.requests[0]) == {
        "to": {"identity": ["u1"]},
        "campaign_id": "1695721550",
        "ExternalTrigger": {"Name": "John"},
    }


# --- exports --------------------------------------------------------------------------------

IN_PROGRESS = fail(400, "Request still in progress, please retry later", code=2)


async def test_export_page_in_progress_is_asked_again_on_the_same_cursor() -> None:
    clock = FakeClock()
    rec = Recorder(
        ok({"status": "success", "cursor": "C1%3D"}),
        IN_PROGRESS,
        IN_PROGRESS,
        ok({"status": "success", "records": [{"identity": "p1"}], "next_cursor": "C2"}),
        ok({"status": "success"}),
    )
    async with make_client(rec, clock=clock) as ct:
        profiles = [
            p async for p in ct.export_profiles({"event_name": "App Launched"}, batch_size=10)
        ]
    assert profiles == [{"identity": "p1"}]
    assert rec.paths[0] == "POST /1/profiles.json?batch_size=10"
    assert rec.paths[1:4] == ["GET /1/profiles.json?cursor=C1%3D"] * 3
    assert rec.paths[4] == "GET /1/profiles.json?cursor=C2"
    assert clock.sleeps == [2.0, 2.0]


async def test_export_page_in_progress_past_the_budget_fails_clearly() -> None:
    clock = FakeClock()
    rec = Recorder(ok({"status": "success", "cursor": "C1"}), IN_PROGRESS)
    async with make_client(rec, clock=clock) as ct:
        with pytest.raises(ResultNotReadyError, match="still in progress after 10s") as info:
            async for _ in ct.export_events({}, budget_seconds=10, poll_interval=3):
                pass
    assert info.value.exit_code == 5
    assert clock.now <= 10


async def test_export_batch_size_is_bounded_and_flags_are_query_params() -> None:
    rec = Recorder(ok({"status": "success", "cursor": ""}))
    async with make_client(rec) as ct:
        with pytest.raises(InvalidRequest, match="batch_size"):
            _ = [r async for r in ct.export_events({}, batch_size=5001)]
        _ = [r async for r in ct.export_events({}, batch_size=1, profile=False, app=True)]
    assert rec.paths == ["POST /1/events.json?batch_size=1&profile=false&app=true"]


# --- profile, counts, now, schema -----------------------------------------------------------


async def test_get_profile_by_email_uses_get_params() -> None:
    record = {"email": "a@x.io", "profileData": {"Name": "A"}, "events": {}, "platformInfo": []}
    rec = Recorder(ok({"status": "success", "record": record}))
    async with make_client(rec) as ct:
        profile = await ct.get_profile(email="a@x.io")
    assert profile is not None
    assert profile.profile_data == {"Name": "A"}
    assert rec.requests[0].method == "GET"
    assert rec.requests[0].url.params["email"] == "a@x.io"


@pytest.mark.parametrize(
    "answer",
    [
        fail(404, "Not found"),
        ok({"status": "fail", "error": "User not found"}),
        ok({"status": "success"}),
        ok({"status": "success", "record": {}}),
    ],
)
async def test_get_profile_missing_is_none(answer: httpx.Response) -> None:
    async with make_client(Recorder(answer)) as ct:
        assert await ct.get_profile(object_id="__g1") is None


async def test_get_profile_other_failures_still_raise() -> None:
    async with make_client(Recorder(ok({"status": "fail", "error": "Bad query"}))) as ct:
        with pytest.raises(ValidationError, match="Bad query"):
            await ct.get_profile(identity="u1")


async def test_get_profile_needs_exactly_one_key() -> None:
    async with make_client(Recorder(SUCCESS)) as ct:
        with pytest.raises(InvalidRequest, match="exactly one"):
            await ct.get_profile(identity="u1", email="a@x.io")


def partial(req_id: int = 384649162721759) -> httpx.Response:
    return ok({"status": "partial", "req_id": req_id})


async def test_count_polls_through_partials_with_get() -> None:
    clock = FakeClock()
    query = {"event_name": "Charged", "from": 20260101, "to": 20260131}
    rec = Recorder(partial(), partial(), partial(), ok({"status": "success", "count": 7138}))
    async with make_client(rec, clock=clock) as ct:
        assert await ct.count_events(query, poll_interval=1.5) == 7138
    assert (
        rec.paths
        == ["POST /1/counts/events.json"] + ["GET /1/counts/events.json?req_id=384649162721759"] * 3
    )
    assert body_of(rec.requests[0]) == query
    assert "content-type" not in rec.requests[1].headers
    assert clock.sleeps == [1.5, 1.5, 1.5]


async def test_count_falls_back_to_post_when_get_answers_405() -> None:
    clock = FakeClock()
    query = {"event_name": "Charged", "from": 20260101, "to": 20260131}
    rec = Recorder(
        partial(),
        fail(405, "Method Not Allowed"),
        partial(),
        ok({"status": "success", "count": 12}),
    )
    async with make_client(rec, clock=clock) as ct:
        assert await ct.count_profiles(query) == 12
    assert rec.paths == [
        "POST /1/counts/profiles.json",
        "GET /1/counts/profiles.json?req_id=384649162721759",
        "POST /1/counts/profiles.json?req_id=384649162721759",
        "POST /1/counts/profiles.json?req_id=384649162721759",
    ]
    assert body_of(rec.requests[2]) == query


async def test_count_gives_up_clearly_when_the_budget_is_spent() -> None:
    clock = FakeClock()
    rec = Recorder(partial())
    async with make_client(rec, clock=clock) as ct:
        with pytest.raises(ResultNotReadyError, match=r"still computing after 5s") as info:
            await ct.count_events({}, budget_seconds=5, poll_interval=1)
    assert info.value.exit_code == 5
    assert len(rec.requests) == 6  # the POST, then five polls one second apart
    assert clock.now == 5


async def test_count_405_on_both_methods_raises() -> None:
    rec = Recorder(partial(), fail(405, "Method Not Allowed"))
    async with make_client(rec) as ct:
        with pytest.raises(MethodNotAllowedError):
            await ct.count_events({})


async def test_now_sends_flags_and_returns_counts() -> None:
    rec = Recorder(ok({"status": "success", "count": 214, "last_processed_ts": 1486536600}))
    async with make_client(rec) as ct:
        counts = await ct.now(user_type=True, os=False)
    assert counts.count == 214
    assert body_of(rec.requests[0]) == {"user_type": True, "os": False}


async def test_get_schema_is_at_the_host_root_and_falls_back_to_post() -> None:
    schema = {"status": "success", "events": [{"name": "Charged"}]}
    rec = Recorder(fail(405, "Method Not Allowed"), ok(schema))
    async with make_client(rec) as ct:
        result = await ct.get_schema()
    assert rec.paths == ["GET /getSchema?type=events", "POST /getSchema?type=events"]
    assert result.event_names() == ["Charged"]


# --- construction ---------------------------------------------------------------------------

Scope = MutableMapping[str, Any]


async def test_in_process_client_talks_to_an_asgi_app_without_a_socket() -> None:
    seen: list[Scope] = []

    async def app(
        scope: Scope,
        receive: Callable[[], Awaitable[Scope]],
        send: Callable[[Scope], Awaitable[None]],
    ) -> None:
        seen.append(scope)
        await receive()
        body = json.dumps({"status": "success"}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async with CleverTap.in_process(app, CREDS) as ct:
        await ct.stop_campaign(3)
    assert seen[0]["path"] == "/1/targets/stop.json"
    assert (b"x-clevertap-account-id", CREDS.account_id.encode()) in seen[0]["headers"]


def test_region_picks_the_host_and_base_url_wins() -> None:
    assert CleverTap(CREDS, region="in1").base_url == "https://in1.api.clevertap.com"
    assert CleverTap(CREDS).base_url == "https://eu1.api.clevertap.com"
    assert CleverTap(CREDS, region="us1", base_url="http://x").base_url == "http://x"
