"""ctflow never acts without its memory: the PostgreSQL journal stopped (``pg_ctl stop -m
immediate``) in the middle of an upload or of a batch send. No further call is made; what was
in flight is reported ambiguous, as a lost answer is; the run after the journal is back
delivers the rest, nothing twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ctflow import cli
from ctflow.clevertap import CleverTap
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox
from tests.contract.support import FAST_RETRY, LoopbackServer
from tests.pgserver import PgServer
from tests.send.support import SendBed
from tests.upload.support import events, in_batch, numbers, write_jsonl, write_project

Capsys = pytest.CaptureFixture[str]
ROWS = 60_000


ITEMS = [{"name": "Tea", "qty": 1}]


class StopsTheJournal:
    """Before the sandbox: the ``nth`` call to ``path`` stops the PostgreSQL server first, then
    goes through; counts the calls that arrive after that."""

    def __init__(self, app: Any, postgres: PgServer, path: str, nth: int) -> None:
        self.app, self.postgres, self.path, self.nth = app, postgres, path, nth
        self.calls = 0
        self.after_stop = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.path):
            self.calls += 1
            if self.calls == self.nth:
                self.postgres.stop()
            elif self.calls > self.nth:
                self.after_stop += 1
        await self.app(scope, receive, send)


def _upload(capsys: Capsys, root: Path, environ: dict[str, str]) -> tuple[int, str, str]:
    argv = ["-C", str(root), "upload", "events", "events.jsonl", "--env", "local"]
    code = cli.run([*argv, "--format", "json"], environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
@pytest.mark.loopback
def test_an_upload_that_loses_its_journal_stops_and_the_next_run_completes_it(
    tmp_path: Path, postgres: PgServer, postgres_url: str, capsys: Capsys
) -> None:
    sb = Sandbox(db=":memory:")
    stopper = StopsTheJournal(sb.app, postgres, "/1/upload", nth=10)
    try:
        with LoopbackServer(stopper) as server:
            root = write_project(tmp_path, base_url=server.base_url)
            write_jsonl(root / "events.jsonl", events(ROWS))
            environ = {
                "CTFLOW_JOURNAL_URL": postgres_url,
                "CLEVERTAP_ACCOUNT_ID": DEFAULT_ACCOUNT_ID,
                "CLEVERTAP_PASSCODE": DEFAULT_PASSCODE,
            }
            try:
                code, out, err = _upload(capsys, root, environ)
            finally:
                postgres.start()
            lost = json.loads(out)["files"][0]
            arrived = {in_batch(n) for n in numbers(sb)}
            recorded = _ledger(root, environ, lost["batch_prefix"])

            assert code == 5, err
            assert lost["unavailable"].startswith(
                f"lost the journal postgresql://{postgres.user}:***@"
            )
            assert postgres.password not in out + err
            assert len(arrived) < ROWS // 1000, "the rest of the file was not sent"
            assert all(recorded.get(index) in ("accepted", "sending") for index in arrived), (
                "no call went out without the journal saying 'sending' first"
            )
            assert lost["ambiguous_batches"], "the answers it could not record are ambiguous"
            assert not (root / ".ctflow" / "journal.db").exists()

            again_code, again_out, _ = _upload(capsys, root, environ)
            again = json.loads(again_out)["files"][0]
        stored = numbers(sb)
    finally:
        sb.close()

    assert again_code == 6, "the batches left 'sending' are ambiguous, as a lost answer is"
    assert {b["batch"] for b in again["ambiguous_batches"]} >= {
        b["batch"] for b in lost["ambiguous_batches"]
    }
    assert max(stored.values()) == 1, "no event stored twice"
    ambiguous = {int(b["batch"].rpartition(":")[2]) for b in again["ambiguous_batches"]}
    missing = {in_batch(n) for n in range(1, ROWS + 1) if n not in stored}
    assert missing <= ambiguous, "a row is missing only where the user is told to look"


def _ledger(root: Path, environ: dict[str, str], prefix: str) -> dict[int, str]:
    """The journal's batch states of this file, by batch index."""
    from ctflow.config import find_project, resolve_target
    from ctflow.journal import open_journal

    target = resolve_target(find_project(root), "local", environ)
    assert target.journal is not None
    with open_journal(target.journal, project="shop") as journal:
        states = journal.batch_states("local", prefix + ":")
    return {int(batch.rpartition(":")[2]): state for batch, state in states.items()}


def test_a_batch_send_that_loses_its_journal_stops_and_the_next_run_sends_the_rest(
    tmp_path: Path, postgres: PgServer, postgres_url: str
) -> None:
    environ = {"CTFLOW_JOURNAL_URL": postgres_url}
    bed = SendBed(tmp_path, environ=environ)
    stopper = StopsTheJournal(bed.sb.app, postgres, "/1/send/", nth=8)
    bed.client = lambda: CleverTap.in_process(stopper, _creds(), retry=FAST_RETRY)  # type: ignore[method-assign]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "".join(
            json.dumps(
                {"to": f"C{n}", "data": {"order_id": f"SO-{n}", "items": [{"name": "T", "qty": 1}]}}
            )
            + "\n"
            for n in range(40)
        ),
        encoding="utf-8",
    )
    try:
        first = bed.send("order-shipped", batch=batch, fmt="json")
    finally:
        postgres.start()
    states = Counter(line["state"] for line in first.json()["sends"])

    assert first.code == 5, first.err
    assert states["unavailable"] > 0, "the rest was not sent: nothing claimed without a journal"
    assert states["sent"] + states["ambiguous"] + states["unavailable"] == 40
    assert stopper.after_stop <= 3, "only calls already claimed went out after the stop"
    assert postgres.password not in first.out + first.err

    second = SendBed(tmp_path / "again", sb=bed.sb, environ=environ)
    second.client = bed.client  # type: ignore[method-assign]
    again = second.send("order-shipped", batch=batch, fmt="json")
    per_recipient = Counter(to for call in bed.sb.sends() for to in call["body"]["to"]["Identity"])
    assert max(per_recipient.values()) == 1, "nobody got the message twice"
    resent = {line["to"] for line in again.json()["sends"] if line["state"] == "sent"}
    not_sent = {line["to"] for line in first.json()["sends"] if line["state"] == "unavailable"}
    assert resent == not_sent, "the second run sends exactly what the first could not"


def _creds() -> Any:
    from tests.contract.support import CREDS

    return CREDS
