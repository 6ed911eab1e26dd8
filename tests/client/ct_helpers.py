"""Shared helpers for client tests: MockTransport handlers, a recording transport, a fake clock."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx

from ctflow.clevertap import CleverTap, Credentials, Limits, RetryPolicy

PASSCODE = "PASS-zq81-UNIQUE-SECRET"
CREDS = Credentials(account_id="W9R-ACCOUNT-1", passcode=PASSCODE)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
AsyncHandler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


class FakeClock:
    """``clock``/``sleep`` pair: sleeping advances time instantly and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Recorder:
    """A MockTransport handler that records requests and answers from a script or a function."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        result = answer(request)
        return result if isinstance(result, httpx.Response) else await result

    @property
    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]


def make_client(
    handler: AsyncHandler,
    *,
    retry: RetryPolicy | None = None,
    limits: Limits | None = None,
    clock: FakeClock | None = None,
    credentials: Credentials = CREDS,
    **kw: Any,
) -> CleverTap:
    clock = clock or FakeClock()
    return CleverTap(
        credentials,
        base_url="https://eu1.api.clevertap.com",
        transport=httpx.MockTransport(handler),
        retry=retry or RetryPolicy.instant(),
        limits=limits or Limits(),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )
