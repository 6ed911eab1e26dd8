"""Turns a resolved :class:`~ctflow.config.Target` into a connected CleverTap client.

The one place that knows the sandbox and the client together: a sandbox target runs the emulator
in-process (no port, no credentials); a real target connects by region or ``base_url``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ctflow.clevertap import CleverTap, Credentials
from ctflow.config import Target


@asynccontextmanager
async def open_client(target: Target) -> AsyncIterator[CleverTap]:
    if target.sandbox_db is not None:
        from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox

        target.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
        sandbox = Sandbox(db=str(target.sandbox_db))
        try:
            creds = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)
            async with CleverTap.in_process(sandbox.app, creds) as client:
                yield client
        finally:
            sandbox.close()
        return
    assert target.account_id is not None and target.passcode is not None
    env = target.environment
    creds = Credentials(target.account_id, target.passcode)
    async with CleverTap(creds, region=env.region, base_url=env.base_url) as client:
        yield client
