"""The account's concurrency budget, shared by every process using one PostgreSQL journal.

CleverTap counts calls in flight per account, for all callers together (15 upload, 3 other).
Each slot of that budget is a session advisory lock on (account, family, n): a process takes
one before each call and gives it back after, and a process that dies gives back what it held
(its connection goes, its locks with it). A process waiting for a slot looks for any free one,
one look at a time, backing off between looks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any, Self

import psycopg

from ctflow.errors import JournalUnavailable
from ctflow.journal.location import JournalLocation, mask_password
from ctflow.journal.postgres.schema import advisory_key

FIRST_WAIT = 0.002
LONGEST_WAIT = 0.05
"""Seconds between two looks for a free slot: doubling from the first to the longest."""


class PgSlots:
    """``hold(family, ceiling)``: :class:`ctflow.clevertap.limits.AccountSlots` over one
    connection of its own."""

    def __init__(self, location: JournalLocation, account: str, conn: Any) -> None:
        self._where = location
        self._account = account
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] = conn
        self._keys: dict[tuple[str, int], list[int]] = {}
        self._held: set[int] = set()
        self._lock = asyncio.Lock()
        self._waiting = asyncio.Lock()
        self._lost: str | None = None

    @classmethod
    async def connect(cls, location: JournalLocation, account: str) -> Self:
        try:
            conn = await psycopg.AsyncConnection.connect(
                location.url, autocommit=True, connect_timeout=10, application_name="ctflow"
            )
        except psycopg.Error as exc:
            raise JournalUnavailable(f"cannot reach the journal {location.shown}: {exc}") from None
        return cls(location, account, conn)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._conn.close()

    @asynccontextmanager
    async def hold(self, family: str, ceiling: int) -> AsyncIterator[int]:
        """One of the account's ``ceiling`` slots of ``family``, while the context lasts."""
        keys = self._keys.setdefault((family, ceiling), self._slot_keys(family, ceiling))
        async with self._waiting:  # one look at a time from this process
            key = await self._take(keys)
        try:
            yield key
        finally:
            self._held.discard(key)
            # A lost connection gave its locks back with it; only the next call must know.
            with suppress(JournalUnavailable):
                await self._rows("SELECT pg_advisory_unlock(%s)", (key,))

    def _slot_keys(self, family: str, ceiling: int) -> list[int]:
        return [advisory_key("slot", self._account, family, str(n)) for n in range(ceiling)]

    async def _take(self, keys: list[int]) -> int:
        """The first free slot among those this process does not hold (a session's advisory
        locks nest, so a slot held twice would count once); the scan stops at the one it takes."""
        wait = FIRST_WAIT
        while True:
            if self._lost is not None:
                raise JournalUnavailable(self._lost)
            free = [key for key in keys if key not in self._held]
            random.shuffle(free)  # spread the processes over the slots
            rows = await self._rows(
                "SELECT k FROM unnest(%s::bigint[]) AS t (k) WHERE pg_try_advisory_lock(k) LIMIT 1",
                (free,),
            )
            if rows:
                key = int(rows[0][0])
                self._held.add(key)
                return key
            await asyncio.sleep(random.uniform(wait / 2, wait))
            wait = min(LONGEST_WAIT, wait * 2)

    async def _rows(self, sql: Any, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """One statement at a time on the connection."""
        try:
            async with self._lock:
                return await (await self._conn.execute(sql, params)).fetchall()
        except psycopg.Error as exc:
            shown = " ".join(mask_password(word) for word in str(exc).split(" "))
            self._lost = f"lost the journal {self._where.shown}: {shown}"
            raise JournalUnavailable(self._lost) from None
