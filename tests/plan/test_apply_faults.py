"""Apply under the sandbox's injected faults: 429 storms, 5xx, responses lost after the create
was committed, and a duplicate made behind ctflow's back. Whatever happens, a key never ends
with two live copies, and re-running apply converges.
"""

from __future__ import annotations

from pathlib import Path

from ctflow.clevertap import RetryPolicy
from ctflow.sandbox import Sandbox
from tests.plan.support import KEYS, Bed, Statuses, push, write_project

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
