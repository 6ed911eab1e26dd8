"""`kind: Audience`: its members file checked row by row (with line numbers), its schema, and the
`audience: KEY` references of campaigns and journeys (unknown keys with a suggestion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctflow.spec.audiences import Members, read_members
from ctflow.spec.validate import check
from tests.spec.project_support import BASE, problems, write_project

WINBACK = BASE["campaigns/winback.yaml"]
TARGETED = WINBACK.replace(
    WINBACK[WINBACK.index("audience:") : WINBACK.index("content:")], "audience: vip\n"
)


def test_the_base_audience_is_valid_and_its_members_are_read(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"campaigns/winback.yaml": TARGETED})
    result = check(root)
    assert result.problems == []
    decl = result.declarations.audiences["vip"]
    assert read_members(decl) == Members("identity", frozenset({"c-1", "c-2"}))


def test_inline_members_are_stripped_and_a_duplicate_is_one_member(tmp_path: Path) -> None:
    inline = BASE["audiences/vip.yaml"].replace("vip.csv", '[" C100234 ", C100234, c-2]')
    root = write_project(tmp_path, {"audiences/vip.yaml": inline})
    result = check(root)
    assert result.problems == []
    decl = result.declarations.audiences["vip"]
    assert read_members(decl) == Members("identity", frozenset({"C100234", "c-2"}))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"audiences/vip.csv": "identity\nc-1\n\n  \nc-2\n" + "x" * 130 + "\n"},
            [
                "audiences/vip.csv:4:1: record 4: empty member",
                "audiences/vip.csv:6:1: record 6: 130 characters; CleverTap takes at most 119",
            ],
            id="bad-rows-by-line",
        ),
        pytest.param(
            {"audiences/vip.csv": "customer,note\nc-1,x\n"},
            [
                "audiences/vip.yaml:4:10: members: vip.csv has no column 'identity'; column: "
                "names the one holding the members",
            ],
            id="missing-column",
        ),
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"] + "column: custmer\n",
                "audiences/vip.csv": "customer\nc-1\n",
            },
            [
                "audiences/vip.yaml:5:9: column: vip.csv has no column 'custmer' (did you mean "
                "'customer'?)",
            ],
            id="misspelt-column",
        ),
        pytest.param(
            {"audiences/vip.csv": None},
            ["audiences/vip.yaml:4:10: members: file not found: audiences/vip.csv"],
            id="missing-file",
        ),
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"].replace("vip.csv", "vip.jsonl"),
                "audiences/vip.jsonl": '{"identity": "c-1"}\n{"id": "c-2"}\nnot json\n'
                '{"identity": 7}\n',
            },
            [
                "audiences/vip.jsonl:2:1: record 2: no 'identity' key",
                "audiences/vip.jsonl:3:1: record 3: not JSON: Expecting value: line 1 column 1 "
                "(char 0)",
                "audiences/vip.jsonl:4:1: record 4: expected a string, not 7",
            ],
            id="jsonl-rows",
        ),
        pytest.param(
            {"campaigns/winback.yaml": TARGETED.replace("audience: vip", "audience: vpi")},
            [
                "campaigns/winback.yaml:5:11: audience: 'vpi' is not 'everyone' or a declared "
                "Audience (did you mean 'vip'?)",
            ],
            id="unknown-reference",
        ),
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"].replace(
                    "members: vip.csv", "members: [c-1, '']"
                )
            },
            ["audiences/vip.yaml:4:16: members[1]: '' should be non-empty"],
            id="inline-empty-member",
        ),
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"].replace(
                    "members: vip.csv", 'members: ["  ", " c-1 ", c-1, "c-2\\tx", "c\\n3"]'
                )
            },
            [
                "audiences/vip.yaml:4:11: members[0]: empty member",
                "audiences/vip.yaml:4:31: members[3]: holds the control character '\\t'; a "
                "member is one line of text",
                "audiences/vip.yaml:4:41: members[4]: holds the control character '\\n'; a "
                "member is one line of text",
            ],
            id="inline-members-checked-as-rows",
        ),
        pytest.param(
            {"audiences/vip.csv": 'identity\nc-1\n"c-2\tx"\n"c\n3",x\n'},
            [
                "audiences/vip.csv:3:1: record 3: holds the control character '\\t'; a member "
                "is one line of text",
                "audiences/vip.csv:5:1: record 5: holds the control character '\\n'; a member "
                "is one line of text",
            ],
            id="control-characters-in-rows",
        ),
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"].replace(
                    "vip.csv", "../data/bad.csv"
                ),
                "data/bad.csv": "identity\nc-1\n \n",
            },
            ["data/bad.csv:3:1: record 3: empty member"],
            id="row-of-a-file-in-another-folder",
        ),
        pytest.param(
            {"audiences/dup.yaml": "kind: Audience\nkey: winback\nname: W\nmembers: [c-1]\n"},
            [
                "audiences/dup.yaml:2:6: key: audience key 'winback' is already a campaign's "
                "key (campaigns/winback.yaml:2:6); give the Audience another key",
            ],
            id="key-of-a-campaign",
        ),
        pytest.param(
            {"audiences/dup.yaml": "kind: Audience\nkey: onboarding\nname: O\nmembers: [c-1]\n"},
            [
                "audiences/dup.yaml:2:6: key: audience key 'onboarding' is already a journey's "
                "key (journeys/onboarding.yaml:2:6); give the Audience another key",
            ],
            id="key-of-a-journey",
        ),
    ],
)
def test_audience_problems(
    tmp_path: Path, overrides: dict[str, str | None], expected: list[str]
) -> None:
    found = problems(tmp_path, overrides)
    assert found == [line.replace("{root}", str(tmp_path)) for line in expected]


def test_a_journey_step_cannot_join_conditions_to_an_audience(tmp_path: Path) -> None:
    journey = """\
