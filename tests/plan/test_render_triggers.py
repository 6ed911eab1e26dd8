"""The triggers section of a plan (rendered messages compared with a base revision) in the
text, Markdown and JSON renderings of hand-built plans: golden files under tests/plan/golden/
(regenerate with CTFLOW_UPDATE_GOLDEN=1 and review them like code), and it being information
only: no effect on the counts, the summary or ``has_changes``."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ctflow.plan.model import Change, Create, FieldChange, Plan
from ctflow.plan.render_json import load, render_json, save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from ctflow.plan.triggerdiff import FixtureDiff, Status, TriggerChange, TriggerReport
from tests.plan.test_render import assert_golden

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile("\x1b\\[[0-9;]*m")
BASE = "origin/main"

SHIPPED_DIFF = (
    "--- order-shipped one-item (origin/main)",
    "+++ order-shipped one-item (working tree)",
    "@@ -1,4 +1,4 @@",
    " POST /1/send/email.json",
    ' to.Email: ["<recipient>"]',
    '-content.subject: "Your order SO-2026-004211 is on its way"',
    '+content.subject: "Your order SO-2026-004211 has shipped"',
    " content.body:",
)
OTP_DIFF = (
    "--- otp-sms login (origin/main)",
    "+++ otp-sms login (working tree)",
    "@@ -1,3 +1,3 @@",
    " POST /1/send/sms.json",
    ' to.Identity: ["<recipient>"]',
    '-content.body: "Your code is 482913. It expires in ``10`` minutes."',
    '+content.body: "482913 is your Shop code. It expires in 10 minutes. <Do not share it>"',
)
TRIGGERS = TriggerReport(
    BASE,
    (
        TriggerChange(
            "order-shipped",
            Status.CHANGED,
            (
                FixtureDiff("one-item", Status.CHANGED, SHIPPED_DIFF),
                FixtureDiff("gift-wrapped", Status.ADDED),
                FixtureDiff("legacy", Status.REMOVED),
            ),
            total=4,
        ),
        TriggerChange(
            "otp-sms", Status.CHANGED, (FixtureDiff("login", Status.CHANGED, OTP_DIFF),), 1
        ),
        TriggerChange("welcome-sms", Status.ADDED, total=2),
        TriggerChange("payment-reminder", Status.REMOVED, total=1),
    ),
    unchanged=("payment-failed",),
)
CREATE = Create(
    key="promo",
    name="Winter promo",
    reason="not live yet",
    hash="1a2b3c4d",
    fields=(FieldChange("content.title", None, "Winter sale"),),
)


def make_plan(changes: tuple[Change, ...] = (), triggers: TriggerReport | None = TRIGGERS) -> Plan:
    return Plan(
        project="shop",
        environment="sandbox",
        sandbox=True,
        created_at="2026-11-22T10:00:00+00:00",
        window=("2025-11-22", "2028-11-21"),
        fingerprint="sha256:5be0c1f2",
        changes=changes,
        ctflow_version="0.1.0",
        triggers=triggers,
    )


WITH_CREATE = make_plan((CREATE,))
ONLY_TRIGGERS = make_plan()


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("triggers.txt", lambda: render_text(WITH_CREATE)),
        ("triggers.md", lambda: render_markdown(WITH_CREATE)),
        ("triggers.json", lambda: render_json(ONLY_TRIGGERS)),
        ("triggers-only.txt", lambda: render_text(ONLY_TRIGGERS)),
    ],
)
def test_golden(name: str, render: Callable[[], str]) -> None:
    assert_golden(name, render())


def test_trigger_changes_are_not_changes_of_the_plan() -> None:
    assert not ONLY_TRIGGERS.has_changes
    assert ONLY_TRIGGERS.counts() == {"create": 0, "replace": 0, "stop": 0, "upload": 0}
    assert ONLY_TRIGGERS.summary() == "No changes. The live campaigns match the declarations."
    assert WITH_CREATE.summary() == "Plan: 1 to create, 0 to replace, 0 to stop."
    assert render_text(ONLY_TRIGGERS).splitlines()[-1] == ONLY_TRIGGERS.summary()


@pytest.mark.parametrize(
    "triggers", [None, TriggerReport(BASE, (), ("order-shipped",))], ids=["none", "unchanged"]
)
def test_no_section_without_trigger_changes(triggers: TriggerReport | None) -> None:
    plan = make_plan((CREATE,), triggers)
    assert "Triggers" not in render_text(plan)
    assert "Triggers" not in render_markdown(plan)


def test_colour_marks_the_diff_lines_and_nothing_else() -> None:
    coloured = render_text(WITH_CREATE, color=True)
    assert "\x1b[33m~\x1b[0m trigger order-shipped" in coloured
    assert '\x1b[32m+content.subject: "Your order SO-2026-004211 has shipped"\x1b[0m' in coloured
    assert ANSI.sub("", coloured) == render_text(WITH_CREATE)


def test_a_markdown_limit_drops_the_trigger_diffs_before_anything_else() -> None:
    full = render_markdown(WITH_CREATE)
    short = render_markdown(WITH_CREATE, limit=len(full) - 1)
    assert "```diff\n--- order-shipped" not in short
    assert "<code>~</code> trigger <code>order-shipped</code> (3 of 4 fixtures" in short
    assert "+ content.title" in short, "the campaign diffs stay"
    assert len(render_markdown(WITH_CREATE, limit=400)) <= 400


def test_the_saved_plan_round_trips_with_its_triggers() -> None:
    assert load(save(WITH_CREATE)) == WITH_CREATE
    assert load(render_json(ONLY_TRIGGERS)) == ONLY_TRIGGERS


def test_a_saved_plan_from_before_triggers_still_loads() -> None:
    raw = json.loads(save(WITH_CREATE))
    del raw["triggers"]
    assert load(json.dumps(raw)) == dataclasses.replace(WITH_CREATE, triggers=None)
    raw["triggers"] = None
    assert load(json.dumps(raw)).triggers is None


def test_the_format_doc_describes_every_trigger_key() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", doc, flags=re.M))
    saved = json.loads(save(WITH_CREATE))
    section = saved["triggers"]
    change = section["changes"][0]
    keys = {*saved, *section, *change, *change["fixtures"][0]}
    assert keys - documented == set()
    assert "### Trigger change" in doc
    assert "### Fixture diff" in doc
