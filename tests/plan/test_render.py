"""The three renderers of a Plan: golden text, Markdown and JSON of hand-built plans, colour,
Markdown that stays within a comment's limit, and the saved plan's round trip.

Golden files are under tests/plan/golden/. When a render changes on purpose, rerun with
CTFLOW_UPDATE_GOLDEN=1 and review the files' diff like code: they are what users read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ctflow.masking import SENSITIVE
from ctflow.plan.model import (
    Action,
    Change,
    Create,
    FieldChange,
    LiveRef,
    Note,
    NoteKind,
    Plan,
    Repair,
    Replace,
    Status,
    StepState,
    Stop,
    Timeline,
    TimelineStep,
)
from ctflow.plan.render_json import PlanFormatError, from_dict, load, render_json, save
from ctflow.plan.render_markdown import MORE_CHANGES, render_markdown
from ctflow.plan.render_text import render_text

GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile("\x1b\\[[0-9;]*m")
JOURNEY = "onboarding-2027-01"
BODY_BEFORE = "<p>Hi {{ Profile.Name }},</p>\n<p>Two tips for day 2.</p>\n<p>Shop | Team</p>\n"
BODY_AFTER = "<p>Hi {{ Profile.Name }},</p>\n<p>Three tips for day 2.</p>\n<p>Shop | Team</p>\n"
TERMS = "\n".join(f"{i}. Terms line {i}" for i in range(1, 26))


def ref(id: int, status: str, hash: str = "ab12cd34") -> LiveRef:
    return LiveRef(id, f"campaign [ctflow:shop/key@{hash}]", Status(status), hash)


def make_plan(
    changes: tuple[Change, ...] = (),
    notes: tuple[Note, ...] = (),
    *,
    unchanged: tuple[str, ...] = (),
    targets: tuple[str, ...] = (),
) -> Plan:
    return Plan(
        project="shop",
        environment="sandbox",
        sandbox=True,
        created_at="2026-11-22T10:00:00+00:00",
        window=("2025-11-22", "2028-11-21"),
        fingerprint="sha256:5be0c1f2",
        changes=changes,
        notes=notes,
        unchanged=unchanged,
        targets=targets,
        ctflow_version="0.1.0",
    )


WELCOME_BODY = {
    "name": "Onboarding: welcome push [ctflow:shop/onboarding-2027-01.welcome@1a2b3c4d]",
    "target_mode": "push",
    "content": {"title": "Welcome!", "body": "Glad you're here."},
    "labels": ["ctflow", "ctflow:shop"],
}
CREATE = Create(
    key=f"{JOURNEY}.welcome",
    name="Onboarding: welcome push",
    reason="not live yet",
    journey=JOURNEY,
    hash="1a2b3c4d",
    payload=WELCOME_BODY,
    spec={**WELCOME_BODY, "name": "Onboarding: welcome push"},
    fields=(
        FieldChange("content.body", None, "Glad you're here."),
        FieldChange("content.title", None, "Welcome!"),
        FieldChange("labels", None, ["ctflow", "ctflow:shop"]),
    ),
    estimate={"android": 10, "ios": 30},
)
REPLACE = Replace(
    key=f"{JOURNEY}.day2",
    name="Onboarding: day 2 <email>",
    reason="content changed since the live version (hash ab12cd34 → 9f00aa11)",
    journey=JOURNEY,
    hash="9f00aa11",
    stop=(ref(1745432100, "pending"),),
    payload={"name": "Onboarding: day 2 <email> [ctflow:shop/onboarding-2027-01.day2@9f00aa11]"},
    fields=(
        FieldChange("content.body", BODY_BEFORE, BODY_AFTER),
        FieldChange("content.subject", "Two tips", "Three tips"),
        FieldChange("provider_credentials.api_token", SENSITIVE, SENSITIVE),
    ),
    before_known=True,
    forces=("content.subject",),
)
REPLACE_UNKNOWN = Replace(
    key="terms-update",
    name="Terms update",
    reason="content changed since the live version (hash 77aa77aa → 88bb88bb)",
    hash="88bb88bb",
    stop=(ref(1745100000, "pending", "77aa77aa"),),
    payload={"name": "Terms update [ctflow:shop/terms-update@88bb88bb]", "content": {}},
    fields=(
        FieldChange("content.body", None, TERMS),
        FieldChange("content.subject", None, "Our terms | changed"),
    ),
)
STOP = Stop(
    key="winback-q1",
    name="Win-back",
    reason="removed from the declarations",
    stop=(ref(1745000000, "running"),),
    gated=True,
)
REPAIR = Repair(
    key="promo",
    name="Promo",
    reason="2 live copies of one version (a create whose response was lost); keeps the oldest",
    keep=ref(101, "running"),
    stop=(ref(102, "running"),),
)
NOTES = (
    Note(
        NoteKind.ALREADY_SENT,
        "promo-old",
        "Old promo",
        "already sent (completed 1744000000); give it a new key to send again",
        live=(ref(1744000000, "completed"),),
    ),
    Note(
        NoteKind.DRIFT,
        "sale",
        "Sale",
        "stopped outside ctflow (1744000001); `--replace sale` re-creates it",
        live=(ref(1744000001, "stopped"),),
    ),
)
TIMELINE = Timeline(
    JOURNEY,
    "Asia/Kolkata",
    (
        TimelineStep(
            f"{JOURNEY}.welcome",
            "welcome",
            "0d",
            "2027-01-11T09:30:00+05:30",
            "push",
            StepState.NEW,
            Action.CREATE,
        ),
    ),
)
FULL = make_plan((CREATE, REPLACE, REPLACE_UNKNOWN, STOP, REPAIR), NOTES, unchanged=("news",))
EMPTY = make_plan(unchanged=("news",))


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CTFLOW_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("full.txt", lambda: render_text(FULL)),
        ("full.md", lambda: render_markdown(FULL)),
        ("full.json", lambda: render_json(FULL)),
        ("empty.txt", lambda: render_text(EMPTY)),
        ("empty.md", lambda: render_markdown(EMPTY)),
    ],
)
def test_golden(name: str, render: Callable[[], str]) -> None:
    assert_golden(name, render())


# --- text ----------------------------------------------------------------------------------


def test_the_last_line_is_the_summary() -> None:
    for plan in (FULL, EMPTY, make_plan(notes=NOTES)):
        assert render_text(plan).splitlines()[-1] == plan.summary()


def test_an_empty_plan_still_shows_its_warnings() -> None:
    text = render_text(make_plan(notes=NOTES))
    assert "Warnings\n  ! promo-old: already sent" in text
    assert text.endswith("No changes to make; 2 warning(s) above need a look.\n")


def test_colour_adds_ansi_codes_and_nothing_else() -> None:
    plain, coloured = render_text(FULL), render_text(FULL, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m+\x1b[0m create" in coloured
    assert "\x1b[33m-/+\x1b[0m replace" in coloured
    assert "\x1b[31m-\x1b[0m stop" in coloured
    assert "\x1b[2m# removed from the declarations\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_targets_are_named_in_the_header() -> None:
    plan = make_plan((STOP,), targets=("winback-q1",))
    assert "Only these keys were planned: winback-q1." in render_text(plan).splitlines()[1]
    assert "Only these keys were planned: winback-q1." in render_markdown(plan)


# --- Markdown -------------------------------------------------------------------------------


def test_a_value_with_backticks_cannot_close_the_fence() -> None:
    tricky = dataclasses.replace(
        CREATE, fields=(FieldChange("content.body", None, "see ```` below"),)
    )
    text = render_markdown(make_plan((tricky,)))
    assert '`````diff\n+ content.body: "see ```` below"\n`````' in text


def test_without_stops_there_is_no_banner() -> None:
    assert "[!WARNING]" not in render_markdown(make_plan((CREATE,), NOTES))


def big_plan(n: int) -> Plan:
    changes = tuple(
        dataclasses.replace(CREATE, key=f"campaign-{i:04}", journey=None, reason=f"why | {i}")
        if i % 2
        else dataclasses.replace(STOP, key=f"campaign-{i:04}")
        for i in range(n)
    )
    return make_plan(changes, NOTES)


def test_a_big_plan_degrades_to_a_table_within_the_limit() -> None:
    plan = big_plan(3000)
    text = render_markdown(plan)
    assert len(text) <= 65_536
    lines = text.splitlines()
    assert lines[:3] == ["### ctflow plan: shop → sandbox", "", f"**{plan.summary()}**"]
    assert "> This plan stops 1500 live campaigns. 1500 of these stops are gated" in text
    assert "- `sale`: stopped outside ctflow" in text
    assert "| action | key | reason |" in lines
    assert "| `+` create | `campaign-0001` | why \\| 1 |" in lines
    assert "<details>" not in text
    rows = [line for line in lines if line.startswith("| `")]
    more = int(re.fullmatch(r"… and (\d+) more changes .*", lines[-1])[1])  # type: ignore[index]
    assert lines[-1] == MORE_CHANGES.format(n=more)
    assert len(rows) + more == 3000


@pytest.mark.parametrize("limit", [300, 700, 1_000, 4_000, 20_000])
def test_markdown_is_never_longer_than_the_limit(limit: int) -> None:
    many_notes = tuple(dataclasses.replace(NOTES[0], key=f"old-{i}") for i in range(200))
    plan = make_plan(big_plan(300).changes, many_notes)
    text = render_markdown(plan, limit=limit)
    assert len(text) <= limit
    assert text.startswith(f"### ctflow plan: shop → sandbox\n\n**{plan.summary()}**")


def test_warnings_alone_are_cut_to_the_limit_too() -> None:
    many_notes = tuple(dataclasses.replace(NOTES[0], key=f"old-{i}") for i in range(500))
    text = render_markdown(make_plan(notes=many_notes), limit=2_000)
    assert len(text) <= 2_000
    assert text.endswith(" more warnings\n")
    assert "| action |" not in text


def test_a_plan_that_fits_is_not_degraded() -> None:
    text = render_markdown(FULL)
    assert len(text) < 65_536
    assert "<details>" in text
    assert "| action |" not in text
    assert render_markdown(FULL, limit=len(text)) == text
    assert render_markdown(FULL, limit=len(text) - 1) != text


# --- JSON -----------------------------------------------------------------------------------


def test_the_saved_plan_round_trips() -> None:
    assert load(save(FULL)) == FULL
    assert json.loads(save(FULL))["changes"][0]["payload"] == WELCOME_BODY


def test_the_printed_plan_round_trips_without_payloads() -> None:
    printed = json.loads(render_json(FULL))
    assert all("payload" not in c and "spec" not in c for c in printed["changes"])
    without = tuple(
        dataclasses.replace(c, payload=None, spec=None) if isinstance(c, Create) else c
        for c in FULL.changes
    )
    assert from_dict(printed) == dataclasses.replace(FULL, changes=without)


def test_a_plan_of_another_format_version_is_refused() -> None:
    text = save(FULL).replace('"format_version": 1,', '"format_version": 2,')
    with pytest.raises(PlanFormatError, match="format_version 2; this ctflow reads"):
        load(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a ctflow plan: invalid JSON at line 1, column 1: Expecting value"),
        ('{"format_version": 1', "not a ctflow plan: invalid JSON at line 1, column 21"),
        ("[1, 2]", "not a ctflow plan (expected a JSON object)"),
        ('{"format_version": 1}', "not a ctflow plan: KeyError: 'changes'"),
    ],
)
def test_garbage_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(PlanFormatError) as caught:
        load(text)
    assert str(caught.value).startswith(message)


def test_the_format_doc_describes_every_key() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", doc, flags=re.M))
    saved = json.loads(save(dataclasses.replace(FULL, extra={"x": 1})))
    change = saved["changes"][1]
    keys = {
        *saved,
        *change,
        *change["fields"][0],
        *change["stop"][0],
        *saved["notes"][0],
        *saved["cost"],
        *saved["cost"]["by_kind"][0],
        *saved["cost"]["assumptions"],
    }
    with_timeline = json.loads(save(dataclasses.replace(FULL, timelines=(TIMELINE,))))
    keys |= {*with_timeline["timelines"][0], *with_timeline["timelines"][0]["steps"][0]}
    assert keys - documented == set()
