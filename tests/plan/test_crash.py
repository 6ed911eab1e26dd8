"""A real ``ctflow apply`` killed with SIGKILL half-way, then run again: it finishes the work
without a duplicate, and the journal shows the killed run as never finished.

The apply runs in a subprocess against the project's file sandbox at the account's real pace
(3 creates a second), so 20 campaigns take about seven seconds: time enough to kill it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ctflow.journal import SqliteJournal
from ctflow.sandbox import Sandbox
from tests.plan.support import cli_files, live_by_key, marked, push, real_future, write_project

KEYS = [f"c{n:02d}" for n in range(1, 21)]


def ctflow(root: Path, *argv: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERTAP_")}
    return subprocess.Popen(
        [sys.executable, "-m", "ctflow", "-C", str(root), *argv],
        cwd=root,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def created(db: Path) -> list[dict[str, Any]]:
    sb = Sandbox(db=db)
    try:
        return marked(sb.campaigns())
    finally:
        sb.close()


def kill_half_way(process: subprocess.Popen[str], db: Path) -> None:
    """SIGKILL ``process`` once some but not all campaigns exist."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "apply finished before it could be killed"
        count = len(created(db)) if db.exists() else 0
        if 3 <= count <= len(KEYS) - 5:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
            return
        time.sleep(0.05)
    process.kill()
    process.communicate(timeout=10)
    raise AssertionError("no campaign was created within 20 s")


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_apply_killed_half_way_is_finished_by_the_next_apply(tmp_path: Path) -> None:
    campaigns = {key: push(key, schedule=real_future()) for key in KEYS}
    root = write_project(tmp_path, {**cli_files(**campaigns), "campaigns/winback.yaml": None})
    db = root / ".ctflow" / "sandbox.db"

    killed = ctflow(root, "apply", "--auto-approve")
    kill_half_way(killed, db)
    assert killed.returncode == -signal.SIGKILL
    left = len(KEYS) - len(created(db))
    assert left > 0

    again = ctflow(root, "apply", "--auto-approve")
    out, err = again.communicate(timeout=30)
    assert again.returncode == 0, err
    assert "Apply complete" in out

    ours = created(db)
    assert sorted(c["key"] for c in ours) == KEYS, "every key exactly once, none doubled"
    assert {key: len(copies) for key, copies in live_by_key(ours).items()} == dict.fromkeys(KEYS, 1)

    check = ctflow(root, "plan", "--detailed-exitcode")
    out, err = check.communicate(timeout=30)
    assert check.returncode == 0, out + err
    assert "No changes." in out

    with SqliteJournal.open(root / ".ctflow" / "journal.db") as journal:
        finished, interrupted = journal.runs()
        done_before = [s for s in journal.steps(interrupted["id"]) if s["outcome"] == "done"]
    assert interrupted["kind"] == "apply"
    assert interrupted["outcome"] == "killed", "the next run closes the killed one"
    assert finished["outcome"] == "ok"
    assert finished["finished_at"] is not None
    assert len(done_before) <= len(KEYS) - left
    assert finished["summary"] == {
        "created": left,
        "adopted": 0,
        "stopped": 0,
        "failed": 0,
        "skipped": 0,
    }, "the second run creates only what the first did not"
