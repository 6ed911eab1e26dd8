"""The pure planner: one case per row of DESIGN.md's plan-semantics table and per gate, then a
property test that a plan, once applied, leaves nothing more to do.

Each case reads as desired campaigns, live campaigns and one assertion. A campaign's version is
the digest of its spec, so ``want("winback", "New")`` and ``live(1, "winback", "running", "Old")``
are two versions of one key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace as with_
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctflow.clevertap import CampaignSummary
from ctflow.plan import marker
from ctflow.plan.desired import Desired
from ctflow.plan.live import LiveState, from_summaries
from ctflow.plan.model import Action, Change, FieldChange, LiveRef, NoteKind, Plan, Status
from ctflow.plan.planner import Context, make_plan

PROJECT = "shop"
WINDOW = (date(2025, 1, 1), date(2028, 1, 1))
TITLE = "Hello"


def spec(key: str, title: str = TITLE) -> dict[str, Any]:
    return {"name": f"Campaign {key}", "content": {"title": title}}


def version(key: str, title: str = TITLE) -> str:
    return marker.digest(spec(key, title))


def want(key: str, title: str = TITLE, *, enabled: bool = True) -> Desired:
    body = spec(key, title)
    journey, dot, _ = key.rpartition(".")
    return Desired(
        key=key,
        journey=journey if dot else None,
        name=body["name"],
        enabled=enabled,
        hash=version(key, title),
        spec=body,
        payload={**body, "name": marker.mark(body["name"], PROJECT, key, version(key, title))},
    )


def live(id: int, key: str, status: str, title: str = TITLE) -> LiveRef:
    name = marker.mark(f"Campaign {key}", PROJECT, key, version(key, title))
    return LiveRef(id, name, Status(status), version(key, title))


def state(*refs: LiveRef) -> LiveState:
    by_key: dict[str, tuple[LiveRef, ...]] = {}
    for ref in sorted(refs, key=lambda r: r.id):
        found = marker.parse(ref.name)
        assert found is not None
        by_key[found.key] = (*by_key.get(found.key, ()), ref)
    return LiveState(window=WINDOW, by_key=by_key)


def plan(desired: Iterable[Desired], live_state: LiveState, **ctx: Any) -> Plan:
    context = Context(
        project=PROJECT,
        environment="production",
        sandbox=False,
        created_at="2026-11-22T10:00:00+00:00",
        specs=ctx.pop("specs", {}),
        **ctx,
    )
    return make_plan(list(desired), live_state, context)


def only(made: Plan) -> Change:
    assert len(made.changes) == 1, made.changes
    assert made.notes == ()
    assert made.unchanged == ()
    return made.changes[0]


# --- one case per row -------------------------------------------------------------------------


def test_nothing_live_creates_with_every_field_new() -> None:
    made = plan([want("winback")], state())

    change = only(made)
    assert (change.action, change.key, change.reason) == (Action.CREATE, "winback", "not live yet")
    assert change.hash == version("winback")
    assert change.payload is not None
    assert change.payload["name"] == f"Campaign winback [ctflow:shop/winback@{change.hash}]"
    assert change.fields == (
        FieldChange("content.title", None, TITLE),
        FieldChange("name", None, "Campaign winback"),
    )
    assert not change.before_known
    assert change.forces == ()
    assert change.stop == ()
    assert not change.gated
    assert made.window == ("2025-01-01", "2028-01-01")
    assert made.fingerprint == state().fingerprint


@pytest.mark.parametrize("status", ["pending", "running"])
def test_same_version_live_is_no_change(status: str) -> None:
    made = plan([want("winback")], state(live(7, "winback", status)))

    assert made.changes == ()
    assert made.notes == ()
    assert made.unchanged == ("winback",)
    assert made.summary() == "No changes. The live campaigns match the declarations."


def test_pending_other_version_is_replaced_without_a_gate() -> None:
    old = live(7, "winback", "pending", "Old")
    made = plan([want("winback", "New")], state(old))

    change = only(made)
    assert change.action is Action.REPLACE
    assert change.symbol == "-/+"
    assert change.stop == (old,)
    assert not change.gated
    assert change.hash == version("winback", "New")
    assert change.reason == (
        f"changed since the live version ({old.hash} → {version('winback', 'New')})"
    )


def test_replace_shows_the_changed_fields_when_the_old_spec_is_in_the_journal() -> None:
    old = live(7, "winback", "pending", "Old")
    specs = {("winback", old.hash): spec("winback", "Old")}
    change = only(plan([want("winback", "New")], state(old), specs=specs))

    assert change.before_known
    assert change.fields == (FieldChange("content.title", "Old", "New"),)
    assert change.forces == ("content.title",)


def test_replace_without_the_old_spec_lists_the_new_values_only() -> None:
    old = live(7, "winback", "pending", "Old")
    specs = {("winback", "0badc0de"): spec("winback", "Older")}  # another version's spec
    change = only(plan([want("winback", "New")], state(old), specs=specs))

    assert not change.before_known
    assert change.forces == ()
    assert [f.path for f in change.fields] == ["content.title", "name"]
    assert all(f.before is None for f in change.fields)


def test_running_other_version_is_replaced_behind_the_gate() -> None:
    old = live(7, "winback", "running", "Old")
    change = only(plan([want("winback", "New")], state(old)))

    assert change.action is Action.REPLACE
    assert change.stop == (old,)
    assert change.gated


def test_completed_other_version_is_a_warning_to_use_a_new_key() -> None:
    sent = live(7, "winback", "completed", "Old")
    made = plan([want("winback", "New")], state(sent))

    assert made.changes == ()
    assert made.unchanged == ()
    (note,) = made.notes
    assert (note.kind, note.key, note.live) == (NoteKind.ALREADY_SENT, "winback", (sent,))
    assert "already sent (campaign 7" in note.message
    assert "new key" in note.message
    assert "--replace winback" in note.message


def test_completed_same_version_is_no_change() -> None:
    made = plan([want("winback")], state(live(7, "winback", "completed")))

    assert made.changes == ()
    assert made.notes == ()
    assert made.unchanged == ("winback",)


@pytest.mark.parametrize("title", [TITLE, "Old"], ids=["same-version", "other-version"])
def test_stopped_outside_ctflow_is_drift_not_an_action(title: str) -> None:
    stopped = live(7, "winback", "stopped", title)
    made = plan([want("winback")], state(stopped))

    assert made.changes == ()
    assert made.unchanged == ()
    (note,) = made.notes
    assert (note.kind, note.key, note.live) == (NoteKind.DRIFT, "winback", (stopped,))
    assert note.message == (
        "stopped outside ctflow (campaign 7); `--replace winback` creates it again"
    )


def test_stopped_by_the_kill_switch_says_so_and_stays_stopped() -> None:
    made = plan([want("winback")], state(live(7, "winback", "stopped")), killed={7})

    assert made.changes == ()
    (note,) = made.notes
    assert note.kind is NoteKind.DRIFT
    assert note.message.startswith("stopped by `ctflow stop --all` (campaign 7)")


@pytest.mark.parametrize("title", [TITLE, "Old"], ids=["re-enabled", "resumed-replace"])
def test_stopped_by_an_apply_is_created_again(title: str) -> None:
    stopped = live(7, "winback", "stopped", title)
    specs = {("winback", stopped.hash): spec("winback", title)}
    change = only(plan([want("winback")], state(stopped), stopped_by_us={7}, specs=specs))

    assert change.action is Action.CREATE
    assert change.stop == ()
    assert not change.gated
    assert change.reason == "ctflow stopped the live version (7) earlier; creating it again"
    assert change.before_known
    expected = () if title == TITLE else (FieldChange("content.title", "Old", TITLE),)
    assert change.fields == expected


def test_stopped_by_an_apply_before_a_later_send_is_not_created_again() -> None:
    refs = state(live(7, "winback", "stopped", "Old"), live(8, "winback", "completed", "Older"))
    made = plan([want("winback")], refs, stopped_by_us={7})

    assert made.changes == ()
    assert [n.kind for n in made.notes] == [NoteKind.ALREADY_SENT]


@pytest.mark.parametrize(("status", "gated"), [("pending", False), ("running", True)])
def test_removed_from_the_declarations_is_stopped(status: str, gated: bool) -> None:
    ref = live(7, "winback", status)
    change = only(plan([], state(ref)))

    assert change.action is Action.STOP
    assert change.symbol == "-"
    assert change.reason == "removed from the declarations"
    assert change.name == "Campaign winback"  # the live name without its marker
    assert change.stop == (ref,)
    assert change.gated is gated
    assert not hasattr(change, "payload")
    assert not hasattr(change, "hash")


def test_removed_stops_every_active_copy_and_leaves_the_rest() -> None:
    refs = [
        live(5, "winback", "completed", "Old"),
        live(6, "winback", "pending"),
        live(7, "winback", "stopped"),
        live(8, "winback", "running", "New"),
    ]
    change = only(plan([], state(*refs)))

    assert [r.id for r in change.stop] == [6, 8]
    assert change.gated


@pytest.mark.parametrize(("status", "gated"), [("pending", False), ("running", True)])
def test_disabled_is_stopped(status: str, gated: bool) -> None:
    ref = live(7, "winback", status)
    change = only(plan([want("winback", enabled=False)], state(ref)))

    assert change.action is Action.STOP
    assert change.reason == "disabled (enabled: false)"
    assert change.stop == (ref,)
    assert change.gated is gated


@pytest.mark.parametrize("desired", [[], [want("winback", enabled=False)]], ids=["gone", "off"])
def test_removed_or_disabled_with_nothing_active_is_not_mentioned(desired: list[Desired]) -> None:
    refs = state(live(7, "winback", "completed"), live(8, "winback", "stopped", "Old"))
    made = plan(desired, refs)

    assert made.changes == ()
    assert made.notes == ()
    assert made.unchanged == ()


@pytest.mark.parametrize("status", ["pending", "running"])
def test_duplicate_copies_are_repaired_keeping_the_oldest(status: str) -> None:
    copies = [live(7, "winback", status), live(9, "winback", status), live(8, "winback", status)]
    change = only(plan([want("winback")], state(*copies)))

    assert change.action is Action.REPAIR
    assert change.symbol == "~"
    assert change.keep == copies[0]
    assert [r.id for r in change.stop] == [8, 9]
    assert not change.gated  # a copy of the declared version: stopping it loses nothing
    assert change.reason.startswith("3 live copies of this version under one key")
    assert not hasattr(change, "payload")  # a repair creates nothing


def test_a_repair_keeps_the_copy_already_sending() -> None:
    """Stopping the running copy would cut its send in half; the pending one never started."""
    pending, running = live(7, "winback", "pending"), live(8, "winback", "running")
    change = only(plan([want("winback")], state(pending, running)))

    assert change.keep == running
    assert change.stop == (pending,)
    assert not change.gated


def test_old_version_running_beside_the_current_one_is_repaired_behind_the_gate() -> None:
    old = live(7, "winback", "running", "Old")
    current = live(8, "winback", "pending")
    change = only(plan([want("winback")], state(old, current)))

    assert change.action is Action.REPAIR
    assert change.keep == current
    assert change.stop == (old,)
    assert change.gated
    assert change.reason.startswith("2 live versions under one key")


@pytest.mark.parametrize(("status", "gated"), [("pending", False), ("running", True)])
def test_replace_flag_recreates_the_same_version(status: str, gated: bool) -> None:
    ref = live(7, "winback", status)
    specs = {("winback", ref.hash): spec("winback")}
    change = only(plan([want("winback")], state(ref), replace={"winback"}, specs=specs))

    assert change.action is Action.REPLACE
    assert change.stop == (ref,)
    assert change.gated is gated
    assert change.reason == "--replace winback: stops what is live and creates it again"
    assert change.before_known
    assert change.fields == ()
    assert change.forces == ()


@pytest.mark.parametrize("status", ["completed", "stopped"])
def test_replace_flag_creates_what_was_sent_or_stopped(status: str) -> None:
    ref = live(7, "winback", status)
    change = only(plan([want("winback")], state(ref), replace={"winback"}))

    assert change.action is Action.CREATE
    assert change.stop == ()
    assert not change.gated
    assert change.reason == "--replace winback: creates it again"


def test_replace_flag_on_another_key_changes_nothing_here() -> None:
    made = plan([want("winback")], state(live(7, "winback", "stopped")), replace={"promo"})

    assert made.changes == ()
    assert [n.kind for n in made.notes] == [NoteKind.DRIFT]


JOURNEYS = [want(k) for k in ("winback", "onboarding.welcome", "onboarding.day2", "onboarding2.x")]


@pytest.mark.parametrize(
    ("targets", "keys"),
    [
        (("winback",), ["winback"]),
        (("onboarding",), ["onboarding.day2", "onboarding.welcome"]),
        (("onboarding.day2",), ["onboarding.day2"]),
        (("winback", "onboarding2"), ["winback", "onboarding2.x"]),
        ((), ["winback", "onboarding.day2", "onboarding.welcome", "onboarding2.x"]),
    ],
)
def test_targets_pick_a_campaign_or_a_whole_journey(
    targets: tuple[str, ...], keys: list[str]
) -> None:
    made = plan(JOURNEYS, state(), targets=targets)

    assert [c.key for c in made.changes] == keys
    assert made.targets == targets


def test_targets_also_limit_stops_and_unchanged_keys() -> None:
    refs = state(live(1, "winback", "running"), live(2, "onboarding.welcome", "pending"))
    made = plan([want("onboarding.welcome")], refs, targets=("onboarding",))

    assert made.changes == ()
    assert made.unchanged == ("onboarding.welcome",)


def _summary(id: int, name: str, status: str = "running") -> CampaignSummary:
    return CampaignSummary(id=id, name=name, status=status, scheduled_on=None, labels=())


def test_campaigns_of_another_project_are_never_touched() -> None:
    ours = marker.mark("Campaign winback", PROJECT, "winback", version("winback"))
    summaries = [
        _summary(1, marker.mark("Campaign winback", "blog", "winback", version("winback", "X"))),
        _summary(2, "Campaign winback"),  # made in the dashboard: no marker
        _summary(3, "Campaign winback [ctflow:shop/winback]"),  # not our marker's shape
        _summary(4, ours, "pending"),
    ]
    live_state = from_summaries(summaries, PROJECT, WINDOW)

    assert live_state.others == 3
    kept = plan([want("winback")], live_state)
    assert kept.changes == ()
    assert kept.unchanged == ("winback",)
    removed = only(plan([], live_state))
    assert [r.id for r in removed.stop] == [4]


def test_summary_counts_repairs_as_stops() -> None:
    refs = state(
        live(1, "promo", "pending", "Old"),
        live(2, "dup", "pending"),
        live(3, "dup", "pending"),
        live(4, "gone", "running"),
    )
    made = plan([want("new"), want("promo"), want("dup")], refs)

    assert {c.key: c.action for c in made.changes} == {
        "dup": Action.REPAIR,
        "gone": Action.STOP,
        "new": Action.CREATE,
        "promo": Action.REPLACE,
    }
    assert made.summary() == "Plan: 1 to create, 1 to replace, 2 to stop."
    assert [c.key for c in made.gated] == ["gone"]


def test_the_empty_plan_says_there_is_nothing_to_do() -> None:
    made = plan([], state())

    assert not made.has_changes
    assert made.summary() == "No changes. The live campaigns match the declarations."


def test_campaigns_outside_journeys_come_first_and_a_journeys_steps_stay_together() -> None:
    desired = [want(k) for k in ("on.b", "zeta", "on-b.y", "on.a", "alpha")]
    made = plan(desired, state(live(1, "on.c", "pending")))

    assert [c.key for c in made.changes] == ["alpha", "zeta", "on.a", "on.b", "on.c", "on-b.y"]
    assert [c.journey for c in made.changes] == [None, None, "on", "on", "on", "on-b"]


# --- property: a plan, applied, converges ------------------------------------------------------

KEYS = ("winback", "onboarding.welcome", "onboarding.day2")
TITLES = ("A", "B")
OWNERS = (PROJECT, PROJECT, PROJECT, "blog", None)  # None: a campaign made in the dashboard

campaign = st.fixed_dictionaries(
    {
        "owner": st.sampled_from(OWNERS),
        "key": st.sampled_from(KEYS),
        "status": st.sampled_from([s.value for s in Status]),
        "title": st.sampled_from(TITLES),
        "stopped_by_us": st.booleans(),
        "killed": st.booleans(),
    }
)
declared = st.fixed_dictionaries(
    {
        "state": st.sampled_from(["present", "absent", "disabled"]),
        "title": st.sampled_from(TITLES),
        "replace": st.booleans(),
        "journal": st.booleans(),
    }
)


def _listing(campaigns: list[dict[str, Any]]) -> list[CampaignSummary]:
    out = []
    for id, c in enumerate(campaigns, start=1):
        name = f"Campaign {c['key']}"
        if c["owner"] is not None:
            name = marker.mark(name, c["owner"], c["key"], version(c["key"], c["title"]))
        out.append(_summary(id, name, c["status"]))
    return out


def _applied(listing: list[CampaignSummary], made: Plan) -> list[CampaignSummary]:
    """The account after an apply of ``made``: its stops stopped, its creates pending."""
    stopped = {r.id for c in made.changes for r in c.stop}
    after = [with_(s, status="stopped") if s.id in stopped else s for s in listing]
    next_id = max((s.id for s in listing), default=0) + 1
    for change in made.changes:
        if change.creates:
            assert change.payload is not None
            after.append(_summary(next_id, change.payload["name"], "pending"))
            next_id += 1
    return after


@settings(max_examples=200, derandomize=True)
@given(
    campaigns=st.lists(campaign, max_size=8),
    declarations=st.fixed_dictionaries({k: declared for k in KEYS}),
)
def test_a_plan_applied_converges_and_respects_ownership_and_gates(
    campaigns: list[dict[str, Any]], declarations: dict[str, dict[str, Any]]
) -> None:
    listing = _listing(campaigns)
    ours = {s.id for s, c in zip(listing, campaigns, strict=True) if c["owner"] == PROJECT}
    stopped = [(s.id, c) for s, c in zip(listing, campaigns, strict=True) if s.status == "stopped"]
    by_us = {id for id, c in stopped if c["stopped_by_us"]}
    killed = {id for id, c in stopped if c["killed"] and not c["stopped_by_us"]}
    desired = [
        want(key, d["title"], enabled=d["state"] == "present")
        for key, d in declarations.items()
        if d["state"] != "absent"
    ]
    specs = {
        (key, version(key, title)): spec(key, title)
        for key, d in declarations.items()
        if d["journal"]
        for title in TITLES
    }
    replace = {key for key, d in declarations.items() if d["replace"]}
    live_state = from_summaries(listing, PROJECT, WINDOW)
    wanted = {d.key: d for d in desired}

    made = plan(
        desired, live_state, specs=specs, stopped_by_us=by_us, killed=killed, replace=replace
    )

    keys = [c.key for c in made.changes]
    assert len(keys) == len(set(keys)), "one change per key, so at most one create"
    for change in made.changes:
        assert {r.id for r in change.stop} <= ours, "stops only our own campaigns"
        assert all(r.status in (Status.PENDING, Status.RUNNING) for r in change.stop)
        if change.creates:
            assert change.key in wanted
            assert wanted[change.key].enabled
        for ref in change.stop:
            duplicate = change.action is Action.REPAIR and ref.hash == wanted[change.key].hash
            if ref.status is Status.RUNNING and not duplicate:
                assert change.gated, f"{change.key}: stops running {ref.id} ungated"

    stopped_now = {r.id for c in made.changes for r in c.stop}
    after = from_summaries(_applied(listing, made), PROJECT, WINDOW)
    again = plan(desired, after, specs=specs, stopped_by_us=by_us | stopped_now, killed=killed)

    assert again.changes == (), [(c.action, c.key, c.reason) for c in again.changes]


# --- schedules that have passed, journeys under --replace, resends -----------------------------

PAST = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [None, "pending", "running"])
def test_a_schedule_that_has_passed_touches_nothing_and_says_why(status: str | None) -> None:
    """CleverTap refuses a past start: stopping the live version first would leave nothing."""
    late = with_(want("launch", "New"), starts_at=PAST)
    refs = [live(7, "launch", status, "Old")] if status else []
    made = plan([late], state(*refs))

    assert made.changes == ()
    (note,) = made.notes
    assert note.kind is NoteKind.PAST_SCHEDULE
    assert "2026-11-01 10:00" in note.message
    assert "which has passed" in note.message


def test_a_sent_campaign_keeps_its_past_date_quietly() -> None:
    sent = with_(want("launch"), starts_at=PAST)
    made = plan([sent], state(live(7, "launch", "completed")))
    assert made.unchanged == ("launch",)
    assert made.notes == ()


def test_replace_with_a_journey_key_replaces_every_step() -> None:
    steps = [want("onboarding.welcome"), want("onboarding.day2")]
    refs = state(live(7, "onboarding.welcome", "stopped"), live(8, "onboarding.day2", "pending"))
    made = plan(steps, refs, replace=frozenset({"onboarding"}))

    assert {(c.key, c.action) for c in made.changes} == {
        ("onboarding.welcome", Action.CREATE),
        ("onboarding.day2", Action.REPLACE),
    }


def test_replacing_a_send_now_campaign_warns_that_it_sends_again() -> None:
    now = with_(want("flash", "New"), payload={**want("flash", "New").payload, "when": "now"})
    change = only(plan([now], state(live(7, "flash", "running", "Old"))))

    assert change.action is Action.REPLACE
    assert change.gated
    assert "sends right away, to its whole audience again" in change.reason
