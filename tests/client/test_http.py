"""The transport seam: headers on the wire, exception translation, verbatim cursors."""

from __future__ import annotations

import json
import logging
import re
from datetime import date

import httpx
import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    CleverTap,
    CleverTapError,
    RetryPolicy,
    TransportError,
)
from tests.client.ct_helpers import CREDS, PASSCODE, Recorder, body_of, make_client, ok


async def test_every_call_carries_auth_headers_and_only_posts_a_content_type() -> None:
    rec = Recorder(ok({"status": "success", "record": {"identity": "u1"}}))
    async with make_client(rec) as ct:
        await ct.get_profile(identity="u1")
        rec.answers = [ok({"status": "success", "targets": []})]
        await ct.list_campaigns(date(2026, 1, 1), date(2026, 1, 31))
    get, post = rec.requests
    for request in (get, post):
        assert request.headers["X-CleverTap-Account-Id"] == CREDS.account_id
        assert request.headers["X-CleverTap-Passcode"] == PASSCODE
    assert "content-type" not in get.headers
    assert post.headers["content-type"] == "application/json"
    assert body_of(post) == {"from": 20260101, "to": 20260131}


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.PoolTimeout("no free connection"),
    ],
)
async def test_connection_failures_become_transport_error(exc: Exception) -> None:
    rec = Recorder(exc)
    async with make_client(rec, retry=RetryPolicy.instant(attempts=1)) as ct:
        with pytest.raises(TransportError, match=r"^POST /1/targets/stop.json: could not connect"):
            await ct.stop_campaign(1)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        ConnectionError("sandbox lost the response"),
    ],
)
async def test_outcomes_after_sending_become_ambiguous(exc: Exception) -> None:
    rec = Recorder(exc)
    async with make_client(rec) as ct:
        with pytest.raises(AmbiguousOutcomeError, match="may have been processed"):
            await ct.stop_campaign(1)


async def test_unsupported_scheme_is_a_plain_client_error_not_retried() -> None:
    ct = CleverTap(CREDS, base_url="ftp://nowhere", retry=RetryPolicy.instant())
    async with ct:
        with pytest.raises(CleverTapError, match="cannot send") as info:
            await ct.stop_campaign(1)
    assert not isinstance(info.value, TransportError | AmbiguousOutcomeError)


async def test_export_cursor_is_sent_verbatim_without_re_encoding() -> None:
    cursor = "ZiZiNw%3D%3D%2Fab+c/d="
    rec = Recorder(
        ok({"status": "success", "cursor": cursor}),
        ok({"status": "success", "records": [{"ts": 1}], "next_cursor": "NEXT%2F%3D"}),
        ok({"status": "success", "records": [{"ts": 2}]}),
    )
    async with make_client(rec) as ct:
        records = [r async for r in ct.export_events({"event_name": "App Launched"})]
    assert records == [{"ts": 1}, {"ts": 2}]
    assert rec.paths == [
        "POST /1/events.json?batch_size=5000",
        f"GET /1/events.json?cursor={cursor}",
        "GET /1/events.json?cursor=NEXT%2F%3D",
    ]


async def test_post_body_is_compact_utf8_json() -> None:
    rec = Recorder(ok({"status": "success", "message": "Added to queue for processing"}))
    async with make_client(rec) as ct:
        await ct.send("push", {"Identity": ["ü1"]}, {"title": "Hi", "body": "Grüße"})
    assert (
        rec.requests[0].content
        == json.dumps(
            {"to": {"Identity": ["ü1"]}, "content": {"title": "Hi", "body": "Grüße"}},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )


async def test_each_call_is_logged_at_debug_with_status_and_time_but_no_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctflow.clevertap")
    async with make_client(Recorder(ok({"status": "success"}))) as ct:
        await ct.stop_campaign(1)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "ctflow.clevertap"]
    assert re.fullmatch(r"POST /1/targets/stop\.json -> 200 in \d+\.\d{3}s", line)
