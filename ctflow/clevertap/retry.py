"""Which failed attempts of each call are tried again (``RETRIES``, the table in docs/client.md),
and how (stamina: jittered exponential backoff within a budget).

A 429 and a connection that could not be made are retried for every call: CleverTap did not
process them. A 5xx or a lost answer says nothing of whether the request was processed, so only
calls safe to repeat (reads, stops, profile and token upserts, deletes, segment creates and
membership changes) are asked again; for the
others (creates, sends, external triggers, event uploads) it is ambiguous, raised as
``AmbiguousOutcomeError`` after one attempt, and the caller reconciles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

import stamina

from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    CleverTapError,
    RateLimitedError,
    ServerError,
    TransportError,
)

T = TypeVar("T")

Operation: TypeAlias = Literal[
    "upload_events",
    "upload_profiles",
    "upload_tokens",
    "delete_profiles",
    "create_campaign",
    "estimate_campaign",
    "list_campaigns",
    "stop_campaign",
    "campaign_report",
    "message_report",
    "send",
    "external_trigger",
    "export_events",
    "export_profiles",
    "get_profile",
    "count_events",
    "count_profiles",
    "now",
    "get_schema",
    "api_read",
    "api_write",
    "create_segment",
    "update_segment",
    "custom_list_url",
    "custom_list_completed",
]
"""Every call the client makes, named as in docs/client.md's retry table."""

RETRIED_STATUSES = frozenset({500, 502, 503, 504})
"""The 5xx answers a call safe to repeat asks again after; other 5xx fail at once."""
NOT_REPEATABLE = frozenset({"$incr", "$decr"})
"""Profile operations that change the value again when a batch is sent twice."""


@dataclass(frozen=True)
class Retries:
    """Which failed attempts of a call are tried again: the columns of the table."""

    rate_limited: bool
    """429: CleverTap refused it unprocessed."""
    not_connected: bool
    """The connection could not be made: the request never left."""
    server_error: bool
    """500, 502, 503, 504: it may have been processed."""
    lost_answer: bool
    """Sent, but no answer was read: it may have been processed."""


SAFE_TO_REPEAT = Retries(rate_limited=True, not_connected=True, server_error=True, lost_answer=True)
ONCE = Retries(rate_limited=True, not_connected=True, server_error=False, lost_answer=False)
"""Not safe to repeat: a 5xx or a lost answer is ambiguous, never asked again."""

RETRIES: Mapping[Operation, Retries] = {
    "upload_events": ONCE,  # CleverTap appends events, never deduplicates them
    "upload_profiles": SAFE_TO_REPEAT,  # upserts (no $incr/$decr): twice is once
    "upload_tokens": SAFE_TO_REPEAT,
    "delete_profiles": SAFE_TO_REPEAT,  # a deleted profile stays deleted
    "create_campaign": ONCE,  # no idempotency key: a second campaign, maybe sending
    "estimate_campaign": SAFE_TO_REPEAT,  # estimate_only creates nothing
    "list_campaigns": SAFE_TO_REPEAT,
    "stop_campaign": SAFE_TO_REPEAT,  # stopping a stopped campaign succeeds
    "campaign_report": SAFE_TO_REPEAT,
    "message_report": SAFE_TO_REPEAT,
    "send": ONCE,  # never deduplicated: a second message
    "external_trigger": ONCE,
    "export_events": SAFE_TO_REPEAT,
    "export_profiles": SAFE_TO_REPEAT,
    "get_profile": SAFE_TO_REPEAT,
    "count_events": SAFE_TO_REPEAT,
    "count_profiles": SAFE_TO_REPEAT,
    "now": SAFE_TO_REPEAT,
    "get_schema": SAFE_TO_REPEAT,
    "api_read": SAFE_TO_REPEAT,  # ctflow api: a GET of a path the client does not know
    "api_write": ONCE,  # ctflow api: any other method on such a path
    # The client's customer_segment_id is an idempotency key: asked again, the same segment.
    "create_segment": SAFE_TO_REPEAT,
    "update_segment": SAFE_TO_REPEAT,  # ADD and REMOVE are set operations: twice is once
    "custom_list_url": SAFE_TO_REPEAT,  # another URL, nothing made
    # Made once, a second completion without replace fails duplicate_name: say it may be done.
    "custom_list_completed": ONCE,
}


def upload_operation(records: Sequence[Mapping[str, Any]]) -> Operation:
    """What an upload of ``records`` is: tokens, profile upserts, or (any event, or a profile
    ``$incr``/``$decr``, makes it so) events."""
    kinds = {record.get("type") for record in records}
    if kinds == {"token"}:
        return "upload_tokens"
    if kinds <= {"profile", "token"} and all(is_upsert(record) for record in records):
        return "upload_profiles"
    return "upload_events"


def is_upsert(record: Mapping[str, Any]) -> bool:
    """Whether sending this profile (or token) record twice leaves it as sending it once."""
    data = record.get("profileData")
    if not isinstance(data, Mapping):
        return True
    return not any(isinstance(v, Mapping) and NOT_REPEATABLE & v.keys() for v in data.values())


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` in total (1 = no retry) within ``timeout`` seconds; waits grow exponentially."""

    attempts: int = 6
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 1.0
    wait_exp_base: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0:
            raise ValueError(f"retry policy needs attempts >= 1 and timeout > 0: {self}")

    @classmethod
    def instant(cls, attempts: int = 6) -> RetryPolicy:
        """No waiting between attempts (tests, or callers that pace themselves)."""
        return cls(attempts=attempts, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)


def is_retryable(exc: BaseException, operation: Operation) -> bool:
    """Whether ``exc``, from one attempt of ``operation``, is worth another attempt."""
    retries = RETRIES[operation]
    if isinstance(exc, RateLimitedError):
        return retries.rate_limited
    if isinstance(exc, TransportError):
        return retries.not_connected
    if isinstance(exc, ServerError):
        return retries.server_error and exc.status in RETRIED_STATUSES
    if type(exc) is AmbiguousOutcomeError:  # not a 2xx we could not read: that stays as it is
        return retries.lost_answer
    return False


def server_error(exc: ServerError, operation: Operation) -> CleverTapError:
    """What a 5xx answer to ``operation`` means: for a call not safe to repeat, an ambiguous
    outcome (nothing CleverTap documents says a 5xx was not processed); else ``exc``."""
    if RETRIES[operation].server_error:
        return exc
    return AmbiguousOutcomeError(
        f"{exc.message}; a server error does not say whether the request was processed, "
        "so it is not sent again",
        endpoint=exc.endpoint,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
    )


async def call_with_retry(
    policy: RetryPolicy, attempt: Callable[[], Awaitable[T]], *, operation: Operation
) -> T:
    """Await ``attempt()`` until it succeeds, fails for good, or the policy is spent."""

    def on(exc: BaseException) -> bool:
        return isinstance(exc, Exception) and is_retryable(exc, operation)

    async for retry in stamina.retry_context(
        on=on,
        attempts=policy.attempts,
        timeout=policy.timeout,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
        wait_exp_base=policy.wait_exp_base,
    ):
        with retry:
            return await attempt()
    raise AssertionError("unreachable: stamina re-raises the last error")
