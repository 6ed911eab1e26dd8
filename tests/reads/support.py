"""The read commands' test bed: a project whose `local` environment is a sandbox served on
loopback (so a test sets its clock, its config and its faults), the CLI run as a user runs it,
and a small population whose every number is known."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap
from ctflow.sandbox import Sandbox, SandboxConfig
from tests.contract.support import CREDS, FAST_RETRY, LoopbackServer

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)  # in Asia/Kolkata as well: 14:30 there
TIMEZONE = "Asia/Kolkata"
ENVIRON = {"CLEVERTAP_ACCOUNT_ID": CREDS.account_id, "CLEVERTAP_PASSCODE": CREDS.passcode}

PROJECT = """\
kind: Project
project: shop
timezone: Asia/Kolkata
environments:
  local:
    base_url: {url}
"""

# The population: 12 customers c-00..c-11; each viewed a product on 2026-11-18; the even ones
# (6) also bought on 2026-11-19, and c-00..c-02 are Platinum, the rest Silver.
CUSTOMERS = 12
BUYERS = 6
PLATINUM = 3


def population(now: datetime = NOW) -> list[dict[str, Any]]:
    launched = int((now - timedelta(days=2)).timestamp())
    bought = int((now - timedelta(days=1)).timestamp())
    records: list[dict[str, Any]] = []
    for n in range(CUSTOMERS):
        identity = f"c-{n:02d}"
        tier = "Platinum" if n < PLATINUM else "Silver"
        records.append(
            {
                "type": "profile",
                "identity": identity,
                "ts": launched,
                "profileData": {
                    "Name": f"Customer {n}",
                    "Email": f"c{n}@example.com",
                    "Customer Type": tier,
                },
            }
        )
        records.append(
            {
                "type": "event",
                "identity": identity,
                "ts": launched,
                "evtName": "Product Viewed",
                "evtData": {},
            }
        )
        if n % 2 == 0:
            records.append(
                {
                    "type": "event",
                    "identity": identity,
                    "ts": bought,
                    "evtName": "Charged",
                    "evtData": {"Amount": 100 + n},
                }
            )
    return records


def on(sandbox: Sandbox, work: Callable[[CleverTap], Awaitable[Any]]) -> Any:
    """Run ``work`` with a client of ``sandbox`` (in-process), from synchronous test code."""

    async def go() -> Any:
        async with CleverTap.in_process(sandbox.app, CREDS, retry=FAST_RETRY) as client:
            return await work(client)

    return asyncio.run(go())


def fill(sandbox: Sandbox) -> None:
    now = sandbox.clock.now()
    result = on(sandbox, lambda client: client.upload(population(now)))
    assert result.ok


def campaign(name: str, when: str = "now", day: date = TODAY) -> dict[str, Any]:
    window = {
        "from": int((day - timedelta(days=7)).strftime("%Y%m%d")),
        "to": int(day.strftime("%Y%m%d")),
    }
    return {
        "name": name,
        "target_mode": "email",
        "where": {"event_name": "Charged", **window},
        "content": {"subject": "Hello", "body": "<p>Hi</p>", "sender_name": "Shop"},
        "when": when,
    }


def create(sandbox: Sandbox, payload: dict[str, Any]) -> int:
    created = on(sandbox, lambda client: client.create_campaign(payload))
    return int(created.id)


@dataclass
class Recorder:
    """An ASGI app in front of the sandbox: records each API request (``"GET /1/…?query"``)
    and answers HTTP 500 in the sandbox's place from the ``fail_from``-th ``fail_on`` request
    (``"GET /1/events.json"``) on, ``fail_times`` times (``None``: every time)."""

    app: Any
    requests: list[str] = field(default_factory=list)
    fail_on: str | None = None
    fail_from: int = 1
    fail_times: int | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode()
            line = f"{scope['method']} {scope['path']}" + (f"?{query}" if query else "")
            self.requests.append(line)
            endpoint = f"{scope['method']} {scope['path']}"
            seen = sum(1 for r in self.requests if r.split("?")[0] == endpoint)
            failing = seen >= self.fail_from and (
                self.fail_times is None or seen < self.fail_from + self.fail_times
            )
            if endpoint == self.fail_on and failing:
                body = json.dumps({"status": "fail", "error": "Internal error"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def count(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))


@dataclass
class Account:
    """A served sandbox, the project that targets it, and the CLI pointed at both."""

    sandbox: Sandbox
    recorder: Recorder
    directory: Path
    capsys: pytest.CaptureFixture[str]
    environ: Mapping[str, str] = field(default_factory=lambda: dict(ENVIRON))

    def run(self, *argv: str) -> tuple[int, str, str]:
        """``ctflow -C DIR ARGV --env local``, with the account's credentials."""
        code = cli.run(["-C", str(self.directory), *argv, "--env", "local"], self.environ)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@contextmanager
def served_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], **config: Any
) -> Iterator[Account]:
    sandbox = Sandbox(db=":memory:", config=SandboxConfig(timezone=TIMEZONE, **config))
    sandbox.clock.set(NOW)
    recorder = Recorder(sandbox.app)
    try:
        with LoopbackServer(recorder) as server:
            (tmp_path / "ctflow.yaml").write_text(PROJECT.format(url=server.base_url))
            yield Account(sandbox, recorder, tmp_path, capsys)
    finally:
        sandbox.close()


def local_sandbox(directory: Path) -> Sandbox:
    """The project's own sandbox (``.ctflow/sandbox.db``), the default target, on real time."""
    (directory / ".ctflow").mkdir(exist_ok=True)
    return Sandbox(db=directory / ".ctflow" / "sandbox.db")


def run(capsys: pytest.CaptureFixture[str], directory: Path, *argv: str) -> tuple[int, str, str]:
    """``ctflow -C DIR ARGV`` against the default target (the built-in sandbox)."""
    code = cli.run(["-C", str(directory), *argv], {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err
