"""Shared pieces of the upload behaviour tests: events numbered so that a duplicate or a gap
shows, an instrument before the sandbox that sees every upload call, the engine run in-process,
a loopback server, a project on disk and the command line.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap, Credentials
from ctflow.journal import JOURNAL_NAME, SqliteJournal
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox
from ctflow.upload.batches import Preparer, Reject, make_batches
from ctflow.upload.durable import DeadLetter
from ctflow.upload.engine import Engine, Options, Tally
from ctflow.upload.job import DeadLetterList
from ctflow.upload.ledger import Ledger, MemoryLedger
from ctflow.upload.rules import Kind, Rules, Schemas
from ctflow.upload.shape import Shaper
from ctflow.upload.sources import chunked
from tests.contract.support import LoopbackServer

TS = 1_763_600_000
CREDS = Credentials(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE)
FAST = Options(backoff_initial=0.001, backoff_max=0.01)
"""The engine's options with a backoff short enough for tests."""


def event(n: int, name: str = "Product Viewed", **props: Any) -> dict[str, Any]:
    """Event number ``n`` in CleverTap's shape; ``evtData.n`` tells every stored copy apart."""
    return {
        "identity": f"u-{n % 97}",
        "ts": TS + n,
        "evtName": name,
        "evtData": {"n": n, **props},
    }


def events(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [event(n) for n in range(start, start + count)]


def profile(identity: str, **data: Any) -> dict[str, Any]:
    return {"identity": identity, "ts": TS, "profileData": data}


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]], *, gz: bool = False) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text) if gz else text)
    return path


def numbers(sb: Sandbox, name: str | None = None) -> Counter[int]:
    """How many times the sandbox stores each event number."""
    return Counter(e.props.get("n") for e in sb.store.events(name=name))


def once(sb: Sandbox, wanted: Iterable[int]) -> bool:
    """Every one of ``wanted`` is stored exactly once, and nothing else is stored."""
    return numbers(sb) == Counter(wanted)


def in_batch(n: int, size: int = 1000) -> int:
    """The index of the batch that carries line ``n`` (one record a line)."""
    return (n - 1) // size


class Calls:
    """ASGI middleware before the sandbox: upload calls in flight, the most ever at once, and
    the HTTP status of every answer (a dropped answer shows as the 200 it started with)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight = 0
        self.most = 0
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/1/upload":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)

        async def seen(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, seen)
        finally:
            with self._lock:
                self.in_flight -= 1


@dataclass
class Sent:
    tally: Tally
    ledger: Ledger
    rejects: list[Reject]


async def send(
    app: Any,
    records: Iterable[Mapping[str, Any]],
    *,
    kind: Kind = "events",
    options: Options = FAST,
    ledger: Ledger | None = None,
    prefix: str = "t",
    credentials: Credentials = CREDS,
    started: Callable[[Engine], None] | None = None,
    dead_letter: DeadLetter | None = None,
) -> Sent:
    """Run the upload engine over ``records`` against ``app`` (the sandbox, or an instrument in
    front of it) in-process, the way ``upload_records`` wires it; line n is record n.
    ``started`` sees the engine before it runs (to stop it, as Ctrl-C does). The rejects go to
    ``dead_letter`` when given (and ``Sent.rejects`` is empty)."""
    ledger = ledger if ledger is not None else MemoryLedger()
    states = dict(ledger.states(prefix + ":"))
    schemas = Schemas()
    utc = ZoneInfo("UTC")
    prepare = Preparer(Shaper(kind, schemas, utc, None), Rules(kind, schemas))
    rows = ((n, dict(r)) for n, r in enumerate(records, start=1))
    size = 100 if kind == "tokens" else 1000
    batches = make_batches(
        chunked(rows, size), prefix=prefix, prepare=prepare, states=states, source="records.jsonl"
    )
    dead = DeadLetterList()
    async with CleverTap.in_process(app, credentials) as client:
        engine = Engine(client, ledger, options, dead_letter=dead_letter or dead, prior=states)
        if started is not None:
            started(engine)
        tally = await engine.run(batches)
    return Sent(tally, ledger, dead.rejects)


Served = LoopbackServer
"""An ASGI app (the sandbox, or an instrument in front of it) on 127.0.0.1, in a thread."""


CREDENTIALS = {"CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID, "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE}
"""The variables a ``local`` environment (a served sandbox) reads its credentials from."""


def write_project(
    root: Path, files: Mapping[str, str] | None = None, *, base_url: str | None = None
) -> Path:
    """A project ``shop`` (UTC) in ``root``; with ``base_url``, an environment ``local`` that
    points at a served sandbox."""
    config = "project: shop\ntimezone: UTC\n"
    if base_url is not None:
        config += f"environments:\n  local:\n    base_url: {base_url}\n"
    for rel, text in {"ctflow.yaml": config, **(files or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out)
        return doc


def ctflow(capsys: pytest.CaptureFixture[str], root: Path, *argv: str, **environ: str) -> Ran:
    """``ctflow -C root ARGV`` through ``cli.run``, as a user's shell would run it."""
    code = cli.run(["-C", str(root), *argv], environ)
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def file_sandbox(root: Path) -> Sandbox:
    """The project's own sandbox, ``.ctflow/sandbox.db``: the CLI's default target."""
    return Sandbox(db=root / ".ctflow" / "sandbox.db")


def batch_states(root: Path, environment: str = "sandbox") -> dict[str, str]:
    with SqliteJournal.open(root / ".ctflow" / JOURNAL_NAME) as journal:
        return journal.batch_states(environment, "")


HOLD_LOCK = """\
import sys
from pathlib import Path
from ctflow.journal import Holder, Journal, SqliteJournal

with SqliteJournal.open(Path(sys.argv[1])) as journal, journal.lock(
    Holder(pid=4242, user="ana", host="ci-7", command="ctflow upload", started_at="2026-11-20"),
    project="shop",
    environment="sandbox",
):
    print("locked", flush=True)
    sys.stdin.read()
"""


@contextmanager
def lock_held_elsewhere(root: Path) -> Iterator[None]:
    """The project's journal locked by another process until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(root / ".ctflow" / JOURNAL_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.communicate(timeout=10)
