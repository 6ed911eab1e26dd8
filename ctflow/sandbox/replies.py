"""ApiError and the fail-body helpers every endpoint uses (clevertap-api.md §1.3).

Imports only the standard library.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """A request the API rejects: HTTP status plus the JSON body to send."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(body.get("error"))
        self.status = status
        self.body = body


def fail_body(error: str, code: int | None) -> Json:
    body: Json = {"status": "fail", "error": error}
    if code is not None:
        body["code"] = code
    return body


def fail(error: str, code: int | None = 400, status: int = 400) -> ApiError:
    """The generic `{"status":"fail","error":…,"code":…}` rejection (§1.3)."""
    return ApiError(status, fail_body(error, code))


def malformed() -> ApiError:
    # §1.3: 400 malformed JSON body.
    return fail("Malformed request", 400, 400)
