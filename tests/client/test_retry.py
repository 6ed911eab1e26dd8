"""What is retried: 429 and failed connects always; a 5xx or a lost answer only on a call safe
to repeat. On the others (create, send, event upload) they are ambiguous and never retried."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    AuthError,
    Limits,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)
from tests.client.ct_helpers import Recorder, body_of, make_client, ok

CREATED = ok({"status": "success", "id": 1457433898, "estimates": {"android": 10, "ios": 30}})
PAYLOAD = {"name": "Welcome", "where": {}, "content": {"title": "Hi", "body": "Yo"}, "when": "now"}
UPLOADED = ok({"status": "success", "processed": 1, "unprocessed": []})
EMPTY_429 = httpx.Response(429, text="")  # the digest's empty text/plain variant
RECORD = {"type": "event", "identity": "u1", "evtName": "Signup", "evtData": {}}


def fail(status: int, error: str) -> httpx.Response:
    return httpx.Response(status, json={"status": "fail", "error": error, "code": status})


async def test_429_then_success_is_retried_and_succeeds() -> None:
    assert EMPTY_429.headers["content-type"].startswith("text/plain")
    rec = Recorder(fail(429, "Too many concurrent requests"), EMPTY_429, UPLOADED)
    async with make_client(rec) as ct:
        result = await ct.upload([RECORD])
    assert result.ok
    assert len(rec.requests) == 3


async def test_503_on_an_event_upload_is_ambiguous_and_sent_once() -> None:
    """A 503 does not say the events were not stored (it used to be retried for every call)."""
    rec = Recorder(fail(503, "Service Unavailable"), UPLOADED)
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError, match="Service Unavailable") as info:
            await ct.upload([RECORD])
    assert len(rec.requests) == 1
    assert info.value.status == 503
    assert info.value.exit_code == 1


async def test_503_on_a_profile_upsert_is_retried_but_not_on_an_increment() -> None:
    upsert = {"type": "profile", "identity": "u1", "profileData": {"City": "Pune"}}
    rec = Recorder(fail(503, "Service Unavailable"), UPLOADED)
    async with make_client(rec) as ct:
        assert (await ct.upload_profiles([upsert])).processed == 1
    assert len(rec.requests) == 2

    increment = {**upsert, "profileData": {"Visits": {"$incr": 1}}}
    rec = Recorder(fail(503, "Service Unavailable"), UPLOADED)
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError):
            await ct.upload_profiles([increment])
    assert len(rec.requests) == 1


async def test_500_on_a_stop_is_retried_as_stopping_twice_is_harmless() -> None:
    """It used to fail at once: one 500 on a call safe to repeat failed a whole apply."""
    rec = Recorder(fail(500, "An unknown error occurred"), ok({"status": "success"}))
    async with make_client(rec) as ct:
        await ct.stop_campaign(7)
    assert len(rec.requests) == 2


async def test_a_5xx_that_is_not_500_502_503_504_is_not_retried() -> None:
    rec = Recorder(httpx.Response(501, text="Not Implemented"), ok({"status": "success"}))
    async with make_client(rec) as ct:
        with pytest.raises(ServerError, match="Not Implemented"):
            await ct.stop_campaign(7)
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("answer", "cls"),
    [
        (fail(400, "Field name is empty"), ValidationError),
        (fail(401, "Passcode Invalid"), AuthError),
    ],
)
async def test_validation_and_auth_are_not_retried(
    answer: httpx.Response, cls: type[Exception]
) -> None:
    rec = Recorder(answer, CREATED)
    async with make_client(rec) as ct:
        with pytest.raises(cls):
            await ct.create_campaign(PAYLOAD)
    assert len(rec.requests) == 1


async def test_create_with_read_timeout_is_ambiguous_and_sent_exactly_once() -> None:
    rec = Recorder(httpx.ReadTimeout("timed out"), CREATED)
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError, match=r"POST /1/targets/create.json"):
            await ct.create_campaign(PAYLOAD)
    assert len(rec.requests) == 1


async def test_send_after_dropped_connection_is_not_repeated() -> None:
    rec = Recorder(httpx.RemoteProtocolError("Server disconnected"), ok({"status": "success"}))
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError):
            await ct.send("sms", {"Identity": ["u1"]}, {"body": "hi"})
    assert len(rec.requests) == 1


async def test_create_connect_error_is_retried_because_nothing_was_sent() -> None:
    rec = Recorder(httpx.ConnectError("connection refused"), CREATED)
    async with make_client(rec) as ct:
        created = await ct.create_campaign(PAYLOAD)
    assert created.id == 1457433898
    assert len(rec.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_retry_calls_safe_to_repeat_only(status: int) -> None:
    rec = Recorder(httpx.Response(status, text="Bad Gateway"), ok({"status": "success"}))
    async with make_client(rec) as ct:
        await ct.stop_campaign(7)
    assert len(rec.requests) == 2

    rec = Recorder(httpx.Response(status, text="Bad Gateway"), CREATED)
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError, match="does not say whether") as info:
            await ct.create_campaign(PAYLOAD)
    assert len(rec.requests) == 1
    assert info.value.status == status


async def test_retries_stop_after_the_configured_attempts_with_the_last_error() -> None:
    rec = Recorder(fail(429, "Too many concurrent requests"))
    async with make_client(rec, retry=RetryPolicy.instant(attempts=4)) as ct:
        with pytest.raises(RateLimitedError) as info:
            await ct.stop_campaign(1)
    assert len(rec.requests) == 4
    assert info.value.exit_code == 5


async def test_connect_errors_exhaust_into_transport_error_exit_5() -> None:
    rec = Recorder(httpx.ConnectError("refused"))
    async with make_client(rec, retry=RetryPolicy.instant(attempts=3)) as ct:
        with pytest.raises(TransportError) as info:
            await ct.stop_campaign(1)
    assert len(rec.requests) == 3
    assert info.value.exit_code == 5


async def test_backoff_happens_outside_the_slot_so_other_calls_proceed() -> None:
    """With one slot, a stop backing off after a 429 lets the four others through meanwhile."""
    refused: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        campaign = body_of(request)["id"]
        if campaign == 1 and not refused:
            refused.append(campaign)
            return fail(429, "Too many concurrent requests")
        return ok({"status": "success"})

    policy = RetryPolicy(attempts=3, wait_initial=0.2, wait_max=0.2, wait_jitter=0.0)
    rec = Recorder(handler)
    order: list[int] = []
    async with make_client(rec, retry=policy, limits=Limits(other=1)) as ct:

        async def stop(n: int) -> None:
            await ct.stop_campaign(n)
            order.append(n)

        await asyncio.gather(*(stop(n) for n in range(1, 6)))
    assert refused == [1]
    assert order[-1] == 1
    assert sorted(order) == [1, 2, 3, 4, 5]
    assert len(rec.requests) == 6


def test_a_lost_answer_is_asked_again_only_when_asking_twice_is_harmless() -> None:
    from ctflow.clevertap.errors import AmbiguousOutcomeError, UnexpectedResponseError
    from ctflow.clevertap.retry import is_retryable

    lost = AmbiguousOutcomeError("connection reset after sending", endpoint="POST /x")
    assert is_retryable(lost, "list_campaigns")
    assert is_retryable(lost, "stop_campaign")
    assert not is_retryable(lost, "create_campaign")
    assert not is_retryable(lost, "upload_events")
    assert not is_retryable(lost, "send")
    unreadable = UnexpectedResponseError("success without an id", endpoint="POST /x")
    assert not is_retryable(unreadable, "list_campaigns")


@pytest.mark.parametrize(
    ("records", "operation"),
    [
        ([RECORD], "upload_events"),
        (
            [{"type": "profile", "identity": "u1", "profileData": {"City": "Pune"}}],
            "upload_profiles",
        ),
        ([{"type": "token", "identity": "u1", "tokenData": {}}], "upload_tokens"),
        (
            [
                {"type": "token", "identity": "u1", "tokenData": {}},
                {"type": "profile", "identity": "u1", "profileData": {"Tags": {"$add": ["a"]}}},
            ],
            "upload_profiles",
        ),
        (
            [{"type": "profile", "identity": "u1", "profileData": {"N": {"$decr": 1}}}],
            "upload_events",
        ),
        ([{"type": "profile", "identity": "u1"}, RECORD], "upload_events"),
        ([{"identity": "u1"}], "upload_events"),
    ],
)
def test_an_upload_is_safe_to_repeat_only_when_every_record_is_an_upsert(
    records: list[dict[str, object]], operation: str
) -> None:
    from ctflow.clevertap.retry import upload_operation

    assert upload_operation(records) == operation
