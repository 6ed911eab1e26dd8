"""One call to any endpoint (``CleverTap.request``): which retry row and slots a method and path
take, and the answer as it came. Knows CleverTap's paths, nothing of campaigns-as-code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ctflow.clevertap.errors import CleverTapError, InvalidRequest
from ctflow.clevertap.retry import Operation

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

_KNOWN: dict[str, Operation] = {
    "/1/upload": "upload_events",  # events are appended: not safe to repeat, whatever the body
    "/1/delete/profiles.json": "delete_profiles",
    "/1/targets/create.json": "create_campaign",  # estimate_only or not, read as a create
    "/1/targets/list.json": "list_campaigns",
    "/1/targets/stop.json": "stop_campaign",
    "/1/targets/result.json": "campaign_report",
    "/1/message/report.json": "message_report",
    "/1/send/externaltrigger.json": "external_trigger",
    "/2/send/externaltrigger.json": "external_trigger",
    "/1/events.json": "export_events",
    "/1/profiles.json": "export_profiles",
    "/1/profile.json": "get_profile",
    "/1/counts/events.json": "count_events",
    "/1/counts/profiles.json": "count_profiles",
    "/1/now.json": "now",
    "/getSchema": "get_schema",
    "/api/createSegment": "create_segment",
    "/api/updateSegment": "update_segment",
    "/get_custom_list_segment_url": "custom_list_url",
    "/upload_custom_list_segment_completed": "custom_list_completed",
}
_SEND = re.compile(r"/1/send/[a-z]+\.json")
READS: frozenset[Operation] = frozenset(
    {
        "list_campaigns",
        "campaign_report",
        "message_report",
        "export_events",
        "export_profiles",
        "get_profile",
        "count_events",
        "count_profiles",
        "now",
        "get_schema",
        "custom_list_url",  # a presigned URL to upload to: nothing is made until completion
    }
)
"""The known endpoints that change nothing in the account, whatever their method."""


@dataclass(frozen=True)
class ApiAnswer:
    """What the endpoint answered (the passcode scrubbed from ``body``); ``error`` is what
    the answer means when it is a failure (the exit code comes from it)."""

    status: int
    body: bytes
    error: CleverTapError | None = None


def operation_of(method: str, path: str) -> Operation:
    """The retry row and slots of a call: a known endpoint's own; for another path, a GET is
    a read (safe to repeat) and any other method a write (a 5xx or a lost answer is not sent
    again)."""
    known = _KNOWN.get(path) or ("send" if _SEND.fullmatch(path) else None)
    if known is not None:
        return known
    return "api_read" if method == "GET" else "api_write"


def changes_the_account(method: str, path: str) -> bool:
    """Whether the call may change the account: any method but GET, unless the path is a known
    read (``POST /1/now.json``, ``POST /1/targets/list.json``, …)."""
    return method != "GET" and operation_of(method, path) not in READS


def check_path(method: str, path: str) -> tuple[str, str | None]:
    """``(path, query)`` of a path as given (a query after ``?`` is kept as written); refuses
    anything but a path on the account's host, so the credentials go nowhere else."""
    what = f"{method} {path}"
    if method not in METHODS:
        raise InvalidRequest(f"{what}: the method must be one of {', '.join(METHODS)}")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        raise InvalidRequest(
            f"{what}: give a path on the account's host, starting with one '/' "
            "(such as /1/now.json); the region's host comes from the environment"
        )
    if any(ord(c) <= 32 or ord(c) == 127 for c in path) or "#" in path:
        raise InvalidRequest(f"{what}: the path holds a space, a control character or '#'")
    bare, mark, query = path.partition("?")
    return bare, (query if mark else None)
