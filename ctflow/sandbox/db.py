"""The sandbox database's connections: one writer behind a lock, one reader per thread, and group
commit for calls that write at the same time.

A file database runs in WAL mode, so the readers see the last commit while the writer works: a
short read is never held up behind an upload. An in-memory database (tests) has one connection,
used by everyone under the lock. Calls that write at once are committed together: whoever holds
the lock runs the writes waiting for it (a few) in one transaction, so fifteen uploads in flight
cost a few commits instead of fifteen.

Imports only the standard library.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# An emulator's data: no fsync per commit, a checkpoint (which does fsync) per ~40 MB of WAL
# rather than per 4 MB, and a page cache big enough for the indexes of a few million rows.
PRAGMAS = (
    "PRAGMA synchronous = NORMAL",
    "PRAGMA wal_autocheckpoint = 10000",
    "PRAGMA cache_size = -65536",
)
# Writes committed together at most: enough to share the commit's page writes, few enough that a
# campaign create or a send waiting for the lock is not held up behind a long queue of uploads.
# Past a few, a bigger group costs more per write, not less: with a million events stored, 8
# uploads of 1000 in one transaction took 26-35 ms of CPU each, 4 took 15.5 and 1 took 18-19 (with
# an index of events by profile; since events are indexed in bulk, 4 and 8 cost the same).
GROUP = 4


class _Write(Generic[T]):
    """One caller's write, run by whichever thread commits the group it joined."""

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        self.result = self.work()


class Database:
    """`conn` writes (under `lock`); `read_conn()` is this thread's reader."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self._writer_thread: int | None = None
        self.conn = self._connect()
        self.shared = path in ("", ":memory:")
        if not self.shared:
            self.conn.execute("PRAGMA journal_mode = WAL")
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._waiting: list[_Write[Any]] = []
        self.on_rollback: Callable[[], None] = lambda: None
        self._waiting_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            conn.execute(pragma)
        return conn

    # -- reading ------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        """This thread's own reader, or None where reads go through the writer: an in-memory
        database, or a thread inside a transaction (it must see its own writes)."""
        if self.shared or self._writer_thread == threading.get_ident():
            return None
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._waiting_lock:
                self._readers.append(conn)
        return conn

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        reader = self._reader()
        if reader is not None:
            return reader.execute(sql, params).fetchall()
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    # -- writing ------------------------------------------------------------------------
    @contextmanager
    def transaction(self, immediate: bool = False) -> Iterator[None]:
        """`immediate` takes the write lock up front, so what is read inside stays true until the
        commit even when another process writes the same file."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                self._writer_thread = threading.get_ident()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._writer_thread = None
                    self.conn.execute("ROLLBACK")
                    self.on_rollback()
                raise
            self._depth -= 1
            if outer:
                self._writer_thread = None
                try:
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    self.on_rollback()
                    raise

    def write(self, work: Callable[[], T]) -> T:
        """Run `work` (which writes through `conn`) in a transaction, committed with the other
        writes waiting at the same moment; its error, if any, undoes only its own changes."""
        mine: _Write[T] = _Write(work)
        with self._waiting_lock:
            self._waiting.append(mine)
        with self.lock:
            while not mine.done:  # mine may be past the first group waiting
                self._commit_waiting()
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    def _commit_waiting(self) -> None:
        """The first writes waiting, in one transaction; if one fails, each again in its own (a
        write only reads and writes the database, so running it again is safe)."""
        with self._waiting_lock:
            group, self._waiting = self._waiting[:GROUP], self._waiting[GROUP:]
        try:
            try:
                with self.transaction(immediate=True):
                    for write in group:
                        write.run()
            except Exception as exc:
                if len(group) == 1:
                    group[0].error = exc
                    return
                for write in group:
                    try:
                        with self.transaction(immediate=True):
                            write.run()
                    except Exception as alone:
                        write.error = alone
        finally:
            for write in group:
                write.done = True

    def close(self) -> None:
        with self.lock, self._waiting_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self.conn.close()
