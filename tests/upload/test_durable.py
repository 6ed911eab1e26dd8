"""The ledger and the dead-letter file are written in groups, off the event loop: the batch
states that pile up while a write takes its disk flush go in the next write together, and the
rejects of a group share one flush. Durable all the same: a batch is ``sending`` on disk
before its call and counts only once its outcome is, and a write that fails leaves every batch
of its group ambiguous, never recorded as sent without having been sent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ctflow.errors import JournalUnavailable
from ctflow.journal import BatchState
from ctflow.sandbox import Sandbox
from ctflow.upload.job import DeadLetterFile
from ctflow.upload.ledger import MemoryLedger
from tests.upload.support import event, events, in_batch, numbers, once, send

BATCHES = 30
FLUSH = 0.02
"""Seconds a ledger write takes here: a disk flush on a slow disk."""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(db=":memory:")
    yield sandbox
    sandbox.close()


class SlowLedger(MemoryLedger):
    """A ledger whose every write takes a disk flush; counts its writes and what they kept."""

    def __init__(self, *, fail_from: int | None = None) -> None:
        super().__init__()
        self.writes = 0
        self.kept: list[tuple[str, str]] = []
        self.fail_from = fail_from

    def _write(self, states: Sequence[tuple[str, str]]) -> None:
        time.sleep(FLUSH)
        self.writes += 1
        if self.fail_from is not None and self.writes >= self.fail_from:
            raise JournalUnavailable("lost the journal: the test stopped it")
        self.kept.extend(states)

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        self._write([(batch_id, state)])
        super().record(batch_id, state, records, detail)

    def record_many(self, states: Sequence[BatchState]) -> None:
        self._write([(s.batch_id, s.state) for s in states])
        super().record_many(states)


class ThreeMethods:
    """A ledger with only the documented methods (``states``, ``record``, ``forget``)."""

    def __init__(self) -> None:
        self.batches: dict[str, str] = {}
        self.writes = 0

    def states(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self.batches.items() if k.startswith(prefix)}

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        self.writes += 1
        self.batches[batch_id] = state

    def forget(self, prefix: str) -> int:
        return 0


def accepted_everywhere(ledger: MemoryLedger | ThreeMethods) -> bool:
    states = ledger.states("t:")
    return states == {f"t:{i}": "accepted" for i in range(BATCHES)}


async def test_batch_states_are_committed_in_groups_each_sending_before_its_call(
    sb: Sandbox,
) -> None:
    ledger = SlowLedger()
    sent = await send(sb.app, events(BATCHES * 1000), ledger=ledger)

    assert once(sb, range(1, BATCHES * 1000 + 1))
    assert sent.tally.accepted == BATCHES * 1000
    assert accepted_everywhere(ledger)
    changes = len(ledger.kept)
    assert changes == 2 * BATCHES, "sending, then accepted: every change kept"
    assert ledger.writes <= changes // 3, f"{ledger.writes} writes for {changes} changes"
    for batch in range(BATCHES):  # in the order written: never accepted before sending
        mine = [state for ident, state in ledger.kept if ident == f"t:{batch}"]
        assert mine == ["sending", "accepted"]


async def test_a_ledger_with_only_the_documented_methods_gets_one_write_per_change(
    sb: Sandbox,
) -> None:
    ledger = ThreeMethods()
    await send(sb.app, events(5000), ledger=ledger)
    assert once(sb, range(1, 5001))
    assert ledger.states("t:") == {f"t:{i}": "accepted" for i in range(5)}
    assert ledger.writes == 10


async def test_rejects_of_many_batches_share_one_disk_flush_and_none_is_lost(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = events(BATCHES * 1000)
    spoiled = [1000 * b + 7 for b in range(BATCHES)]  # one row a batch, refused by ctflow
    for n in spoiled:
        records[n - 1] = {k: v for k, v in event(n).items() if k != "identity"}
    flushes = 0
    fsync = os.fsync

    def counted(fd: int) -> None:  # a flush that takes as long as the ledger's, on a slow disk
        nonlocal flushes
        flushes += 1
        time.sleep(FLUSH)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    dead = DeadLetterFile(tmp_path / "rejected.jsonl")
    try:
        sent = await send(sb.app, records, ledger=SlowLedger(), dead_letter=dead)
    finally:
        dead.close()

    lines = [json.loads(line) for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert sorted(line["line"] for line in lines) == spoiled
    assert sent.tally.rejected_local == BATCHES
    assert set(numbers(sb)) == set(range(1, BATCHES * 1000 + 1)) - set(spoiled)
    assert 1 <= flushes <= BATCHES // 3, f"{flushes} flushes for {BATCHES} batches with rejects"


async def test_a_failed_write_leaves_its_whole_group_ambiguous_and_stops_the_upload(
    sb: Sandbox,
) -> None:
    ledger = SlowLedger(fail_from=3)
    sent = await send(sb.app, events(BATCHES * 1000), ledger=ledger)

    tally = sent.tally
    assert tally.journal_lost == "lost the journal: the test stopped it"
    stored = {in_batch(n) for n in numbers(sb)}
    states = ledger.states("t:")
    ambiguous = {int(ref.id.rsplit(":", 1)[1]) for ref in tally.ambiguous}
    accepted = {int(b.rsplit(":", 1)[1]) for b, s in states.items() if s == "accepted"}
    assert accepted <= stored, "a batch recorded as accepted was sent"
    assert stored == accepted | ambiguous, "whatever was sent is accepted or reported ambiguous"
    assert all(states[f"t:{b}"] == "sending" for b in ambiguous), "the next run sees them so"
    assert ambiguous, "the group whose write failed"
    assert tally.accepted == 1000 * len(accepted)
    assert len(stored) < BATCHES, "nothing more was sent once the ledger was lost"
