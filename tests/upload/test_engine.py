"""The upload engine against the in-process sandbox: each valid record stored once, CleverTap's
rejects kept with their line and code, and what each kind of failed call means — a 429 is
sent again, a 5xx (503 included) or a lost answer on events is reported and never sent twice,
the same on profiles is sent again, a wrong passcode stops everything, an outage gives up and a
re-run finishes the job. Every test counts what the sandbox stores.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctflow.clevertap import Credentials
from ctflow.clevertap.errors import AuthError
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, Sandbox
from ctflow.upload.engine import Engine, Options
from ctflow.upload.ledger import MemoryLedger
from tests.asgi import read_whole
from tests.upload.support import (
    FAST,
    Calls,
    event,
    events,
    in_batch,
    numbers,
    once,
    profile,
    send,
)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(db=":memory:")
    yield sandbox
    sandbox.close()


def outside(refs: Any, count: int, size: int = 1000) -> list[int]:
    """The event numbers 1..count that are not in one of the batches ``refs`` names."""
    held = {int(ref.id.rsplit(":", 1)[1]) for ref in refs}
    return [n for n in range(1, count + 1) if in_batch(n, size) not in held]


async def test_every_valid_event_is_stored_once_and_each_reject_keeps_its_line_and_code(
    sb: Sandbox,
) -> None:
    sb.config.discarded_events = {"Old Banner Clicked"}  # discarded in the dashboard: code 528
    records = events(2500)
    records[2] = event(3, name="App Launched")  # a system event: ctflow refuses it
    records[1499] = event(1500, name="Old Banner Clicked")  # ctflow cannot know: CleverTap 528
    bad_guid = {k: v for k, v in event(2200).items() if k != "identity"}
    records[2199] = {**bad_guid, "objectId": "not a guid"}  # CleverTap 526
    sent = await send(sb.app, records)

    assert once(sb, set(range(1, 2501)) - {3, 1500, 2200})
    rejected = sorted((r.line, r.by, r.code, r.batch) for r in sent.rejects)
    assert rejected == [
        (3, "ctflow", None, "t:0"),
        (1500, "clevertap", 528, "t:1"),
        (2200, "clevertap", 526, "t:2"),
    ]
    by_line = {r.line: r for r in sent.rejects}
    assert by_line[1500].record["evtData"]["n"] == 1500, (
        "the record CleverTap refused, not a neighbour"
    )
    assert "discarded" in by_line[1500].reason
    assert "Skipped record number" not in by_line[1500].reason
    assert (sent.tally.accepted, sent.tally.rejected_local, sent.tally.rejected_remote) == (
        2497,
        1,
        2,
    )
    assert set(sent.ledger.states("t:").values()) == {"accepted"}


async def test_profiles_clevertap_refuses_are_dead_lettered_and_the_rest_upserted(
    sb: Sandbox,
) -> None:
    records = [profile(f"p-{i}", Name=f"Person {i}", Age=30) for i in range(1, 1201)]
    records[9] = profile("p-10", Age=200)  # CleverTap: age invalid (520)
    records[19] = profile("p-20", Phone="+12")  # starts with + as ctflow checks; too short: 516
    records[1099] = profile("p-1100", Email="ana@localhost")  # has an @; CleverTap: 515
    sent = await send(sb.app, records, kind="profiles")

    assert sorted((r.line, r.code) for r in sent.rejects) == [(10, 520), (20, 516), (1100, 515)]
    assert {r.by for r in sent.rejects} == {"clevertap"}
    assert sb.store.counts()["profiles"] == 1197
    assert sb.profile("p-10") is None
    assert sb.profile("p-1100") is None
    stored = sb.profile("p-11")
    assert stored is not None
    assert stored["profileData"] == {"Name": "Person 11", "Age": 30}


async def test_a_429_storm_is_ridden_out_and_every_event_stored_once(sb: Sandbox) -> None:
    sb.faults.rate_429 = 0.5
    sb.faults.seed = 7
    calls = Calls(sb.app)
    sent = await send(calls, events(12_000))

    assert once(sb, range(1, 12_001))
    assert sent.tally.rate_limited == calls.statuses.count(429) > 0
    assert sent.tally.ambiguous == []
    assert sent.tally.failed == []
    assert sent.tally.accepted == 12_000


async def test_any_5xx_on_events_503_included_is_reported_and_never_resent(sb: Sandbox) -> None:
    """Nothing CleverTap documents says a 503 was not processed: sent again, an event batch
    could arrive twice (it used to be sent again)."""
    sb.faults.rate_5xx = 0.35
    sb.faults.seed = 11
    calls = Calls(sb.app)
    sent = await send(calls, events(15_000))

    seen = Counter(calls.statuses)
    assert seen[503] > 0, f"the seed gives a 503: {seen}"
    assert seen[500] + seen[502] + seen[504] > 0, f"and another 5xx: {seen}"
    ambiguous = sent.tally.ambiguous
    fives = seen[500] + seen[502] + seen[503] + seen[504]
    assert len(ambiguous) == fives, "one unclear answer, one batch"
    assert len(calls.statuses) == 15, "no batch was sent twice"
    stored = numbers(sb)
    assert max(stored.values()) == 1, "no event stored twice"
    assert set(outside(ambiguous, 15_000)) <= set(stored), "every other event is there"
    states = sent.ledger.states("t:")
    assert {ref.id for ref in ambiguous} == {b for b, s in states.items() if s == "ambiguous"}
    assert [(r.first_line, r.last_line) for r in ambiguous] == [
        (int(r.id.rsplit(":", 1)[1]) * 1000 + 1, int(r.id.rsplit(":", 1)[1]) * 1000 + 1000)
        for r in ambiguous
    ], "the lines a user checks"


async def test_a_lost_answer_on_events_is_reported_and_never_sent_again(sb: Sandbox) -> None:
    sb.faults.drop_next = 1
    calls = Calls(sb.app)
    ledger = MemoryLedger()
    first = await send(calls, events(3000), ledger=ledger, options=replace(FAST, concurrency=1))

    assert [ref.id for ref in first.tally.ambiguous] == ["t:0"]
    assert once(sb, range(1, 3001)), "CleverTap kept the batch whose answer was lost, once"
    assert len(calls.statuses) == 3, "the unanswered batch was not sent a second time"
    assert ledger.states("t:")["t:0"] == "ambiguous"

    again = await send(calls, events(3000), ledger=ledger)
    assert [ref.id for ref in again.tally.ambiguous] == ["t:0"], "still reported"
    assert len(calls.statuses) == 3, "a re-run sends nothing"
    assert once(sb, range(1, 3001))


async def test_resend_ambiguous_sends_the_unclear_batch_again_and_only_it(sb: Sandbox) -> None:
    sb.faults.drop_next = 1
    ledger = MemoryLedger()
    await send(sb.app, events(3000), ledger=ledger, options=replace(FAST, concurrency=1))

    resent = await send(
        sb.app, events(3000), ledger=ledger, options=replace(FAST, resend_ambiguous=True)
    )
    assert resent.tally.ambiguous == []
    assert resent.tally.resent == 1
    stored = numbers(sb)
    assert {n for n, copies in stored.items() if copies == 2} == set(range(1, 1001))
    assert all(stored[n] == 1 for n in range(1001, 3001))
    assert set(ledger.states("t:").values()) == {"accepted"}


async def test_accept_ambiguous_settles_the_batch_and_later_runs_send_nothing(
    sb: Sandbox,
) -> None:
    sb.faults.drop_next = 1
    calls = Calls(sb.app)
    ledger = MemoryLedger()
    await send(calls, events(2000), ledger=ledger, options=replace(FAST, concurrency=1))
    assert len(calls.statuses) == 2

    settled = await send(
        calls, events(2000), ledger=ledger, options=replace(FAST, accept_ambiguous=True)
    )
    assert settled.tally.ambiguous == []
    assert settled.tally.skipped_rows == 2000
    assert ledger.states("t:") == {"t:0": "settled", "t:1": "accepted"}
    later = await send(calls, events(2000), ledger=ledger)
    assert later.tally.ambiguous == []
    assert later.tally.skipped_rows == 2000
    assert len(calls.statuses) == 2, "nothing sent after the first run"
    assert once(sb, range(1, 2001))


async def test_a_lost_answer_on_profiles_is_sent_again(sb: Sandbox) -> None:
    sb.faults.drop_next = 1
    records = [profile(f"p-{i}", Name=f"Person {i}", City="Pune") for i in range(1, 1501)]
    calls = Calls(sb.app)
    sent = await send(calls, records, kind="profiles", options=replace(FAST, concurrency=1))

    assert sent.tally.ambiguous == []
    assert sent.tally.resent == 1
    assert len(calls.statuses) == 3, "the unanswered batch was sent once more"
    assert sb.store.counts()["profiles"] == 1500
    assert set(sent.ledger.states("t:").values()) == {"accepted"}
    stored = sb.profile("p-7")
    assert stored is not None
    assert stored["profileData"] == {"Name": "Person 7", "City": "Pune"}


async def test_a_lost_answer_on_incrementing_profiles_is_not_sent_again(sb: Sandbox) -> None:
    """$incr changes the value again when repeated, so such a batch is treated like events."""
    sb.faults.drop_next = 1
    records = [profile(f"p-{i}", Visits={"$incr": 5}) for i in range(1, 11)]
    sent = await send(sb.app, records, kind="profiles")

    assert [ref.id for ref in sent.tally.ambiguous] == ["t:0"]
    stored = sb.profile("p-3")
    assert stored is not None, "incremented once"
    assert stored["profileData"]["Visits"] == 5, "incremented once"


async def test_a_503_on_a_batch_already_stored_leaves_events_once_and_resends_profiles(
    sb: Sandbox,
) -> None:
    """CleverTap may answer 503 after processing: events are then reported, not sent twice;
    profiles are upserts, sent again."""
    sb.faults.fail_next, sb.faults.commit_5xx = [503], True
    calls = Calls(sb.app)
    one_at_a_time = replace(FAST, concurrency=1)
    first = await send(calls, events(2000), options=one_at_a_time)
    assert calls.statuses == [503, 200]
    assert [ref.id for ref in first.tally.ambiguous] == ["t:0"]
    assert once(sb, range(1, 2001)), "the batch answered 503 is stored, once"

    sb.faults.fail_next = [503]
    before = sb.store.counts()["profiles"]
    people = [profile(f"p-{i}", City="Pune") for i in range(1, 1001)]
    upserted = await send(calls, people, kind="profiles", prefix="p", options=one_at_a_time)
    assert calls.statuses[2:] == [503, 200], "the profile batch was sent once more"
    assert (upserted.tally.ambiguous, upserted.tally.resent) == ([], 1)
    assert upserted.ledger.states("p:") == {"p:0": "accepted"}
    assert sb.store.counts()["profiles"] == before + 1000


@pytest.mark.parametrize("concurrency", [1, 4, 15])
async def test_calls_in_flight_never_exceed_the_concurrency_option(
    sb: Sandbox, concurrency: int
) -> None:
    # Long enough for the engine to fill every slot before the first answer, on a busy machine too.
    sb.faults.latency_ms = max(150, 40 * concurrency)
    calls = Calls(sb.app)
    count = (concurrency + 2) * 1000
    sent = await send(calls, events(count), options=replace(FAST, concurrency=concurrency))

    assert calls.most == concurrency, "up to the option, and no further"
    assert 429 not in calls.statuses
    assert sent.tally.accepted == count
    assert once(sb, range(1, count + 1))


async def test_two_workers_sharing_the_account_meet_429s_and_deliver_once(sb: Sandbox) -> None:
    """Two uploads of 3 calls each against an account that takes 4: the extra calls draw 429s,
    are sent again, and every event arrives once."""
    sb.config.limits["upload"] = 4
    sb.faults.latency_ms = 300
    calls = Calls(sb.app)
    three = replace(FAST, concurrency=3)
    a, b = await asyncio.gather(
        send(calls, events(6000), options=three, prefix="a"),
        send(calls, events(6000, start=20_001), options=three, prefix="b"),
    )
    assert calls.statuses.count(429) == a.tally.rate_limited + b.tally.rate_limited > 0
    assert a.tally.failed == b.tally.failed == []
    assert once(sb, [*range(1, 6001), *range(20_001, 26_001)])


async def test_a_wrong_passcode_stops_the_upload_and_marks_nothing_accepted(
    sb: Sandbox,
) -> None:
    calls = Calls(sb.app)
    wrong = Credentials(DEFAULT_ACCOUNT_ID, "not-the-passcode")
    ledger = MemoryLedger()
    with pytest.raises(AuthError) as caught:
        await send(calls, events(30_000), ledger=ledger, credentials=wrong)

    assert caught.value.exit_code == 4
    assert "not-the-passcode" not in str(caught.value)
    assert sb.store.counts()["events"] == 0
    assert set(ledger.states("t:").values()) <= {"failed"}
    assert set(calls.statuses) == {401}
    assert len(calls.statuses) <= 15, "nothing sent after the first refusals"


class Outage:
    """Answers every upload call after the first ``after`` with a 429, until ``over()``."""

    def __init__(self, app: Any, after: int) -> None:
        self.app = app
        self.after = after
        self.calls = 0
        self.down = True

    def over(self) -> None:
        self.down = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/1/upload":
            self.calls += 1
            if self.down and self.calls > self.after:
                body = json.dumps({"status": "fail", "error": "Too many", "code": 429}).encode()
                await send({"type": "http.response.start", "status": 429, "headers": []})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def test_an_outage_gives_up_as_unavailable_and_a_rerun_completes_without_duplicates(
    sb: Sandbox,
) -> None:
    outage = Outage(sb.app, after=3)
    ledger = MemoryLedger()
    patient = replace(FAST, concurrency=1, give_up_after=0.05)
    first = await send(outage, events(8000), ledger=ledger, options=patient)

    assert first.tally.unavailable
    assert first.tally.failed
    assert sorted(numbers(sb)) == list(range(1, 3001)), "three batches arrived before the outage"
    assert "failed" in ledger.states("t:").values()

    outage.over()
    second = await send(outage, events(8000), ledger=ledger, options=patient)
    assert second.tally.unavailable is None
    assert second.tally.failed == []
    assert second.tally.skipped_rows == 3000
    assert once(sb, range(1, 8001))


async def test_stopping_during_a_429_is_an_interruption_not_an_outage(sb: Sandbox) -> None:
    sb.faults.rate_429 = 1.0
    patient = replace(FAST, backoff_initial=0.01, backoff_max=0.02)

    def ctrl_c_soon(engine: Engine) -> None:
        asyncio.get_running_loop().call_later(0.2, engine.stop)

    sent = await send(sb.app, events(3000), options=patient, started=ctrl_c_soon)
    assert sent.tally.interrupted
    assert sent.tally.unavailable is None, "300 s had not passed; the user stopped it"


async def test_the_ledger_says_sending_before_clevertap_sees_a_batch(sb: Sandbox) -> None:
    """What makes a crash safe: at the moment a batch arrives, its state is already durable."""
    ledger = MemoryLedger()
    seen: list[tuple[str, str | None]] = []

    async def checking(scope: Any, receive: Any, send_: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/1/upload":
            body, replay = await read_whole(receive)
            first = json.loads(body)["d"][0]["evtData"]["n"]
            batch = f"t:{in_batch(first)}"
            seen.append((batch, ledger.states("t:").get(batch)))
            await sb.app(scope, replay, send_)
            return
        await sb.app(scope, receive, send_)

    await send(checking, events(5000), ledger=ledger)
    assert sorted(seen) == [(f"t:{i}", "sending") for i in range(5)]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**16),
    rate_429=st.sampled_from([0.0, 0.3]),
    rate_5xx=st.sampled_from([0.0, 0.2]),
    drop=st.sampled_from([0.0, 0.2]),
)
def test_whatever_the_faults_no_event_is_stored_twice_or_lost_unreported(
    seed: int, rate_429: float, rate_5xx: float, drop: float
) -> None:
    sb = Sandbox(db=":memory:")
    try:
        sb.faults.seed = seed
        sb.faults.rate_429, sb.faults.rate_5xx, sb.faults.drop_response = rate_429, rate_5xx, drop
        sent = asyncio.run(send(sb.app, events(6000)))
        stored = numbers(sb)
        assert max(stored.values(), default=1) == 1, "no event stored twice"
        kept = outside(sent.tally.ambiguous, 6000)
        assert all(stored[n] == 1 for n in kept), "every event of a settled batch is there"
        assert sent.tally.accepted == len(kept)
        for ref in sent.tally.ambiguous:
            index = int(ref.id.rsplit(":", 1)[1])
            present = [stored[n] for n in range(index * 1000 + 1, index * 1000 + 1001)]
            assert len(set(present)) == 1, f"{ref.id} arrived whole or not at all"
        assert set(stored) <= set(range(1, 6001))
    finally:
        sb.close()


class Order:
    """ASGI middleware before the sandbox: each upload call's first identity and its status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/1/upload":
            await self.app(scope, receive, send)
            return
        body, replay = await read_whole(receive)
        first = json.loads(body)["d"][0]["identity"]

        async def seen(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((first, message["status"]))
            await send(message)

        await self.app(scope, replay, seen)


async def test_a_batch_waiting_after_a_429_leaves_its_call_slot_to_the_next(
    sb: Sandbox,
) -> None:
    """One call at a time: while the first batch waits to be sent again after a 429, the second
    goes out on the slot it left free, rather than waiting behind it."""
    sb.faults.fail_next = [429]
    sb.faults.paths = {"/1/upload"}
    order = Order(sb.app)
    records = events(2000)
    options = Options(concurrency=1, backoff_initial=0.4, backoff_max=0.4)
    sent = await send(order, records, options=options)

    first, second = records[0]["identity"], records[1000]["identity"]
    assert order.seen == [(first, 429), (second, 200), (first, 200)]
    assert sent.tally.accepted == 2000
    assert once(sb, range(1, 2001))
