"""``plan`` → ``apply`` → ``plan`` end to end against the sandbox: creates, replaces, stops, the
running-campaign gate, ``--target``, saved plans, the kill switch, confirmation, the journal and
its lock. In-process, and the first test once more over real loopback HTTP.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ctflow.clevertap import CleverTap, Limits
from ctflow.plan.marker import parse
from ctflow.sandbox import DEFAULT_PASSCODE, Sandbox
from tests.contract.support import CREDS, FAST_RETRY, LoopbackServer
from tests.plan.support import FAST_LIMITS, KEYS, Bed, Statuses, push, sandbox, write_project

WINBACK_EDITED = push("winback", name="We miss you", title="We saved your cart")


@pytest.fixture(params=["in_process", pytest.param("loopback", marks=pytest.mark.loopback)])
def any_bed(request: pytest.FixtureRequest, tmp_path: Path, sb: Sandbox) -> Iterator[Bed]:
    write_project(tmp_path)
    if request.param == "in_process":
        yield Bed(tmp_path, sb)
        return
    with LoopbackServer(sb) as server:

        def connect() -> CleverTap:
            return CleverTap(CREDS, base_url=server.base_url, retry=FAST_RETRY, limits=FAST_LIMITS)

        yield Bed(tmp_path, sb, connect=connect)


def one_each(bed: Bed) -> dict[str, dict[str, Any]]:
    """The single live campaign of every declared key (fails on a missing or doubled key)."""
    live = bed.live()
    assert sorted(live) == sorted(KEYS)
    assert {key: len(copies) for key, copies in live.items()} == dict.fromkeys(KEYS, 1)
    return {key: copies[0] for key, copies in live.items()}


def _ours(name: str) -> bool:
    mark = parse(name)
    return mark is not None and mark.project == "shop"


def status(bed: Bed, campaign_id: int) -> str:
    return str(next(c["status"] for c in bed.campaigns() if c["id"] == campaign_id))


def test_apply_creates_every_campaign_once_then_plans_no_changes(any_bed: Bed) -> None:
    bed = any_bed
    planned = bed.plan()
    assert planned.code == 0
    assert "Plan: 5 to create, 0 to replace, 0 to stop." in planned.out
    assert bed.campaigns() == []

    applied = bed.apply()
    assert applied.code == 0, applied.err
    assert "Apply complete: 5 created, 0 adopted, 0 stopped." in applied.out
    assert "No changes." in bed.plan().out

    assert len(bed.campaigns()) == 5
    for key, campaign in one_each(bed).items():
        assert campaign["status"] == "pending"
        assert re.search(rf" \[ctflow:shop/{re.escape(key)}@[0-9a-f]{{8}}\]$", campaign["name"])
        assert {"ctflow", "ctflow:shop"} <= set(campaign["labels"])


def test_edited_content_is_replaced_showing_the_field_diff(bed: Bed) -> None:
    bed.apply()
    old = one_each(bed)["winback"]
    bed.write({"campaigns/winback.yaml": WINBACK_EDITED})

    planned = bed.plan()
    assert f'-/+ replace winback  "We miss you"  (stops {old["id"]} pending, then creates)' in (
        planned.out
    )
    assert '~ content.title: "Come back" → "We saved your cart"  # forces replacement' in (
        planned.out
    )
    assert "Plan: 0 to create, 1 to replace, 0 to stop." in planned.out

    applied = bed.apply()
    assert applied.code == 0, applied.err
    assert "Apply complete: 1 created, 0 adopted, 1 stopped." in applied.out
    new = one_each(bed)["winback"]
    assert new["payload"]["content"]["title"] == "We saved your cart"
    assert status(bed, old["id"]) == "stopped"
    assert len(bed.campaigns()) == 6
    assert "No changes." in bed.plan().out


def test_a_removed_campaign_is_stopped(bed: Bed) -> None:
    bed.apply()
    promo = one_each(bed)["promo"]
    bed.write({"campaigns/promo.yaml": None})

    planned = bed.plan()
    assert f'- stop promo  "Winter promo"  ({promo["id"]} pending)' in planned.out
    assert "# removed from the declarations" in planned.out
    assert "Plan: 0 to create, 0 to replace, 1 to stop." in planned.out

    assert bed.apply().code == 0
    assert status(bed, promo["id"]) == "stopped"
    assert sorted(bed.live()) == sorted(KEYS - {"promo"})
    assert "No changes." in bed.plan().out


def test_replacing_a_running_campaign_needs_allow_stop(bed: Bed) -> None:
    bed.write({"campaigns/flash.yaml": push("flash", schedule="now")})
    assert bed.apply().code == 0
    bed.sb.clock.advance(minutes=1)
    running = bed.live()["flash"][0]
    assert running["status"] == "running"
    before = bed.campaigns()
    edited = push("flash", title="Flash sale, last hour", schedule="now")
    bed.write({"campaigns/flash.yaml": edited})

    assert "[gated: needs --allow-stop]" in bed.plan().out
    refused = bed.apply()
    assert refused.code == 6
    assert f"flash ({running['id']} running)" in refused.err
    assert "--allow-stop" in refused.err
    assert bed.campaigns() == before

    allowed = bed.apply(allow_stop=True)
    assert allowed.code == 0, allowed.err
    assert status(bed, running["id"]) == "stopped"
    [new] = bed.live()["flash"]
    assert new["payload"]["content"]["title"] == "Flash sale, last hour"


def test_target_limits_the_plan_and_the_apply_to_a_journey(bed: Bed) -> None:
    planned = bed.plan(targets=("onboarding",))
    assert "Only these keys were planned: onboarding." in planned.out
    assert "Plan: 3 to create, 0 to replace, 0 to stop." in planned.out
    assert "promo" not in planned.out
    assert "winback" not in planned.out

    assert bed.apply(targets=("onboarding",)).code == 0
    assert sorted(bed.live()) == ["onboarding.day2", "onboarding.day5", "onboarding.welcome"]

    unknown = bed.plan(targets=("nosuch",))
    assert unknown.code == 64
    assert "'nosuch' names no declared or live campaign" in unknown.err


def test_a_saved_plan_applies_exactly(bed: Bed, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert bed.plan(out_file=saved).code == 0
    bed.write({"campaigns/promo.yaml": None})  # the saved plan still creates promo

    applied = bed.apply(auto_approve=False, plan_file=saved)
    assert applied.code == 0, applied.err
    one_each(bed)
    again = bed.apply(plan_file=saved)
    assert again.code == 7, "a saved plan is stale once it has been applied"


def test_a_stale_saved_plan_is_refused_and_creates_nothing(bed: Bed, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert bed.plan(out_file=saved).code == 0
    assert bed.apply(targets=("promo",)).code == 0  # the live state moves on
    before = bed.campaigns()

    stale = bed.apply(plan_file=saved)
    assert stale.code == 7
    assert f"the live campaigns changed since {saved} was saved" in stale.err
    assert bed.campaigns() == before
    with bed.journal() as journal:
        assert journal.runs(limit=1)[0]["outcome"] == "stale"


def test_estimate_shows_the_reach_of_each_create(bed: Bed) -> None:
    bed.sb.seed(profiles=200)
    planned = bed.plan(estimate=True)
    assert planned.code == 0
    block = planned.out[planned.out.index("+ create winback") :]
    reach = re.search(r"reach: android (\d+), ios (\d+) \(total (\d+)\)", block)
    assert reach is not None, block
    assert int(reach[3]) == int(reach[1]) + int(reach[2]) > 0
    assert bed.campaigns() == [], "estimate_only creates nothing"


def test_stop_all_stops_only_this_project_and_plan_does_not_bring_them_back(bed: Bed) -> None:
    bed.apply()
    template = dict(one_each(bed)["winback"]["payload"])
    foreign = {**template, "name": "Their winback [ctflow:other/winback@0badc0de]"}
    unmarked = {**template, "name": "Made in the dashboard"}
    bed.call(lambda client: client.create_campaign(foreign))
    bed.call(lambda client: client.create_campaign(unmarked))

    stopped = bed.stop_all()
    assert stopped.code == 0, stopped.err
    assert "Stopped 5 of 5 campaign(s)." in stopped.out
    assert bed.live() == {}
    theirs = {c["name"]: c["status"] for c in bed.campaigns() if not _ours(c["name"])}
    assert theirs == {foreign["name"]: "pending", unmarked["name"]: "pending"}

    planned = bed.plan()
    assert planned.code == 0
    assert "No changes to make; 5 warning(s) above need a look." in planned.out
    for key in KEYS:
        assert re.search(rf"! {re.escape(key)}: stopped by `ctflow stop --all`", planned.out)
    assert bed.apply().code == 0
    assert bed.live() == {}


def test_apply_asks_before_changing_anything(bed: Bed) -> None:
    no_terminal = bed.apply(auto_approve=False)
    assert no_terminal.code == 6
    assert "--auto-approve" in no_terminal.err
    questions: list[str] = []

    def say_no(question: str) -> bool:
        questions.append(question)
        return False

    declined = bed.apply(auto_approve=False, confirm=say_no)
    assert declined.code == 1
    assert "nothing was changed" in declined.err
    assert questions == [
        "Apply these changes to environment 'sandbox'? Only 'yes' will be accepted"
    ]
    assert bed.campaigns() == []
    assert bed.apply(auto_approve=False, confirm=lambda _question: True).code == 0
    one_each(bed)


def test_the_kill_switch_asks_too_unless_told_not_to(bed: Bed) -> None:
    assert bed.apply().code == 0
    no_terminal = bed.stop_all(auto_approve=False)
    assert no_terminal.code == 6
    assert "run `ctflow stop --all --auto-approve`" in no_terminal.err
    questions: list[str] = []

    def say_no(question: str) -> bool:
        questions.append(question)
        return False

    declined = bed.stop_all(auto_approve=False, confirm=say_no)
    assert declined.code == 1
    assert declined.out.endswith("Cancelled; nothing was stopped.\n")
    assert questions == ["Stop these 5 campaign(s)? Only 'yes' will be accepted"]
    assert len(bed.live()) == 5
    with bed.journal() as journal:
        assert [run["outcome"] for run in journal.runs(2)] == ["cancelled", "gated"]
    assert bed.stop_all(auto_approve=False, confirm=lambda _question: True).code == 0
    assert bed.live() == {}


def test_the_journal_records_runs_steps_and_specs_and_never_the_passcode(
    bed: Bed, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    printed = bed.plan(out_file=saved)
    applied = bed.apply()
    assert applied.code == 0
    live = one_each(bed)

    with bed.journal() as journal:
        [run] = journal.runs()
        assert run["kind"] == "apply"
        assert run["outcome"] == "ok"
        assert (run["user"], run["host"], run["environment"]) == ("tester", "ci-1", "sandbox")
        assert run["finished_at"] is not None
        assert run["summary"]["created"] == 5
        steps = journal.steps(run["id"])
        assert {(s["key"], s["action"], s["outcome"], s["campaign_id"]) for s in steps} == {
            (key, "create", "done", campaign["id"]) for key, campaign in live.items()
        }
        spec = journal.spec("sandbox", "winback", live["winback"]["hash"])
        assert spec is not None
        assert spec["content"]["title"] == "Come back"

    written = b"".join(p.read_bytes() for p in (tmp_path / ".ctflow").glob("journal.db*"))
    for text in (printed.out, printed.err, applied.out, applied.err, saved.read_text()):
        assert DEFAULT_PASSCODE not in text
    assert DEFAULT_PASSCODE.encode() not in written
    assert b"winback" in written, "the journal files hold what was applied"


HOLD_LOCK = """\
import sys
from pathlib import Path
from ctflow.journal import Holder, Journal, SqliteJournal

