"""``ctflow journal copy``: a team that began with the SQLite journal on a laptop moves to a
PostgreSQL one and keeps its memory: the history, the applied specs (per-field diffs), the
delivered batches (nothing uploaded again) and the send keys (nothing sent again)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from ctflow import cli
from tests.pgserver import PgServer
from tests.plan.support import TRACKING, push, real_future
from tests.send.support import PROJECT, SHIPPED
from tests.test_shared_journal import CHARGES, DATASET
from tests.upload.support import event, file_sandbox, numbers, write_jsonl

Capsys = pytest.CaptureFixture[str]
SEND = ["send", "order-shipped", "--to", "C1", "--fixture", "two-items"]


def _project(root: Path) -> Path:
    files = {
        "ctflow.yaml": PROJECT,
        "tracking.yaml": TRACKING,
        "triggers/shipped.yaml": SHIPPED,
        "campaigns/winback.yaml": push("winback", name="We miss you", schedule=real_future()),
        "datasets/charges.yaml": DATASET,
        "data/charges.jsonl": CHARGES,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    write_jsonl(root / "views.jsonl", [event(n, "Charged", Amount=n) for n in range(1, 2501)])
    return root


def _run(capsys: Capsys, root: Path, *argv: str, environ: dict[str, str] | None = None) -> str:
    code = cli.run(["-C", str(root), *argv], environ or {})
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _laptop(tmp_path: Path, capsys: Capsys) -> Path:
    """A project that applied (a campaign, a dataset), uploaded a file and sent a message, all
    with the SQLite journal."""
    root = _project(tmp_path / "shop")
    _run(capsys, root, "apply", "--auto-approve")
    _run(capsys, root, "upload", "events", "views.jsonl")
    _run(capsys, root, *SEND, "--idempotency-key", "order-SO-1001")
    return root


def test_after_the_copy_the_shared_journal_remembers_what_the_laptop_did(
    tmp_path: Path, capsys: Capsys, postgres: PgServer, postgres_url: str
) -> None:
    root = _laptop(tmp_path, capsys)
    shared = {"CTFLOW_JOURNAL_URL": postgres_url}

    copied = _run(capsys, root, "journal", "copy", environ=shared)
    again = _run(capsys, root, "journal", "copy", "--to", postgres_url)

    shown = f"postgresql://{postgres.user}:***@127.0.0.1:{postgres.port}/"
    assert copied.startswith(f"Copied {root}/.ctflow/journal.db into {shown}")
    assert "  runs: 3 copied\n" in copied
    assert "  send keys: 1 copied\n" in copied
    assert "  upload batches: 5 copied\n" in copied, "2 of the dataset, 3 of the file"
    assert "  runs: 0 copied, 3 already there\n" in again, "copying again adds nothing"
    assert "  upload batches: 0 copied, 5 already there\n" in again
    assert postgres.password not in copied + again

    planned = _run(capsys, root, "plan", environ=shared)
    uploaded = _run(
        capsys, root, "upload", "events", "views.jsonl", "--format", "json", environ=shared
    )
    sent = _run(capsys, root, *SEND, "--idempotency-key", "order-SO-1001", environ=shared)
    history = json.loads(_run(capsys, root, "history", "--format", "json", environ=shared))

    assert planned.endswith("No changes. The live campaigns match the declarations.\n")
    assert json.loads(uploaded)["files"][0]["already_uploaded"] == 2500
    assert "already sent" in sent
    sb = file_sandbox(root)
    try:
        stored = numbers(sb)
        assert stored.pop(None) == 1500, "the dataset's rows, once"
        assert stored == {n: 1 for n in range(1, 2501)}, "the file's rows, once"
        assert len(sb.sends()) == 1
    finally:
        sb.close()
    kinds = [run["kind"] for run in reversed(history["runs"])]
    assert kinds == ["apply", "upload", "send", "upload", "send"], "the laptop's runs first"


def test_a_row_that_differs_stops_the_copy_and_nothing_is_copied(
    tmp_path: Path, capsys: Capsys, postgres_url: str
) -> None:
    root = _laptop(tmp_path, capsys)
    shared = {"CTFLOW_JOURNAL_URL": postgres_url}
    # Another machine already used the same key for other data with the shared journal.
    other = _project(tmp_path / "other-checkout")
    _run(
        capsys,
        other,
        *SEND[:-2],
        "--data",
        '{"order_id": "SO-9", "items": [{"name": "Cup", "qty": 1}]}',
        "--idempotency-key",
        "order-SO-1001",
        environ=shared,
    )

    code = cli.run(["-C", str(root), "journal", "copy"], shared)
    err = capsys.readouterr().err

    assert code == 7
    assert "1 row(s) differ from those already in the journal; nothing was copied" in err
    assert "send key sandbox/order-SO-1001/C1: digest '" in err
    with psycopg.connect(postgres_url) as conn:
        runs = conn.execute("SELECT count(*) FROM ctflow.runs").fetchone()
    assert runs == (1,), "only the other machine's send"


def test_a_copy_needs_a_postgresql_journal_and_a_journal_to_copy(
    tmp_path: Path, capsys: Capsys, postgres_url: str
) -> None:
    root = _project(tmp_path / "shop")

    assert cli.run(["-C", str(root), "journal", "copy"], {}) == 64
    assert "--to postgresql://… or CTFLOW_JOURNAL_URL" in capsys.readouterr().err
    assert cli.run(["-C", str(root), "journal", "copy", "--to", postgres_url], {}) == 64
    assert "no journal to copy at" in capsys.readouterr().err
