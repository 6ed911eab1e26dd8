"""The pure comparison of two sets of trigger renders (old at the base revision, new in the
working tree) into the plan's trigger changes, and their JSON round trip."""

from __future__ import annotations

import pytest

from ctflow.plan.triggerdiff import (
    FixtureDiff,
    Renders,
    Status,
    TriggerChange,
    TriggerReport,
    compare,
    from_dict,
    to_dict,
)

A = ["POST /1/send/sms.json", 'content.body: "Your code is 1234"']
B = ["POST /1/send/sms.json", 'content.body: "Your code: 1234"']


def test_identical_renders_are_unchanged() -> None:
    renders: Renders = {"otp": {"login": A}}
    assert compare(renders, renders, "HEAD") == TriggerReport("HEAD", (), ("otp",))


def test_a_changed_fixture_gets_a_unified_diff_labelled_with_both_sides() -> None:
    report = compare({"otp": {"login": A, "cod": A}}, {"otp": {"login": B, "cod": A}}, "main")
    assert report.unchanged == ()
    [change] = report.changes
    assert (change.key, change.status, change.total, change.symbol) == (
        "otp",
        Status.CHANGED,
        2,
        "~",
    )
    assert change.fixtures == (
        FixtureDiff(
            "login",
            Status.CHANGED,
            (
                "--- otp login (main)",
                "+++ otp login (working tree)",
                "@@ -1,2 +1,2 @@",
                " POST /1/send/sms.json",
                '-content.body: "Your code is 1234"',
                '+content.body: "Your code: 1234"',
            ),
        ),
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({}, {"otp": {"login": A}}, TriggerChange("otp", Status.ADDED, total=1)),
        ({"otp": {"login": A, "cod": A}}, {}, TriggerChange("otp", Status.REMOVED, total=2)),
        (
            {"otp": {"login": A}},
            {"otp": {"login": A, "cod": B}},
            TriggerChange("otp", Status.CHANGED, (FixtureDiff("cod", Status.ADDED),), 2),
        ),
        (
            {"otp": {"old": A, "login": A}},
            {"otp": {"login": A}},
            TriggerChange("otp", Status.CHANGED, (FixtureDiff("old", Status.REMOVED),), 2),
        ),
        (
            {"otp": {"a": A}},
            {"otp": {}},
            TriggerChange("otp", Status.CHANGED, (FixtureDiff("a", Status.REMOVED),), 1),
        ),
    ],
    ids=["new-trigger", "removed-trigger", "new-fixture", "removed-fixture", "no-fixtures-left"],
)
def test_what_exists_on_one_side_only(old: Renders, new: Renders, expected: TriggerChange) -> None:
    assert compare(old, new, "HEAD").changes == (expected,)


def test_triggers_in_key_order_fixtures_in_the_new_order_then_the_removed() -> None:
    old = {"b": {"x": A, "gone": A}, "a": {"y": A}, "same": {"z": A}}
    new = {"same": {"z": A}, "b": {"new": A, "x": B}, "c": {"w": A}}
    report = compare(old, new, "HEAD")
    assert [(c.key, c.status) for c in report.changes] == [
        ("a", Status.REMOVED),
        ("b", Status.CHANGED),
        ("c", Status.ADDED),
    ]
    assert [(f.fixture, f.status) for f in report.changes[1].fixtures] == [
        ("new", Status.ADDED),
        ("x", Status.CHANGED),
        ("gone", Status.REMOVED),
    ]
    assert report.changes[1].total == 3
    assert report.unchanged == ("same",)


def test_the_json_round_trips() -> None:
    report = compare({"b": {"x": A, "gone": A}, "a": {"y": A}}, {"b": {"x": B}, "c": {}}, "v1")
    assert from_dict(to_dict(report)) == report
    assert to_dict(report)["changes"][1]["fixtures"][0]["diff"][0] == "--- b x (v1)"
