"""Audiences in the plan: the pure diff of declared members against those last applied (a
table), and the three renderers of an audience change (golden files under tests/plan/golden/,
updated with CTFLOW_UPDATE_GOLDEN=1), with the saved plan's round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from ctflow.plan.audience_apply import batches
from ctflow.plan.audiences import AudienceFacts, audience_changes
from ctflow.plan.model import AudienceUpdate, NoteKind
from ctflow.plan.render_json import load, render_json, save
from ctflow.plan.render_markdown import render_markdown
from ctflow.plan.render_text import render_text
from tests.plan.test_render import assert_golden, make_plan

SEGMENT = "ctflow.shop.vip"


def facts(
    members: set[str] | None, applied: set[str] = frozenset(), ct: int | None = None
) -> AudienceFacts:
    declared = None if members is None else frozenset(members)
    return AudienceFacts(
        "vip", "VIP", SEGMENT, declared, frozenset(applied), ct, recorded=ct is not None
    )


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        (facts({"identity:a", "identity:b"}), ("new", ("identity:a", "identity:b"), ())),
        (facts(set()), ("new", (), ())),
        (facts({"identity:a"}, {"identity:a"}, 7), "unchanged"),
        (
            facts({"identity:a", "identity:c"}, {"identity:a", "identity:b"}, 7),
            ("changed", ("identity:c",), ("identity:b",)),
        ),
        # the journal was lost: the segment is asked for again (the same one), all members sent
        (facts({"identity:a"}, set(), None), ("new", ("identity:a",), ())),
        (facts(None, {"identity:a"}, 7), "left"),
    ],
    ids=["new", "new-empty", "same", "changed", "journal-lost", "removed"],
)
def test_audience_changes(fact: AudienceFacts, expected: object) -> None:
    changes, notes, unchanged = audience_changes([fact])
    if expected == "unchanged":
        assert (changes, notes, unchanged) == ([], [], ["vip"])
    elif expected == "left":
        assert (changes, unchanged) == ([], [])
        [note] = notes
        assert note.kind is NoteKind.AUDIENCE_LEFT
        assert "ct_segment_id 7" in note.message
    else:
        [change] = changes
        state, add, remove = expected  # type: ignore[misc]
        assert (change.new_segment, change.add, change.remove) == (state == "new", add, remove)
        assert change.segment == SEGMENT


def test_a_target_picks_the_audience_by_key() -> None:
    assert audience_changes([facts({"identity:a"})], targets=("other",)) == ([], [], [])


def test_batches_hold_at_most_100_profiles_of_one_kind() -> None:
    add = [f"identity:a{i}" for i in range(150)] + ["guid:__g1"]
    remove = [f"identity:r{i}" for i in range(60)]
    sent = list(batches(add, remove))
    assert [(by, len(a), len(r)) for by, a, r in sent] == [
        ("identity", 100, 0),
        ("identity", 50, 50),
        ("identity", 0, 10),
        ("guid", 1, 0),
    ]
    assert sent[3][1] == ["__g1"]


NEW = AudienceUpdate(
    key="vip",
    name="VIP customers",
    reason="no segment in this environment yet: apply creates it, then adds the members",
    hash="0123456789abcdef",
    segment=SEGMENT,
    new_segment=True,
    members=2,
    add=("identity:C100234", "identity:C101502"),
)
CHANGED = AudienceUpdate(
    key="lapsed",
    name="Lapsed buyers",
    reason="the members changed since the last apply",
    hash="fedcba9876543210",
    segment="ctflow.shop.lapsed",
    new_segment=False,
    members=1200,
    add=tuple(f"identity:c-{i}" for i in range(120)),
    remove=tuple(f"identity:r-{i}" for i in range(8)),
)
AUDIENCES = make_plan((NEW, CHANGED))


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("audiences.txt", lambda: render_text(AUDIENCES)),
        ("audiences.md", lambda: render_markdown(AUDIENCES)),
        ("audiences.json", lambda: render_json(AUDIENCES)),
    ],
)
def test_golden(name: str, render: Callable[[], str]) -> None:
    assert_golden(name, render())


def test_the_saved_plan_keeps_the_members_to_send_and_round_trips() -> None:
    assert load(save(AUDIENCES)) == AUDIENCES
    saved = json.loads(save(AUDIENCES))["changes"][0]
    assert saved["payload"] == {"add": ["identity:C100234", "identity:C101502"], "remove": []}
    printed = json.loads(render_json(AUDIENCES))["changes"][1]
    assert "payload" not in printed
    assert printed["members"] == {"declared": 1200, "add": 120, "remove": 8}


def test_pending_members_are_perhaps_in_and_perhaps_out() -> None:
    """A pending add no longer declared is removed, one still declared sent again; a pending
    remove declared again is added again, one still undeclared sent again."""
    fact = AudienceFacts(
        "vip",
        "VIP",
        SEGMENT,
        frozenset({"identity:a", "identity:kept", "identity:back"}),
        applied=frozenset({"identity:a", "identity:back", "identity:gone"}),
        ct_segment_id=7,
        recorded=True,
        pending_add=frozenset({"identity:kept", "identity:left"}),
        pending_remove=frozenset({"identity:back", "identity:gone"}),
    )
    [change], _, _ = audience_changes([fact])
    assert change.add == ("identity:back", "identity:kept")
    assert change.remove == ("identity:gone", "identity:left")


def test_one_member_is_said_in_the_singular() -> None:
    one = AudienceUpdate(
        key="solo",
        name="Solo",
        reason="r",
        hash="0123456789abcdef",
        segment="Solo",
        new_segment=True,
        members=1,
        add=("identity:a",),
        source="custom_list",
    )
    text = render_text(make_plan((one, replace(NEW, members=1))))
    assert "uploaded whole (1 member)" in text
    assert "(1 member declared)" in text
