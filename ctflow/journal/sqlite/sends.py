"""The SQLite journal's send idempotency keys: each send recorded before its call (in one
``BEGIN IMMEDIATE`` transaction, so of racing processes one claims a key) and its outcome after
it."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ctflow.errors import CtflowError
from ctflow.journal.records import claimable, dumps, in_progress
from ctflow.journal.sqlite.store import Store, row_dict


class SqliteSends(Store):
    def claim_sends(
        self,
        environment: str,
        sends: Sequence[tuple[str, str, str]],
        *,
        trigger: str,
        run_id: int | None,
        again: Collection[str] = ("failed",),
        stale_before: str | None = None,
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Record sends, each ``(send_key, recipient, digest of what is sent)``, as ``sending``
        before their call, in one transaction, and return the ones left alone with their
        records, by ``(send_key, recipient)``.

        A send already recorded is claimed again only when its state is in ``again`` and it was
        for the same digest (or it ``failed``: it was not sent). A ``sending`` one, moreover,
        only when its run has finished or it was last touched before ``stale_before``: else
        another process may be sending it right now (its record then says ``in_progress``).
        """
        now = self._stamp()
        earlier: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for send_key, recipient, digest in sends:
                row = self._conn.execute(
                    "SELECT trigger_key, digest, state, run_id, created_at, sends.updated_at,"
                    " detail, runs.finished_at AS run_finished"
                    " FROM sends LEFT JOIN runs ON runs.id = sends.run_id"
                    " WHERE sends.environment = ? AND send_key = ? AND recipient = ?",
                    (environment, send_key, recipient),
                ).fetchone()
                if row is not None and not claimable(row, digest, again, stale_before):
                    found = row_dict(row, "detail")
                    found["in_progress"] = in_progress(row, stale_before)
                    earlier[(send_key, recipient)] = found
                    continue
                self._conn.execute(
                    "INSERT INTO sends (environment, send_key, recipient, trigger_key, digest,"
                    " state, run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'sending', ?,"
                    " ?, ?) ON CONFLICT (environment, send_key, recipient) DO UPDATE SET"
                    " trigger_key = excluded.trigger_key, digest = excluded.digest,"
                    " state = 'sending', run_id = excluded.run_id,"
                    " updated_at = excluded.updated_at, detail = NULL",
                    (environment, send_key, recipient, trigger, digest, run_id, now, now),
                )
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None
        return earlier

    def send_outcomes(
        self,
        environment: str,
        sends: Sequence[tuple[str, str]],
        state: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """How claimed sends ended: ``sent``, ``failed`` (provably not sent) or ``ambiguous``."""
        stamp, text = self._stamp(), dumps(detail)
        try:
            with self._conn:  # one transaction
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany(
                    "UPDATE sends SET state = ?, updated_at = ?, detail = ?"
                    " WHERE environment = ? AND send_key = ? AND recipient = ?",
                    [(state, stamp, text, environment, key, to) for key, to in sends],
                )
        except sqlite3.Error as exc:
            raise CtflowError(f"cannot write the journal {self.path}: {exc}") from None

    def sends_of(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT send_key, recipient, trigger_key, state, updated_at, detail FROM sends"
            " WHERE run_id = ? ORDER BY send_key, recipient",
            (run_id,),
        )
        return [row_dict(row, "detail") for row in rows]
