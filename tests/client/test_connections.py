"""What a call costs the client over real loopback HTTP, whatever the calls in flight: it looks
at one connection, not at all of them, and no import is searched for on the way; connections
are reused; a proxy in the environment is still honoured, and HTTPS still verifies."""

from __future__ import annotations

import asyncio
import importlib.abc
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpcore
import pytest
import uvicorn

from ctflow.clevertap import CleverTap, RetryPolicy, TransportError
from tests.client.ct_helpers import CREDS
from tests.contract.support import LoopbackServer

IN_FLIGHT = 15
ROUNDS = 4
BODY = b'{"d":[{"type":"event","identity":"u1","ts":1763600000,"evtName":"Viewed"}]}'


class SlowUpload:
    """Answers every upload after 30 ms (so that calls overlap), noting each connection."""

    def __init__(self) -> None:
        self.connections: set[tuple[str, int]] = set()
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.connections.add(tuple(scope["client"]))  # type: ignore[arg-type]
        self.calls += 1
        while (await receive()).get("more_body"):
            pass
        await asyncio.sleep(0.03)
        body = b'{"status":"success","processed":1,"unprocessed":[]}'
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def served() -> Iterator[tuple[LoopbackServer, SlowUpload]]:
    app = SlowUpload()
    with LoopbackServer(app) as server:
        yield server, app


async def rounds(base_url: str) -> None:
    async with CleverTap(CREDS, base_url=base_url) as ct:
        for _ in range(ROUNDS):
            results = await asyncio.gather(*(ct.upload_encoded(BODY) for _ in range(IN_FLIGHT)))
            assert all(result.ok for result in results)


@pytest.mark.loopback
async def test_a_call_looks_at_one_connection_however_many_are_in_flight(
    served: tuple[LoopbackServer, SlowUpload], monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's one pool looks over each of its connections several times a call (~0.6 ms of
    CPU a call at 15 connections); each call in flight has a pool of its own instead."""
    server, app = served
    looks = 0
    has_expired = httpcore.AsyncHTTPConnection.has_expired

    def counted(self: httpcore.AsyncHTTPConnection) -> bool:
        nonlocal looks
        looks += 1
        return has_expired(self)

    monkeypatch.setattr(httpcore.AsyncHTTPConnection, "has_expired", counted)
    await rounds(server.base_url)

    assert app.calls == IN_FLIGHT * ROUNDS
    assert len(app.connections) == IN_FLIGHT, "one connection per call in flight, reused"
    assert looks <= 3 * app.calls, f"{looks} looks at a connection for {app.calls} calls"


class Searches(importlib.abc.MetaPathFinder):
    """Notes every module the import system searches for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        self.names.append(fullname)


@pytest.mark.loopback
async def test_no_call_searches_for_a_module(
    served: tuple[LoopbackServer, SlowUpload], monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpcore imports sniffio on every call, and without it installed each failed import
    searched the whole path (~0.7 ms of CPU a call)."""
    server, app = served
    searches = Searches()
    async with CleverTap(CREDS, base_url=server.base_url) as ct:
        await ct.upload_encoded(BODY)  # whatever a first call imports
        monkeypatch.setattr(sys, "meta_path", [searches, *sys.meta_path])
        await asyncio.gather(*(ct.upload_encoded(BODY) for _ in range(IN_FLIGHT)))
    assert app.calls == IN_FLIGHT + 1
    assert searches.names == []


@pytest.mark.loopback
async def test_a_proxy_in_the_environment_carries_the_calls(
    served: tuple[LoopbackServer, SlowUpload], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, app = served
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
    monkeypatch.setenv("http_proxy", proxy.base_url)
    async with CleverTap(CREDS, base_url="http://127.0.0.1:9") as ct:  # nothing listens there
        result = await ct.upload_encoded(BODY)
    assert result.ok
    assert app.calls == 1


SELF_SIGNED = Path(__file__).with_name("selfsigned.pem")
"""A certificate for 127.0.0.1 that no authority signed, and its key (tests only)."""


@contextmanager
def served_over_tls(app: Any) -> Iterator[int]:
    """``app`` on 127.0.0.1 over HTTPS with the self-signed certificate; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="critical",
        lifespan="off",
        ssl_certfile=str(SELF_SIGNED),
        ssl_keyfile=str(SELF_SIGNED),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the HTTPS server did not start"
            time.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.loopback
async def test_https_refuses_a_certificate_no_authority_signed() -> None:
    app = SlowUpload()
    with served_over_tls(app) as port:
        async with CleverTap(CREDS, base_url=f"https://127.0.0.1:{port}") as ct:
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
                await ct.upload_encoded(BODY, retry=RetryPolicy(attempts=1))
    assert app.calls == 0
