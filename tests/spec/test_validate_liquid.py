# ruff: noqa: E501 — golden lines are compared whole; splitting them would hide what users read
"""Golden tests of CleverTap's Liquid checked by `ctflow validate`: each case changes the base
project (project_support.py) in one way and asserts every line `validate` prints and its exit
code — problems exit 3, warnings and notes do not."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from ctflow.commands.validate import validate
from tests.spec.project_support import BASE, write_project

CW = "campaigns/winback.yaml"
TK = "tracking.yaml"
PROFILE_MORE = (
    "  Age: integer\n  Loyalty Tier: {type: string, enum: [Bronze, Gold]}\n  Favourites: list\n"
)


def sub(file: str, old: str, new: str, base: dict[str, str] | None = None) -> dict[str, str]:
    text = (base or BASE)[file]
    assert old in text, old
    return {file: text.replace(old, new, 1)}


def body(text: str, qualifying: str | None = None) -> dict[str, str]:
    """The winback campaign with ``text`` as its push body (one line), qualifying on the
    ``qualifying`` event condition instead of App Launched when given."""
    campaign = sub(
        CW, "body: \"{{ Profile.Name | default: 'friend' }}, come back!\"", f"body: {text}"
    )
    if qualifying is not None:
        campaign = sub(CW, "    - event: App Launched\n      in_last: 90d", qualifying, campaign)
    return {**sub(TK, "  Age: integer\n", PROFILE_MORE), **campaign}


def run(root: Path, overrides: dict[str, str]) -> tuple[int, list[str]]:
    write_project(root, overrides)
    out, err = io.StringIO(), io.StringIO()
    code = validate(root, "text", out=out, err=err)
    return code, [line.replace(f"{root}/", "") for line in out.getvalue().splitlines()]


NO_PROFILE_SCHEMA = {
    **sub(TK, TK_PROFILE := BASE[TK][BASE[TK].index("---\nkind: ProfileSchema") :], ""),
    **sub(CW, "  profile:\n    Customer Type: Gold\n", ""),
}

CASES = [
    pytest.param(
        body("'It''s {{ Profile.Nmae }}'"),
        3,
        [
            "campaigns/winback.yaml:18:9: content.body: Profile.Nmae: profile property 'Nmae' is not declared (did you mean 'Name'?)",
        ],
        id="an-escape-moves-the-text-so-the-value-is-pointed-at",
    ),
    pytest.param(
        body('"caf\\u00e9 {{ Profile.Nmae }}"'),
        3,
        [
            "campaigns/winback.yaml:18:9: content.body: Profile.Nmae: profile property 'Nmae' is not declared (did you mean 'Name'?)",
        ],
        id="a-double-quoted-escape-too",
    ),
    pytest.param(
        body("|\n    Hi\n      {{ Profile.Nmae }}"),
        3,
        [
            "campaigns/winback.yaml:20:10: content.body: Profile.Nmae: profile property 'Nmae' is not declared (did you mean 'Name'?)",
        ],
        id="a-literal-line-indented-deeper-than-its-block",
    ),
    pytest.param(
        body('"Your tier: {{ Profile.Loyalty_Tierr }}"'),
        3,
        [
            "campaigns/winback.yaml:18:24: content.body: Profile.Loyalty_Tierr: profile property 'Loyalty_Tierr' is not declared (did you mean 'Loyalty Tier'?)",
        ],
        id="misspelt-profile-property",
    ),
    pytest.param(
        body('\'Tier {{ Profile["Loyalty Tierr"] | default: "none" }}\''),
        3,
        [
            "campaigns/winback.yaml:18:18: content.body: Profile[\"Loyalty Tierr\"]: profile property 'Loyalty Tierr' is not declared (did you mean 'Loyalty Tier'?)",
        ],
        id="bracketed-name-with-a-space",
    ),
    pytest.param(
        body(
            '"You spent {{ Event.Amont }} {{ Event.Currency }}"',
            qualifying="    - event: Charged\n      in_last: 90d",
        ),
        3,
        [
            "campaigns/winback.yaml:18:23: content.body: Event.Amont: property 'Amont' is not declared for event 'Charged' (did you mean 'Amount'?)",
        ],
        id="undeclared-event-property-of-the-qualifying-event",
    ),
    pytest.param(
        body('"You spent {{ Event.Amount }}"'),
        3,
        [
            "campaigns/winback.yaml:18:23: content.body: Event.Amount: property 'Amount' is not declared for event 'App Launched'",
        ],
        id="event-property-of-another-event",
    ),
    pytest.param(
        sub(
            "triggers/receipt.yaml",
            'subject: "Order [[ order_id ]]"',
            'subject: "Order [[ order_id ]] {{ Event.Amount }}"',
        ),
        3,
        [
            "triggers/receipt.yaml:19:37: content.subject: Event.Amount: a trigger is sent with no event, so CleverTap has no event property to fill in; pass the value as a parameter",
        ],
        id="event-property-in-a-trigger",
    ),
    pytest.param(
        body('"Your picks: {{ Profile.Favourites }}"'),
        0,
        [
            "campaigns/winback.yaml:18:25: warning: content.body: Profile.Favourites is a list, which does not print as text; give it a default (| default: '…') or a filter (| join: ', ')",
        ],
        id="list-without-default-is-a-warning",
    ),
    pytest.param(
        body("\"Your picks: {{ Profile.Favourites | default: 'none yet' }}\""),
        0,
        [],
        id="default-silences-the-type-warning",
    ),
    pytest.param(
        body('"Hi {{ Profile.Name | default: }"'),
        3,
        [
            "campaigns/winback.yaml:18:13: content.body: Liquid: expected '}}', found end of file",
        ],
        id="liquid-syntax-error",
    ),
    pytest.param(
        body('"Hi {{ Profile.Customer Type }}"'),
        3,
        [
            'campaigns/winback.yaml:18:33: content.body: Liquid: expected end of expression, found word; a name with a space is written Profile["Customer Type"]',
        ],
        id="name-with-a-space-needs-brackets",
    ),
    pytest.param(
        body('"[# {{ Profile.Nope }} #]Hi {{ Profile.[[ vars.brand ]] | default: 1 }}"'),
        0,
        [],
        id="ctflow-comments-and-ctflow-built-names-are-not-read",
    ),
    pytest.param(
        body('"Hi {{ Profile.Name | upcase | shout }}"'),
        3,
        [
            "campaigns/winback.yaml:18:40: content.body: Liquid: unknown filter 'shout' (did you mean 'sort'?)",
        ],
        id="unknown-filter",
    ),
    pytest.param(
        {
            **sub(TK, "  Age: integer\n", PROFILE_MORE),
            "journeys/day2.txt": "Still thinking it over?\n{% if Profile.Loyalty_Tier == 'Gold' %}Gold!{% endif %}\n",
        },
        3,
        [
            "journeys/day2.txt:2:7: Profile.Loyalty_Tier: profile property 'Loyalty_Tier' is not declared (did you mean 'Loyalty Tier'?)",
        ],
        id="body-file-position-in-its-own-file",
    ),
    pytest.param(
        NO_PROFILE_SCHEMA,
        0,
        [
            "campaigns/winback.yaml:16:13: note: content.body: Liquid reads Profile properties, but the project declares no ProfileSchema, so they are not checked; declare one (docs/declarations.md#profileschema) to have them checked",
        ],
        id="no-profile-schema-is-one-note",
    ),
]


@pytest.mark.parametrize(("overrides", "code", "expected"), CASES)
def test_liquid_is_checked_against_the_tracking_plan(
    tmp_path: Path, overrides: dict[str, str], code: int, expected: list[str]
) -> None:
    assert run(tmp_path, overrides) == (code, expected)


def test_json_lists_warnings_and_notes_apart_from_problems(tmp_path: Path) -> None:
    write_project(tmp_path, body('"Your picks: {{ Profile.Favourites }}"'))
    out, err = io.StringIO(), io.StringIO()
    assert validate(tmp_path, "json", out=out, err=err) == 0
    found = json.loads(out.getvalue())
    assert found["valid"] is True
    assert (found["problems"], found["notes"]) == ([], [])
    [warning] = found["warnings"]
    assert (warning["line"], warning["column"]) == (18, 25)
    assert warning["message"].startswith("content.body: Profile.Favourites is a list")


def test_a_misspelt_profile_name_in_the_example_project_fails_with_a_suggestion(
    tmp_path: Path,
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "journeys"
    project = tmp_path / "journeys"
    shutil.copytree(example, project, ignore=shutil.ignore_patterns(".ctflow"))
    winback = project / "campaigns" / "winback.yaml"
    text = winback.read_text(encoding="utf-8")
    assert "title: 'We miss you, {{ Profile.Name" in text
    winback.write_text(text.replace("We miss you, {{ Profile.Name", "We miss you, {{ Profile.Nmae"))
    out, err = io.StringIO(), io.StringIO()
    assert validate(project, "text", out=out, err=err) == 3
    assert out.getvalue().replace(f"{project}/", "").splitlines() == [
        "campaigns/winback.yaml:25:27: content.title: Profile.Nmae: profile property 'Nmae' is not declared (did you mean 'Name'?)",
    ]
