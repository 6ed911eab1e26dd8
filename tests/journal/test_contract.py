"""The journal's contract, run against SQLite and PostgreSQL alike: runs and steps, applied
specs, stopped ids, the upload ledger, send keys, the lock, and surviving a kill."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from ctflow.errors import ConflictError, CtflowError, ExitCode
from ctflow.journal import BatchState, Holder, Journal
from tests.journal.support import Backend, at, child, clock


@pytest.fixture
def journal(backend: Backend) -> Iterator[Journal]:
    with backend.open(now=clock()) as opened:
        yield opened


def _begin(journal: Journal, environment: str = "prod", kind: str = "apply") -> int:
    return journal.begin(
        kind,
        project="shop",
        environment=environment,
        user="ana",
        host="laptop",
        git_commit="abc123",
        command="ctflow apply",
    )


def test_open_creates_the_journal_and_a_reopen_says_it_existed(backend: Backend) -> None:
    with backend.open() as first:
        assert first.created
    with backend.open() as second:
        assert not second.created


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
            "started_at": at(0),
            "finished_at": at(5),
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
            "intent_at": at(1),
            "outcome": "done",
            "outcome_at": at(3),
            "detail": None,
        },
        {
            "id": create,
            "run_id": run,
            "key": "welcome",
            "action": "create",
            "hash": "h2",
            "campaign_id": 42,
            "intent_at": at(2),
            "outcome": "failed",
            "outcome_at": at(4),
            "detail": {"error": "timeout", "name": "W"},
        },
    ]


def test_a_run_is_closed_once_by_finish_if_open(journal: Journal) -> None:
    run = _begin(journal)
    assert journal.finish_if_open(run, "interrupted", {"error": "KeyboardInterrupt"})
    assert not journal.finish_if_open(run, "failed")
    assert journal.runs()[0]["outcome"] == "interrupted"
    with pytest.raises(ValueError, match="no run 999"):
        journal.finish(999, "ok")


def test_runs_are_listed_newest_first_up_to_the_limit(journal: Journal) -> None:
    ids = [_begin(journal) for _ in range(3)]
    assert [run["id"] for run in journal.runs()] == ids[::-1]
    assert [run["id"] for run in journal.runs(limit=2)] == [ids[2], ids[1]]


def test_runs_are_filtered_by_environment_kind_and_start(journal: Journal) -> None:
    apply = _begin(journal)  # minute 0
    upload = _begin(journal, kind="upload")  # 1
    staging = _begin(journal, environment="staging")  # 2
    assert [r["id"] for r in journal.runs(environment="prod")] == [upload, apply]
    assert [r["id"] for r in journal.runs(kind="upload")] == [upload]
    assert [r["id"] for r in journal.runs(since=at(1))] == [staging, upload]
    assert [r["id"] for r in journal.runs(environment="prod", kind="apply", since=at(0))] == [apply]
    assert journal.run(staging) == journal.runs(limit=1)[0]
    assert journal.run(999) is None


def test_open_runs_are_those_of_the_kinds_asked_never_closed(journal: Journal) -> None:
    apply, upload, send = (
        _begin(journal),
        _begin(journal, kind="upload"),
        _begin(journal, kind="send"),
    )
    closed = _begin(journal)
    journal.finish(closed, "ok")
    _begin(journal, environment="staging")
    assert journal.open_runs("prod", kinds=("apply", "upload")) == [apply, upload]
    assert journal.open_runs("prod", kinds=("send",)) == [send]


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
    killed = _begin(journal, "prod", kind="stop-all")
    for run, action, campaign_id, outcome in [
        (prod, "stop", 1, "done"),
        (prod, "stop", 2, "failed"),
        (prod, "stop", 3, "ambiguous"),
        (prod, "create", 4, "done"),
        (staging, "stop", 5, "done"),
        (killed, "stop", 7, "done"),
    ]:
        step = journal.intent(run, key="k", action=action, campaign_id=campaign_id)
        journal.outcome(step, outcome)
    journal.intent(prod, key="k", action="stop", campaign_id=6)  # killed before its outcome

    assert journal.stopped_ids("prod") == {1}
    assert journal.stopped_ids("staging") == {5}
    assert journal.stopped_ids("prod", kind="stop-all") == {7}


# --- the upload ledger -------------------------------------------------------------------------


def test_batches_are_kept_by_prefix_per_environment_and_forgotten(journal: Journal) -> None:
    run = _begin(journal, kind="upload")
    journal.batch_state("prod", "f:abc:0", "sending", records=1000, run_id=run)
    journal.batch_state("prod", "f:abc:0", "accepted", records=1000, run_id=run)
    journal.batch_state("prod", "f:abc:1", "ambiguous", records=500, run_id=run, detail={"e": 1})
    journal.batch_state("prod", "f:xyz:0", "accepted", records=10, run_id=None)
    journal.batch_state("staging", "f:abc:0", "failed", records=1000, run_id=None)

    assert journal.batch_states("prod", "f:abc:") == {"f:abc:0": "accepted", "f:abc:1": "ambiguous"}
    assert journal.batch_states("staging", "f:abc:") == {"f:abc:0": "failed"}
    assert journal.batch_states("prod", "f:a%") == {}, "a prefix is text, not a pattern"
    listed = journal.batch_records("prod", "f:abc:")
    assert [(b["batch_id"], b["state"], b["records"], b["detail"]) for b in listed] == [
        ("f:abc:0", "accepted", 1000, None),
        ("f:abc:1", "ambiguous", 500, {"e": 1}),
    ]
    assert all(b["updated_at"] for b in listed), "when each batch got its state"
    assert journal.batch_records("prod", "f:a%") == []
    assert journal.sent_records("prod", "f:abc:") == 1500
    assert journal.sent_records("staging", "f:abc:") == 0, "a failed batch carried nothing"
    assert journal.sent_records("prod", "f:a%") == 0
    assert journal.forget_batches("prod", "f:abc:") == 2
    assert journal.sent_records("prod", "f:abc:") == 0
    assert journal.batch_states("prod", "f:") == {"f:xyz:0": "accepted"}


def test_many_batch_states_are_kept_in_one_write_all_or_none(journal: Journal) -> None:
    """The upload engine keeps the states that pile up while it writes in one commit."""
    run = _begin(journal, kind="upload")
    journal.batch_state("prod", "f:abc:0", "sending", records=1000, run_id=run)
    journal.record_batch_states(
        "prod",
        [
            BatchState("f:abc:0", "accepted", 1000, {"processed": 1000}),
            BatchState("f:abc:1", "sending", 1000),
            BatchState("f:abc:2", "sending", 700),
            BatchState("f:abc:2", "failed", 700, {"error": "stopped"}),  # the last one counts
        ],
        run_id=run,
    )
    assert journal.batch_states("prod", "f:abc:") == {
        "f:abc:0": "accepted",
        "f:abc:1": "sending",
        "f:abc:2": "failed",
    }
    assert [(b["batch_id"], b["records"], b["detail"]) for b in journal.batches_of(run)] == [
        ("f:abc:0", 1000, {"processed": 1000}),
        ("f:abc:1", 1000, None),
        ("f:abc:2", 700, {"error": "stopped"}),
    ]

    broken = BatchState("f:abc:4", "accepted", None)  # type: ignore[arg-type]
    with pytest.raises(CtflowError, match="cannot write the journal"):
        journal.record_batch_states(
            "prod", [BatchState("f:abc:1", "accepted", 1000), broken], run_id=run
        )
    assert journal.batch_states("prod", "f:abc:")["f:abc:1"] == "sending", "none of them kept"
    journal.record_batch_states("prod", [BatchState("f:abc:1", "accepted", 1000)], run_id=run)
    assert journal.batch_states("prod", "f:abc:")["f:abc:1"] == "accepted", "still writable"


def test_uploads_are_recorded_newest_first_and_forgotten_with_their_environment(
    journal: Journal,
) -> None:
    for key, source, state in [("f:1", "a.jsonl", "complete"), ("f:2", "b.jsonl", "partial")]:
        journal.record_upload(
            "prod",
            key,
            kind="events",
            source=source,
            dataset=None,
            state=state,
            summary={"accepted": 3},
            run_id=None,
        )
    journal.record_upload(
        "prod",
        "f:1",
        kind="events",
        source="a.jsonl",
        dataset="points",
        state="complete",
        summary={"accepted": 4},
        run_id=None,
    )
    journal.batch_state("prod", "f:1:0", "accepted", records=4, run_id=None)
    journal.batch_state("staging", "f:1:0", "accepted", records=4, run_id=None)

    uploads = journal.uploads("prod")
    assert [(u["upload_key"], u["dataset"], u["summary"]) for u in uploads] == [
        ("f:1", "points", {"accepted": 4}),
        ("f:2", None, {"accepted": 3}),
    ]
    assert journal.forget_environment_uploads("prod") == 1
    assert journal.uploads("prod") == []
    assert journal.batch_states("staging", "f:") == {"f:1:0": "accepted"}


def test_the_batches_a_run_sent_are_listed_in_batch_order(journal: Journal) -> None:
    first, second = _begin(journal, kind="upload"), _begin(journal, kind="upload")
    for index in (10, 2, 1):
        journal.batch_state("prod", f"f:abc:{index}", "accepted", records=1000, run_id=first)
    journal.batch_state("prod", "f:abc:3", "ambiguous", records=7, run_id=second, detail={"e": 1})
    assert [(b["batch_id"], b["state"], b["records"]) for b in journal.batches_of(first)] == [
        ("f:abc:1", "accepted", 1000),
        ("f:abc:2", "accepted", 1000),
        ("f:abc:10", "accepted", 1000),
    ]
    assert [b["detail"] for b in journal.batches_of(second)] == [{"e": 1}]


# --- send keys ---------------------------------------------------------------------------------


def test_a_send_key_is_claimed_once_and_then_left_alone_with_its_record(journal: Journal) -> None:
    run = _begin(journal, kind="send")
    sends = [("k1", "ana@x", "d1"), ("k2", "bo@x", "d2")]
    assert journal.claim_sends("prod", sends, trigger="otp", run_id=run) == {}
    journal.send_outcomes("prod", [("k1", "ana@x")], "sent", {"id": 7})

    again = journal.claim_sends("prod", sends, trigger="otp", run_id=run)
    assert set(again) == {("k1", "ana@x"), ("k2", "bo@x")}
    assert again[("k1", "ana@x")]["state"] == "sent"
    assert again[("k1", "ana@x")]["detail"] == {"id": 7}
    assert again[("k1", "ana@x")]["in_progress"] is False
    assert again[("k2", "bo@x")]["state"] == "sending"
    assert again[("k2", "bo@x")]["in_progress"] is True, "its run is still open"
    assert journal.claim_sends("staging", sends, trigger="otp", run_id=run) == {}


def test_the_sends_a_run_claimed_are_listed_with_their_state(journal: Journal) -> None:
    run = _begin(journal, kind="send")
    journal.claim_sends(
        "prod", [("k2", "bo@x", "d"), ("k1", "ana@x", "d")], trigger="otp", run_id=run
    )
    journal.send_outcomes("prod", [("k1", "ana@x")], "sent", {"id": 3})
    assert [
        (s["send_key"], s["recipient"], s["trigger_key"], s["state"], s["detail"])
        for s in journal.sends_of(run)
    ] == [
        ("k1", "ana@x", "otp", "sent", {"id": 3}),
        ("k2", "bo@x", "otp", "sending", None),
    ]


def test_a_failed_send_is_claimed_again_and_a_finished_runs_sending_one_on_request(
    journal: Journal,
) -> None:
    first = _begin(journal, kind="send")
    sends = [("k1", "ana@x", "d1"), ("k2", "bo@x", "d2")]
    journal.claim_sends("prod", sends, trigger="otp", run_id=first)
    journal.send_outcomes("prod", [("k1", "ana@x")], "failed", {"error": "refused"})
    journal.finish(first, "failed")  # k2 stays 'sending': its run died mid-call

    second = _begin(journal, kind="send")
    left = journal.claim_sends("prod", sends, trigger="otp", run_id=second)
    assert list(left) == [("k2", "bo@x")], "failed means not sent: it is claimed again"
    assert left[("k2", "bo@x")]["in_progress"] is False

    again = ("failed", "sending")
    third = _begin(journal, kind="send")
    assert journal.claim_sends("prod", sends[1:], trigger="otp", run_id=third, again=again) == {}
    other_data = [("k2", "bo@x", "d-other")]
    refused = journal.claim_sends("prod", other_data, trigger="otp", run_id=third, again=again)
    assert refused[("k2", "bo@x")]["digest"] == "d2", "a key is for the data it was made with"


def test_a_sending_key_of_an_open_run_is_stale_only_before_the_given_time(
    journal: Journal,
) -> None:
    run = _begin(journal, kind="send")  # minute 0
    journal.claim_sends("prod", [("k", "ana@x", "d")], trigger="otp", run_id=run)  # minute 1
    again = ("failed", "sending")
    other = _begin(journal, kind="send")
    fresh = journal.claim_sends(
        "prod", [("k", "ana@x", "d")], trigger="otp", run_id=other, again=again, stale_before=at(0)
    )
    assert fresh[("k", "ana@x")]["in_progress"] is True
    stale = journal.claim_sends(
        "prod", [("k", "ana@x", "d")], trigger="otp", run_id=other, again=again, stale_before=at(9)
    )
    assert stale == {}


# --- the lock and a killed process -------------------------------------------------------------

HOLD_LOCK = """
import os, time
from ctflow.journal import Holder
holder = Holder(os.getpid(), "bo", "ci-7", "ctflow apply -e prod", "2026-05-01T08:00:00+00:00")
with journal.lock(holder, project="shop", environment="prod"):
    print("locked", flush=True)
    time.sleep(60)
