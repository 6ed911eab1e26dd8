"""The request gate every API call passes: auth (§1.2), per-account concurrency and the create
rate (§1.4, kept by :mod:`~ctflow.sandbox.limits`), injected faults, and "commit then lose the
response". Stdlib, starlette, sandbox only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ctflow.sandbox.custom_lists import PRESIGNED_PREFIX
from ctflow.sandbox.faults import ResponseDropped
from ctflow.sandbox.limits import family_of
from ctflow.sandbox.state import SandboxState

logger = logging.getLogger("ctflow.sandbox")

SERVER_ERRORS = {
    # §1.3: the documented 500 body; 503 in the same shape; gateways answer with HTML.
    500: (
        "application/json",
        {"status": "fail", "error": "An unknown error occurred", "code": 500},
    ),
    503: ("application/json", {"status": "fail", "error": "Service Unavailable", "code": 503}),
    502: ("text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    504: ("text/html", "<html><body><h1>504 Gateway Time-out</h1></body></html>"),
}


async def _respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, body: object) -> None:
    await _respond(send, status, "application/json", json.dumps(body).encode())


async def _discard(message: Message) -> None:
    """The answer of a request processed before an injected 5xx: never sent."""


def _fail(error: str, code: int) -> dict[str, object]:
    return {"status": "fail", "error": error, "code": code}


class GateMiddleware:
    def __init__(self, app: ASGIApp, sandbox: SandboxState) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(PRESIGNED_PREFIX):  # a presigned URL needs no credentials
            await self.app(scope, receive, send)
            return
        config = self.sandbox.config
        headers = Headers(scope=scope)
        account = headers.get("x-clevertap-account-id", "")
        if account not in config.accounts:
            await _json(send, 401, _fail("Account ID is not valid", 401))
            return
        if headers.get("x-clevertap-passcode") != config.accounts[account]:
            await _json(send, 401, _fail("Passcode Invalid", 401))
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox/"):
            await self._guarded(scope, send, lambda tracked: self.app(scope, receive, tracked))
            return
        family = family_of(path)
        limiter = self.sandbox.limiter
        if not limiter.acquire(account, family, config.limit_for(family)):
            await self._too_many(send)
            return
        try:
            if family == "create" and not limiter.create_allowed(account, config.create_per_second):
                await self._too_many(send)
                return
            await self._guarded(
                scope, send, lambda tracked: self._run(scope, receive, tracked, path)
            )
        finally:
            limiter.release(account, family)

    async def _guarded(
        self, scope: Scope, send: Send, run: Callable[[Send], Awaitable[None]]
    ) -> None:
        """An unexpected error answers CleverTap's documented 500 body (§1.3), logged in a line."""
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await run(tracking)
        except ResponseDropped:
            raise
        except Exception as exc:
            logger.warning(
                "sandbox: %s %s failed: %s: %s",
                scope["method"],
                scope["path"],
                type(exc).__name__,
                exc,
            )
            if started:
                raise
            await _json(send, 500, _fail("An unknown error occurred", 500))

    async def _too_many(self, send: Send) -> None:
        # §1.3/§1.4: rejected, not queued; JSON body per client mocks, or empty text [?].
        if self.sandbox.config.rate_limit_body == "empty":
            await _respond(send, 429, "text/plain", b"")
        else:
            await _json(send, 429, _fail("Too many concurrent requests", 429))

    async def _run(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """With latency, a call takes that long in all: its work is done meanwhile and the answer
        leaves at the deadline (later only if the work took longer), as CleverTap's round trip
        does not grow with the work of calls made beside it."""
        faults, picker = self.sandbox.faults, self.sandbox.picker
        if not picker.applies(faults, path):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + faults.latency_ms / 1000
        outcome = picker.pick(faults)
        if outcome == "429":
            await asyncio.sleep(deadline - loop.time())
            await self._too_many(send)
            return
        if outcome in ("500", "502", "503", "504"):
            if faults.commit_5xx:
                await self.app(scope, receive, _discard)
            await asyncio.sleep(deadline - loop.time())
            content_type, body = SERVER_ERRORS[int(outcome)]
            if isinstance(body, str):
                await _respond(send, int(outcome), content_type, body.encode())
            else:
                await _json(send, int(outcome), body)
            return

        async def on_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(deadline - loop.time())
            elif outcome != "ok" and message["type"] == "http.response.body":
                raise ResponseDropped("sandbox fault: response dropped after commit")
            await send(message)

        await self.app(scope, receive, on_time if faults.latency_ms or outcome != "ok" else send)
