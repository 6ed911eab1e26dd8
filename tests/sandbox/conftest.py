"""Fixtures for the sandbox tests: a frozen-clock sandbox and an in-process httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Clock, Sandbox, SandboxConfig

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
AUTH = {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": DEFAULT_PASSCODE}
PUSH = {
    "name": "Welcome push",
    "target_mode": "push",
    "where": {},
    "when": "now",
    "devices": ["android", "ios"],
    "content": {
        "title": "Hi",
        "body": "Welcome",
        "platform_specific": {"android": {"wzrk_cid": "general"}},
    },
}


def campaign(**changes: Any) -> dict[str, Any]:
    """A valid push create body with some fields replaced (None removes a field)."""
    body = {**PUSH, **changes}
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    # Most tests create several campaigns in well under a second; the 3/s window has its own test.
    sandbox = Sandbox(":memory:", config=SandboxConfig(create_per_second=0), clock=Clock(NOW))
    yield sandbox
    sandbox.close()


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=AUTH
    ) as http:
        yield http
