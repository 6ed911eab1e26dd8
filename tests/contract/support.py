"""Shared pieces of the contract suite: credentials, a fixed clock, a loopback server."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn

from ctflow.clevertap import Credentials, RetryPolicy
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox

CREDS = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=8, timeout=20.0, wait_initial=0.01, wait_max=0.05)
CHROME_KEYS = {"p256dh": "BLc4xRzKlKORKWlbdgFaBrrPK3ydWAHo4M0gs0i1oEKg", "auth": "5I2Bu2oKdyy9Cw"}


class LoopbackServer:
    """The sandbox (or any ASGI app, such as an instrument in front of it) served by uvicorn
    on 127.0.0.1 and a random port, in a thread."""

    def __init__(self, sandbox: Sandbox | Any) -> None:
        app = sandbox.app if isinstance(sandbox, Sandbox) else sandbox
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def active_people(now: int) -> list[list[dict[str, object]]]:
    """Three users active a minute ago, in upload order (a token needs its profile first): an
    Android user seen ten minutes before too (repeat), a new iPhone user and a new web user."""
    people = [("g-android", "fcm"), ("g-iphone", "apns"), ("g-web", "chrome")]
    profiles = [{"type": "profile", "objectId": g, "ts": now - 900} for g, _ in people]
    tokens: list[dict[str, object]] = []
    for guid, kind in people:
        data: dict[str, object] = {"id": f"tok-{guid}", "type": kind}
        if kind == "chrome":
            data["keys"] = CHROME_KEYS
        tokens.append({"type": "token", "objectId": guid, "tokenData": data})
    seen = [("g-android", now - 600), *((g, now - 60) for g, _ in people)]
    events = [
        {"type": "event", "objectId": g, "ts": ts, "evtName": "Opened", "evtData": {}}
        for g, ts in seen
    ]
    return [profiles, tokens, events]
