"""``ctflow now``: real-time counts (``/1/now.json``, §8.5).

A plain function returning an exit code; the client comes from :mod:`ctflow.connect`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, TextIO

from ctflow.config import Target
from ctflow.connect import open_client
from ctflow.errors import ExitCode


def now(target: Target, breakdowns: tuple[str, ...], fmt: str, *, out: TextIO) -> int:
    """Users active in the last five minutes (``POST /1/now.json``), with optional breakdowns."""
    flags = {name: True for name in breakdowns}

    async def ask() -> Any:
        async with open_client(target) as client:
            return await client.now(**flags)

    result = asyncio.run(ask())
    where = "sandbox" if target.is_sandbox else f"environment {target.environment.name!r}"
    if fmt == "json":
        shown: dict[str, Any] = dict(result.breakdowns)
        if result.new_users:  # CleverTap's nesting: "new" holds the new users' breakdowns
            shown["new"] = dict(result.new_users)
        payload = {
            "environment": target.environment.name,
            "count": result.count,
            "last_processed_ts": result.last_processed_ts,
            "breakdowns": shown,
        }
        out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return ExitCode.OK
    out.write(f"{result.count:,} users active in the last 5 minutes ({where})\n")
    for name, values in sorted(result.breakdowns.items()):
        out.write(f"  {name}: {_counts(values)}\n")
    if result.new_users:
        out.write("  of them new:\n")
        for name, values in sorted(result.new_users.items()):
            out.write(f"    {name}: {_counts(values)}\n")
    return ExitCode.OK


def _counts(values: Mapping[str, int]) -> str:
    """``mobile 230, desktop 32, tablet 1``: the largest first."""
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{word} {number:,}" for word, number in ordered) or "none"
