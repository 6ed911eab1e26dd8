"""The two CleverTap protocols that make a caller wait: cursor exports and ``req_id`` counts.

Both go through the client's one request path (``Call``) and pace themselves with an injected
clock and sleep, within a time budget.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol
from urllib.parse import quote

from ctflow.clevertap._http import QueryParams
from ctflow.clevertap.errors import (
    InvalidRequest,
    MethodNotAllowedError,
    ResultNotReadyError,
    UnexpectedResponseError,
)
from ctflow.clevertap.limits import Clock, Sleep
from ctflow.clevertap.models import as_int
from ctflow.clevertap.retry import Operation

logger = logging.getLogger("ctflow.clevertap")

MAX_EXPORT_BATCH = 5000
# Left as they are in a cursor: it arrives percent-encoded and must not be encoded again.
_CURSOR_SAFE = "%+/=-_.~!$'()*,;:@"


class Call(Protocol):
    async def __call__(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        raw_query: str | None = None,
    ) -> dict[str, Any]: ...


class Pacing:
    """A clock, a sleep, a budget and an interval: how long and how often to ask again."""

    def __init__(self, clock: Clock, sleep: Sleep, budget: float, interval: float) -> None:
        self.clock, self.sleep = clock, sleep
        self.budget, self.interval = budget, interval
        self.deadline = clock() + budget

    def restart(self) -> None:
        self.deadline = self.clock() + self.budget

    async def wait_or(self, error: ResultNotReadyError) -> None:
        """Sleep one interval, or raise ``error`` if that would pass the deadline."""
        if self.clock() + self.interval > self.deadline:
            raise error
        await self.sleep(self.interval)


async def export(
    call: Call,
    operation: Operation,
    path: str,
    query: Mapping[str, Any],
    *,
    batch_size: int,
    flags: Mapping[str, bool],
    pacing: Pacing,
) -> AsyncIterator[dict[str, Any]]:
    """POST the query for a cursor, then GET page after page until ``next_cursor`` is absent."""
    if not 1 <= batch_size <= MAX_EXPORT_BATCH:
        raise InvalidRequest(f"{path}: batch_size must be 1 to {MAX_EXPORT_BATCH}")
    params: dict[str, str | int] = {"batch_size": batch_size}
    params.update({k: "true" if v else "false" for k, v in flags.items()})
    doc = await call(operation, "POST", path, params=params, json=dict(query))
    cursor = doc.get("cursor") or doc.get("next_cursor")
    for record in _records(doc):
        yield record
    while isinstance(cursor, str) and cursor:
        pacing.restart()
        page = await _page(call, operation, path, cursor, pacing)
        for record in _records(page):
            yield record
        cursor = page.get("next_cursor")


async def _page(
    call: Call, operation: Operation, path: str, cursor: str, pacing: Pacing
) -> dict[str, Any]:
    """One page; "still in progress" (code 2) is asked again on the same cursor."""
    raw_query = "cursor=" + quote(cursor, safe=_CURSOR_SAFE)
    while True:
        try:
            return await call(operation, "GET", path, raw_query=raw_query)
        except ResultNotReadyError as exc:
            await pacing.wait_or(
                ResultNotReadyError(
                    f"GET {path}: export page still in progress after {pacing.budget:g}s",
                    endpoint=exc.endpoint,
                    status=exc.status,
                    code=exc.code,
                    detail=exc.detail,
                )
            )


async def count(
    call: Call, operation: Operation, path: str, query: Mapping[str, Any], *, pacing: Pacing
) -> int:
    """POST the query, then poll ``?req_id=`` (GET; POST if GET answers 405) until done."""
    body = dict(query)
    doc = await call(operation, "POST", path, json=body)
    method = "GET"
    while doc.get("status") == "partial":
        req_id = doc.get("req_id")
        if req_id is None:
            raise UnexpectedResponseError(f"POST {path}: 'partial' without a req_id")
        await pacing.wait_or(
            ResultNotReadyError(
                f"{path}: count still computing after {pacing.budget:g}s (req_id {req_id})",
                endpoint=f"{method} {path}",
            )
        )
        try:
            doc = await call(
                operation,
                method,
                path,
                params={"req_id": req_id},
                json=body if method == "POST" else None,
            )
        except MethodNotAllowedError:
            if method == "POST":
                raise
            logger.debug("GET %s?req_id= answered 405; polling with POST", path)
            method = "POST"
        except ResultNotReadyError:
            pass
    result = as_int(doc.get("count"))
    if result is None:
        raise UnexpectedResponseError(f"{path}: answer has no count: {doc.get('status')!r}")
    return result


def _records(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    records = doc.get("records")
    if not isinstance(records, list):
        return []
    return [dict(r) for r in records if isinstance(r, Mapping)]
