"""Journeys as timelines in the plan: each changed journey's steps in the order declared, with
offset, send time in the account's timezone, channel and state; in text, Markdown and JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ctflow.plan.desired import Desired
from ctflow.plan.model import Action, Plan, StepState, Timeline, TimelineStep
from ctflow.plan.render_json import from_dict, load, render_json, save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from tests.plan.support import JOURNEY, Bed
from tests.plan.test_planner import live, plan, state, want
from tests.plan.test_render import CREATE, REPLACE, assert_golden, make_plan

BERLIN = ZoneInfo("Europe/Berlin")
STEPS = [("welcome", "0d", 4), ("day2", "2d", 6), ("day5", "5d", 9)]


def step(key: str, after: str, day: int, index: int, **kw: object) -> Desired:
    at = datetime(2027, 1, day, 9, 0, tzinfo=BERLIN)
    made = want(f"j.{key}", **kw)  # type: ignore[arg-type]
    return dataclasses.replace(made, step=index, after=after, starts_at=at, channel="push")


def journey(**titles: str) -> list[Desired]:
    """The three steps, in the order declared; ``titles`` changes a step's version."""
    return [
        step(key, after, day, index, **({"title": titles[key]} if key in titles else {}))
        for index, (key, after, day) in enumerate(STEPS)
    ]


def states(made: Plan) -> list[tuple[str, str | None, str, str | None]]:
    (timeline,) = made.timelines
    return [(s.step, s.after, s.state.value, s.action and s.action.value) for s in timeline.steps]


# --- the planner --------------------------------------------------------------------------------


def test_a_changed_journey_is_its_steps_in_the_order_declared_with_each_state() -> None:
    live_state = state(
        live(1, "j.welcome", "completed"),
        live(2, "j.day2", "pending", "Old"),
        live(3, "j.day5", "pending"),
    )
    made = plan(journey(), live_state, timezone="Europe/Berlin")

    assert states(made) == [
        ("welcome", "0d", "sent", None),
        ("day2", "2d", "changed", "replace"),
        ("day5", "5d", "scheduled", None),
    ]
    (timeline,) = made.timelines
    assert timeline.journey == "j"
    assert timeline.timezone == "Europe/Berlin"
    assert [s.sends_at for s in timeline.steps] == [
        "2027-01-04T09:00:00+01:00",
        "2027-01-06T09:00:00+01:00",
        "2027-01-09T09:00:00+01:00",
    ]
    assert [c.key for c in made.changes] == ["j.day2"]


def test_the_plan_lists_a_journeys_changes_in_the_order_declared_not_by_name() -> None:
    made = plan(journey(), state())

    assert [c.key for c in made.changes] == ["j.welcome", "j.day2", "j.day5"]
    assert {s.state for s in made.timelines[0].steps} == {StepState.NEW}


def test_a_journey_without_changes_has_no_timeline() -> None:
    live_state = state(live(1, "j.welcome", "pending"), live(2, "j.day2", "running"))
    made = plan([*journey()[:2], want("loose", "Changed")], live_state)

    assert [c.key for c in made.changes] == ["loose"]
    assert made.timelines == ()


def test_stopped_disabled_sending_and_removed_steps_say_so() -> None:
    welcome, day2, day5 = journey()
    live_state = state(
        live(1, "j.welcome", "running"),
        live(2, "j.day2", "stopped"),
        live(3, "j.day9", "pending"),
    )
    made = plan([welcome, day2, dataclasses.replace(day5, enabled=False)], live_state)

    assert states(made) == [
        ("welcome", "0d", "sending", None),
        ("day2", "2d", "stopped", None),
        ("day5", "5d", "disabled", None),
        ("day9", None, "stopped", "stop"),
    ]


def test_a_target_leaves_the_other_steps_out_of_the_timeline() -> None:
    made = plan(journey(), state(), targets=("j.day2",))

    assert states(made) == [("day2", "2d", "new", "create")]


# --- the renderers ------------------------------------------------------------------------------