"""

ME = Holder(pid=1, user="ana", host="laptop", command="ctflow apply", started_at=at(0))


def test_the_lock_names_its_holder_and_is_freed_when_the_holder_is_killed(
    journal: Journal, backend: Backend
) -> None:
    with child(HOLD_LOCK, backend.url) as proc:
        with (
            pytest.raises(ConflictError) as caught,
            journal.lock(ME, project="shop", environment="prod"),
        ):
            pass
        message = str(caught.value)
        assert message.startswith(f"the journal {journal.location} is locked ")
        assert message.endswith(
            f"by another run: pid {proc.pid} (bo@ci-7), `ctflow apply -e prod`, since "
            "2026-05-01T08:00:00+00:00; wait for it to finish"
        )
        assert caught.value.exit_code == ExitCode.CONFLICT == 7
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    with journal.lock(ME, project="shop", environment="prod"):
        pass
    with journal.lock(ME, project="shop", environment="prod"):  # released on exit
        pass


KILLED_APPLY = """
import time
run = journal.begin("apply", project="shop", environment="prod", user="ana", host="ci",
                    git_commit=None, command="ctflow apply")
done = journal.intent(run, key="a", action="create", hash="h1")
journal.outcome(done, "done", campaign_id=1)
journal.intent(run, key="b", action="create", hash="h2")
journal.intent(run, key="c", action="stop", campaign_id=3)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_killed_apply_leaves_its_unfinished_steps_newest_first(backend: Backend) -> None:
    with child(KILLED_APPLY, backend.url) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    with backend.open() as journal:
        unfinished = journal.unfinished_steps("prod")
        assert [(s["key"], s["action"], s["hash"], s["campaign_id"]) for s in unfinished] == [
            ("c", "stop", None, 3),
            ("b", "create", "h2", None),
        ]
        assert journal.unfinished_steps("staging") == []
        assert journal.runs()[0]["finished_at"] is None


def test_what_one_connection_writes_the_next_reads(backend: Backend) -> None:
    with backend.open() as first:
        run = _begin(first)
        step = first.intent(run, key="welcome", action="create", hash="h1")
        with backend.open() as second:
            assert [(s["id"], s["key"]) for s in second.steps(run)] == [(step, "welcome")]
