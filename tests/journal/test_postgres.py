"""The PostgreSQL journal's own ways: its tables in a schema of their own, projects kept apart in
one database, a lock per project and environment, first opens racing, and a password that is
never shown."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from ctflow.errors import ConflictError, CtflowError
from ctflow.journal import Holder, existing_journal, open_journal
from ctflow.journal.location import parse_location
from ctflow.journal.postgres.schema import SCHEMA_VERSION
from tests.journal.support import Backend, at
from tests.pgserver import PgServer

ME = Holder(pid=1, user="ana", host="laptop", command="ctflow apply", started_at=at(0))


@pytest.fixture
def backend(postgres_url: str, tmp_path: Path) -> Backend:
    return Backend("postgresql", postgres_url, tmp_path)


def _tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return {row[0] for row in rows}


def test_the_tables_live_in_their_own_schema_named_by_the_url(backend: Backend) -> None:
    backend.open().close()
    assert {"runs", "steps", "specs", "upload_batches", "uploads", "sends"} <= _tables(
        backend.url, "ctflow"
    )
    other = Backend("postgresql", backend.url + "?schema=ci_journal", backend.root)
    with other.open() as journal:
        assert journal.created, "another schema is another journal"
        assert journal.location.endswith(" (schema ci_journal)")
    assert "runs" in _tables(backend.url, "ci_journal")


def test_the_password_is_never_shown(backend: Backend, postgres: PgServer) -> None:
    with backend.open() as journal:
        assert postgres.password not in journal.location
        assert journal.location.startswith(f"postgresql://{postgres.user}:***@127.0.0.1:")
    wrong = backend.url.replace(postgres.password, "not-the-password-at-all")
    with pytest.raises(CtflowError) as caught:
        Backend("postgresql", wrong, backend.root).open()
    assert "not-the-password-at-all" not in str(caught.value)
    assert str(caught.value).startswith(
        f"cannot reach the journal postgresql://{postgres.user}:***@"
    )


def test_a_journal_written_by_a_newer_ctflow_is_refused(backend: Backend) -> None:
    backend.open().close()
    with psycopg.connect(backend.url, autocommit=True) as conn:
        conn.execute("UPDATE ctflow.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(CtflowError) as caught:
        backend.open()
    assert str(caught.value) == (
        f"cannot open the journal {backend.location.shown}: it has schema version 99, newer than"
        f" this ctflow knows ({SCHEMA_VERSION}); upgrade ctflow"
    )


def test_processes_opening_a_new_journal_at_once_create_it_once(backend: Backend) -> None:
    created: list[bool] = []
    errors: list[BaseException] = []

    def first_open() -> None:
        try:
            with backend.open() as journal:
                created.append(journal.created)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(created) == [False] * 5 + [True]


def test_reading_never_creates_the_journal(backend: Backend) -> None:
    assert existing_journal(backend.location, project="shop") is None
    assert _tables(backend.url, "ctflow") == set()
    backend.open().close()
    found = existing_journal(backend.location, project="shop")
    assert found is not None
    found.close()


def test_projects_sharing_a_database_are_kept_apart(backend: Backend) -> None:
    with backend.open(project="shop") as shop, backend.open(project="blog") as blog:
        run = shop.begin(
            "apply",
            project="shop",
            environment="prod",
            user="ana",
            host="ci",
            git_commit=None,
            command="ctflow apply",
        )
        shop.record_spec("prod", "welcome", "h1", {"name": "Shop"}, campaign_id=1)
        shop.batch_state("prod", "f:1:0", "accepted", records=10, run_id=run)
        shop.claim_sends("prod", [("k", "ana@x", "d")], trigger="otp", run_id=run)
        shop.send_outcomes("prod", [("k", "ana@x")], "sent")

        assert blog.specs("prod") == {}
        assert blog.batch_states("prod", "f:") == {}
        assert blog.claim_sends("prod", [("k", "ana@x", "d")], trigger="otp", run_id=None) == {}
        assert blog.runs() == []
        assert [r["id"] for r in shop.runs()] == [run]


def test_the_lock_is_per_project_and_environment(backend: Backend) -> None:
    with (
        backend.open() as first,
        backend.open() as second,
        first.lock(ME, project="shop", environment="prod"),
    ):
        with second.lock(ME, project="shop", environment="staging"):
            pass
        with second.lock(ME, project="blog", environment="prod"):
            pass
        with (
            pytest.raises(ConflictError, match="is locked for shop/prod by another run"),
            second.lock(ME, project="shop", environment="prod"),
        ):
            pass


def test_uploads_of_different_files_run_side_by_side_but_not_beside_an_apply(
    backend: Backend,
) -> None:
    """``only``: a run that writes just these uploads' batches; another file's upload goes on
    beside it, the same file's does not, and an apply (the whole environment) waits for both."""
    shop = {"project": "shop", "environment": "prod"}
    with backend.open() as first, backend.open() as second, backend.open() as third:
        with (
            first.lock(ME, **shop, only=["events:aaa"]),
            second.lock(ME, **shop, only=["events:bbb"]),
        ):
            with (
                pytest.raises(ConflictError, match=r"by another run: pid 1 \(ana@laptop\)"),
                third.lock(ME, **shop, only=["events:aaa"]),
            ):
                pass
            with (
                pytest.raises(ConflictError, match="by uploads in progress"),
                third.lock(ME, **shop),
            ):
                pass
        with (
            third.lock(ME, **shop),
            pytest.raises(ConflictError, match="by another run"),
            first.lock(ME, **shop, only=["events:ccc"]),
        ):
            pass
        with first.lock(ME, **shop, only=["events:aaa"]):
            pass  # every lock came back


def test_a_dropped_connection_leaves_no_lock_behind(backend: Backend) -> None:
    with backend.open() as second:
        holder = backend.open()
        with holder.lock(ME, project="shop", environment="prod"):
            pid = holder._conn.info.backend_pid  # type: ignore[attr-defined]
            with psycopg.connect(backend.url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))  # waits for its end
            with second.lock(ME, project="shop", environment="prod"):
                pass
        holder.close()


def test_a_server_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    location = parse_location(
        "postgresql://ctflow:s3cret-pass@127.0.0.1:9/ctflow", tmp_path, source="test"
    )
    with pytest.raises(CtflowError) as caught:
        open_journal(location, project="shop")
    message = str(caught.value)
    assert message.startswith("cannot reach the journal postgresql://ctflow:***@127.0.0.1:9/ctflow")
    assert "s3cret-pass" not in message
