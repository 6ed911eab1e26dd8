"""The PostgreSQL journal's tables, in a schema of their own, created on first use and upgraded
by version. Two processes upgrading at once take turns (a transaction-scoped advisory lock), so
they cannot collide. The connection's ``search_path`` is the schema, so no statement names it.
Every row (a run's too) carries its project: one database may hold many projects' journals."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, LiteralString

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 3

_TABLES: tuple[LiteralString, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        id bigserial PRIMARY KEY,
        kind text NOT NULL, project text NOT NULL, environment text NOT NULL,
        "user" text NOT NULL, host text NOT NULL, git_commit text, command text NOT NULL,
        started_at text NOT NULL, finished_at text, outcome text, summary text)""",
    "CREATE INDEX IF NOT EXISTS runs_by_project ON runs (project, environment, id)",
    """CREATE TABLE IF NOT EXISTS steps (
        id bigserial PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES runs (id),
        key text NOT NULL, action text NOT NULL, hash text, campaign_id bigint,
        intent_at text NOT NULL, outcome text, outcome_at text, detail text)""",
    "CREATE INDEX IF NOT EXISTS steps_by_run ON steps (run_id)",
    """CREATE TABLE IF NOT EXISTS specs (
        project text NOT NULL, environment text NOT NULL, key text NOT NULL, hash text NOT NULL,
        spec text NOT NULL, campaign_id bigint, applied_at text NOT NULL,
        PRIMARY KEY (project, environment, key, hash))""",
    """CREATE TABLE IF NOT EXISTS upload_batches (
        project text NOT NULL, environment text NOT NULL, batch_id text NOT NULL,
        state text NOT NULL, records integer NOT NULL, run_id bigint, updated_at text NOT NULL,
        detail text, PRIMARY KEY (project, environment, batch_id))""",
    """CREATE TABLE IF NOT EXISTS uploads (
        seq bigserial, project text NOT NULL, environment text NOT NULL,
        upload_key text NOT NULL, kind text NOT NULL, source text NOT NULL, dataset text,
        state text NOT NULL, summary text, run_id bigint, updated_at text NOT NULL,
        PRIMARY KEY (project, environment, upload_key))""",
    """CREATE TABLE IF NOT EXISTS sends (
        project text NOT NULL, environment text NOT NULL, send_key text NOT NULL,
        recipient text NOT NULL, trigger_key text NOT NULL, digest text NOT NULL,
        state text NOT NULL, run_id bigint, created_at text NOT NULL, updated_at text NOT NULL,
        detail text, PRIMARY KEY (project, environment, send_key, recipient))""",
    """CREATE TABLE IF NOT EXISTS lock_holders (
        lock_key bigint PRIMARY KEY, holder text NOT NULL)""",
)
_AUDIENCES: tuple[LiteralString, ...] = (
    """CREATE TABLE IF NOT EXISTS audiences (
        project text NOT NULL, environment text NOT NULL, key text NOT NULL,
        customer_segment_id text NOT NULL, ct_segment_id bigint,
        updated_at text NOT NULL, PRIMARY KEY (project, environment, key))""",
    """CREATE TABLE IF NOT EXISTS audience_members (
        project text NOT NULL, environment text NOT NULL, key text NOT NULL,
        member text NOT NULL, PRIMARY KEY (project, environment, key, member))""",
)
_PENDING: tuple[LiteralString, ...] = (
    """CREATE TABLE IF NOT EXISTS audience_pending (
        project text NOT NULL, environment text NOT NULL, key text NOT NULL,
        member text NOT NULL, direction text NOT NULL,
        PRIMARY KEY (project, environment, key, member))""",
)
MIGRATIONS: dict[int, tuple[LiteralString, ...]] = {1: _TABLES, 2: _AUDIENCES, 3: _PENDING}
"""The statements that bring the schema from the version before to each version."""


def advisory_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts`` (stable across processes and hosts)."""
    digest = hashlib.sha256("\x1f".join(("ctflow", *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def use_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    """Make ``schema`` the connection's only schema for names (created on first use)."""
    from psycopg import sql

    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))


def migrate(conn: psycopg.Connection[Any], schema: str) -> bool:
    """Create or upgrade the journal's tables in ``schema``; whether there were none before.

    A journal newer than this ctflow is refused (ValueError), as the SQLite journal does."""
    from psycopg import sql
    from psycopg.rows import tuple_row

    cur = conn.cursor(row_factory=tuple_row)
    with conn.transaction():
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key("migrate", schema),))
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        found = cur.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s"
            " AND table_name = 'meta'",
            (schema,),
        ).fetchone()
        version = 0
        if found:
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(str(row[0])) if row else 0
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"it has schema version {version}, newer than this ctflow knows"
                f" ({SCHEMA_VERSION}); upgrade ctflow"
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                cur.execute(statement)
        cur.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
    return not found
