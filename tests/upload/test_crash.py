"""A real ``ctflow upload`` killed half-way, then run again. The sandbox is served over loopback
from this process (in a thread), so the test sees every call and every stored record; the
upload runs in a subprocess, as a CI job would, and is killed with SIGKILL (nothing recorded
after the kill) or stopped with SIGTERM (the calls in flight finish and are recorded).

What must hold after a SIGKILL: no event is stored twice; every event of a batch the re-run does
not report as ambiguous is stored exactly once; a batch reported ambiguous arrived whole or not
at all — and the user's answer (``--accept-ambiguous`` when it arrived, ``--resend-ambiguous``
when it did not) ends with every event exactly once. Two tests hold the calls in flight at the
moment of the kill, one after CleverTap processed them and one before, to know which answer is
right; profiles need no answer: they are sent again.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ctflow.sandbox import Sandbox
from tests.upload.support import (
    CREDENTIALS,
    Calls,
    Served,
    batch_states,
    ctflow,
    event,
    events,
    in_batch,
    numbers,
    once,
    write_jsonl,
    write_project,
)

Capsys = pytest.CaptureFixture[str]
pytestmark = [pytest.mark.loopback, pytest.mark.timeout(60)]


def start(root: Path, *argv: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERTAP_")}
    return subprocess.Popen(
        [sys.executable, "-m", "ctflow", "-C", str(root), "upload", *argv, "--env", "local"],
        cwd=root,
        env={**environ, **CREDENTIALS},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(capsys: Capsys, root: Path, *argv: str) -> tuple[int, dict[str, Any], str]:
    """The re-run, in this process (only the killed run needs one of its own): ``ctflow upload
    ARGV --format json`` to the end; its exit code, summary and stderr."""
    ran = ctflow(capsys, root, "upload", *argv, "--env", "local", "--format", "json", **CREDENTIALS)
    return ran.code, json.loads(ran.out) if ran.out else {}, ran.err


def signal_when(
    process: subprocess.Popen[str], ready: Callable[[], bool], sig: signal.Signals
) -> tuple[str, str]:
    """Send ``sig`` once ``ready()``; the process must still be running by then."""
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, "the upload finished before it could be stopped"
        assert time.monotonic() < deadline, "the upload never got there"
        time.sleep(0.01)
    process.send_signal(sig)
    return process.communicate(timeout=30)


def ambiguous_ids(summary: dict[str, Any]) -> set[str]:
    return {b["batch"] for f in summary["files"] for b in f["ambiguous_batches"]}


def index(batch_id: str) -> int:
    return int(batch_id.rsplit(":", 1)[1])


def check_guarantee(sb: Sandbox, wanted: Iterable[int], ambiguous: set[str]) -> dict[int, bool]:
    """No duplicate; every one of ``wanted`` outside ``ambiguous`` batches exactly once; each
    ambiguous batch whole or absent. Returns, per ambiguous batch index, whether it arrived."""
    stored = numbers(sb)
    assert max(stored.values()) == 1, "an event was stored twice"
    held = {index(b) for b in ambiguous}
    missing = [n for n in wanted if in_batch(n) not in held and n not in stored]
    assert missing == [], f"{len(missing)} events of settled batches are missing"
    arrived = {}
    for i in held:
        present = {n in stored for n in wanted if in_batch(n) == i}
        assert len(present) == 1, f"batch {i} arrived in part"
        arrived[i] = present.pop()
    return arrived


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(db=":memory:")
    yield sb
    sb.close()


def stored_count(sb: Sandbox, table: str = "events") -> int:
    return sb.store.counts()[table]


def test_sigkill_mid_upload_then_rerun_keeps_every_event_at_most_once(
    capsys: Capsys, tmp_path: Path, sandbox: Sandbox
) -> None:
    total = 20_000
    sandbox.faults.latency_ms = 60
    with Served(sandbox.app) as server:
        root = write_project(tmp_path / "shop", base_url=server.base_url)
        write_jsonl(root / "big.jsonl", events(total))

        killed = start(root, "events", "big.jsonl", "--concurrency", "6")
        signal_when(killed, lambda: stored_count(sandbox) >= 5000, signal.SIGKILL)
        assert killed.returncode == -signal.SIGKILL
        assert stored_count(sandbox) < total, "killed half-way"
        cut_off = {b for b, s in batch_states(root, "local").items() if s == "sending"}

        code, summary, err = finish(capsys, root, "events", "big.jsonl")
        assert code == (6 if cut_off else 0), err
        assert ambiguous_ids(summary) == cut_off, "exactly the calls the kill left unanswered"
        arrived = check_guarantee(sandbox, range(1, total + 1), cut_off)

        if cut_off and all(arrived.values()):
            code, _, err = finish(capsys, root, "events", "big.jsonl", "--accept-ambiguous")
        elif cut_off and not any(arrived.values()):
            code, _, err = finish(capsys, root, "events", "big.jsonl", "--resend-ambiguous")
        else:
            return  # some arrived, some did not: no single answer fits; the guarantee held
        assert code == 0, err
        assert once(sandbox, range(1, total + 1))


class Gate:
    """Before the sandbox: lets the first ``open_for`` upload calls through and holds the later
    ones until ``release()`` — after the sandbox processed them when ``commit_first`` (only the
    answer is lost), else before (they are then answered 503, never processed)."""

    def __init__(self, app: Any, open_for: int, *, commit_first: bool) -> None:
        self.app = app
        self.open_for = open_for
        self.commit_first = commit_first
        self.calls = 0
        self.held = 0
        self.released = threading.Event()
        self._lock = threading.Lock()

    def release(self) -> None:
        self.released.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/1/upload":
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.calls += 1
            through = self.calls <= self.open_for or self.released.is_set()
        if through:
            await self.app(scope, receive, send)
            return
        answer: list[Any] = []
        if self.commit_first:

            async def keep(message: Any) -> None:
                answer.append(message)

            await self.app(scope, receive, keep)
        with self._lock:
            self.held += 1
        await asyncio.to_thread(self.released.wait, 30)  # set from the test's thread
        if not answer:
            body = b'{"status":"fail","error":"Service Unavailable","code":503}'
            answer = [
                {"type": "http.response.start", "status": 503, "headers": []},
                {"type": "http.response.body", "body": body},
            ]
        for message in answer:
            await send(message)  # to a client that is gone


@pytest.mark.parametrize("processed", [True, False], ids=["processed", "not_processed"])
def test_sigkill_with_calls_in_flight_then_the_users_answer_completes_the_upload(
    capsys: Capsys, tmp_path: Path, sandbox: Sandbox, processed: bool
) -> None:
    """Four calls in flight at the kill, all processed by CleverTap or none: the re-run reports
    those four batches and sends nothing of them; the right answer then completes the upload,
    and each rejected line is in the dead-letter file once, whichever run settled its batch."""
    total = 12_000
    bad = {i * 1000 + 500 for i in range(12)}  # one system event in every batch
    records = [event(n, name="App Launched") if n in bad else event(n) for n in range(1, 12_001)]
    wanted = set(range(1, total + 1)) - bad
    gate = Gate(sandbox.app, open_for=3, commit_first=processed)
    calls = Calls(gate)
    with Served(calls) as server:
        root = write_project(tmp_path / "shop", base_url=server.base_url)
        write_jsonl(root / "big.jsonl", records)

        killed = start(root, "events", "big.jsonl", "--concurrency", "4")
        signal_when(killed, lambda: gate.held == 4, signal.SIGKILL)
        gate.release()
        states = batch_states(root, "local")
        cut_off = {b for b, s in states.items() if s == "sending"}
        assert len(cut_off) == 4
        assert sorted(states.values()).count("accepted") == 3

        code, summary, err = finish(capsys, root, "events", "big.jsonl")
        assert code == 6, err
        assert ambiguous_ids(summary) == cut_off
        assert summary["total"]["already_uploaded"] == 3000
        assert summary["total"]["accepted"] == 5 * 999, "the five batches never sent"
        arrived = check_guarantee(sandbox, wanted, cut_off)
        assert set(arrived.values()) == {processed}
        sent_before = len(calls.statuses)

        answer = "--accept-ambiguous" if processed else "--resend-ambiguous"
        code, summary, err = finish(capsys, root, "events", "big.jsonl", answer)
        assert code == 3, "the settled batches' rejects are reported now"
        assert summary["total"]["rejected_locally"] == 4
        assert len(calls.statuses) - sent_before == (0 if processed else 4)
        assert once(sandbox, wanted)

    (dead,) = (root / ".ctflow" / "rejected").iterdir()
    lines = [json.loads(line)["line"] for line in dead.read_text().splitlines()]
    assert sorted(lines) == sorted(bad), "each rejected line once"


def test_sigterm_lets_the_calls_in_flight_finish_so_nothing_is_ambiguous(
    capsys: Capsys, tmp_path: Path, sandbox: Sandbox
) -> None:
    total = 20_000
    sandbox.faults.latency_ms = 60
    with Served(sandbox.app) as server:
        root = write_project(tmp_path / "shop", base_url=server.base_url)
        write_jsonl(root / "big.jsonl", events(total))

        stopped = start(root, "events", "big.jsonl", "--concurrency", "6")
        _, err = signal_when(stopped, lambda: stored_count(sandbox) >= 5000, signal.SIGTERM)
        assert stopped.returncode == 130, err
        assert "stopping: waiting for the calls in flight to be answered" in err
        assert stored_count(sandbox) < total, "it stopped sending"
        assert "sending" not in batch_states(root, "local").values(), "every call was recorded"

        code, summary, err = finish(capsys, root, "events", "big.jsonl")
        assert code == 0, err
        assert summary["total"]["ambiguous_batches"] == 0
        assert once(sandbox, range(1, total + 1))


def test_profiles_killed_mid_upload_are_sent_again_and_end_as_in_the_file(
    capsys: Capsys, tmp_path: Path, sandbox: Sandbox
) -> None:
    total = 20_000
    sandbox.faults.latency_ms = 60
    people = [
        {"identity": f"p-{i}", "profileData": {"Name": f"Person {i}", "Score": i}}
        for i in range(1, total + 1)
    ]
    with Served(sandbox.app) as server:
        root = write_project(tmp_path / "shop", base_url=server.base_url)
        write_jsonl(root / "people.jsonl", people)

        killed = start(root, "profiles", "people.jsonl", "--concurrency", "6")
        signal_when(killed, lambda: stored_count(sandbox, "profiles") >= 5000, signal.SIGKILL)
        assert killed.returncode == -signal.SIGKILL
        cut_off = {b for b, s in batch_states(root, "local").items() if s == "sending"}

        code, summary, err = finish(capsys, root, "profiles", "people.jsonl")
        assert code == 0, err
        assert summary["total"]["ambiguous_batches"] == 0
        assert summary["files"][0]["resent_ambiguous"] == len(cut_off)

    final = {p.identity: p.data for p in sandbox.store.profiles()}
    assert final == {p["identity"]: p["profileData"] for p in people}
