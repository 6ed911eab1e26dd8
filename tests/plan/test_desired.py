"""Desired state: the declared campaigns of tests/spec/project_support.py's project as the create
bodies of one environment, each with the version hash its marker carries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ctflow.plan import marker
from ctflow.plan.desired import Desired, desired_state
from ctflow.spec.validate import load
from tests.spec.project_support import BASE, write_project

TODAY = date(2026, 11, 22)
CONFIG = """\
project: shop
timezone: Europe/Berlin
labels: [growth]
variables:
  brand: Shop
environments:
  production:
    region: eu1
  staging:
    region: eu1
    variables:
      brand: Shop Staging
"""


def desired(
    root: Path,
    overrides: dict[str, str | None] | None = None,
    *,
    env: str = "production",
    today: date = TODAY,
) -> dict[str, Desired]:
    # the external trigger names an id per environment; campaigns do not need it
    write_project(root, {"ctflow.yaml": CONFIG, "triggers/ext.yaml": None, **(overrides or {})})
    declarations = load(root)
    found = desired_state(declarations, declarations.project.environments[env], today)
    return {d.key: d for d in found}


def test_every_campaign_and_journey_step_in_key_order(tmp_path: Path) -> None:
    write_project(tmp_path)
    declarations = load(tmp_path)
    found = desired_state(declarations, declarations.project.environments["production"], TODAY)

    assert [(d.key, d.journey, d.name) for d in found] == [
        ("onboarding.day2", "onboarding", "Onboarding: day2"),
        ("onboarding.welcome", "onboarding", "Onboarding: welcome"),
        ("winback", None, "We miss you"),
    ]
    assert all(d.enabled for d in found)


def test_the_name_carries_the_marker_and_the_hash_is_the_digest_of_the_spec(
    tmp_path: Path,
) -> None:
    winback = desired(tmp_path)["winback"]

    assert winback.hash == marker.digest(winback.spec)
    assert winback.spec["name"] == "We miss you"
    assert winback.payload["name"] == f"We miss you [ctflow:shop/winback@{winback.hash}]"
    assert marker.parse(winback.payload["name"]) == marker.Marker("shop", "winback", winback.hash)
    assert {k: v for k, v in winback.payload.items() if k not in ("name", "where")} == {
        k: v for k, v in winback.spec.items() if k not in ("name", "where")
    }


def test_templates_render_with_each_environments_variables(tmp_path: Path) -> None:
    production = desired(tmp_path)["winback"]
    staging = desired(tmp_path, env="staging")["winback"]

    assert production.payload["content"]["title"] == "Hello from Shop"
    assert staging.payload["content"]["title"] == "Hello from Shop Staging"
    assert staging.spec["content"]["title"] == "Hello from Shop Staging"
    assert staging.hash != production.hash


def test_an_environment_without_overrides_gets_the_same_version(tmp_path: Path) -> None:
    config = CONFIG.replace("  production:\n", "  eu:\n    region: eu1\n  production:\n")
    production = desired(tmp_path, {"ctflow.yaml": config})
    eu = desired(tmp_path, {"ctflow.yaml": config}, env="eu")

    assert {k: d.hash for k, d in eu.items()} == {k: d.hash for k, d in production.items()}


def test_liquid_personalisation_passes_through_untouched(tmp_path: Path) -> None:
    found = desired(tmp_path)

    assert found["winback"].payload["content"]["body"] == (
        "{{ Profile.Name | default: 'friend' }}, come back!"
    )
    assert found["onboarding.day2"].payload["content"]["body"] == (
        "Still thinking it over? {{ Profile.Name }}\n"
    )


def test_the_version_stays_from_day_to_day_while_the_sent_dates_move(tmp_path: Path) -> None:
    today = desired(tmp_path)["winback"]
    tomorrow = desired(tmp_path, today=date(2026, 11, 23))["winback"]

    assert tomorrow.hash == today.hash
    assert tomorrow.spec == today.spec
    assert today.spec["where"]["in_last_days"] == 90
    assert "from" not in today.spec["where"]
    assert (today.payload["where"]["from"], today.payload["where"]["to"]) == (20260825, 20261122)
    assert (tomorrow.payload["where"]["from"], tomorrow.payload["where"]["to"]) == (
        20260826,
        20261123,
    )
    assert tomorrow.payload["name"] == today.payload["name"]


def test_ownership_labels_come_first(tmp_path: Path) -> None:
    found = desired(tmp_path)
    welcome = found["onboarding.welcome"]

    assert found["winback"].payload["labels"] == ["ctflow", "ctflow:shop", "growth"]
    assert welcome.payload["labels"] == ["ctflow", "ctflow:shop", "growth", "onboarding"]
    assert welcome.spec["labels"] == welcome.payload["labels"]


def test_a_label_repeating_an_ownership_label_is_not_sent_twice(tmp_path: Path) -> None:
    campaign = BASE["campaigns/winback.yaml"] + "labels: [ctflow, promo]\n"
    found = desired(tmp_path, {"campaigns/winback.yaml": campaign})

    assert found["winback"].payload["labels"] == ["ctflow", "ctflow:shop", "growth", "promo"]


def test_a_body_file_is_read_into_the_body(tmp_path: Path) -> None:
    day2 = desired(tmp_path)["onboarding.day2"]

    assert day2.payload["content"] == {"body": "Still thinking it over? {{ Profile.Name }}\n"}
    assert day2.spec["content"] == day2.payload["content"]
    assert "body_file" not in repr(day2.payload)
    assert "body_file" not in repr(day2.spec)


def test_editing_a_body_file_changes_the_version(tmp_path: Path) -> None:
    before = desired(tmp_path)["onboarding.day2"]
    after = desired(tmp_path, {"journeys/day2.txt": "Still there, {{ Profile.Name }}?\n"})

    assert after["onboarding.day2"].hash != before.hash
    assert after["onboarding.welcome"].hash == desired(tmp_path)["onboarding.welcome"].hash


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (
            {"campaigns/winback.yaml": BASE["campaigns/winback.yaml"] + "enabled: false\n"},
            "winback",
        ),
        (
            {
                "journeys/onboarding.yaml": BASE["journeys/onboarding.yaml"].replace(
                    "anchor:", "enabled: false\nanchor:"
                )
            },
            "onboarding.welcome",
        ),
    ],
    ids=["campaign", "journey"],
)
def test_enabled_false_is_kept_and_does_not_change_the_version(
    tmp_path: Path, overrides: dict[str, str | None], key: str
) -> None:
    on = desired(tmp_path)[key]
    off = desired(tmp_path, overrides)[key]

    assert on.enabled
    assert not off.enabled
    assert off.hash == on.hash
    assert off.payload == on.payload


def test_the_payload_is_the_create_body_of_the_rendered_campaign(tmp_path: Path) -> None:
    """The body sent is what ``create_payload`` makes of the rendered campaign (windows fixed to
    today), though only the audience is compiled a second time."""
    from ctflow.plan.desired import _rendered, owner_labels
    from ctflow.problems import Problems
    from ctflow.spec.payload import create_payload

    write_project(tmp_path, {"ctflow.yaml": CONFIG, "triggers/ext.yaml": None})
    declarations = load(tmp_path)
    env = declarations.project.environments["production"]
    for want in desired_state(declarations, env, TODAY):
        data = _rendered(declarations.campaigns[want.key], declarations, env, Problems())
        assert data is not None
        expected = create_payload(
            data,
            labels=owner_labels("shop", ("growth",)),
            today=TODAY,
            account_timezone="Europe/Berlin",
            events=declarations.event_properties,
            profile=declarations.profile_properties,
        )
        expected["name"] = want.payload["name"]
        assert want.payload == expected
        assert list(want.payload) == list(expected)  # the same fields in the same order


@pytest.mark.parametrize(
    "when",
    [
        *("20270301 10:00", "20280229 23:59", "20270229 10:00", "20271301 10:00"),
        *("20270101 24:00", "20270101 10:60", "2027031 10:00", "20270301 9:05"),
        *("２０２７0301 10:00", "now"),
    ],
)
def test_the_start_is_read_as_strptime_reads_it(when: str) -> None:
    from datetime import datetime

    from ctflow.plan.desired import schedule_start
    from ctflow.spec.payload import SCHEDULE_FORMAT

    try:
        expected: datetime | None = datetime.strptime(when, SCHEDULE_FORMAT)
    except ValueError:
        expected = None
    assert schedule_start({"when": when}) == expected
