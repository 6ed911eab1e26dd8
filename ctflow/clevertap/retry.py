"""When and how a failed attempt is tried again (stamina: jittered exponential backoff + budget).

Only outcomes that prove the request was not processed are retried: 429, 503, a failed connect;
502/504 and a lost answer as well for idempotent calls. Otherwise ambiguous outcomes,
validation and auth never are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    RateLimitedError,
    ServerError,
    TransportError,
)

T = TypeVar("T")

NOT_PROCESSED_STATUSES = frozenset({503})
"""5xx answers that say the request was refused before any work (safe for any call)."""
GATEWAY_STATUSES = frozenset({502, 504})
"""5xx answers from a gateway: upstream may have processed it, so only idempotent calls retry."""


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


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    if isinstance(exc, RateLimitedError | TransportError):
        return True
    if idempotent and type(exc) is AmbiguousOutcomeError:
        return True  # a lost answer: asking again cannot do anything twice
    if isinstance(exc, ServerError) and exc.status is not None:
        return exc.status in NOT_PROCESSED_STATUSES or (
            idempotent and exc.status in GATEWAY_STATUSES
        )
    return False


async def call_with_retry(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[T]],
    *,
    idempotent: bool,
) -> T:
    """Await ``attempt()`` until it succeeds, fails for good, or the policy is spent."""

    def on(exc: BaseException) -> bool:
        return isinstance(exc, Exception) and is_retryable(exc, idempotent=idempotent)

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
