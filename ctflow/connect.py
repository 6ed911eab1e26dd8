"""Turns a resolved :class:`~ctflow.config.Target` into a connected CleverTap client.

The one place that knows the sandbox and the client together: a sandbox target runs the emulator
in-process (no port, no credentials); a real target connects by region or ``base_url``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctflow.clevertap import CleverTap, Credentials
from ctflow.config import Target
from ctflow.errors import CtflowError

if TYPE_CHECKING:
    from ctflow.sandbox import Sandbox


def open_sandbox(db: Path, timezone: str | None = None) -> Sandbox:
    """The sandbox stored in ``db`` (created if missing); an unusable path says which and why.

    ``timezone`` is the emulated account's (the project's ``timezone:``), UTC when not given.
    """
    from ctflow.sandbox import Sandbox, SandboxConfig

    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        return Sandbox(db=db, config=SandboxConfig(timezone=timezone or "UTC"))
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CtflowError(f"cannot open the sandbox database {db}: {reason}") from None


def sandbox_client(sandbox: Sandbox, **options: Any) -> CleverTap:
    """A client whose requests the in-process ``sandbox`` answers, with its own credentials."""
    from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, DEFAULT_TOKEN

    creds = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, DEFAULT_TOKEN)
    return CleverTap.in_process(sandbox.app, creds, **options)


@asynccontextmanager
async def open_client(target: Target, *, timezone: str | None = None) -> AsyncIterator[CleverTap]:
    """A client of ``target``; a sandbox emulates an account in ``timezone``."""
    if target.sandbox_db is not None:
        sandbox = open_sandbox(target.sandbox_db, timezone)
        try:
            async with sandbox_client(sandbox) as client:
                yield client
        finally:
            sandbox.close()
        return
    assert target.account_id is not None
    assert target.passcode is not None
    env = target.environment
    creds = Credentials(target.account_id, target.passcode, target.token)
    async with AsyncExitStack() as stack:
        shared = None
        if target.journal is not None and target.journal.is_shared:
            # Every process with this journal counts its calls to the account together.
            from ctflow.journal.postgres.slots import PgSlots

            slots = PgSlots.connect(target.journal, account=target.account_id)
            shared = await stack.enter_async_context(await slots)
        client = CleverTap(
            creds,
            region=env.region,
            base_url=env.base_url,
            shared=shared,
            account_timezone=timezone,
        )
        yield await stack.enter_async_context(client)
