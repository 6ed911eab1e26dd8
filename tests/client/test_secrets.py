"""The passcode never appears in a repr, an error, or a log line; regions resolve or explain."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
import pytest

from ctflow.clevertap import (
    REGIONS,
    AmbiguousOutcomeError,
    AuthError,
    CampaignNotCompleted,
    CleverTap,
    CleverTapError,
    Credentials,
    InvalidRequest,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitedError,
    ResultNotReadyError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    UnknownRegionError,
    ValidationError,
    base_url_for,
)
from ctflow.errors import CredentialsError
from tests.client.ct_helpers import CREDS, PASSCODE, FakeClock, Recorder, make_client, ok


def fail(status: int, error: str, code: int | None = None) -> httpx.Response:
    return httpx.Response(status, json={"status": "fail", "error": error, "code": code or status})


def echo_headers(request: httpx.Request) -> httpx.Response:
    """A misbehaving proxy that echoes a request header in its error page."""
    return httpx.Response(502, text=f"bad passcode {request.headers['x-clevertap-passcode']}")


def echo_at_the_cut(request: httpx.Request) -> httpx.Response:
    """The echoed passcode straddles the 200-character snippet an error message keeps."""
    passcode = request.headers["x-clevertap-passcode"]
    return httpx.Response(400, text="x" * (200 - len(passcode) // 2) + passcode + "y" * 50)


Call = Callable[[CleverTap], Awaitable[object]]


async def stop(ct: CleverTap) -> object:
    await ct.stop_campaign(1)
    return None


async def create(ct: CleverTap) -> object:
    return await ct.create_campaign({"name": "n"})


async def report(ct: CleverTap) -> object:
    return await ct.campaign_report(1)


async def count(ct: CleverTap) -> object:
    return await ct.count_events({}, budget_seconds=1, poll_interval=1)


async def too_big(ct: CleverTap) -> object:
    return await ct.upload([{"type": "event"}] * 1001)


CASES: list[tuple[object, Call, type[CleverTapError]]] = [
    (fail(401, "Passcode Invalid"), stop, AuthError),
    (fail(400, "Field name is empty"), create, ValidationError),
    (
        ok({"status": "fail", "error": "This target hasn't been completed"}),
        report,
        CampaignNotCompleted,
    ),
    (fail(404, "Not found"), stop, NotFoundError),
    (fail(405, "Method Not Allowed"), stop, MethodNotAllowedError),
    (httpx.Response(429), stop, RateLimitedError),
    (fail(500, "An unknown error occurred"), stop, ServerError),
    (echo_headers, stop, ServerError),
    (echo_headers, create, AmbiguousOutcomeError),
    (echo_at_the_cut, stop, ValidationError),
    (httpx.ConnectError("refused"), stop, TransportError),
    (httpx.ReadTimeout("timed out"), create, AmbiguousOutcomeError),
    (ok({"status": "partial", "req_id": 9}), count, ResultNotReadyError),
    (httpx.Response(200, text="<html>gateway</html>"), stop, UnexpectedResponseError),
    (ok({}), too_big, InvalidRequest),
]


@pytest.mark.parametrize(("answer", "call", "cls"), CASES)
async def test_passcode_never_leaks_from_errors_reprs_or_logs(
    answer: object, call: Call, cls: type[CleverTapError], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder(answer)  # type: ignore[arg-type]
    ct = make_client(rec, retry=RetryPolicy.instant(attempts=2), clock=FakeClock())
    async with ct:
        with pytest.raises(cls) as info:
            await call(ct)
    exc = info.value
    texts = [str(exc), repr(exc), repr(exc.args), str(exc.detail), repr(ct), caplog.text]
    for text in texts:
        assert PASSCODE not in text
        assert PASSCODE[:8] not in text, "no fragment of it either"
    if rec.requests:  # the secret really was sent, so its absence above means something
        assert rec.requests[0].headers["X-CleverTap-Passcode"] == PASSCODE
    if answer is echo_headers:
        assert "bad passcode ***" in str(exc)


def test_proxy_echo_is_redacted_not_dropped() -> None:
    error = ServerError(f"boom {PASSCODE} boom", detail=PASSCODE)
    error.redact(PASSCODE)
    assert str(error) == "boom *** boom"
    assert error.detail == "***"


def test_credentials_mask_the_passcode() -> None:
    assert PASSCODE not in repr(CREDS)
    assert PASSCODE not in str(CREDS)
    assert repr(CREDS) == "Credentials(account_id='W9R-ACCOUNT-1', passcode='***')"


@pytest.mark.parametrize("passcode", ["", "   ", "pässcode", "pass\r\nX-Evil: 1", "with space"])
def test_unusable_passcodes_are_refused_without_echoing_them(passcode: str) -> None:
    with pytest.raises(CredentialsError) as info:
        Credentials(account_id="W9R-ACCOUNT-1", passcode=passcode)
    assert info.value.exit_code == 4
    if passcode.strip():
        assert passcode not in str(info.value)
        assert passcode not in repr(info.value)


# --- regions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("in1", "https://in1.api.clevertap.com"),
        ("sg1", "https://sg1.api.clevertap.com"),
        ("us1", "https://us1.api.clevertap.com"),
        ("aps3", "https://aps3.api.clevertap.com"),
        ("mec1", "https://mec1.api.clevertap.com"),
        ("eu1", "https://eu1.api.clevertap.com"),
        ("eu", "https://eu1.api.clevertap.com"),
        (" US1 ", "https://us1.api.clevertap.com"),
    ],
)
def test_region_maps_to_its_host(region: str, url: str) -> None:
    assert base_url_for(region) == url


def test_unknown_region_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownRegionError) as info:
        base_url_for("sk1")
    message = str(info.value)
    assert "'sk1'" in message
    assert all(name in message for name in REGIONS)
    assert info.value.exit_code == 3
