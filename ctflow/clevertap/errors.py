"""The CleverTap client's error tree, and the one function that reads CleverTap's answers into it.

Imports only ``ctflow.errors`` (for exit codes); never httpx, which ``_http.py`` translates.

    CleverTapError(CtflowError)                       exit 1
    ├── AuthError(CredentialsError)                   exit 4  401/403: id, passcode or region wrong
    ├── ValidationError(InvalidInput)                 exit 3  CleverTap rejected the request body
    │   └── CampaignNotCompleted                      exit 3  report asked of an unfinished campaign
    ├── InvalidRequest(InvalidInput, ValueError)      exit 3  refused client-side, nothing was sent
    ├── UnknownRegionError(ConfigError)               exit 3  region name not one of REGIONS
    ├── NotFoundError                                 exit 1  404
    ├── MethodNotAllowedError                         exit 1  405
    ├── RateLimitedError(UnavailableError)            exit 5  429: not processed, retried
    ├── ServerError(UnavailableError)                 exit 5  5xx on a call safe to repeat (retried)
    ├── TransportError(UnavailableError)              exit 5  no connection; provably not sent
    ├── ResultNotReadyError(UnavailableError)         exit 5  count/export still running (code 2)
    └── AmbiguousOutcomeError                         exit 1  may have been processed (a lost
        │                                                     answer; a 5xx on a call unsafe to
        │                                                     repeat, which is never retried)
        └── UnexpectedResponseError                   exit 1  2xx answer we cannot read

Every instance carries ``endpoint`` (``"POST /1/upload"``), the HTTP ``status``, CleverTap's
``code`` and CleverTap's own text in ``detail``; the message names the endpoint and quotes the text.
"""

from __future__ import annotations

import json
from typing import Any

from ctflow.errors import (
    ConfigError,
    CredentialsError,
    CtflowError,
    ExitCode,
    InvalidInput,
    UnavailableError,
)

_NOT_JSON: Any = object()
_SNIPPET = 200


class CleverTapError(CtflowError):
    """Base of every error the client raises; ``exit_code`` comes from the ctflow class mixed in."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        code: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.detail = detail

    def redact(self, secret: str) -> None:
        """Remove ``secret`` from every text this error carries (defence in depth)."""
        if not secret:
            return
        self.message = self.message.replace(secret, "***")
        self.args = (self.message,)
        if self.detail is not None:
            self.detail = self.detail.replace(secret, "***")


class AuthError(CleverTapError, CredentialsError):
    exit_code = ExitCode.CREDENTIALS


class ValidationError(CleverTapError, InvalidInput):
    exit_code = ExitCode.INVALID


class CampaignNotCompleted(ValidationError):
    """``/1/targets/result.json`` answered "This target hasn't been completed"."""


class InvalidRequest(CleverTapError, InvalidInput, ValueError):
    """The call's arguments break a documented limit; raised before anything is sent."""

    exit_code = ExitCode.INVALID


class UnknownRegionError(CleverTapError, ConfigError):
    exit_code = ExitCode.INVALID


class NotFoundError(CleverTapError):
    exit_code = ExitCode.ERROR


class MethodNotAllowedError(CleverTapError):
    exit_code = ExitCode.ERROR


class RateLimitedError(CleverTapError, UnavailableError):
    exit_code = ExitCode.UNAVAILABLE


class ServerError(CleverTapError, UnavailableError):
    exit_code = ExitCode.UNAVAILABLE


class TransportError(CleverTapError, UnavailableError):
    """The connection could not be made, so the request provably never reached CleverTap."""

    exit_code = ExitCode.UNAVAILABLE


class UploadRefusedError(CleverTapError, UnavailableError):
    """A presigned URL refused the file twice (403: expired or refused), a new URL the second
    time: nothing was uploaded."""

    exit_code = ExitCode.UNAVAILABLE


class ResultNotReadyError(CleverTapError, UnavailableError):
    """CleverTap is still computing (count ``partial``, export page ``code 2``)."""

    exit_code = ExitCode.UNAVAILABLE


class AmbiguousOutcomeError(CleverTapError):
    """The request may have been processed; the caller must reconcile (e.g. list campaigns).

    ``status`` is the 5xx CleverTap answered, or ``None`` when no answer was read."""

    exit_code = ExitCode.ERROR


