"""``ctflow send``: data checked against the trigger, content rendered, each send made once
under its idempotency key, a lost answer reported and never retried on its own, recipients of
one message grouped into one call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctflow.journal import SqliteJournal
from ctflow.sandbox import Sandbox, SandboxConfig
from ctflow.send import message
from tests.contract.support import LoopbackServer
from tests.send.support import SendBed

SHIPPED_DATA = json.dumps({"order_id": "SO-1001", "items": [{"name": "Mug", "qty": 2}]})


@pytest.fixture
def bed(tmp_path: Path) -> SendBed:
    return SendBed(tmp_path)


def test_send_renders_the_content_and_calls_the_identity_endpoint(bed: SendBed) -> None:
    ran = bed.send("order-shipped", to=("C100234",), fixture="two-items")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == ["C100234: sent", "order-shipped: 1 sent."]
    [call] = bed.sent()
    assert call["endpoint"] == "/1/send/email.json"
    body = call["body"]
    assert body["to"] == {"Identity": ["C100234"]}
    assert body["content"]["subject"] == "Order SO-1001 is on its way"
    assert body["content"]["sender_name"] == "Shop"
    # HTML-escaped data, CleverTap's Liquid left for CleverTap.
    assert "<li>2 x Mug &amp; Saucer</li>" in body["content"]["body"]
    assert "{{ Profile.Name }}" in body["content"]["body"]
    assert body["respect_frequency_caps"] is False


def test_data_that_breaks_the_parameters_is_exit_3_with_each_path(bed: SendBed) -> None:
    bad = json.dumps({"order_id": "1001", "items": [{"name": "Mug", "qty": 0}]})
    ran = bed.send("order-shipped", to=("C1",), data=bad)
    assert ran.code == 3
    assert "data.items[0].qty: 0 is less than the minimum of 1" in ran.err
    assert "data.order_id: '1001' does not match '^SO-[0-9]+$'" in ran.err
    assert bed.sent() == []


def test_data_from_a_file_and_a_bad_file_names_its_line(bed: SendBed, tmp_path: Path) -> None:
    good = tmp_path / "data.json"
    good.write_text(SHIPPED_DATA)
    assert bed.send("order-shipped", to=("C1",), data=f"@{good}").code == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"order_id": "SO-1",\n  "items": [}\n')
    ran = bed.send("order-shipped", to=("C1",), data=f"@{broken}")
    assert ran.code == 3
    assert f"{broken}:2:" in ran.err
    assert "not JSON" in ran.err


def test_a_repeated_send_is_reported_as_already_sent_and_not_sent_again(bed: SendBed) -> None:
    assert bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA).code == 0
    again = bed.send("order-shipped", to=("C1", "C2"), data=SHIPPED_DATA)
    assert again.code == 0
    lines = again.out.splitlines()
    assert lines[0].startswith("C1: already sent, not sent again (sent on ")
    assert lines[1] == "C2: sent"
    assert [c["body"]["to"] for c in bed.sent()] == [{"Identity": ["C1"]}, {"Identity": ["C2"]}]


def test_other_data_is_another_send_but_a_reused_key_is_refused(bed: SendBed) -> None:
    other = json.dumps({"order_id": "SO-2002", "items": [{"name": "Tea", "qty": 1}]})
    assert bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA).code == 0
    assert bed.send("order-shipped", to=("C1",), data=other).code == 0
    assert len(bed.sent()) == 2
    keyed = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, idempotency_key="order-7")
    assert keyed.code == 0
    assert len(bed.sent()) == 3
    reused = bed.send("order-shipped", to=("C1",), data=other, idempotency_key="order-7")
    assert reused.code == 3
    assert "idempotency key 'order-7' was used on" in reused.out
    assert len(bed.sent()) == 3


def test_a_lost_answer_is_ambiguous_and_not_retried(bed: SendBed) -> None:
    bed.sb.faults.drop_next = 1  # CleverTap queues the message, the answer is lost
    first = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
    assert first.code == 6
    assert first.out.splitlines()[0].startswith("C1: may have arrived, not sent again (")
    assert "--resend-ambiguous" in first.out
    again = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
    assert again.code == 6
    assert "it may have arrived" in again.out
    assert len(bed.sent()) == 1  # the sandbox queued it once; ctflow did not repeat it
    resent = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, resend_ambiguous=True)
    assert resent.code == 0
    assert len(bed.sent()) == 2


@pytest.mark.loopback
@pytest.mark.parametrize("after_queueing", [True, False], ids=["queued", "not_queued"])
def test_a_503_is_ambiguous_the_send_made_once_whether_or_not_it_was_queued(
    tmp_path: Path, after_queueing: bool
) -> None:
    """Nothing says a 503 was not processed: the send is not repeated and is reported as
    maybe arrived, never as not sent (the client used to retry it, and a send queued before
    its 503 went out twice)."""
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone="Asia/Kolkata"))
    with LoopbackServer(sb) as server:
        bed = SendBed(tmp_path, sb, base_url=server.base_url)
        sb.faults.fail_next, sb.faults.commit_5xx = [503], after_queueing
        first = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, fmt="json")
        assert len(bed.sent()) == (1 if after_queueing else 0), "one call, made once"
        assert first.code == 6, first.err
        [delivery] = first.json()["sends"]
        assert delivery["state"] == "ambiguous"
        assert "HTTP 503" in delivery["detail"]
        assert "does not say whether the request was processed" in delivery["detail"]

        again = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
        assert again.code == 6
        assert "it may have arrived" in again.out
        resent = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, resend_ambiguous=True)
        assert resent.code == 0, resent.err
        assert len(bed.sent()) == (2 if after_queueing else 1)
    sb.close()


def claim(bed: SendBed, recipient: str, *, at: datetime, run_id: int | None = None) -> None:
    """Record a send of SHIPPED_DATA as ``sending``, as a process does before its call."""
    data = json.loads(SHIPPED_DATA)
    key = message.send_key("order-shipped", recipient, data)
    claimed = [(key, recipient, message.data_digest("order-shipped", data))]
    with SqliteJournal.open(bed.root / ".ctflow" / "journal.db", now=lambda: at) as journal:
        journal.claim_sends("sandbox", claimed, trigger="order-shipped", run_id=run_id)


def test_a_send_cut_short_by_a_crash_is_ambiguous(bed: SendBed) -> None:
    """A key left ``sending`` (the process died during the call) is never sent again blindly,
    and ``--resend-ambiguous`` sends it once it can no longer be in flight."""
    claim(bed, "C1", at=datetime.now(UTC) - timedelta(hours=1))
    ran = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
    assert ran.code == 6
    assert "it was cut short" in ran.out
    assert bed.sent() == []
    again = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, resend_ambiguous=True)
    assert again.code == 0
    assert len(bed.sent()) == 1


def test_a_send_another_process_is_making_is_not_made_again(bed: SendBed) -> None:
    """Even with --resend-ambiguous: the other process may be waiting for its answer."""
    claim(bed, "C1", at=datetime.now(UTC))
    ran = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA, resend_ambiguous=True)
    assert ran.code == 6
    assert "another process is sending it now" in ran.out
    assert bed.sent() == []


def test_a_key_twice_in_a_batch_with_other_data_is_a_conflict(bed: SendBed, tmp_path: Path) -> None:
    batch = tmp_path / "b.jsonl"
    first = {"order_id": "SO-1", "items": [{"name": "A", "qty": 1}]}
    second = {"order_id": "SO-2", "items": [{"name": "B", "qty": 1}]}
    lines = [{"to": "C1", "data": d, "idempotency_key": "k"} for d in (first, second)]
    batch.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    ran = bed.send("order-shipped", batch=batch)
    assert ran.code == 3
    assert f"{batch}:2: C1: not sent: key already used (idempotency key 'k' is also on line 1" in (
        ran.out
    )
    assert len(bed.sent()) == 1


def test_unavailable_is_exit_5_and_a_re_run_sends(bed: SendBed) -> None:
    bed.sb.faults.rate_429 = 1.0
    ran = bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
    assert ran.code == 5
    assert "run the same command again" in ran.out
    bed.sb.faults.rate_429 = 0.0
    assert bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA).code == 0
    assert len(bed.sent()) == 1


def test_dry_run_prints_the_request_and_sends_nothing(bed: SendBed) -> None:
    ran = bed.send("order-shipped", to=("C1", "C2"), fixture="two-items", dry_run=True)
    assert ran.code == 0
    first, _, rest = ran.out.partition("\n")
    assert first == "POST /1/send/email.json"
    body = json.loads(rest[: rest.rindex("}") + 1])
    assert body["to"] == {"Identity": ["C1", "C2"]}
    assert body["content"]["subject"] == "Order SO-1001 is on its way"
    assert "sandbox-passcode" not in ran.out + ran.err
    assert bed.sent() == []
    assert not (bed.root / ".ctflow" / "journal.db").exists()


def test_external_trigger_sends_its_data_as_text(bed: SendBed) -> None:
    ran = bed.send("payment-failed", to=("C1",), data='{"amount": 2499.5, "attempt": 1}')
    assert ran.code == 0, ran.err
    [call] = bed.sent()
    assert call["endpoint"] == "/1/send/externaltrigger.json"
    assert call["body"]["to"] == {"identity": ["C1"]}
    assert call["body"]["ExternalTrigger"] == {"amount": "2499.5", "attempt": "1"}
    assert call["body"]["campaign_id"] == 1, "a stand-in, not production's campaign"


def test_an_external_value_over_512_bytes_is_refused(bed: SendBed) -> None:
    data = json.dumps({"amount": 1, "attempt": 1, "note": "é" * 300})
    ran = bed.send("payment-failed", to=("C1",), data=data)
    assert ran.code == 3
    assert "note: 600 bytes; CleverTap allows 512 a value" in ran.err


def test_batch_groups_identical_messages_and_reports_bad_lines(
    bed: SendBed, tmp_path: Path
) -> None:
    same = {"order_id": "SO-1", "items": [{"name": "Mug", "qty": 1}]}
    other = {"order_id": "SO-2", "items": [{"name": "Tea", "qty": 3}]}
    lines = [
        {"to": "C1", "data": same},
        {"to": "C2", "data": same},
        {"to": "C3", "data": other},
        {"to": "C4", "data": {"order_id": "SO-3", "items": []}},
        {"to": ["C5", "C6"], "data": same},
    ]
    batch = tmp_path / "recipients.jsonl"
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json\n"
    batch.write_text(text)
    ran = bed.send("order-shipped", batch=batch)
    assert ran.code == 3
    calls = sorted(bed.sent(), key=lambda c: c["body"]["content"]["subject"])
    assert [c["body"]["to"]["Identity"] for c in calls] == [["C1", "C2", "C5", "C6"], ["C3"]]
    out = ran.out.splitlines()  # from a batch file only the recipients without the message
    assert len(out) == 3
    assert out[0] == f"{batch}:4: C4: not sent: data.items: [] should be non-empty"
    assert out[1].startswith(f"{batch}:6: not sent: not JSON")
    assert out[2] == "order-shipped: 5 sent, 2 not sent."


def test_batch_json_lists_every_line(bed: SendBed, tmp_path: Path) -> None:
    batch = tmp_path / "b.jsonl"
    batch.write_text(
        '{"to": "C1", "data": {"order_id": "SO-1", "items": [{"name": "A", "qty": 1}]}}\n'
    )
    ran = bed.send("order-shipped", batch=batch, fmt="json")
    report = ran.json()
    assert report["totals"]["sent"] == 1
    assert report["exit_code"] == 0
    [sent] = report["sends"]
    assert (sent["line"], sent["to"], sent["state"]) == (1, "C1", "sent")
    assert sent["idempotency_key"].startswith("order-shipped:")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"data": SHIPPED_DATA}, "--to RECIPIENT"),
        ({"to": ("C1",)}, "give the data once"),
        ({"to": ("C1",), "data": SHIPPED_DATA, "fixture": "two-items"}, "give the data once"),
        ({"to": ("C1",), "batch": Path("x.jsonl")}, "--batch takes each recipient"),
    ],
)
def test_usage_errors_are_exit_64(bed: SendBed, options: dict[str, object], message: str) -> None:
    ran = bed.send("order-shipped", **options)
    assert ran.code == 64
    assert message in ran.err


def test_an_unknown_trigger_or_fixture_is_named(bed: SendBed) -> None:
    ran = bed.send("order-shiped", to=("C1",), fixture="two-items")
    assert ran.code == 3
    assert "no Trigger 'order-shiped' (did you mean 'order-shipped'?)" in ran.err
    ran = bed.send("order-shipped", to=("C1",), fixture="three")
    assert ran.code == 3
    assert "has no fixture 'three'" in ran.err


def test_every_send_is_in_the_journal(bed: SendBed) -> None:
    bed.send("order-shipped", to=("C1",), data=SHIPPED_DATA)
    with SqliteJournal.open(bed.root / ".ctflow" / "journal.db") as journal:
        [run] = journal.runs()
        assert (run["kind"], run["outcome"]) == ("send", "ok")
        data = json.loads(SHIPPED_DATA)
        key = message.send_key("order-shipped", "C1", data)
        digest = message.data_digest("order-shipped", data)
        earlier = journal.claim_sends("sandbox", [(key, "C1", digest)], trigger="x", run_id=None)
        assert earlier[(key, "C1")]["state"] == "sent"


def test_a_batch_shows_progress_on_stderr(
    bed: SendBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctflow.commands import send as sendcmd

    monkeypatch.setattr(sendcmd._Progress, "EVERY", 0.0)
    batch = tmp_path / "b.jsonl"
    line = {"to": "C1", "data": {"order_id": "SO-1", "items": [{"name": "A", "qty": 1}]}}
    batch.write_text("\n".join(json.dumps({**line, "to": f"C{n}"}) for n in range(3)) + "\n")
    ran = bed.send("order-shipped", batch=batch)
    assert ran.code == 0
    assert "ctflow: 3 of 3 recipients done (" in ran.err


def test_a_batch_with_refused_lines_is_journaled_as_partial(bed: SendBed, tmp_path: Path) -> None:
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"to": "C1", "data": {"order_id": "SO-1", "items": []}}\n')
    assert bed.send("order-shipped", batch=batch).code == 3
    with bed.journal() as journal:
        [run] = journal.runs()
    assert (run["outcome"], run["summary"]["refused"]) == ("partial", 1)


def test_refused_credentials_are_exit_4_and_nothing_is_left_half_sent(
    bed: SendBed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctflow.clevertap import CleverTap, Credentials
    from tests.contract.support import FAST_RETRY

    wrong = Credentials("SBX-000-0001", "not-the-passcode")
    monkeypatch.setattr(
        bed, "client", lambda: CleverTap.in_process(bed.sb.app, wrong, retry=FAST_RETRY)
    )
    batch = tmp_path / "b.jsonl"
    lines = [
        {"to": f"C{n}", "data": {"order_id": f"SO-{n}", "items": [{"name": "A", "qty": 1}]}}
        for n in range(4)
    ]
    batch.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    ran = bed.send("order-shipped", batch=batch)
    assert ran.code == 4
    assert "not-the-passcode" not in ran.out + ran.err
    monkeypatch.undo()  # the right passcode: all four go, none is taken as in flight
    again = bed.send("order-shipped", batch=batch)
    assert (again.code, again.out) == (0, "order-shipped: 4 sent.\n")
    assert len(bed.sent()) == 4
