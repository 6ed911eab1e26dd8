"""Where a batch's state becomes durable: the ledger and the dead-letter file, written by one
thread off the event loop, in groups.

A state (with the rejects that go with it) waits in a queue; one thread writes whatever has
accumulated while it wrote the last group: every reject of the group with one disk flush, then
every state in one commit of the ledger. Each caller awaits its own state's write, so a batch is
``sending`` on disk before its call and counts as done only once its outcome is. Rejects are
written before their batch's state: a crash between the two repeats lines in the dead-letter
file rather than losing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from ctflow.journal import BatchState
from ctflow.upload.batches import Reject
from ctflow.upload.ledger import Ledger, RecordsMany


class DeadLetter(Protocol):
    def write(self, rejects: Sequence[Reject]) -> None:
        """Keep ``rejects``, durably when this returns."""


@dataclass
class _Waiting:
    state: BatchState
    rejects: Sequence[Reject]
    done: asyncio.Future[None]


Outcome = BaseException | None
"""How writing one state went: None when it is durable."""


class Recorder:
    """``await record(state, rejects)`` returns once both are durable (or raises why not)."""

    def __init__(self, ledger: Ledger, dead_letter: DeadLetter) -> None:
        self.ledger = ledger
        self.dead_letter = dead_letter
        self._many = ledger if isinstance(ledger, RecordsMany) else None
        self._waiting: list[_Waiting] = []
        self._writing: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctflow-ledger")

    async def record(self, state: BatchState, rejects: Sequence[Reject] = ()) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(state, rejects, done))
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_all())
        await done

    def close(self) -> None:
        """After the last ``record`` was answered: the thread ends."""
        self._thread.shutdown(wait=True)

    async def _write_all(self) -> None:
        loop = asyncio.get_running_loop()
        group: list[_Waiting] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    outcomes = await loop.run_in_executor(self._thread, self._write, group)
                except Exception as exc:  # the thread could not run it
                    outcomes = [exc] * len(group)
                _answer(group, outcomes)
        except BaseException:  # cancelled (the loop is going): no caller waits on
            for waiting in [*group, *self._waiting]:
                waiting.done.cancel()
            raise
        finally:
            self._writing = None

    def _write(self, group: list[_Waiting]) -> list[Outcome]:
        """In the thread: the group's rejects, then its states."""
        outcomes: list[Outcome] = [None] * len(group)
        rejects = [reject for waiting in group for reject in waiting.rejects]
        if rejects:
            try:
                self.dead_letter.write(rejects)
            except Exception as exc:  # their states are not written: those batches fail
                outcomes = [exc if waiting.rejects else None for waiting in group]
        states = [w.state for w, outcome in zip(group, outcomes, strict=True) if outcome is None]
        if not states:
            return outcomes
        kept = iter(self._keep(states))
        return [next(kept) if outcome is None else outcome for outcome in outcomes]

    def _keep(self, states: list[BatchState]) -> list[Outcome]:
        if self._many is not None:
            try:
                self._many.record_many(states)
            except Exception as exc:  # one transaction: none of them was kept
                return [exc] * len(states)
            return [None] * len(states)
        outcomes: list[Outcome] = []
        for s in states:
            try:
                self.ledger.record(s.batch_id, s.state, s.records, s.detail or {})
            except Exception as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes


def _answer(group: list[_Waiting], outcomes: list[Outcome]) -> None:
    for waiting, outcome in zip(group, outcomes, strict=True):
        if waiting.done.done():  # its caller was cancelled
            continue
        if outcome is None:
            waiting.done.set_result(None)
        else:
            waiting.done.set_exception(outcome)