class UnexpectedResponseError(AmbiguousOutcomeError):
    """A success status whose body we cannot read: whatever was asked may have happened."""


def loads(body: bytes) -> Any:
    """Decode a JSON body, or return the ``_NOT_JSON`` sentinel."""
    if not body.strip():
        return _NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def error_from_response(status: int, body: bytes, *, endpoint: str) -> CleverTapError | None:
    """The error CleverTap's answer means; ``None`` for a success (or per-record results)."""
    return classify(status, loads(body), body, endpoint=endpoint)


def check_response(status: int, body: bytes, *, endpoint: str) -> dict[str, Any]:
    """Decode a success body into a dict, raising the mapped error otherwise."""
    doc = loads(body)
    error = classify(status, doc, body, endpoint=endpoint)
    if error is not None:
        raise error
    if status == 204 and doc is _NOT_JSON:
        return {}
    if not isinstance(doc, dict):
        raise UnexpectedResponseError(
            f"{endpoint}: HTTP {status} with a body that is not a JSON object: {_snippet(body)}",
            endpoint=endpoint,
            status=status,
        )
    return doc


def classify(status: int, doc: Any, body: bytes, *, endpoint: str) -> CleverTapError | None:
    """Map (HTTP status, decoded body) to an error; ``doc`` is ``_NOT_JSON`` if undecodable."""
    fields = doc if isinstance(doc, dict) else {}
    code = _int_or_none(fields.get("code"))
    detail = _error_text(fields.get("error"))
    failed = fields.get("status") == "fail"
    if detail is None and doc is _NOT_JSON and body.strip():
        detail = _snippet(body)

    if code == 2 and detail is not None and "progress" in detail.lower():
        return _make(ResultNotReadyError, "not ready yet", endpoint, status, code, detail)
    if 200 <= status < 300:
        if status == 204 and not body.strip():
            return None
        if doc is _NOT_JSON:
            return _make(
                UnexpectedResponseError, "unreadable success", endpoint, status, code, detail
            )
        if not failed or isinstance(fields.get("unprocessed"), list):
            # upload answers "fail" with per-record results: that is data, not an error
            return None
        return _from_status(
            code if code is not None and code >= 400 else 400, endpoint, status, code, detail
        )
    if 300 <= status < 400 or status < 200:
        return _make(CleverTapError, "unexpected answer", endpoint, status, code, detail)
    return _from_status(status, endpoint, status, code, detail)


def _from_status(
    kind: int, endpoint: str, status: int, code: int | None, detail: str | None
) -> CleverTapError:
    if kind in (401, 403):
        error = _make(AuthError, "credentials refused", endpoint, status, code, detail)
        error.message += "; check the account id, the passcode and the region"
        error.args = (error.message,)
        return error
    if kind == 429:
        return _make(RateLimitedError, "rate limited", endpoint, status, code, detail)
    if kind >= 500:
        return _make(ServerError, "CleverTap server error", endpoint, status, code, detail)
    if detail is not None and _not_completed(detail):
        return _make(CampaignNotCompleted, "campaign not completed", endpoint, status, code, detail)
    if kind == 404:
        return _make(NotFoundError, "not found", endpoint, status, code, detail)
    if kind == 405:
        return _make(MethodNotAllowedError, "method not allowed", endpoint, status, code, detail)
    return _make(ValidationError, "rejected", endpoint, status, code, detail)


def _make(
    cls: type[CleverTapError],
    what: str,
    endpoint: str,
    status: int,
    code: int | None,
    detail: str | None,
) -> CleverTapError:
    where = f"HTTP {status}" + (f", code {code}" if code is not None and code != status else "")
    text = detail if detail is not None else "(empty body)"
    return cls(
        f"{endpoint}: {what}: {text} ({where})",
        endpoint=endpoint,
        status=status,
        code=code,
        detail=detail,
    )


def _not_completed(detail: str) -> bool:
    lowered = detail.lower().replace("’", "'")
    return "hasn't been completed" in lowered or "has not been completed" in lowered


def _error_text(value: Any) -> str | None:
    """CleverTap's ``error``: a string, a JSON-encoded array string, a list, or anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                return value
            if isinstance(decoded, list):
                return _error_text(decoded)
        return value
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return json.dumps(value, sort_keys=True, default=str)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value)
    return None


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
