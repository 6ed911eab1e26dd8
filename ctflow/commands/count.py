"""``ctflow count events|profiles``: ``/1/counts/*.json`` (§8.4). CleverTap may answer
``partial`` first; the client polls, and on a terminal a line on stderr shows the wait.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from ctflow.commands import query
from ctflow.commands.reading import Reader, ticking
from ctflow.errors import ExitCode

POLL_INTERVAL = 1.0
"""Seconds between two asks while CleverTap answers ``partial``."""
BUDGET = 120.0
"""How long a count may stay ``partial`` before it is given up (exit 5)."""


def count(
    reader: Reader,
    kind: str,
    *,
    event: str | None,
    start: date | None,
    end: date | None,
    where_file: Path | None,
    fmt: str,
) -> int:
    """How many events (or profiles) match the query."""
    where = query.load_where(where_file) if where_file is not None else None
    body = query.build(kind, where, event=event, start=start, end=end)

    async def ask() -> int:
        async with reader.client() as client:
            method = client.count_events if kind == "events" else client.count_profiles
            work = method(body, budget_seconds=BUDGET, poll_interval=POLL_INTERVAL)
            return await ticking(work, f"counting {kind} ({reader.place})…", reader)

    result = asyncio.run(ask())
    if fmt == "json":
        reader.json(
            {"environment": reader.environment, "kind": kind, "count": result, "query": body}
        )
        return ExitCode.OK
    reader.out.write(f"{result:,} {kind}{_described(kind, body, where_file)} ({reader.place})\n")
    return ExitCode.OK


def _described(kind: str, body: dict[str, object], where_file: Path | None) -> str:
    parts = []
    if "event_name" in body:
        did = "" if kind == "events" else " who did"
        span = f"from {_iso(body['from'])} to {_iso(body['to'])}"
        parts.append(f"{did} {body['event_name']!r} {span}")
    if where_file is not None:
        parts.append(f" matching {where_file}")
    return "".join(parts)


def _iso(day: object) -> str:
    text = str(day)
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 else text