TIMELINE = Timeline(
    journey="onboarding-2027-01",
    timezone="Asia/Kolkata",
    steps=(
        TimelineStep(
            "onboarding-2027-01.welcome",
            "welcome",
            "0d",
            "2027-01-11T09:30:00+05:30",
            "push",
            StepState.NEW,
            Action.CREATE,
        ),
        TimelineStep(
            "onboarding-2027-01.day2",
            "day2",
            "2d",
            "2027-01-13T09:30:00+05:30",
            "email",
            StepState.CHANGED,
            Action.REPLACE,
        ),
        TimelineStep(
            "onboarding-2027-01.day7-sms",
            "day7-sms",
            "7d",
            "2027-01-18T09:30:00+05:30",
            "sms",
            StepState.SCHEDULED,
        ),
        TimelineStep(
            "onboarding-2027-01.day9",
            "day9",
            None,
            "2027-01-20T09:30:00+05:30",
            None,
            StepState.STOPPED,
            Action.STOP,
        ),
    ),
)
WITH_TIMELINE = dataclasses.replace(make_plan((CREATE, REPLACE)), timelines=(TIMELINE,))


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("timeline.txt", lambda: render_text(WITH_TIMELINE)),
        ("timeline.md", lambda: render_markdown(WITH_TIMELINE)),
        ("timeline.json", lambda: render_json(WITH_TIMELINE)),
    ],
)
def test_golden(name: str, render: object) -> None:
    assert_golden(name, render())  # type: ignore[operator]


def test_the_text_shows_the_timeline_above_the_journeys_changes() -> None:
    lines = render_text(WITH_TIMELINE).splitlines()
    start = lines.index("Journey onboarding-2027-01")
    assert lines[start + 1 : start + 6] == [
        "      step      after      sends (Asia/Kolkata)  channel  state",
        "    + welcome   0d         2027-01-11 09:30      push     new",
        "  -/+ day2      2d         2027-01-13 09:30      email    changed",
        "      day7-sms  7d         2027-01-18 09:30      sms      scheduled",
        "    - day9      (removed)  2027-01-20 09:30               stopped",
    ]
    assert lines[start + 7].startswith("  + create onboarding-2027-01.welcome")


def test_the_saved_and_printed_plans_keep_the_timeline() -> None:
    assert load(save(WITH_TIMELINE)).timelines == (TIMELINE,)
    printed = json.loads(render_json(WITH_TIMELINE))
    assert printed["timelines"][0]["steps"][1] == {
        "key": "onboarding-2027-01.day2",
        "step": "day2",
        "after": "2d",
        "sends_at": "2027-01-13T09:30:00+05:30",
        "channel": "email",
        "state": "changed",
        "action": "replace",
    }
    assert from_dict(printed).timelines == (TIMELINE,)


# --- end to end -----------------------------------------------------------------------------------


def test_a_step_moved_later_shows_as_the_journeys_timeline(bed: Bed) -> None:
    assert bed.apply().code == 0
    bed.write({"journeys/onboarding.yaml": JOURNEY.replace("after: 5d", "after: 6d")})

    text = bed.plan()
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    start = lines.index("Journey onboarding")
    assert lines[start + 1 : start + 5] == [
        "      step     after  sends (Europe/Berlin)  channel  state",
        "      welcome  0d     2027-01-04 09:00       push     scheduled",
        "      day2     2d     2027-01-06 09:00       push     scheduled",
        "  -/+ day5     6d     2027-01-10 09:00       sms      changed",
    ]
    printed = json.loads(bed.plan(fmt="json").out)
    (timeline,) = printed["timelines"]
    assert [(s["step"], s["state"]) for s in timeline["steps"]] == [
        ("welcome", "scheduled"),
        ("day2", "scheduled"),
        ("day5", "changed"),
    ]
    assert timeline["steps"][2]["sends_at"] == "2027-01-10T09:00:00+01:00"
    markdown = bed.plan(fmt="markdown").out
    assert "| `-/+` | day5 | 6d | 2027-01-10 09:00 | sms | changed |" in markdown
