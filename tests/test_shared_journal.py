"""One PostgreSQL journal, two checkouts of one repository (two CI runners, say): what one
applied, uploaded or sent, the other knows, and neither keeps a journal file of its own."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox, SandboxConfig
from tests.contract.support import LoopbackServer
from tests.pgserver import PgServer
from tests.plan.support import Bed, cli_files, push, sandbox, write_project
from tests.send.support import PAYMENT, SendBed
from tests.send.support import PROJECT as SEND_PROJECT
from tests.send.support import write_project as write_send_project

DATASET = """\
kind: Dataset
key: charges-2026
type: events
file: ../data/charges.jsonl
event: Charged
identity: customer_id
timestamp: at
"""
CHARGES = "".join(
    f'{{"customer_id": "C{i}", "at": "2026-11-0{1 + i % 9}T10:00:00+00:00", "Amount": {i}}}\n'
    for i in range(1500)
)
FILES = {"datasets/charges.yaml": DATASET, "data/charges.jsonl": CHARGES}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    made = sandbox()
    yield made
    made.close()


def test_a_fresh_checkout_plans_no_changes_after_another_applied(
    tmp_path: Path, sb: Sandbox, postgres_url: str
) -> None:
    shared = {"CTFLOW_JOURNAL_URL": postgres_url}
    first = Bed(write_project(tmp_path / "runner-1", FILES), sb, environ=shared)
    applied = first.apply()
    assert applied.code == 0, applied.err
    assert "1 dataset(s) uploaded" in applied.out

    second = Bed(write_project(tmp_path / "runner-2", FILES), sb, environ=shared)
    planned = second.plan()
    assert planned.code == 0, planned.err
    assert planned.out.endswith("No changes. The live campaigns match the declarations.\n")
    assert len(sb.events("Charged")) == 1500, "the dataset went up once, from the first runner"

    edited = {"campaigns/winback.yaml": push("winback", name="We miss you", title="Hello again")}
    second.write({**FILES, **edited})
    diff = second.plan()
    assert '~ content.title: "Come back" → "Hello again"' in diff.out, (
        "the spec the first runner applied is the one the second compares with"
    )
    for runner in ("runner-1", "runner-2"):
        assert not (tmp_path / runner / ".ctflow" / "journal.db").exists()


def test_a_key_sent_from_one_checkout_is_already_sent_from_another(
    tmp_path: Path, postgres_url: str
) -> None:
    shared = {"CTFLOW_JOURNAL_URL": postgres_url}
    first = SendBed(tmp_path / "replica-1", environ=shared)
    second = SendBed(tmp_path / "replica-2", sb=first.sb, environ=shared)
    options = {"to": ("C1",), "fixture": "two-items", "idempotency_key": "order-SO-1001"}

    sent = first.send("order-shipped", **options)
    again = second.send("order-shipped", **options)

    assert sent.code == 0, sent.err
    assert again.code == 0, again.err
    assert "already sent" in again.out
    assert len(first.sb.sends()) == 1, "one call to CleverTap for the key, whichever replica"


def test_the_cli_names_the_shared_journal_and_never_its_password(
    tmp_path: Path,
    postgres: PgServer,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="ctflow.journal")
    root = write_project(tmp_path, cli_files())
    environ = {"CTFLOW_JOURNAL_URL": postgres_url}

    assert cli.run(["-C", str(root), "--debug", "apply", "--auto-approve"], environ) == 0
    applied = capsys.readouterr()
    assert cli.run(["-C", str(root), "plan", "--format", "json"], environ) == 0
    planned = capsys.readouterr()

    shown = f"postgresql://{postgres.user}:***@127.0.0.1:{postgres.port}/"
    assert any(m.startswith(f"journal: {shown}") for m in caplog.messages)
    assert f"ctflow: started a new journal at {shown}" in applied.err
    assert applied.out.startswith("ctflow plan for project shop, environment sandbox")
    assert f"; journal {shown}" in applied.out.splitlines()[0]
    assert json.loads(planned.out)["journal"].startswith(shown)
    everything = applied.out + applied.err + planned.out + planned.err + caplog.text
    assert postgres.password not in everything
    assert not (root / ".ctflow" / "journal.db").exists()


RACERS = 4
RECIPIENTS = 300
SERVED = SEND_PROJECT + "  served:\n    base_url: $URL\n"


@pytest.mark.slow
@pytest.mark.loopback
def test_processes_racing_one_batch_send_each_recipient_once(
    tmp_path: Path, postgres_url: str
) -> None:
    """Four "hosts" send the same batch at once through one PostgreSQL journal: each
    recipient's key is claimed by exactly one of them, so CleverTap gets one call each."""
    payment = PAYMENT.replace("{production: 1700104562}", "{production: 1, served: 1}")
    root = write_send_project(tmp_path / "service", **{"triggers/payment.yaml": payment})
    batch = root / "batch.jsonl"
    lines = [
        {"to": f"C{n}", "data": {"order_id": f"SO-{n}", "items": [{"name": "Tea", "qty": 1}]}}
        for n in range(RECIPIENTS)
    ]
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone="Asia/Kolkata"))
    try:
        with LoopbackServer(sb) as server:
            environ = {
                **os.environ,
                "CTFLOW_JOURNAL_URL": postgres_url,
                "CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
                "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE,
            }
            (root / "ctflow.yaml").write_text(SERVED.replace("$URL", server.base_url))
            command = [sys.executable, "-m", "ctflow", "-C", str(root), "send", "order-shipped"]
            command += ["--batch", str(batch), "--env", "served", "--format", "json"]
            racers = [
                subprocess.Popen(
                    command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(RACERS)
            ]
            outputs = [proc.communicate(timeout=120) for proc in racers]
            codes = [proc.returncode for proc in racers]
        assert all(out for out, _ in outputs), [err for _, err in outputs]
        reports = [json.loads(out) for out, _ in outputs]
        per_recipient = Counter(to for send in sb.sends() for to in send["body"]["to"]["Identity"])
    finally:
        sb.close()

    assert per_recipient == Counter({f"C{n}": 1 for n in range(RECIPIENTS)})
    assert set(codes) <= {0, 6}, "the others say already sent (0) or being sent elsewhere (6)"
    sent_by = Counter(
        line["to"] for report in reports for line in report["sends"] if line["state"] == "sent"
    )
    assert sent_by == Counter({f"C{n}": 1 for n in range(RECIPIENTS)})


def test_workers_uploading_with_one_journal_url_share_one_ledger(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a cluster does: each task calls upload_records with the journal's URL; a retried
    task (another process, another machine) skips what its first attempt delivered."""
    import ctflow
    from tests.upload.support import events, file_sandbox, numbers
    from tests.upload.support import write_project as write_upload_project

    shop = write_upload_project(tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    first = ctflow.upload_records(
        events(2500), batch_id_prefix="part-7", project=shop, journal=postgres_url
    )
    monkeypatch.setenv("CTFLOW_JOURNAL_URL", postgres_url)
    retried = ctflow.upload_records(events(2500), batch_id_prefix="part-7", project=shop)

    assert (first.accepted, first.already_uploaded) == (2500, 0)
    assert (retried.accepted, retried.already_uploaded) == (0, 2500)
    sb = file_sandbox(shop)
    try:
        assert numbers(sb) == {n: 1 for n in range(1, 2501)}
    finally:
        sb.close()
    with ctflow.JournalLedger.open(postgres_url, "sandbox", project="shop") as ledger:
        assert set(ledger.states("part-7:").values()) == {"accepted"}
    assert not (shop / ".ctflow" / "journal.db").exists()
