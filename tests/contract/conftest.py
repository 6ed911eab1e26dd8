"""Fixtures for the contract suite: the real client against the sandbox, in-process or over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ctflow.clevertap import CleverTap
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY, NOW, LoopbackServer


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(db=":memory:")
    sb.clock.set(NOW)
    yield sb
    sb.close()


@pytest.fixture
def served(sandbox: Sandbox) -> Iterator[LoopbackServer]:
    with LoopbackServer(sandbox) as server:
        yield server


@pytest.fixture(params=["in_process", pytest.param("loopback", marks=pytest.mark.loopback)])
async def client(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[CleverTap]:
    """The same client, once through the ASGI transport and once over real loopback HTTP."""
    if request.param == "in_process":
        async with CleverTap.in_process(sandbox.app, CREDS, retry=FAST_RETRY) as ct:
            yield ct
        return
    with LoopbackServer(sandbox) as server:
        async with CleverTap(CREDS, base_url=server.base_url, retry=FAST_RETRY) as ct:
            yield ct


@pytest.fixture
async def local(sandbox: Sandbox) -> AsyncIterator[CleverTap]:
    """In-process only, for tests that don't need to cross a socket."""
    async with CleverTap.in_process(sandbox.app, CREDS, retry=FAST_RETRY) as ct:
        yield ct
