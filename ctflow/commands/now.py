"""``ctflow now``: real-time counts (``/1/now.json``, §8.5).

A plain function returning an exit code; the client comes from :mod:`ctflow.connect`.
"""

from __future__ import annotations

import asyncio
import json
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
        payload = {
            "environment": target.environment.name,
            "count": result.count,
            "last_processed_ts": result.last_processed_ts,
            "breakdowns": dict(result.breakdowns),
        }
        out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return ExitCode.OK
    out.write(f"{result.count:,} users active in the last 5 minutes ({where})\n")
    for name, values in sorted(result.breakdowns.items()):
        out.write(f"  {name}: {json.dumps(values, sort_keys=True)}\n")
    return ExitCode.OK
