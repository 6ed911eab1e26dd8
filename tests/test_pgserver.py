"""The session's real PostgreSQL server (tests/pgserver.py): login, fresh databases, stop/start."""

from __future__ import annotations

import pytest

from tests.pgserver import PgServer, require_psycopg

psycopg = require_psycopg()


def _scalar(url: str, query: str) -> object:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def test_server_answers_over_tcp_with_the_password(postgres: PgServer) -> None:
    assert postgres.url().startswith(f"postgresql://ctflow:{postgres.password}@127.0.0.1:")
    assert _scalar(postgres.url(), "select 1") == 1
    assert _scalar(postgres.url(), "show fsync") == "off"
    wrong = postgres.url().replace(postgres.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


@pytest.fixture(scope="module")
def databases_seen() -> set[str]:
    return set()


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_a_fresh_empty_database(
    postgres_url: str, databases_seen: set[str], run: str
) -> None:
    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        name = conn.execute("select current_database()").fetchone()[0]
        tables = conn.execute("select count(*) from pg_tables where schemaname = 'public'")
        assert tables.fetchone()[0] == 0
        conn.execute("create table marker (run text)")
        conn.execute("insert into marker values (%s)", [run])
    assert name not in databases_seen | {"postgres", "template1"}
    databases_seen.add(name)


def test_stop_then_start_keeps_what_was_committed(postgres: PgServer, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("create table kept (n int)")
        conn.execute("insert into kept values (42)")
    postgres.stop()
    try:
        assert not postgres.is_running()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(postgres_url, connect_timeout=2)
    finally:
        postgres.start()
    assert postgres.is_running()
    assert _scalar(postgres_url, "select n from kept") == 42
