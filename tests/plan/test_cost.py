"""The cost of a plan: the calls applying it makes, by kind, and how long they take at the
account's limits, as the plan states it (text, Markdown, JSON) and as apply then makes them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ctflow.clevertap import Limits
from ctflow.clevertap.checks import MAX_SEGMENT_PROFILES
from ctflow.clevertap.limits import WINDOW_SECONDS
from ctflow.plan.audience_apply import BATCH, batches
from ctflow.plan.cost import CALLS, PHASES, Pace, duration, plan_cost
from ctflow.plan.model import (
    Action,
    AudienceUpdate,
    Create,
    DatasetFile,
    Repair,
    Replace,
    Stop,
    Upload,
)
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from ctflow.sandbox import Sandbox
from tests.plan.support import DATASET, Bed, Statuses, charges, push, write_project
from tests.plan.test_render import make_plan, ref


def create(key: str) -> Create:
    return Create(key=key, name=key, reason="not live yet", hash="1a2b3c4d")


def upload(rows: int, *, accepted: int = 0) -> Upload:
    batches = math.ceil(rows / 1000)
    dataset = DatasetFile("data/c.jsonl", "events", rows, batches, accepted_batches=accepted)
    return Upload(key="c", name="data/c.jsonl", reason="new", hash="events:1", dataset=dataset)


REPLACE = Replace(
    key="r",
    name="r",
    reason="changed",
    hash="9f00aa11",
    stop=(ref(1, "pending"), ref(2, "pending")),
)
STOP = Stop(key="s", name="s", reason="removed", stop=(ref(3, "running"),), gated=True)
REPAIR = Repair(
    key="p", name="p", reason="copies", keep=ref(4, "running"), stop=(ref(5, "pending"),)
)


@pytest.mark.parametrize(
    ("changes", "calls"),
    [
        ((create("a"),), {"upload": 0, "stop": 0, "create": 1}),
        ((REPLACE,), {"upload": 0, "stop": 2, "create": 1}),
        ((STOP, REPAIR), {"upload": 0, "stop": 2, "create": 0}),
        ((upload(2500),), {"upload": 3, "stop": 0, "create": 0}),
        ((upload(2500, accepted=2),), {"upload": 1, "stop": 0, "create": 0}),
        ((upload(2500), REPLACE, *(create(f"c{i}") for i in range(400))), {
            "upload": 3, "stop": 2, "create": 401}),
    ],
)  # fmt: skip
def test_each_kind_of_change_counts_its_calls(changes: tuple, calls: dict[str, int]) -> None:
    cost = plan_cost(changes)
    assert dict(cost.calls) == calls
    assert cost.total == sum(calls.values())


def audience(
    *, new: bool, add: int, remove: int = 0, guids: int = 0, source: str = ""
) -> AudienceUpdate:
    members = [f"identity:u-{i}" for i in range(add)] + [f"guid:g-{i}" for i in range(guids)]
    return AudienceUpdate(
        key="vip",
        name="VIP",
        reason="members changed",
        hash="5e6f7a8b",
        segment="ctflow.shop.vip",
        new_segment=new,
        members=add + guids,
        add=tuple(members),
        remove=tuple(f"identity:r-{i}" for i in range(remove)),
        **({"source": source, "notify": "ana@example.com"} if source else {}),
    )


@pytest.mark.parametrize(
    ("change", "calls", "words"),
    [
        (audience(new=True, add=150, guids=10), {"segment": 1, "members": 3},
         "(1 segment create, 3 membership batches)"),
        (audience(new=False, add=12, remove=10), {"members": 1}, "(1 membership batch)"),
        (audience(new=False, add=0, remove=100), {"members": 1}, "(1 membership batch)"),
        (audience(new=False, add=60, remove=41), {"members": 2}, "(2 membership batches)"),
        (audience(new=True, add=3, source="custom_list"), {"custom_list": 3},
         "(3 custom-list calls)"),
    ],
)  # fmt: skip
def test_an_audience_costs_its_segment_create_and_membership_batches(
    change: AudienceUpdate, calls: dict[str, int], words: str
) -> None:
    cost = plan_cost([change, create("a")])
    assert dict(cost.calls) == {"upload": 0, **calls, "stop": 0, "create": 1}
    assert words.replace(")", ", 1 create)") in cost.text()
    if not change.custom_list:
        assert calls["members"] == len(list(batches(change.add, change.remove)))
    # Apply sends them one after another, after the uploads and before the stops and creates.
    assert cost.seconds == pytest.approx(sum(calls.values()) * 0.3 + 0.3)
    assert BATCH == MAX_SEGMENT_PROFILES, "the batches apply sends are the client's limit"


def test_every_action_says_what_it_calls() -> None:
    """A new kind of change (an audience update) must say what it costs."""
    assert set(CALLS) == set(Action)
    assert set(PHASES) >= {"upload", "stop", "create"}


def test_the_pace_is_the_clients() -> None:
    limits = Limits()
    pace = Pace()
    assert (pace.uploads_in_flight, pace.calls_in_flight) == (limits.upload, limits.other)
    assert pace.creates_per_second == limits.create_per_second
    assert pace.rate_window == WINDOW_SECONDS


def test_the_time_grows_with_every_create_batch_and_upload() -> None:
    creates = [plan_cost([create(str(i)) for i in range(n)]).seconds for n in range(200)]
    assert creates == sorted(creates)
    assert creates[0] == 0
    assert creates[1] == pytest.approx(0.3)
    # 3 a second (in windows of 1.1 s) is what holds 400 creates back, not the 3 in flight
    assert plan_cost([create(str(i)) for i in range(400)]).seconds == pytest.approx(133 * 1.1 + 0.3)
    uploads = [plan_cost([upload(rows)]).seconds for rows in range(0, 100_001, 1000)]
    assert uploads == sorted(uploads)
    assert plan_cost([upload(2_000_000)]).seconds == pytest.approx(math.ceil(2000 / 15) * 0.3)
    # the kinds run one after the other: their times add up
    both = plan_cost([upload(2_000_000), *(create(str(i)) for i in range(400))])
    assert both.seconds == pytest.approx(134 * 0.3 + 133 * 1.1 + 0.3)


def test_the_estimate_states_what_it_assumes() -> None:
    changes = [upload(2_000_000), REPLACE, *(create(str(i)) for i in range(400))]
    text = plan_cost(changes).text()
    assert text == (
        "Applying it makes 2,403 calls (2,000 upload batches, 2 stops, 401 creates): "
        "≈ 3 min 7 s at 3 creates a second, 3 calls in flight (15 for uploads), "
        "~300 ms a call."
    )
    slower = plan_cost(changes, Pace(round_trip=1.0)).text()
    assert "~1000 ms a call" in slower
    assert plan_cost(changes, Pace(round_trip=1.0)).seconds > plan_cost(changes).seconds


def test_a_plan_whose_uploads_were_all_delivered_says_it_makes_no_call() -> None:
    done = plan_cost([upload(2500, accepted=3)])
    assert done.total == 0
    assert done.text() == "Applying it makes no call to CleverTap."


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.4, "under a second"), (1.6, "2 s"), (130, "2 min 10 s"), (120, "2 min"),
     (3700, "1 h 1 min"), (7200, "2 h")],
)  # fmt: skip
def test_durations_read_as_people_say_them(seconds: float, words: str) -> None:
    assert duration(seconds) == words


def test_text_and_markdown_say_the_cost_and_a_plan_without_changes_does_not() -> None:
    plan = make_plan((REPLACE, create("a")))
    line = plan_cost(plan.changes).text()
    text = render_text(plan).splitlines()
    assert text[-3:] == [line, "", "Plan: 1 to create, 1 to replace, 0 to stop."]
    assert line in render_markdown(plan)
    assert "Applying it makes" not in render_text(make_plan())
    assert "Applying it makes" not in render_markdown(make_plan())


# --- end to end: the plan's count is what apply makes --------------------------------------


@pytest.mark.parametrize(("extra", "rows"), [(0, 1), (4, 2500)])
def test_the_plan_counts_the_calls_apply_then_makes(
    tmp_path: Path, sb: Sandbox, extra: int, rows: int
) -> None:
    files: dict[str, str | None] = {
        "datasets/charges.yaml": DATASET,
        "data/charges.jsonl": charges(rows),
    }
    files |= {f"campaigns/extra{i}.yaml": push(f"extra{i}") for i in range(extra)}
    statuses = Statuses(sb)
    bed = Bed(write_project(tmp_path, files), sb, statuses=statuses)

    planned = bed.plan(fmt="json")
    assert planned.code == 0, planned.err
    cost = json.loads(planned.out)["cost"]
    by_kind = {k["kind"]: k["calls"] for k in cost["by_kind"]}
    assert by_kind == {"upload": math.ceil(rows / 1000), "stop": 0, "create": 5 + extra}
    assert cost["calls"] == sum(by_kind.values())
    assert cost["assumptions"] == {
        "round_trip_seconds": 0.3,
        "uploads_in_flight": 15,
        "calls_in_flight": 3,
        "creates_per_second": 3,
    }
    assert cost["seconds"] == round(sum(k["seconds"] for k in cost["by_kind"]), 1)

    statuses.seen.clear()
    applied = bed.apply()
    assert applied.code == 0, applied.err
    made = [family for family, _status in statuses.seen]
    assert made.count("upload") == by_kind["upload"]
    assert made.count("create") == by_kind["create"]
    assert made.count("stop") == 0
