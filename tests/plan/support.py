"""Shared pieces of the plan/apply end-to-end tests: a small project written into a directory,
and :class:`Bed`, which runs ``plan``, ``apply`` and ``stop --all`` in-process against a sandbox
with a frozen clock, the way ``cli.run`` would (a ``CtflowError`` becomes its exit code).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Limits, RetryPolicy
from ctflow.commands import apply as applycmd
from ctflow.commands import plan as plancmd
from ctflow.commands import shared
from ctflow.commands import stop as stopcmd
from ctflow.config import find_project, resolve_target
from ctflow.connect import sandbox_client
from ctflow.errors import CtflowError
from ctflow.journal import JOURNAL_NAME, Journal, SqliteJournal
from ctflow.plan.marker import parse
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox, SandboxConfig
from ctflow.sandbox.limits import family_of
from tests.contract.support import CREDS, FAST_RETRY

T = TypeVar("T")

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TIMEZONE = "Europe/Berlin"
FAST_LIMITS = Limits(other=3, create_per_second=100)
"""The client's ceiling raised for speed; tests that check the real ceiling use ``Limits()``."""

TRACKING = """\
kind: EventSchema
event: App Launched
version: 1
---
kind: EventSchema
event: Charged
version: 1
properties:
  Amount: {type: number, required: true}
"""

JOURNEY = """\
kind: Journey
key: onboarding
name: Onboarding
anchor: "2027-01-04 09:00"
defaults:
  audience:
    did:
      - {event: App Launched, in_last: 7d}
  content:
    push: {android: {channel_id: onboarding}}
steps:
  - key: welcome
    after: 0d
    channel: push
    content: {title: Hi, body: Welcome}
  - key: day2
    after: 2d
    channel: push
    content: {title: Day 2, body: Two tips}
  - key: day5
    after: 5d
    channel: sms
    content: {body: "Still there?"}
"""

PROMO = """\
kind: Campaign
key: promo
name: Winter promo
channel: email
audience:
  did:
    - {event: Charged, in_last: 30d}
content:
  subject: Winter sale
  sender_name: Shop
  body: "<p>Everything half price.</p>"
schedule: {at: "2027-02-01 09:00"}
"""


def push(
    key: str,
    *,
    title: str = "Come back",
    name: str | None = None,
    schedule: str = '{at: "2027-01-05 10:00"}',
) -> str:
    """A push campaign's YAML; ``schedule: now`` makes one that starts at once."""
    return f"""\
kind: Campaign
key: {key}
name: {name or key.capitalize()}
channel: push
audience:
  did:
    - {{event: App Launched, in_last: 90d}}
content:
  title: "{title}"
  body: "It has been a while, {{{{ Profile.Name | default: 'friend' }}}}"
  android: {{channel_id: marketing}}
schedule: {schedule}
"""


FILES: dict[str, str] = {
    "ctflow.yaml": f"project: shop\ntimezone: {TIMEZONE}\n",
    "tracking.yaml": TRACKING,
    "campaigns/winback.yaml": push("winback", name="We miss you"),
    "campaigns/promo.yaml": PROMO,
    "journeys/onboarding.yaml": JOURNEY,
}
KEYS = frozenset({"winback", "promo", "onboarding.welcome", "onboarding.day2", "onboarding.day5"})


def real_future(day: str = "01-05 10:00") -> str:
    """A schedule two years ahead of the real clock, for the CLI's file sandbox (not frozen)."""
    return f'{{at: "{datetime.now(UTC).year + 2}-{day}"}}'


def cli_files(**campaigns: str) -> dict[str, str | None]:
    """Overrides for a CLI run: no journey or promo, and ``winback`` (or the given campaign
    files by key) scheduled on the real clock's future."""
    files: dict[str, str | None] = {"campaigns/promo.yaml": None, "journeys/onboarding.yaml": None}
    chosen = campaigns or {"winback": push("winback", name="We miss you", schedule=real_future())}
    files.update({f"campaigns/{key}.yaml": text for key, text in chosen.items()})
    return files


def write_project(root: Path, overrides: Mapping[str, str | None] | None = None) -> Path:
    """The project's files under ``root``; an override of ``None`` deletes that file."""
    for rel, text in {**FILES, **(overrides or {})}.items():
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def sandbox(*, fast: bool = True) -> Sandbox:
    """An in-memory sandbox frozen at ``NOW``; ``fast`` lifts its 3 creates/s window."""
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone=TIMEZONE))
    sb.clock.set(NOW)
    if fast:
        sb.config.create_per_second = 0
    return sb


def marked(campaigns: list[dict[str, Any]], project: str = "shop") -> list[dict[str, Any]]:
    """The campaigns whose name carries ``project``'s marker, each with its ``key``/``hash``."""
    found = []
    for campaign in campaigns:
        mark = parse(campaign["name"])
        if mark is not None and mark.project == project:
            found.append({**campaign, "key": mark.key, "hash": mark.hash})
    return found


