"""The PostgreSQL journal (:class:`PgJournal`): the same journal as the SQLite file, shared by
every machine that reaches the database. The apply lock is an advisory lock held by the run's
connection (a dead process or a dropped connection leaves none behind); send keys are claimed
in one transaction, so of racing processes exactly one gets each; one journal instance serves
one project. Every write is durable when the call returns (autocommit)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, LiteralString, Self

import psycopg
from psycopg.rows import dict_row

from ctflow.errors import ConflictError, CtflowError, JournalUnavailable
from ctflow.journal.interface import BatchState, Holder
from ctflow.journal.location import JournalLocation, mask_password
from ctflow.journal.postgres.audiences import PgAudiences
from ctflow.journal.postgres.copy import Copied, Rows, copy_rows
from ctflow.journal.postgres.schema import advisory_key, migrate, use_schema
from ctflow.journal.records import (
    batch_order,
    claimable,
    describe_holder,
    dumps,
    holder_json,
    in_progress,
    loads,
)

Row = dict[str, Any]
_RUN_COLUMNS = (
    'id, kind, project, environment, "user", host, git_commit, command,'
    " started_at, finished_at, outcome, summary"
)
_STEP_COLUMNS = (
    "steps.id, run_id, key, action, hash, campaign_id, intent_at, steps.outcome, outcome_at, detail"
)


_UPSERT_BATCH: LiteralString = (
    "INSERT INTO upload_batches (project, environment, batch_id, state, records, run_id,"
    " updated_at, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (project, environment, batch_id) DO UPDATE SET state = excluded.state,"
    " records = excluded.records, run_id = excluded.run_id,"
    " updated_at = excluded.updated_at, detail = excluded.detail"
)


class PgJournal(PgAudiences):
    """One project's journal in a PostgreSQL database: :class:`ctflow.journal.Journal`."""

    def __init__(
        self,
        location: JournalLocation,
        project: str,
        conn: psycopg.Connection[Row],
        created: bool,
        now: Callable[[], datetime],
    ) -> None:
        self.project = project
        self.created = created
        self._where = location
        self._conn = conn
        self._now = now

    @classmethod
    def open(
        cls,
        location: JournalLocation,
        project: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Self:
        """The journal at ``location``, its tables created or upgraded first."""
        journal = cls._connect(location, project, now, create=True)
        assert journal is not None  # created when missing
        return journal

    @classmethod
    def existing(
        cls,
        location: JournalLocation,
        project: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Self | None:
        """The journal at ``location``; ``None`` when its tables do not exist yet."""
        return cls._connect(location, project, now, create=False)

    @classmethod
    def _connect(
        cls,
        location: JournalLocation,
        project: str,
        now: Callable[[], datetime],
        *,
        create: bool,
    ) -> Self | None:
        try:
            conn = psycopg.connect(
                location.url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=10,
                application_name="ctflow",
            )
        except psycopg.Error as exc:
            raise JournalUnavailable(
                f"cannot reach the journal {location.shown}: {_why(exc)}"
            ) from None
        try:
            use_schema(conn, location.schema)
            if not create and not _has_tables(conn, location.schema):
                conn.close()
                return None
            created = migrate(conn, location.schema)
        except (psycopg.Error, ValueError) as exc:
            conn.close()
            reason = _why(exc) if isinstance(exc, psycopg.Error) else str(exc)
            raise CtflowError(f"cannot open the journal {location.shown}: {reason}") from None
        return cls(location, project, conn, created, now)

    @property
    def location(self) -> str:
        return self._where.shown

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the connection ----------------------------------------------------------------------

    def _stamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="seconds")

    def _execute(self, sql: LiteralString, params: Sequence[Any] = ()) -> psycopg.Cursor[Row]:
        try:
            return self._conn.execute(sql, params)
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None

    def _query(
        self, sql: LiteralString, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise self._failure("read", exc) from None

    def _failure(self, doing: str, exc: psycopg.Error) -> CtflowError:
        """A lost connection is the journal gone (no further call may be made); anything else
        is an error of this write."""
        if isinstance(exc, psycopg.OperationalError) or self._conn.closed:
            return JournalUnavailable(f"lost the journal {self.location}: {_why(exc)}")
        return CtflowError(f"cannot {doing} the journal {self.location}: {_why(exc)}")

    def copy_in(self, rows: Rows) -> Copied:
        """Another journal's rows, by table, copied in: all, or none when one conflicts."""
        try:
            return copy_rows(self._conn, self._where.schema, self.project, rows)
        except psycopg.Error as exc:
            raise self._failure("copy into", exc) from None

    # --- the lock ----------------------------------------------------------------------------

    @contextmanager
    def lock(
        self, holder: Holder, *, project: str, environment: str, only: Sequence[str] = ()
    ) -> Iterator[None]:
        """Advisory locks held by this connection: on (schema, project, environment),
        exclusive; with ``only``, shared on it and exclusive on each of ``only``."""
        whole = advisory_key("lock", self._where.schema, project, environment)
        wanted = [(whole, not only)]
        wanted += [
            (advisory_key("lock", self._where.schema, project, environment, o), True) for o in only
        ]
        taken: list[tuple[int, bool]] = []
        try:
            for key, exclusive in wanted:
                take = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
                if not self._query(f"SELECT {take}(%s) AS got", (key,))[0]["got"]:
                    raise ConflictError(
                        f"the journal {self.location} is locked for {project}/{environment} by "
                        f"{self._holder(key)}; wait for it to finish"
                    )
                taken.append((key, exclusive))
                if exclusive:
                    self._execute(
                        "INSERT INTO lock_holders (lock_key, holder) VALUES (%s, %s)"
                        " ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder",
                        (key, holder_json(holder)),
                    )
            yield
        finally:
            for key, exclusive in reversed(taken):
                self._release(key, exclusive)

    def _holder(self, key: int) -> str:
        rows = self._query("SELECT holder FROM lock_holders WHERE lock_key = %s", (key,))
        if rows:
            return describe_holder(rows[0]["holder"])
        return "uploads in progress (`ctflow history` lists the runs)"

    def _release(self, key: int, exclusive: bool) -> None:
        """Give the lock back; a connection already gone gave it back itself."""
        if self._conn.closed:
            return
        try:
            if exclusive:
                self._conn.execute("DELETE FROM lock_holders WHERE lock_key = %s", (key,))
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            else:
                self._conn.execute("SELECT pg_advisory_unlock_shared(%s)", (key,))
        except psycopg.Error:
            pass

    # --- runs and steps ----------------------------------------------------------------------

    def begin(
        self,
        kind: str,
        *,
        project: str,
        environment: str,
        user: str,
        host: str,
        git_commit: str | None,
        command: str,
    ) -> int:
        cursor = self._execute(
            'INSERT INTO runs (kind, project, environment, "user", host, git_commit, command,'
            " started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (kind, project, environment, user, host, git_commit, command, self._stamp()),
        )
        return int(_one(cursor)["id"])

    def finish(self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None) -> None:
        cursor = self._execute(
            "UPDATE runs SET finished_at = %s, outcome = %s, summary = %s WHERE id = %s",
            (self._stamp(), outcome, dumps(summary), run_id),
        )
        if cursor.rowcount != 1:
            raise ValueError(f"the journal has no run {run_id}")

    def finish_if_open(
        self, run_id: int, outcome: str, summary: Mapping[str, Any] | None = None
    ) -> bool:
        cursor = self._execute(
            "UPDATE runs SET finished_at = %s, outcome = %s, summary = %s"
            " WHERE id = %s AND finished_at IS NULL",
            (self._stamp(), outcome, dumps(summary), run_id),
        )
        return cursor.rowcount == 1

    def intent(
        self,
        run_id: int,
        *,
        key: str,
        action: str,
        hash: str | None = None,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> int:
        cursor = self._execute(
            "INSERT INTO steps (run_id, key, action, hash, campaign_id, intent_at, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (run_id, key, action, hash, campaign_id, self._stamp(), dumps(detail)),
        )
        return int(_one(cursor)["id"])

    def outcome(
        self,
        step_id: int,
        outcome: str,
        *,
        campaign_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        rows = self._query("SELECT detail FROM steps WHERE id = %s", (step_id,))
        if not rows:
            raise ValueError(f"the journal has no step {step_id}")
        merged = {**(loads(rows[0]["detail"]) or {}), **(detail or {})}
        self._execute(
            "UPDATE steps SET outcome = %s, outcome_at = %s,"
            " campaign_id = COALESCE(%s, campaign_id), detail = %s WHERE id = %s",
            (outcome, self._stamp(), campaign_id, dumps(merged or None), step_id),
        )

    def stopped_ids(self, environment: str, *, kind: str = "apply") -> set[int]:
        rows = self._query(
            "SELECT DISTINCT campaign_id FROM steps JOIN runs ON runs.id = steps.run_id"
            " WHERE runs.project = %s AND runs.environment = %s AND runs.kind = %s"
            " AND steps.action = 'stop' AND steps.outcome = 'done' AND campaign_id IS NOT NULL",
            (self.project, environment, kind),
        )
        return {int(row["campaign_id"]) for row in rows}

    def runs(
        self,
        limit: int = 20,
        *,
        environment: str | None = None,
        kind: str | None = None,
        since: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = self._query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE project = %(project)s"
            " AND (%(environment)s::text IS NULL OR environment = %(environment)s)"
            " AND (%(kind)s::text IS NULL OR kind = %(kind)s)"
            " AND (%(since)s::text IS NULL OR started_at >= %(since)s)"
            " ORDER BY id DESC LIMIT %(limit)s",
            {
                "project": self.project,
                "environment": environment,
                "kind": kind,
                "since": since,
                "limit": limit,
            },
        )
        return [_decoded(row, "summary") for row in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._query(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE project = %s AND id = %s",
            (self.project, run_id),
        )
        return _decoded(rows[0], "summary") if rows else None

    def steps(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = %s ORDER BY id", (run_id,)
        )
        return [_decoded(row, "detail") for row in rows]

    def open_runs(self, environment: str, *, kinds: tuple[str, ...]) -> list[int]:
        rows = self._query(
            "SELECT id FROM runs WHERE project = %s AND environment = %s"
            " AND finished_at IS NULL AND kind = ANY(%s) ORDER BY id",
            (self.project, environment, list(kinds)),
        )
        return [int(row["id"]) for row in rows]

    def unfinished_steps(self, environment: str) -> list[dict[str, Any]]:
        rows = self._query(
            f"SELECT {_STEP_COLUMNS} FROM steps JOIN runs ON runs.id = steps.run_id"
            " WHERE runs.project = %s AND runs.environment = %s AND steps.outcome IS NULL"
            " ORDER BY steps.id DESC",
            (self.project, environment),
        )
        return [_decoded(row, "detail") for row in rows]

    # --- applied specs -----------------------------------------------------------------------

    def record_spec(
        self,
        environment: str,
        key: str,
        hash: str,
        spec: Mapping[str, Any],
        *,
        campaign_id: int | None,
    ) -> None:
        self._execute(
            "INSERT INTO specs (project, environment, key, hash, spec, campaign_id, applied_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (project, environment, key, hash) DO UPDATE SET spec = excluded.spec,"
            " campaign_id = excluded.campaign_id, applied_at = excluded.applied_at",
            (self.project, environment, key, hash, dumps(spec), campaign_id, self._stamp()),
        )

    def spec(self, environment: str, key: str, hash: str) -> dict[str, Any] | None:
        rows = self._query(
            "SELECT spec FROM specs WHERE project = %s AND environment = %s AND key = %s"
            " AND hash = %s",
            (self.project, environment, key, hash),
        )
        return loads(rows[0]["spec"]) if rows else None

    def specs(self, environment: str) -> dict[tuple[str, str], dict[str, Any]]:
        rows = self._query(
            "SELECT key, hash, spec FROM specs WHERE project = %s AND environment = %s",
            (self.project, environment),
        )
        return {(row["key"], row["hash"]): loads(row["spec"]) for row in rows}

    # --- the upload ledger -------------------------------------------------------------------

    def batch_states(self, environment: str, prefix: str) -> dict[str, str]:
        rows = self._query(
            "SELECT batch_id, state FROM upload_batches WHERE project = %s"
            " AND environment = %s AND starts_with(batch_id, %s)",
            (self.project, environment, prefix),
        )
        return {row["batch_id"]: row["state"] for row in rows}

    def batch_records(self, environment: str, prefix: str) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT batch_id, state, records, updated_at, detail FROM upload_batches"
            " WHERE project = %s AND environment = %s AND starts_with(batch_id, %s)",
            (self.project, environment, prefix),
        )
        return sorted((_decoded(row, "detail") for row in rows), key=batch_order)

    def sent_records(self, environment: str, prefix: str) -> int:
        rows = self._query(
            "SELECT COALESCE(SUM(records), 0) AS sent FROM upload_batches WHERE project = %s"
            " AND environment = %s AND starts_with(batch_id, %s) AND state != 'failed'",
            (self.project, environment, prefix),
        )
        return int(rows[0]["sent"])

    def batch_state(
        self,
        environment: str,
        batch_id: str,
        state: str,
        *,
        records: int,
        run_id: int | None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self._execute(
            _UPSERT_BATCH,
            (
                self.project,
                environment,
                batch_id,
                state,
                records,
                run_id,
                self._stamp(),
                dumps(detail),
            ),
        )

    def record_batch_states(
        self, environment: str, batches: Sequence[BatchState], *, run_id: int | None
    ) -> None:
        """One statement (atomic, one round trip); a batch named twice goes in its last state,
        as one row may change once a statement."""
        last = {b.batch_id: b for b in batches}
        self._execute(
            "INSERT INTO upload_batches (project, environment, batch_id, state, records, run_id,"
            " updated_at, detail) SELECT %s, %s, b.batch_id, b.state, b.records, %s, %s, b.detail"
            " FROM unnest(%s::text[], %s::text[], %s::integer[], %s::text[])"
            " AS b (batch_id, state, records, detail)"
            " ON CONFLICT (project, environment, batch_id) DO UPDATE SET state = excluded.state,"
            " records = excluded.records, run_id = excluded.run_id,"
            " updated_at = excluded.updated_at, detail = excluded.detail",
            (
                self.project,
                environment,
                run_id,
                self._stamp(),
                list(last),
                [b.state for b in last.values()],
                [b.records for b in last.values()],
                [dumps(b.detail) for b in last.values()],
            ),
        )

    def forget_batches(self, environment: str, prefix: str) -> int:
        cursor = self._execute(
            "DELETE FROM upload_batches WHERE project = %s AND environment = %s"
            " AND starts_with(batch_id, %s)",
            (self.project, environment, prefix),
        )
        return cursor.rowcount

    def record_upload(
        self,
        environment: str,
        upload_key: str,
        *,
        kind: str,
        source: str,
        dataset: str | None,
        state: str,
        summary: Mapping[str, Any],
        run_id: int | None,
    ) -> None:
        self._execute(
            "INSERT INTO uploads (project, environment, upload_key, kind, source, dataset, state,"
            " summary, run_id, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (project, environment, upload_key) DO UPDATE SET kind = excluded.kind,"
            " source = excluded.source, dataset = excluded.dataset, state = excluded.state,"
            " summary = excluded.summary, run_id = excluded.run_id,"
            " updated_at = excluded.updated_at",
            (
                self.project,
                environment,
                upload_key,
                kind,
                source,
                dataset,
                state,
                dumps(summary),
                run_id,
                self._stamp(),
            ),
        )

    def uploads(self, environment: str) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT upload_key, kind, source, dataset, state, summary, run_id, updated_at"
            " FROM uploads WHERE project = %s AND environment = %s"
            " ORDER BY updated_at DESC, seq DESC",
            (self.project, environment),
        )
        return [_decoded(row, "summary") for row in rows]

    def batches_of(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT batch_id, state, records, updated_at, detail FROM upload_batches"
            " WHERE project = %s AND run_id = %s",
            (self.project, run_id),
        )
        return sorted((_decoded(row, "detail") for row in rows), key=batch_order)

    def forget_environment_uploads(self, environment: str) -> int:
        batches = self._execute(
            "DELETE FROM upload_batches WHERE project = %s AND environment = %s",
            (self.project, environment),
        ).rowcount
        self._execute(
            "DELETE FROM uploads WHERE project = %s AND environment = %s",
            (self.project, environment),
        )
        return batches

    # --- send keys ---------------------------------------------------------------------------

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
        """The new keys inserted at once (one statement); then, in one transaction, the
        recorded ones locked and claimed again where they may be. A key another process is
        inserting waits for it."""
        now = self._stamp()
        earlier: dict[tuple[str, str], dict[str, Any]] = {}
        digests = {(key, to): digest for key, to, digest in sends}
        try:
            taken = self._conn.execute(
                "INSERT INTO sends (project, environment, send_key, recipient, trigger_key,"
                " digest, state, run_id, created_at, updated_at)"
                " SELECT %s, %s, k, r, %s, d, 'sending', %s, %s, %s"
                " FROM unnest(%s::text[], %s::text[], %s::text[]) AS t (k, r, d)"
                " ON CONFLICT DO NOTHING RETURNING send_key, recipient",
                _claim_params(self.project, environment, trigger, run_id, now, sends),
            ).fetchall()
            claimed = {(row["send_key"], row["recipient"]) for row in taken}
            recorded = [pair for pair in digests if pair not in claimed]
            if not recorded:
                return earlier
            with self._conn.transaction():
                for row in self._recorded(environment, recorded):
                    pair = (row["send_key"], row["recipient"])
                    if claimable(row, digests[pair], again, stale_before):
                        self._reclaim(environment, pair, digests[pair], trigger, run_id, now)
                        continue
                    found = {k: v for k, v in row.items() if k not in ("send_key", "recipient")}
                    found["detail"] = loads(found["detail"])
                    found["in_progress"] = in_progress(row, stale_before)
                    earlier[pair] = found
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None
        return earlier

    def _recorded(self, environment: str, pairs: Sequence[tuple[str, str]]) -> list[Row]:
        """The recorded sends of ``pairs`` with whether their run finished, locked until the
        transaction ends."""
        if not pairs:
            return []
        return self._conn.execute(
            "SELECT send_key, recipient, trigger_key, digest, state, run_id, created_at,"
            " sends.updated_at, detail, runs.finished_at AS run_finished"
            " FROM sends LEFT JOIN runs ON runs.id = sends.run_id"
            " WHERE sends.project = %s AND sends.environment = %s"
            " AND (send_key, recipient) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
            " FOR UPDATE OF sends",
            (self.project, environment, [k for k, _ in pairs], [r for _, r in pairs]),
        ).fetchall()

    def _reclaim(
        self,
        environment: str,
        pair: tuple[str, str],
        digest: str,
        trigger: str,
        run_id: int | None,
        now: str,
    ) -> None:
        self._conn.execute(
            "UPDATE sends SET trigger_key = %s, digest = %s, state = 'sending', run_id = %s,"
            " updated_at = %s, detail = NULL WHERE project = %s AND environment = %s"
            " AND send_key = %s AND recipient = %s",
            (trigger, digest, run_id, now, self.project, environment, *pair),
        )

    def send_outcomes(
        self,
        environment: str,
        sends: Sequence[tuple[str, str]],
        state: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        stamp, text = self._stamp(), dumps(detail)
        try:  # one statement: atomic without a transaction of its own (one round trip)
            self._conn.execute(
                "UPDATE sends SET state = %s, updated_at = %s, detail = %s"
                " FROM unnest(%s::text[], %s::text[]) AS t (k, r)"
                " WHERE project = %s AND environment = %s AND send_key = t.k"
                " AND recipient = t.r",
                (
                    state,
                    stamp,
                    text,
                    [k for k, _ in sends],
                    [r for _, r in sends],
                    self.project,
                    environment,
                ),
            )
        except psycopg.Error as exc:
            raise self._failure("write", exc) from None

    def sends_of(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT send_key, recipient, trigger_key, state, updated_at, detail FROM sends"
            " WHERE project = %s AND run_id = %s ORDER BY send_key, recipient",
            (self.project, run_id),
        )
        return [_decoded(row, "detail") for row in rows]


def _claim_params(
    project: str,
    environment: str,
    trigger: str,
    run_id: int | None,
    now: str,
    sends: Sequence[tuple[str, str, str]],
) -> tuple[Any, ...]:
    keys = [key for key, _, _ in sends]
    recipients = [to for _, to, _ in sends]
    digests = [digest for _, _, digest in sends]
    return (project, environment, trigger, run_id, now, now, keys, recipients, digests)


def _has_tables(conn: psycopg.Connection[Row], schema: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name = 'meta'",
            (schema,),
        ).fetchone()
        is not None
    )


def _one(cursor: psycopg.Cursor[Row]) -> Row:
    row = cursor.fetchone()
    assert row is not None  # INSERT … RETURNING always returns the row
    return row


def _decoded(row: Row, *json_columns: str) -> dict[str, Any]:
    found = dict(row)
    for column in json_columns:
        found[column] = loads(found[column])
    return found


def _why(exc: BaseException) -> str:
    """An error's first line, with any URL's password masked (libpq may echo what it was given)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return " ".join(mask_password(word) for word in first.split(" "))
