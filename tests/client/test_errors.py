"""CleverTap's documented answers map to the right error class, exit code and message."""

from __future__ import annotations

import json

import pytest

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    AuthError,
    CampaignNotCompleted,
    CleverTapError,
    InvalidRequest,
    MethodNotAllowedError,
    NotFoundError,
    RateLimitedError,
    ResultNotReadyError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
    error_from_response,
)
from ctflow.errors import CredentialsError, ExitCode, InvalidInput, UnavailableError

EP = "POST /1/upload"


def fail(error: object, code: int | None = None) -> bytes:
    body: dict[str, object] = {"status": "fail", "error": error}
    if code is not None:
        body["code"] = code
    return json.dumps(body).encode()


CASES = [
    # (HTTP status, body, class, text the message must quote)
    (401, fail("Account ID is not valid", 401), AuthError, "Account ID is not valid"),
    (401, fail("Passcode Invalid", 401), AuthError, "Passcode Invalid"),
    (401, fail("12 digit account ID mandatory", 401), AuthError, "12 digit account ID mandatory"),
    (401, fail("Invalid Credentials", 401), AuthError, "Invalid Credentials"),
    (403, fail("Operation not allowed", 403), AuthError, "Operation not allowed"),
    (400, fail("Malformed request", 400), ValidationError, "Malformed request"),
    (400, fail("Notification channel is required", 9), ValidationError, "channel is required"),
    (429, fail("Too many concurrent requests", 429), RateLimitedError, "Too many concurrent"),
    (429, b"", RateLimitedError, "(empty body)"),
    (500, fail("An unknown error occurred", 500), ServerError, "An unknown error occurred"),
    (503, b"<html>Service Unavailable</html>", ServerError, "Service Unavailable"),
    (405, fail("Method Not Allowed", 405), MethodNotAllowedError, "Method Not Allowed"),
    (404, fail("Not found", 404), NotFoundError, "Not found"),
    (200, fail("Field name is empty"), ValidationError, "Field name is empty"),
    (200, fail("Passcode Invalid", 401), AuthError, "Passcode Invalid"),
    (200, fail("Too many concurrent requests", 429), RateLimitedError, "Too many"),
    (
        400,
        fail('["Invalid event : Uninstalled"]', 400),
        ValidationError,
        "Invalid event : Uninstalled",
    ),
    (200, fail("This target hasn't been completed"), CampaignNotCompleted, "hasn't been completed"),
    (
        400,
        fail("Request still in progress, please retry later", 2),
        ResultNotReadyError,
        "progress",
    ),
    (200, b"<html>proxy</html>", UnexpectedResponseError, "<html>proxy</html>"),
    (200, b"", UnexpectedResponseError, "(empty body)"),
    (302, b"", CleverTapError, "HTTP 302"),
]


@pytest.mark.parametrize(("status", "body", "cls", "text"), CASES)
def test_documented_answers_map_to_error_class_and_quote_clevertap(
    status: int, body: bytes, cls: type[CleverTapError], text: str
) -> None:
    error = error_from_response(status, body, endpoint=EP)
    assert type(error) is cls
    assert error is not None
    assert str(error).startswith(f"{EP}: ")
    assert text in str(error)
    assert error.status == status
    assert error.endpoint == EP


def test_json_array_error_string_is_unwrapped_into_plain_text() -> None:
    body = fail('["Invalid event : Uninstalled", "Invalid event : Foo"]', 400)
    error = error_from_response(400, body, endpoint=EP)
    assert error is not None
    assert error.detail == "Invalid event : Uninstalled; Invalid event : Foo"
    assert '["' not in str(error)


def test_code_is_kept_when_it_is_an_app_code() -> None:
    error = error_from_response(400, fail("Notification channel is required", 9), endpoint=EP)
    assert error is not None
    assert error.code == 9
    assert "code 9" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        b'{ "status" : "success" , "processed" : 1 , "unprocessed" : [ ]}',
        b'{"status":"partial","processed":1,"unprocessed":[{"status":"fail","code":514}]}',
        # all records rejected: still HTTP 200 data, not a request-level error
        b'{"status":"fail","processed":0,"unprocessed":[{"status":"fail","code":514}]}',
        b'{"status":"partial","req_id":384649162721759}',
        b'{"status":"success","id":1457433898,"estimates":{"android":10}}',
    ],
)
def test_success_and_per_record_results_are_not_errors(body: bytes) -> None:
    assert error_from_response(200, body, endpoint=EP) is None


def test_204_without_body_is_success() -> None:
    assert error_from_response(204, b"", endpoint=EP) is None


@pytest.mark.parametrize(
    ("cls", "code", "ctflow_class"),
    [
        (AuthError, ExitCode.CREDENTIALS, CredentialsError),
        (ValidationError, ExitCode.INVALID, InvalidInput),
        (CampaignNotCompleted, ExitCode.INVALID, InvalidInput),
        (RateLimitedError, ExitCode.UNAVAILABLE, UnavailableError),
        (ServerError, ExitCode.UNAVAILABLE, UnavailableError),
        (ResultNotReadyError, ExitCode.UNAVAILABLE, UnavailableError),
        (TransportError, ExitCode.UNAVAILABLE, UnavailableError),
        (InvalidRequest, ExitCode.INVALID, ValueError),
        (AmbiguousOutcomeError, ExitCode.ERROR, CleverTapError),
        (NotFoundError, ExitCode.ERROR, CleverTapError),
    ],
)
def test_each_error_carries_the_documented_exit_code(
    cls: type[CleverTapError], code: ExitCode, ctflow_class: type[Exception]
) -> None:
    error = cls("x")
    assert error.exit_code == code
    assert isinstance(error, ctflow_class)
