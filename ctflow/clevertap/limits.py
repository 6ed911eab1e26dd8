"""Client-side concurrency: one semaphore per endpoint family, and a start-rate limit on creates.

CleverTap counts concurrent requests per account and API (15 upload, 3 everything else) and
rejects excess with 429; staying under the ceiling here keeps 429s (and retries) rare. The
semaphores keep one process under it; :class:`AccountSlots`, when given, keeps every process
that shares them under it together (ctflow's PostgreSQL journal provides them).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias, get_args

from ctflow.clevertap.retry import Operation

Family: TypeAlias = Literal[
    "upload",
    "create",
    "stop",
    "list",
    "report",
    "message_report",
    "send",
    "external_trigger",
    "events_export",
    "profiles_export",
    "count_events",
    "count_profiles",
    "now",
    "profile",
    "delete",
    "schema",
    "api",
    "segment",
    "custom_list",
]
FAMILIES: tuple[Family, ...] = get_args(Family)
FAMILY_OF: Mapping[Operation, Family] = {
    "upload_events": "upload",
    "upload_profiles": "upload",
    "upload_tokens": "upload",
    "delete_profiles": "delete",
    "create_campaign": "create",
    "estimate_campaign": "create",
    "list_campaigns": "list",
    "stop_campaign": "stop",
    "campaign_report": "report",
    "message_report": "message_report",
    "send": "send",
    "external_trigger": "external_trigger",
    "export_events": "events_export",
    "export_profiles": "profiles_export",
    "get_profile": "profile",
    "count_events": "count_events",
    "count_profiles": "count_profiles",
    "now": "now",
    "get_schema": "schema",
    "api_read": "api",  # paths the client does not know share one family of 3 slots
    "api_write": "api",
    "create_segment": "segment",
    "update_segment": "segment",
    "custom_list_url": "custom_list",
    "custom_list_completed": "custom_list",
}
"""The API (and so the slots) each call of the client counts against."""

Clock: TypeAlias = Callable[[], float]
Sleep: TypeAlias = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """Concurrent requests per family: ``upload`` for /1/upload, ``other`` for each other one."""

    upload: int = 15
    other: int = 3
    create_per_second: int = 3

    def __post_init__(self) -> None:
        if min(self.upload, self.other, self.create_per_second) < 1:
            raise ValueError(f"limits must be at least 1: {self}")

    def concurrency(self, family: Family) -> int:
        return self.upload if family == "upload" else self.other


WINDOW_SECONDS = 1.1
"""The rate window plus a margin: the server counts arrivals, which jitter after our starts."""


class StartRateLimiter:
    """Lets at most ``per_second`` requests start in any window of ``WINDOW_SECONDS``."""

    def __init__(self, per_second: int, *, clock: Clock, sleep: Sleep) -> None:
        self._per_second = per_second
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            if len(self._starts) >= self._per_second:
                delay = self._starts[0] + WINDOW_SECONDS - self._clock()
                if delay > 0:
                    await self._sleep(delay)
                self._starts.popleft()
            self._starts.append(self._clock())


class AccountSlots(Protocol):
    """The account's calls in flight, counted across processes: one of ``ceiling`` slots of
    ``family`` is held while the context lasts, and comes back when it ends (or when the
    process holding it dies)."""

    def hold(self, family: Family, ceiling: int) -> AbstractAsyncContextManager[object]: ...


class Gate:
    """Hands out request slots per family (this process's, then, with ``shared``, one of the
    account's); creates also pass the start-rate limiter."""

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared: AccountSlots | None = None,
    ) -> None:
        self.limits = limits
        self._semaphores = {f: asyncio.Semaphore(limits.concurrency(f)) for f in FAMILIES}
        self._create_rate = StartRateLimiter(limits.create_per_second, clock=clock, sleep=sleep)
        self._shared = shared

    @asynccontextmanager
    async def slot(self, family: Family) -> AsyncIterator[None]:
        ceiling = self.limits.concurrency(family)
        async with self._semaphores[family]:
            held = self._shared.hold(family, ceiling) if self._shared else nullcontext()
            async with held:
                if family == "create":
                    await self._create_rate.wait()
                yield
