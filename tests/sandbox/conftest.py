"""Fixtures for the sandbox tests: a frozen-clock sandbox and an in-process httpx client."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ctflow.sandbox import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_PASSCODE,
    Clock,
    Sandbox,
    SandboxConfig,
    server,
)

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(sandbox: Sandbox) -> Iterator[str]:
    """`sandbox` served over loopback HTTP in a thread, as `ctflow sandbox serve` does: its URL."""
    port = free_port()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=server.serve,
        args=(sandbox, "127.0.0.1", port),
        kwargs={"ready": ready, "stop": stop},
        daemon=True,
    )
    thread.start()
    assert ready.wait(10), "sandbox server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


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