def live_by_key(campaigns: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Our pending or running campaigns by key."""
    out: dict[str, list[dict[str, Any]]] = {}
    for campaign in marked(campaigns):
        if campaign["status"] in ("pending", "running"):
            out.setdefault(campaign["key"], []).append(campaign)
    return out


class Statuses:
    """ASGI middleware before the sandbox that records the status of every answer, by API
    family (``create``, ``list``, ``stop``, …)."""

    def __init__(self, sb: Sandbox) -> None:
        self.app = sb.app
        self.seen: list[tuple[str, int]] = []

    def of(self, family: str) -> list[int]:
        return [status for seen, status in self.seen if seen == family]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tracking(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((family_of(scope["path"]), message["status"]))
            await send(message)

        await self.app(scope, receive, tracking)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


class Bed:
    """A project directory and the sandbox its commands talk to (in-process by default)."""

    def __init__(
        self,
        root: Path,
        sb: Sandbox,
        *,
        connect: Callable[[], AbstractAsyncContextManager[CleverTap]] | None = None,
        retry: RetryPolicy = FAST_RETRY,
        limits: Limits = FAST_LIMITS,
        statuses: Statuses | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``connect`` replaces the in-process client (loopback); ``statuses`` sees its calls;
        ``environ`` is the process environment the commands see (``CTFLOW_JOURNAL_URL``)."""
        self.root = root
        self.sb = sb
        self.retry = retry
        self.limits = limits
        self.statuses = statuses
        self.environ = dict(environ or {})
        self.connect = connect or self.client

    @property
    def journal_path(self) -> Path:
        return self.root / ".ctflow" / JOURNAL_NAME

    def client(self) -> CleverTap:
        if self.statuses is None:
            return sandbox_client(self.sb, retry=self.retry, limits=self.limits)
        return CleverTap.in_process(self.statuses, CREDS, retry=self.retry, limits=self.limits)

    def write(self, overrides: Mapping[str, str | None] | None = None) -> None:
        write_project(self.root, overrides)

    def invocation(self, command: str = "ctflow") -> shared.Invocation:
        return shared.Invocation(
            directory=self.root,
            target=resolve_target(find_project(self.root), None, self.environ),
            now=self.sb.clock.now(),
            user="tester",
            host="ci-1",
            command=command,
            connect=self.connect,
        )

    def plan(self, **options: Any) -> Ran:
        chosen = plancmd.PlanOptions(**options)
        return self._run(lambda out, err: plancmd.plan(self.invocation(), chosen, out=out, err=err))

    def apply(self, *, auto_approve: bool = True, **options: Any) -> Ran:
        chosen = applycmd.ApplyOptions(auto_approve=auto_approve, **options)
        return self._run(
            lambda out, err: applycmd.apply(self.invocation(), chosen, out=out, err=err)
        )

    def stop_all(
        self, *, auto_approve: bool = True, confirm: Callable[[str], bool] | None = None
    ) -> Ran:
        inv = self.invocation()
        return self._run(
            lambda out, err: stopcmd.stop_all(
                inv, auto_approve=auto_approve, confirm=confirm, out=out, err=err
            )
        )

    def call(self, use: Callable[[CleverTap], Awaitable[T]]) -> T:
        """Do something to the account directly through a client, behind ctflow's back."""

        async def run() -> T:
            async with self.client() as client:
                return await use(client)

        return asyncio.run(run())

    def campaigns(self) -> list[dict[str, Any]]:
        return self.sb.campaigns()

    def live(self) -> dict[str, list[dict[str, Any]]]:
        return live_by_key(self.sb.campaigns())

    def journal(self) -> Journal:
        return SqliteJournal.open(self.journal_path)

    @staticmethod
    def _run(command: Callable[[io.StringIO, io.StringIO], int]) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        try:
            code = command(out, err)
        except CtflowError as exc:
            err.write(f"ctflow: {exc.message}\n")
            code = exc.exit_code
        return Ran(int(code), out.getvalue(), err.getvalue())


# A dataset of Charged events, and its rows (customer_id, at, Amount).
DATASET = """\
kind: Dataset
key: charges-2026
type: events
file: ../data/charges.jsonl
event: Charged
identity: customer_id
timestamp: at
"""


def charges(rows: int) -> str:
    return "".join(
        f'{{"customer_id": "C{i}", "at": "2026-11-0{1 + i % 9}T10:00:00+00:00", "Amount": {i}}}\n'
        for i in range(rows)
    )


def faults(base_url: str, **set_: object) -> None:
    """Set the faults of the sandbox served at ``base_url`` (``/_sandbox/faults``)."""
    auth = {"X-CleverTap-Account-Id": DEFAULT_ACCOUNT_ID, "X-CleverTap-Passcode": DEFAULT_PASSCODE}
    answer = httpx.post(f"{base_url}/_sandbox/faults", json=set_, headers=auth)
    assert answer.status_code == 200, answer.text


def run(
    capsys: pytest.CaptureFixture[str], root: Path, *argv: str, **environ: str
) -> tuple[int, str, str]:
    """The real command line in-process, in project ``root``: exit code, stdout, stderr."""
    code = cli.run(["-C", str(root), *argv], environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def live(root: Path) -> dict[str, list[dict[str, Any]]]:
    """The campaigns of the project's built-in sandbox, by key."""
    sb = Sandbox(db=root / ".ctflow" / "sandbox.db")
    try:
        return live_by_key(sb.campaigns())
    finally:
        sb.close()
