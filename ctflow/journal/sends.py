"""Send idempotency keys: each send recorded before its call and its outcome after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ctflow.errors import CtflowError
from ctflow.journal.store import Store, dumps, row_dict


class SendKeys(Store):
    def claim_sends(
        self,
        environment: str,
        sends: Sequence[tuple[str, str, str]],
        *,
        trigger: str,
        run_id: int | None,
        again: Collection[str] = ("failed",),
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Record sends, each ``(send_key, recipient, digest of what is sent)``, as ``sending``
        before their call, in one transaction. A send already recorded in a state not in
        ``again`` is left as it was and returned by ``(send_key, recipient)`` with its record;
        the others are claimed."""
        now = self._stamp()
        earlier: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for send_key, recipient, digest in sends:
                row = self._conn.execute(
                    "SELECT trigger_key, digest, state, run_id, created_at, updated_at, detail"
                    " FROM sends WHERE environment = ? AND send_key = ? AND recipient = ?",
                    (environment, send_key, recipient),
                ).fetchone()
                if row is not None and row["state"] not in again:
                    earlier[(send_key, recipient)] = row_dict(row, "detail")
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
