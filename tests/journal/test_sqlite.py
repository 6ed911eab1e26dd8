"""The SQLite journal's own ways: its file (WAL, the schema version, a corrupt file), a file
per project, and the lock file that names its holder. The behaviour it shares with every
journal is in ``test_contract.py``."""

from __future__ import annotations

import fcntl
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ctflow.errors import ConflictError, CtflowError, ExitCode
from ctflow.journal import JOURNAL_NAME, SCHEMA_VERSION, Holder, Journal, SqliteJournal
from tests.journal.support import at, clock


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".ctflow" / JOURNAL_NAME


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with SqliteJournal.open(path, now=clock()) as opened:
        yield opened


def _begin(journal: Journal, environment: str = "prod") -> int:
    return journal.begin(
        "apply",
        project="shop",
        environment=environment,
        user="ana",
        host="laptop",
        git_commit="abc123",
        command="ctflow apply",
    )


@contextmanager
def _child(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python process running ``script``, once it has printed its first line; killed after."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.communicate()[1]
        yield proc
    finally:
        proc.kill()
        proc.communicate()


def test_open_creates_the_journal_and_a_reopen_says_it_existed(path: Path) -> None:
    with SqliteJournal.open(path) as first:
        assert first.created
        assert first.path == path
    with SqliteJournal.open(path) as second:
        assert not second.created
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_a_journal_written_by_a_newer_ctflow_is_refused(path: Path) -> None:
    SqliteJournal.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(CtflowError) as caught:
        SqliteJournal.open(path)
    assert str(caught.value) == (
        f"cannot open the journal {path}: it has schema version 99, newer than this ctflow"
        f" knows ({SCHEMA_VERSION}); upgrade ctflow"
    )


def test_a_file_holds_one_projects_journal(path: Path) -> None:
    SqliteJournal.open(path, project="shop").close()
    SqliteJournal.open(path).close()  # a ledger opened by path alone names no project
    with pytest.raises(CtflowError) as caught:
        SqliteJournal.open(path, project="blog")
    assert str(caught.value) == (
        f"cannot open the journal {path}: it is project 'shop''s journal, not 'blog''s: give "
        "each project a journal file of its own (or one PostgreSQL journal, which keeps "
        "projects apart)"
    )


def test_a_corrupt_file_is_a_ctflow_error_naming_the_journal(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b"not a database, just garbage " * 200)
    with pytest.raises(CtflowError) as caught:
        SqliteJournal.open(path)
    assert str(caught.value) == f"cannot open the journal {path}: file is not a database"


def test_an_intent_is_visible_to_another_connection_as_soon_as_it_returns(
    journal: Journal, path: Path
) -> None:
    step = journal.intent(_begin(journal), key="welcome", action="create", hash="h1")
    other = sqlite3.connect(path)
    assert other.execute("SELECT key, action FROM steps WHERE id = ?", (step,)).fetchall() == [
        ("welcome", "create")
    ]
    other.close()


HOLD_LOCK = """
import os, sys, time
from pathlib import Path
from ctflow.journal import Holder, Journal, SqliteJournal
journal = SqliteJournal.open(Path(sys.argv[1]))
holder = Holder(os.getpid(), "bo", "ci-7", "ctflow apply -e prod", "2026-05-01T08:00:00+00:00")
with journal.lock(holder, project="shop", environment="prod"):
    print("locked", flush=True)
    time.sleep(60)
"""

ME = Holder(pid=1, user="ana", host="laptop", command="ctflow apply", started_at=at(0))


def test_the_lock_names_its_holder_and_is_freed_when_the_holder_is_killed(
    journal: Journal, path: Path
) -> None:
    with _child(HOLD_LOCK, str(path)) as proc:
        with (
            pytest.raises(ConflictError) as caught,
            journal.lock(ME, project="shop", environment="prod"),
        ):
            pass
        assert str(caught.value) == (
            f"the journal {path} is locked by another run: pid {proc.pid} (bo@ci-7),"
            " `ctflow apply -e prod`, since 2026-05-01T08:00:00+00:00; wait for it to finish"
        )
        assert caught.value.exit_code == ExitCode.CONFLICT == 7
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    with journal.lock(ME, project="shop", environment="prod"):
        holder = json.loads(Path(f"{path}.lock").read_text(encoding="utf-8"))
        assert holder["pid"] == 1
        assert holder["command"] == "ctflow apply"
    with journal.lock(
        ME, project="shop", environment="prod"
    ):  # released on exit, so it can be taken again
        pass


def test_a_lock_whose_holder_cannot_be_read_says_another_process(
    journal: Journal, path: Path
) -> None:
    with open(f"{path}.lock", "w") as other:  # a separate open file: flock conflicts with it
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with (
            pytest.raises(ConflictError) as caught,
            journal.lock(ME, project="shop", environment="prod"),
        ):
            pass
    assert str(caught.value) == (
        f"the journal {path} is locked by another process; wait for it to finish"
    )