with SqliteJournal.open(Path(sys.argv[1])) as journal, journal.lock(
    Holder(pid=4242, user="ana", host="ci-7", command="ctflow apply", started_at="2026-11-20"),
    project="shop",
    environment="sandbox",
):
    print("locked", flush=True)
    sys.stdin.read()
"""


@contextmanager
def lock_held_elsewhere(bed: Bed) -> Iterator[None]:
    """The journal's lock held by another process (flock is per open file) until the block
    ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(bed.journal_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.communicate(timeout=10)


def test_a_second_apply_is_refused_while_another_holds_the_journal(bed: Bed) -> None:
    with lock_held_elsewhere(bed):
        refused = bed.apply()
    assert refused.code == 7
    assert "locked by another run: pid 4242 (ana@ci-7), `ctflow apply`" in refused.err
    assert bed.campaigns() == []
    assert bed.apply().code == 0, "the lock is released with its holder"


def test_creates_stay_under_the_accounts_ceiling(tmp_path: Path) -> None:
    sb = sandbox(fast=False)  # the sandbox's own 3 in flight and 3 creates a second
    statuses = Statuses(sb)
    try:
        bed = Bed(write_project(tmp_path), sb, limits=Limits(), statuses=statuses)
        assert bed.apply().code == 0
        one_each(bed)
    finally:
        sb.close()
    assert statuses.of("create") == [200] * 5
    assert all(status == 200 for _family, status in statuses.seen), statuses.seen


def test_a_hand_edited_saved_plan_is_refused(bed: Bed, tmp_path: Path) -> None:
    """The marker would hide the edit from every later plan, so the body must match its hash."""
    import json

    saved = tmp_path / "plan.json"
    assert bed.plan(out_file=saved).code == 0
    doc = json.loads(saved.read_text())
    promo = next(c for c in doc["changes"] if c["key"] == "promo")
    promo["payload"]["content"]["subject"] = "TAMPERED"
    saved.write_text(json.dumps(doc))

    refused = bed.apply(plan_file=saved)
    assert refused.code == 3
    assert "create body for 'promo' does not match its version hash" in refused.err
    assert bed.campaigns() == []


def test_the_kill_switch_works_while_an_apply_holds_the_journal(bed: Bed) -> None:
    assert bed.apply().code == 0
    with lock_held_elsewhere(bed):
        stopped = bed.stop_all()
    assert stopped.code == 0, stopped.err
    assert "pid 4242 (ana@ci-7)" in stopped.err
    assert "Stopping anyway" in stopped.err
    assert bed.live() == {}


def test_secret_looking_variables_are_masked_in_plans_and_the_journal(bed: Bed) -> None:
    bed.write(
        {
            "ctflow.yaml": "project: shop\ntimezone: Europe/Berlin\n"
            "variables: {api_token: sk_live_SECRET999}\n",
            "campaigns/promo.yaml": PROMO_WITH_TOKEN,
        }
    )
    planned = bed.plan()
    assert planned.code == 0, planned.err
    assert "sk_live_SECRET999" not in planned.out
    assert "Token ***" in planned.out
    assert bed.apply().code == 0
    (live,) = [c for c in bed.campaigns() if "promo" in c["name"]]
    assert live["payload"]["webhook_key_value"]["subject"] == "Token sk_live_SECRET999"
    journal_bytes = b"".join(p.read_bytes() for p in bed.journal_path.parent.glob("journal.db*"))
    assert b"hunter2" not in journal_bytes, "a sensitive field's value is masked in the journal"


PROMO_WITH_TOKEN = """\
kind: Campaign
key: promo
name: Winter promo
channel: webhook
audience:
  did:
    - {event: Charged, in_last: 30d}
content:
  endpoint: orders
  key_values: {password: hunter2, subject: "Token [[ vars.api_token ]]"}
schedule: {at: "2027-02-01 09:00"}
"""