kind: Journey
key: vip-welcome
name: VIP welcome
anchor: "2027-01-16 19:00"
defaults:
  audience: vip
steps:
  - key: push
    after: 0d
    channel: push
    name: Welcome push
    audience:
      reachable_by: [push]
    content:
      title: Welcome
      body: Hello
      android: {channel_id: marketing}
  - key: again
    after: 1d
    channel: push
    name: Welcome again
    audience: vipp
    content:
      title: Welcome
      body: Hello
      android: {channel_id: marketing}
"""
    assert problems(tmp_path, {"journeys/vip.yaml": journey}) == [
        "journeys/vip.yaml:13:7: steps[0].audience: a step cannot join conditions to an "
        "Audience of the defaults, or an Audience to their conditions: CleverTap targets a "
        "segment or a query, not both",
        "journeys/vip.yaml:22:15: steps[1].audience: 'vipp' is not 'everyone' or a declared "
        "Audience (did you mean 'vip'?)",
    ]


VIP_JOURNEY = """\
kind: Journey
key: vip-welcome
name: VIP welcome
anchor: "2027-01-16 19:00"
defaults:
  audience: vip
  content:
    push: {title: Welcome, body: Hello, android: {channel_id: marketing}}
steps:
  - key: everyone
    after: 0d
    channel: push
    audience: everyone
  - key: unsaid
    after: 1d
    channel: push
  - key: same
    after: 2d
    channel: push
    audience: vip
"""


def test_a_journey_step_stays_on_the_audience_of_the_defaults(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"journeys/vip.yaml": VIP_JOURNEY})
    result = check(root)
    assert result.problems == []
    campaigns = result.declarations.campaigns
    steps = ("everyone", "unsaid", "same")
    assert [campaigns[f"vip-welcome.{step}"].data["audience"] for step in steps] == ["vip"] * 3


def test_a_journey_step_cannot_target_another_audience_than_the_defaults(tmp_path: Path) -> None:
    gold = "kind: Audience\nkey: gold\nname: Gold\nmembers: [c-1]\n"
    journey = VIP_JOURNEY.replace("audience: everyone", "audience: gold")
    assert problems(tmp_path, {"journeys/vip.yaml": journey, "audiences/gold.yaml": gold}) == [
        "journeys/vip.yaml:13:15: steps[0].audience: the journey's defaults target the "
        "Audience 'vip', so its steps do too: a step can leave audience out (or say everyone) "
        "but not target another Audience, as CleverTap targets one segment",
    ]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {
                "audiences/vip.yaml": BASE["audiences/vip.yaml"] + "source: custom_list\n"
                "notify: crm@shop.example\n",
                "campaigns/winback.yaml": TARGETED,
            },
            [
                "campaigns/winback.yaml:5:11: audience: 'vip' is a custom list: CleverTap "
                "returns no segment id for a custom list, so a campaign cannot target it by key "
                "(make it an API segment, source: api_segment, or target the list in the "
                "dashboard)",
            ],
            id="targeting-a-custom-list",
        ),
        pytest.param(
            {"audiences/vip.yaml": BASE["audiences/vip.yaml"] + "source: custom_list\n"},
            ["audiences/vip.yaml:1:1: missing required field 'notify'"],
            id="custom-list-without-notify",
        ),
        pytest.param(
            {"audiences/vip.yaml": BASE["audiences/vip.yaml"] + "notify: crm@shop.example\n"},
            ["audiences/vip.yaml:5:9: notify: notify is for a custom list (source: custom_list)"],
            id="notify-on-an-api-segment",
        ),
    ],
)
def test_custom_list_problems(
    tmp_path: Path, overrides: dict[str, str | None], expected: list[str]
) -> None:
    assert problems(tmp_path, overrides) == expected
