"""The upload ledger: which batches were sent and how each ended, so nothing is sent twice.

A batch is ``sending`` from just before its call until its answer is read; then ``accepted``
(CleverTap answered; some records may have been rejected), ``ambiguous`` (sent, answer lost:
CleverTap may hold it), ``failed`` (provably not processed: sent again next time), or ``settled``
(an ambiguous batch the user said CleverTap holds). A batch found ``sending`` on a later run was
cut off by a crash: it is ambiguous.

:class:`Ledger` is the interface ``upload_records`` takes, so that a Spark or Airflow job can keep
its ledger where its workers can all reach it; :class:`MemoryLedger` and :class:`JournalLedger`
(the ``.ctflow/journal.db`` the command line uses, or any file) are the two ctflow ships. A ledger
that can also keep several states at once (:class:`RecordsMany`) is given the states that
accumulate while it writes, in one call: one commit for many.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ctflow.journal import BatchState, Journal, JournalLocation, UploadRecords, open_journal
from ctflow.journal.location import parse_location

SENDING = "sending"
ACCEPTED = "accepted"
AMBIGUOUS = "ambiguous"
FAILED = "failed"
SETTLED = "settled"
DONE = frozenset({ACCEPTED, SETTLED})
"""States after which a batch is never sent again (short of ``--restart``)."""


@runtime_checkable
class Ledger(Protocol):
    """Where batch states are kept. Batch ids are ``<prefix>:<index>``."""

    def states(self, prefix: str) -> Mapping[str, str]:
        """The state of every batch whose id starts with ``prefix``."""

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        """Keep ``state`` for ``batch_id``; it must be durable when this returns."""

    def forget(self, prefix: str) -> int:
        """Drop every batch whose id starts with ``prefix``; how many there were."""


@runtime_checkable
class RecordsMany(Protocol):
    """A ledger that keeps several states in one write."""

    def record_many(self, states: Sequence[BatchState]) -> None:
        """Keep every state, all durable when this returns, or (raising) none of them."""


class MemoryLedger:
    """A ledger in a dict: for tests, and for jobs that keep no state between runs."""

    def __init__(self) -> None:
        self.batches: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def states(self, prefix: str) -> dict[str, str]:
        with self._lock:
            return {k: v[0] for k, v in self.batches.items() if k.startswith(prefix)}

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        with self._lock:
            self.batches[batch_id] = (state, records, dict(detail))

    def record_many(self, states: Sequence[BatchState]) -> None:
        with self._lock:
            for s in states:
                self.batches[s.batch_id] = (s.state, s.records, dict(s.detail or {}))

    def forget(self, prefix: str) -> int:
        with self._lock:
            gone = [k for k in self.batches if k.startswith(prefix)]
            for key in gone:
                del self.batches[key]
            return len(gone)


class JournalLedger:
    """Batches kept in a journal (every write durable), per environment.

    ``JournalLedger.open(path, environment)`` opens (or creates) a SQLite journal file of its
    own; the command line passes the project's journal and the run it belongs to.
    """

    def __init__(self, journal: UploadRecords, environment: str, run_id: int | None = None) -> None:
        self.journal = journal
        self.environment = environment
        self.run_id = run_id
        self._lock = threading.Lock()
        self._owned: Journal | None = None

    @classmethod
    def open(
        cls, location: str | Path, environment: str = "default", *, project: str = ""
    ) -> JournalLedger:
        """A ledger in the journal at ``location``: a SQLite file's path, or a journal URL
        (``postgresql://…``: one ledger for every worker that reaches the database)."""
        text = str(location)
        if isinstance(location, str) and "://" in text:
            where = parse_location(text, Path.cwd(), source="JournalLedger.open")
        else:
            where = JournalLocation.sqlite(Path(location))
        journal = open_journal(where, project=project or None)
        ledger = cls(journal, environment)
        ledger._owned = journal
        return ledger

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> JournalLedger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def states(self, prefix: str) -> dict[str, str]:
        with self._lock:
            return self.journal.batch_states(self.environment, prefix)

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        with self._lock:
            self.journal.batch_state(
                self.environment,
                batch_id,
                state,
                records=records,
                run_id=self.run_id,
                detail=detail or None,
            )

    def record_many(self, states: Sequence[BatchState]) -> None:
        with self._lock:
            self.journal.record_batch_states(self.environment, states, run_id=self.run_id)

    def forget(self, prefix: str) -> int:
        with self._lock:
            return self.journal.forget_batches(self.environment, prefix)
