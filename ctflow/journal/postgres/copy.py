"""Rows of another journal (a SQLite file's :meth:`export`) copied into a PostgreSQL journal, in
one transaction: all of them, or, when any differs from a row already there, none.

A row already there as it is (the same run, spec, batch, upload, send key, audience segment or
member, pending or not) is left alone, so copying again adds only what is new. Runs are known
by who ran what when (their ids are the database's own: steps, batches and sends follow their
run to its new id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import DictRow

from ctflow.errors import ConflictError
from ctflow.journal.postgres.schema import advisory_key

Rows = Mapping[str, Sequence[Mapping[str, Any]]]

RUN_KEY = ("kind", "environment", "user", "host", "command", "started_at")
RUN_COLUMNS = (*RUN_KEY, "git_commit", "finished_at", "outcome", "summary")
STEP_COLUMNS = ("key", "action", "hash", "campaign_id", "intent_at", "outcome", "outcome_at")


@dataclass(frozen=True)
class Keyed:
    """A table whose rows are known by ``key`` (within a project); ``same``: the columns a row
    already there must agree on; ``columns``: what is copied."""

    table: str
    label: str
    key: tuple[str, ...]
    same: tuple[str, ...]
    columns: tuple[str, ...]
    has_run: bool = False


KEYED = (
    Keyed(
        "specs",
        "applied spec",
        ("environment", "key", "hash"),
        ("spec",),
        ("campaign_id", "applied_at"),
    ),
    Keyed(
        "upload_batches",
        "upload batch",
        ("environment", "batch_id"),
        ("state", "records"),
        ("updated_at", "detail"),
        has_run=True,
    ),
    Keyed(
        "uploads",
        "upload",
        ("environment", "upload_key"),
        ("kind", "state"),
        ("source", "dataset", "summary", "updated_at"),
        has_run=True,
    ),
    Keyed(
        "sends",
        "send key",
        ("environment", "send_key", "recipient"),
        ("trigger_key", "digest", "state"),
        ("created_at", "updated_at", "detail"),
        has_run=True,
    ),
    Keyed(
        "audiences",
        "audience",
        ("environment", "key"),
        ("customer_segment_id", "ct_segment_id"),
        ("updated_at",),
    ),
    Keyed("audience_members", "audience member", ("environment", "key", "member"), (), ()),
    Keyed(
        "audience_pending",
        "pending audience member",
        ("environment", "key", "member"),
        ("direction",),
        (),
    ),
)
SHOWN_CONFLICTS = 10


@dataclass
class Copied:
    """What a copy wrote (``copied``) and found there already (``already``), by table."""

    copied: dict[str, int] = field(default_factory=dict)
    already: dict[str, int] = field(default_factory=dict)


def copy_rows(conn: psycopg.Connection[DictRow], schema: str, project: str, rows: Rows) -> Copied:
    """Copy ``rows`` (by table) into ``project``'s journal on ``conn``; ConflictError, and
    nothing written, when a row differs from the one already there."""
    done = Copied()
    conflicts: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("copy", schema, project),))
        run_ids, new_runs = _match_runs(conn, project, rows.get("runs", ()), conflicts, done)
        fresh = {
            table.table: _fresh(conn, project, table, rows, conflicts, done) for table in KEYED
        }
        if conflicts:
            more = len(conflicts) - SHOWN_CONFLICTS
            shown = conflicts[:SHOWN_CONFLICTS] + ([f"and {more} more"] if more > 0 else [])
            raise ConflictError(
                f"{len(conflicts)} row(s) differ from those already in the journal; nothing "
                "was copied:\n  " + "\n  ".join(shown)
            )
        for run in new_runs:
            run_ids[run["id"]] = _insert_run(conn, project, run)
        new_ids = {run["id"] for run in new_runs}
        steps = [s for s in rows.get("steps", ()) if s["run_id"] in new_ids]
        _insert(
            conn,
            "steps",
            ("run_id", *STEP_COLUMNS, "detail"),
            [(run_ids[s["run_id"]], *(s[c] for c in STEP_COLUMNS), s["detail"]) for s in steps],
        )
        done.copied["steps"] = len(steps)
        for table in KEYED:
            columns = ("project", *table.key, *table.same, *table.columns)
            values = [
                (project, *(row[c] for c in columns[1:]))
                + ((run_ids.get(row["run_id"]),) if table.has_run else ())
                for row in fresh[table.table]
            ]
            _insert(conn, table.table, columns + (("run_id",) if table.has_run else ()), values)
            done.copied[table.table] = len(values)
    return done


def _match_runs(
    conn: psycopg.Connection[DictRow],
    project: str,
    runs: Sequence[Mapping[str, Any]],
    conflicts: list[str],
    done: Copied,
) -> tuple[dict[int, int], list[Mapping[str, Any]]]:
    """Old run id → the id of the same run already there; and the runs that are not there."""
    there = {
        tuple(row[c] for c in RUN_KEY): row
        for row in conn.execute(
            'SELECT id, kind, environment, "user", host, command, started_at, git_commit,'
            " finished_at, outcome, summary FROM runs WHERE project = %s",
            (project,),
        ).fetchall()
    }
    ids: dict[int, int] = {}
    new: list[Mapping[str, Any]] = []
    for run in runs:
        found = there.get(tuple(run[c] for c in RUN_KEY))
        if found is None:
            new.append(run)
        elif all(found[c] == run[c] for c in RUN_COLUMNS):
            ids[run["id"]] = found["id"]
        else:
            conflicts.append(
                f"run {run['id']} ({run['kind']}, {run['environment']}, {run['started_at']}): "
                f"there as run {found['id']}, ending {found['outcome']!r} not {run['outcome']!r}"
            )
    done.already["runs"] = len(ids)
    done.copied["runs"] = len(new)
    return ids, new


def _fresh(
    conn: psycopg.Connection[DictRow],
    project: str,
    table: Keyed,
    rows: Rows,
    conflicts: list[str],
    done: Copied,
) -> list[Mapping[str, Any]]:
    """The rows of ``table`` not there yet; a conflict for each there with other values."""
    names = ", ".join((*table.key, *table.same))
    query = f"SELECT {names} FROM {table.table} WHERE project = %s"
    there = {
        tuple(row[c] for c in table.key): row for row in conn.execute(query, (project,)).fetchall()
    }
    fresh: list[Mapping[str, Any]] = []
    already = 0
    for row in rows.get(table.table, ()):
        key = tuple(row[c] for c in table.key)
        found = there.get(key)
        if found is None:
            fresh.append(row)
        elif all(found[c] == row[c] for c in table.same):
            already += 1
        else:
            differs = ", ".join(
                f"{c} {_short(found[c])} there, {_short(row[c])} here"
                for c in table.same
                if found[c] != row[c]
            )
            conflicts.append(f"{table.label} {'/'.join(map(str, key))}: {differs}")
    done.already[table.table] = already
    return fresh


def _short(value: Any) -> str:
    """A value for a message: a digest or a spec is cut to its first characters."""
    shown = repr(value)
    return shown if len(shown) <= 20 else shown[:16] + "…'"


def _insert_run(conn: psycopg.Connection[DictRow], project: str, run: Mapping[str, Any]) -> int:
    row = conn.execute(
        'INSERT INTO runs (project, kind, environment, "user", host, command, started_at,'
        " git_commit, finished_at, outcome, summary)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (project, *(run[c] for c in RUN_COLUMNS)),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def _insert(
    conn: psycopg.Connection[DictRow],
    table: str,
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
) -> None:
    if not values:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",
            values,
        )
