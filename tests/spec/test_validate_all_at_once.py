# ruff: noqa: E501 — golden lines are compared whole; splitting them would hide what users read
"""`ctflow validate` lists the problems of every stage in one run: a mistake in one part (a
schema error, a broken ProfileSchema, a duplicate key, an unreadable file) hides no problem of
another, and what `plan` would refuse offline (a template that does not render in some
environment) `validate` refuses first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctflow import cli
from tests.spec.project_support import BASE, problems, write_project

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "journeys"


def sub(file: str, old: str, new: str) -> str:
    assert old in BASE[file], old
    return BASE[file].replace(old, new, 1)


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


OTHER = """\
kind: Campaign
key: other
name: Other
channel: push
audience:
  did:
    - {event: Purchase, in_last: 7d}
  profile:
    Nickname: Bob
content:
  title: "[[ ''.__class__.__mro__ ]]"
  body: "[[ 100 / vars.divisor ]] percent"
schedule: {at: "2027-01-05 10:00"}
"""

EVERY_STAGE: dict[str, str | None] = {
    # production divides by zero, the other environments do not
    "ctflow.yaml": replaced(
        BASE["ctflow.yaml"],
        ("  brand: Shop\n", "  brand: Shop\n  divisor: 2\n"),
        ("    region: eu1\n", "    region: eu1\n    variables: {divisor: 0}\n"),
    ),
    # a schema error, and in the same campaign an undeclared event, a date that does not exist,
    # a profile value its (broken) ProfileSchema's intact part refuses
    "campaigns/winback.yaml": replaced(
        BASE["campaigns/winback.yaml"],
        ("  title:", "  titel:"),
        ("event: App Launched", "event: App Lunched"),
        ('at: "2027-01-05 10:00"', 'at: "2027-13-05 10:00"'),
        ("Customer Type: Gold", "Customer Type: Platinum"),
    ),
    # a broken ProfileSchema: property references to it wait, event problems elsewhere do not
    "tracking.yaml": sub("tracking.yaml", "  Age: integer", "  Age: {type: integr}"),
    # a schema error (no android channel), an undeclared event, a template that renders in no
    # environment and one that fails in production only
    "campaigns/other.yaml": OTHER,
    # a date that does not exist does not hide the steps' templates
    "journeys/onboarding.yaml": replaced(
        BASE["journeys/onboarding.yaml"],
        ('anchor: "2027-01-04 09:00"', 'anchor: "2027-02-30 09:00"'),
        ("content: {title: Hi, body: Welcome}", "content: {title: Hi, body: '[[ vars.missing ]]'}"),
    ),
    # a duplicate key does not hide the rest of its file, nor any reference elsewhere
    "triggers/receipt.yaml": replaced(
        BASE["triggers/receipt.yaml"],
        ('sender_name: "[[ vars.brand ]]"', 'sender_name: "[[ vars.brand ]]"\n  sender_name: x'),
        ("Order [[ order_id ]]", "Order [[ order_idd ]]"),
    ),
    # a file that is not YAML, and names no tracking-plan kind
    "broken.yaml": "kind: Campaign\nkey: [oops\n",
}

EVERY_PROBLEM = [
    "broken.yaml:3:1: expected ',' or ']', but got '<stream end>'",
    "campaigns/other.yaml:7:15: audience.did[0].event: event 'Purchase' is not declared",
    "campaigns/other.yaml:11:3: content: content.android.channel_id is required when devices include android (as they do unless devices says otherwise): Android 8+ shows no notification without a channel",
    "campaigns/other.yaml:11:11: content.title: does not render: access to attribute '__class__' of 'str' object is unsafe",
    "campaigns/other.yaml:12:10: content.body: does not render: division by zero; in environment production",
    "campaigns/winback.yaml:7:14: audience.did[0].event: event 'App Lunched' is not declared (did you mean 'App Launched'?)",
    "campaigns/winback.yaml:15:20: audience.profile.Customer Type: 'Platinum' is not one of Silver, Gold",
    "campaigns/winback.yaml:17:3: content.titel: unknown field (did you mean 'title'?)",
    "campaigns/winback.yaml:20:16: schedule.at: '2027-13-05 10:00' is not a real date-time",
    "journeys/onboarding.yaml:4:9: anchor: '2027-02-30 09:00' is not a real date-time",
    "journeys/onboarding.yaml:17:33: steps[0].content.body: 'vars' has no property 'missing'",
    "tracking.yaml:17:15: properties.Age.type: 'integr' is not one of string, number, integer, boolean, date, list (did you mean 'integer'?)",
    "triggers/receipt.yaml:19:13: content.subject: 'order_idd' is not declared (did you mean 'order_id'?)",
    "triggers/receipt.yaml:21:3: duplicate key 'sender_name' (first defined at line 20)",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_mistakes_of_every_stage_are_listed_in_one_run(tmp_path: Path) -> None:
    assert problems(tmp_path, EVERY_STAGE) == EVERY_PROBLEM


def test_validate_and_plan_list_them_all_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_project(tmp_path, EVERY_STAGE)
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 3
    assert out.replace(f"{tmp_path}/", "").splitlines() == EVERY_PROBLEM
    assert err == "ctflow: 14 problems in 6 files\n"

    code, out, err = run(capsys, "-C", str(tmp_path), "plan")
    assert (code, out) == (3, "")
    listed = [line for line in err.replace(f"{tmp_path}/", "").splitlines() if ": " in line]
    assert listed[: len(EVERY_PROBLEM)] == EVERY_PROBLEM


def test_a_template_plan_cannot_render_fails_validate_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "journeys"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    winback = project / "campaigns" / "winback.yaml"
    text = winback.read_text()
    title = next(line for line in text.splitlines() if line.strip().startswith("title:"))
    winback.write_text(text.replace(title, "  title: \"[[ ''.__class__.__mro__ ]]\"", 1))
    code, out, _ = run(capsys, "-C", str(project), "validate")
    assert code == 3
    assert out.splitlines() == [
        f"{winback}:{1 + text.splitlines().index(title)}:11: content.title: does not render: "
        "access to attribute '__class__' of 'str' object is unsafe"
    ]


def test_a_broken_event_schema_keeps_its_event_and_hides_only_its_properties(
    tmp_path: Path,
) -> None:
    tracking = sub("tracking.yaml", "version: 1\nproperties:", "version: one\nproperties:")
    campaign = replaced(
        BASE["campaigns/winback.yaml"],
        ("Amount: {greater_than: 10}", "Amont: {greater_than: 10}"),
        ("event: App Launched", "event: App Lunched"),
    )
    assert problems(tmp_path, {"tracking.yaml": tracking, "campaigns/winback.yaml": campaign}) == [
        "campaigns/winback.yaml:7:14: audience.did[0].event: event 'App Lunched' is not declared (did you mean 'App Launched'?)",
        "tracking.yaml:3:10: version: expected a whole number, found the text 'one'",
    ]


def test_an_unreadable_file_hides_only_references_to_the_kinds_it_names(tmp_path: Path) -> None:
    campaign = replaced(
        BASE["campaigns/winback.yaml"],
        ("event: App Launched", "event: App Lunched"),
        ("Customer Type: Gold", "Customer Typ: Gold"),
    )
    found = problems(
        tmp_path,
        {"more.yaml": "kind: EventSchema\nevent: [x\n", "campaigns/winback.yaml": campaign},
    )
    assert found == [
        "campaigns/winback.yaml:15:19: audience.profile.Customer Typ: profile property 'Customer Typ' is not declared (did you mean 'Customer Type'?)",
        "more.yaml:3:1: expected ',' or ']', but got '<stream end>'",
    ]


def test_a_journey_step_that_fails_the_campaign_schema_still_has_its_templates_checked(
    tmp_path: Path,
) -> None:
    journey = sub(
        "journeys/onboarding.yaml",
        "content: {title: Hi, body: Welcome}",
        "content: {body: '[[ vars.brnd ]]'}",
    )
    assert problems(tmp_path, {"journeys/onboarding.yaml": journey}) == [
        "journeys/onboarding.yaml:17:14: steps[0].content: missing required field 'title'",
        "journeys/onboarding.yaml:17:22: steps[0].content.body: 'vars' has no property 'brnd' (did you mean 'brand'?)",
    ]


def test_a_ctflow_yaml_fault_outside_environments_and_variables_hides_no_template(
    tmp_path: Path,
) -> None:
    config = replaced(
        BASE["ctflow.yaml"],
        ("project: shop", "project: 123"),
        ("timezone: Europe/Berlin", "timezone: Europe/Berln"),
    )
    campaign = sub("campaigns/winback.yaml", "[[ vars.brand ]]", "[[ vars.brnd ]]")
    assert problems(tmp_path, {"ctflow.yaml": config, "campaigns/winback.yaml": campaign}) == [
        "campaigns/winback.yaml:17:11: content.title: 'vars' has no property 'brnd' (did you mean 'brand'?)",
        "ctflow.yaml:1:10: project: expected text, found the number 123",
        "ctflow.yaml:2:11: timezone: unknown timezone 'Europe/Berln' (an IANA name like Europe/Berlin)",
    ]


def test_a_fault_in_ctflow_yaml_variables_leaves_templates_unchecked(tmp_path: Path) -> None:
    config = sub("ctflow.yaml", "variables:\n  brand: Shop\n", "variables: [brand]\n")
    assert problems(tmp_path, {"ctflow.yaml": config}) == [
        "ctflow.yaml:3:12: variables: expected a mapping, found a list",
    ]
