"""The journal: runs and steps, applied specs, stopped ids, the lock, and surviving a kill."""

from __future__ import annotations

import fcntl
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctflow.errors import ConflictError, CtflowError, ExitCode
from ctflow.journal import JOURNAL_NAME, SCHEMA_VERSION, Holder, Journal, SqliteJournal

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _clock() -> Callable[[], datetime]:
    """A clock that moves one minute each time it is read."""
    ticks = iter(range(10_000))
    return lambda: START + timedelta(minutes=next(ticks))


def _at(minute: int) -> str:
    return (START + timedelta(minutes=minute)).isoformat()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".ctflow" / JOURNAL_NAME


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with SqliteJournal.open(path, now=_clock()) as opened:
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


def test_a_corrupt_file_is_a_ctflow_error_naming_the_journal(path: Path) -> None:
    path.parent.mkdir()
    path.write_bytes(b"not a database, just garbage " * 200)
    with pytest.raises(CtflowError) as caught:
        SqliteJournal.open(path)
    assert str(caught.value) == f"cannot open the journal {path}: file is not a database"


def test_a_run_and_its_steps_round_trip(journal: Journal) -> None:
    run = _begin(journal)  # minute 0
    stop = journal.intent(run, key="welcome", action="stop", campaign_id=41)  # 1
    create = journal.intent(run, key="welcome", action="create", hash="h2", detail={"name": "W"})
    journal.outcome(stop, "done")  # 3
    journal.outcome(create, "failed", campaign_id=42, detail={"error": "timeout"})  # 4
    journal.finish(run, "failed", {"created": 0, "stopped": 1})  # 5

    assert journal.runs() == [
        {
            "id": run,
            "kind": "apply",
            "project": "shop",
            "environment": "prod",
            "user": "ana",
            "host": "laptop",
            "git_commit": "abc123",
            "command": "ctflow apply",
            "started_at": _at(0),
            "finished_at": _at(5),
            "outcome": "failed",
            "summary": {"created": 0, "stopped": 1},
        }
    ]
    assert journal.steps(run) == [
        {
            "id": stop,
            "run_id": run,
            "key": "welcome",
            "action": "stop",
            "hash": None,
            "campaign_id": 41,
            "intent_at": _at(1),
            "outcome": "done",
            "outcome_at": _at(3),
            "detail": None,
        },
        {
            "id": create,
            "run_id": run,
            "key": "welcome",
            "action": "create",
            "hash": "h2",
            "campaign_id": 42,
            "intent_at": _at(2),
            "outcome": "failed",
            "outcome_at": _at(4),
            "detail": {"error": "timeout", "name": "W"},
        },
    ]


def test_runs_are_listed_newest_first_up_to_the_limit(journal: Journal) -> None:
    ids = [_begin(journal) for _ in range(3)]
    assert [run["id"] for run in journal.runs()] == ids[::-1]
    assert [run["id"] for run in journal.runs(limit=2)] == [ids[2], ids[1]]


def test_an_outcome_for_an_unknown_step_is_a_bug_not_a_silent_no_op(journal: Journal) -> None:
    with pytest.raises(ValueError, match="no step 99"):
        journal.outcome(99, "done")


def test_specs_are_upserted_per_environment_key_and_hash(journal: Journal) -> None:
    journal.record_spec("prod", "welcome", "h1", {"name": "W", "n": 1}, campaign_id=None)
    journal.record_spec("prod", "welcome", "h1", {"name": "W", "n": 2}, campaign_id=7)
    journal.record_spec("prod", "welcome", "h2", {"name": "W2"}, campaign_id=8)
    journal.record_spec("staging", "welcome", "h1", {"name": "S"}, campaign_id=3)

    assert journal.spec("prod", "welcome", "h1") == {"name": "W", "n": 2}
    assert journal.spec("prod", "welcome", "h3") is None
    assert journal.spec("dev", "welcome", "h1") is None
    assert journal.specs("prod") == {
        ("welcome", "h1"): {"name": "W", "n": 2},
        ("welcome", "h2"): {"name": "W2"},
    }


def test_stopped_ids_come_only_from_done_stops_of_that_environment(journal: Journal) -> None:
    prod, staging = _begin(journal, "prod"), _begin(journal, "staging")
    for run, action, campaign_id, outcome in [
        (prod, "stop", 1, "done"),
        (prod, "stop", 2, "failed"),
        (prod, "stop", 3, "ambiguous"),
        (prod, "create", 4, "done"),
        (staging, "stop", 5, "done"),
    ]:
        step = journal.intent(run, key="k", action=action, campaign_id=campaign_id)
        journal.outcome(step, outcome)
    journal.intent(prod, key="k", action="stop", campaign_id=6)  # killed before its outcome

    assert journal.stopped_ids("prod") == {1}
    assert journal.stopped_ids("staging") == {5}


def test_an_intent_is_visible_to_another_connection_as_soon_as_it_returns(
    journal: Journal, path: Path
) -> None:
    step = journal.intent(_begin(journal), key="welcome", action="create", hash="h1")
    other = sqlite3.connect(path)
    assert other.execute("SELECT key, action FROM steps WHERE id = ?", (step,)).fetchall() == [
        ("welcome", "create")
    ]
    other.close()


KILLED_APPLY = """
import sys, time
from pathlib import Path
from ctflow.journal import Journal, SqliteJournal
journal = SqliteJournal.open(Path(sys.argv[1]))
run = journal.begin("apply", project="shop", environment="prod", user="ana", host="ci",
                    git_commit=None, command="ctflow apply")
done = journal.intent(run, key="a", action="create", hash="h1")
journal.outcome(done, "done", campaign_id=1)
journal.intent(run, key="b", action="create", hash="h2")
journal.intent(run, key="c", action="stop", campaign_id=3)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_killed_apply_leaves_its_unfinished_steps_newest_first(path: Path) -> None:
    with _child(KILLED_APPLY, str(path)) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    with SqliteJournal.open(path) as journal:
        unfinished = journal.unfinished_steps("prod")
        assert [(s["key"], s["action"], s["hash"], s["campaign_id"]) for s in unfinished] == [
            ("c", "stop", None, 3),
            ("b", "create", "h2", None),
        ]
        assert journal.unfinished_steps("staging") == []
        assert journal.runs()[0]["finished_at"] is None


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

ME = Holder(pid=1, user="ana", host="laptop", command="ctflow apply", started_at=_at(0))


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
