"""Apply under the sandbox's injected faults: 429 storms, 5xx (also after the create was made),
responses lost after the create was committed, and a duplicate made behind ctflow's back.
Whatever happens, a key never ends with two live copies, and re-running apply converges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow.clevertap import CleverTap, RetryPolicy
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY, LoopbackServer
from tests.plan.support import FAST_LIMITS, KEYS, Bed, Statuses, push, write_project

PATIENT = RetryPolicy(attempts=30, timeout=30.0, wait_initial=0.001, wait_max=0.01)
"""Enough attempts that a seeded 50 % storm of 429s cannot exhaust them."""


def assert_at_most_one_each(bed: Bed) -> None:
    doubled = {key: len(c) for key, c in bed.live().items() if len(c) > 1}
    assert doubled == {}, f"keys with two live copies: {doubled}"


def assert_one_each(bed: Bed) -> None:
    live = bed.live()
    assert {key: len(copies) for key, copies in live.items()} == dict.fromkeys(KEYS, 1)


def test_a_storm_of_429s_still_converges(tmp_path: Path, sb: Sandbox) -> None:
    statuses = Statuses(sb)
    bed = Bed(write_project(tmp_path), sb, retry=PATIENT, statuses=statuses)
    sb.faults.rate_429 = 0.5
    sb.faults.seed = 429
    applied = bed.apply()
    assert applied.code == 0, applied.err
    assert_one_each(bed)
    assert len(sb.campaigns()) == 5, "a 429 was not processed, so nothing may be doubled"
    assert statuses.of("create").count(429) >= 2, statuses.seen
    assert statuses.of("create").count(200) == 5


def test_server_errors_converge_over_re_runs_without_a_duplicate(bed: Bed, sb: Sandbox) -> None:
    statuses = Statuses(sb)
    bed = Bed(bed.root, sb, statuses=statuses)
    sb.faults.rate_5xx = 0.3
    sb.faults.seed = 1
    codes = []
    for _ in range(5):
        ran = bed.apply()
        codes.append(ran.code)
        assert ran.code in (0, 5), ran.err
        assert_at_most_one_each(bed)
        if ran.code == 0:
            break
    assert codes[-1] == 0, f"apply did not converge in 5 runs: {codes}"
    assert any(status >= 500 for status in statuses.of("create")), "no create met a 5xx"
    assert_one_each(bed)
    sb.faults.rate_5xx = 0
    assert "No changes." in bed.plan().out


def test_creates_whose_answer_was_lost_are_adopted(bed: Bed, sb: Sandbox) -> None:
    sb.faults.drop_response = 1.0
    sb.faults.paths = {"/1/targets/create.json"}
    applied = bed.apply()
    assert applied.code == 0, applied.err
    assert "Apply complete: 0 created, 5 adopted, 0 stopped." in applied.out
    assert_one_each(bed)
    assert len(sb.campaigns()) == 5

    with bed.journal() as journal:
        [run] = journal.runs()
        steps = journal.steps(run["id"])
    assert {s["key"] for s in steps} == KEYS
    assert [s["outcome"] for s in steps] == ["adopted"] * 5
    ids = {c["id"] for c in sb.campaigns()}
    assert {s["campaign_id"] for s in steps} == ids
    sb.faults.drop_response = 0
    assert "No changes." in bed.plan().out, "adopted campaigns are the declared versions"


@pytest.fixture
def served(tmp_path: Path, sb: Sandbox) -> Iterator[Bed]:
    """The project's commands against ``sb`` served over real loopback HTTP."""
    with LoopbackServer(sb) as server:

        def connect() -> CleverTap:
            return CleverTap(CREDS, base_url=server.base_url, retry=FAST_RETRY, limits=FAST_LIMITS)

        yield Bed(write_project(tmp_path), sb, connect=connect)


@pytest.mark.loopback
def test_creates_answered_503_after_they_were_made_are_adopted_not_made_twice(
    served: Bed, sb: Sandbox
) -> None:
    """A 503 does not say the campaign was not created: sent again, each would exist twice
    (the client used to retry a 503 on a create)."""
    sb.faults.fail_next, sb.faults.commit_5xx = [503] * 5, True
    sb.faults.paths = {"/1/targets/create.json"}
    applied = served.apply()
    assert applied.code == 0, applied.err
    assert "Apply complete: 0 created, 5 adopted, 0 stopped." in applied.out
    assert len(sb.campaigns()) == 5, "each create was made once"
    assert_one_each(served)
    assert "No changes." in served.plan().out


@pytest.mark.loopback
def test_creates_answered_503_before_they_were_made_are_made_once_after_listing(
    served: Bed, sb: Sandbox
) -> None:
    sb.faults.fail_next = [503] * 5
    sb.faults.paths = {"/1/targets/create.json"}
    applied = served.apply()
    assert applied.code == 0, applied.err
    assert "Apply complete: 5 created, 0 adopted, 0 stopped." in applied.out
    assert applied.err.count("not created; creating it again") == 5
    assert_one_each(served)


@pytest.mark.loopback
def test_a_500_on_the_listing_is_asked_again_and_the_apply_completes(
    served: Bed, sb: Sandbox
) -> None:
    """Listing is safe to repeat; one 500 on it used to fail the whole apply (exit 5)."""
    sb.faults.fail_next = [500]
    sb.faults.paths = {"/1/targets/list.json"}
    applied = served.apply()
    assert applied.code == 0, applied.err
    assert sb.faults.fail_next == [], "the listing met its 500"
    assert_one_each(served)


def test_a_duplicate_made_behind_ctflows_back_is_repaired(bed: Bed) -> None:
    assert bed.apply().code == 0
    [original] = bed.live()["winback"]
    copy = bed.call(lambda client: client.create_campaign(original["payload"]))
    assert copy.id != original["id"]

    planned = bed.plan()
    kept_and_stopped = f"(keeps {original['id']}, stops {copy.id} pending)"
    assert f'~ repair winback  "We miss you"  {kept_and_stopped}' in planned.out
    assert "Plan: 0 to create, 0 to replace, 1 to stop." in planned.out
    applied = bed.apply()
    assert applied.code == 0, applied.err
    assert [c["id"] for c in bed.live()["winback"]] == [original["id"]]
    assert_one_each(bed)
    assert "No changes." in bed.plan().out


def test_an_apply_that_cannot_list_closes_its_journal_run(bed: Bed, sb: Sandbox) -> None:
    sb.faults.rate_5xx = 1.0
    sb.faults.paths = {"/1/targets/list.json"}
    failed = bed.apply()
    assert failed.code == 5
    assert sb.campaigns() == []
    with bed.journal() as journal:
        [run] = journal.runs()
    assert run["finished_at"] is not None, "only a killed run may stay without finished_at"
    assert run["outcome"] == "failed"


def test_a_replace_whose_stop_answer_was_lost_converges_on_re_run(bed: Bed, sb: Sandbox) -> None:
    assert bed.apply().code == 0
    [old] = bed.live()["winback"]
    bed.write({"campaigns/winback.yaml": push("winback", name="We miss you", title="New")})
    sb.faults.drop_response = 1.0
    sb.faults.paths = {"/1/targets/stop.json"}
    bed.apply()
    sb.faults.drop_response = 0

    for _ in range(2):
        if bed.apply().code == 0 and "No changes." in bed.plan().out:
            break
    assert [c["status"] for c in sb.campaigns() if c["id"] == old["id"]] == ["stopped"]
    [new] = bed.live().get("winback", [None])
    assert new is not None, "the new version of winback was never created"
    assert new["payload"]["content"]["title"] == "New"
    assert_one_each(bed)
