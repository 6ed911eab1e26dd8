"""The PostgreSQL server a benchmark's journal lives on: the one given (``--journal-url``, or
``CTFLOW_JOURNAL_URL``), else a temporary server started for the run (PostgreSQL's binaries,
as the tests find them) and removed after it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def journal_server(given: str | None) -> Iterator[str]:
    """The URL of a database whose schemas the benchmark may create at will."""
    url = given or os.environ.get("CTFLOW_JOURNAL_URL")
    if url:
        yield url
        return
    sys.path.insert(0, str(REPO))
    from tests.pgserver import PgServerError, temporary_server

    try:
        with temporary_server() as server:
            print(f"  a temporary PostgreSQL server on 127.0.0.1:{server.port}")
            yield server.url()
    except PgServerError as exc:
        raise SystemExit(f"no PostgreSQL server: {exc}; or pass --journal-url") from None


def fresh_schema(url: str, schema: str) -> str:
    """``url`` with ``?schema=`` naming an empty schema (dropped first if it was there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"
