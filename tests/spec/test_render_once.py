"""Campaigns render with the project's own values only, so a body shared by many campaigns is
rendered once per environment while a project is checked, and a failure is still reported at
every campaign that has it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ctflow.spec import templates, validate

CAMPAIGN = """\
kind: Campaign
key: c{n}
name: Campaign {n}
channel: push
audience:
  did: [{{event: App Launched, in_last: 30d}}]
content:
  title: "Deal {n}"
  body: "[% if env == 'production' %]hi[% endif %] [[ {bad} ]]"
  android: {{channel_id: deals}}
schedule: {{at: "2030-01-01 10:00"}}
---
"""


def _project(root: Path, campaigns: int, bad: str = "vars.brand") -> None:
    (root / "ctflow.yaml").write_text(
        "project: p\nvariables: {brand: Shop}\nenvironments:\n  production: {region: eu1}\n"
    )
    (root / "tracking.yaml").write_text("kind: EventSchema\nevent: App Launched\nversion: 1\n")
    text = "".join(CAMPAIGN.format(n=n, bad=bad) for n in range(campaigns))
    (root / "campaigns.yaml").write_text(text)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []
    real = templates.render

    def counting(source: str, *args: Any, **kwargs: Any) -> str:
        rendered.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(templates, "render", counting)
    return rendered


def test_a_shared_body_renders_once_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, 200)
    rendered = _counting(monkeypatch)
    result = validate.check(tmp_path)
    assert result.valid, result.problems
    bodies = [source for source in rendered if source.startswith("[% if")]
    assert len(bodies) == 2  # production and the built-in sandbox


def test_a_failure_is_reported_at_every_campaign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, 30, bad="vars.brand.x.y")
    result = validate.check(tmp_path)
    assert not result.valid
    lines = [str(problem) for problem in result.problems]
    failing = [line for line in lines if "does not render" in line or "brand" in line]
    assert len({line.split(":")[1] for line in failing}) == 30, lines[:5]


def test_a_text_not_naming_env_renders_once_where_the_variables_are_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production and the built-in sandbox share the project's variables: a title that only
    reads them renders once for both, and a text that names ``env`` still renders in each."""
    _project(tmp_path, 3)
    campaigns = tmp_path / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text().replace('"Deal ', '"[[ vars.brand ]] deal '))
    rendered = _counting(monkeypatch)
    assert validate.check(tmp_path).valid
    titles = sorted(s for s in rendered if s.startswith("[[ vars.brand ]] deal"))
    assert titles == [f"[[ vars.brand ]] deal {n}" for n in range(3)]
    assert len([s for s in rendered if s.startswith("[% if")]) == 2


def test_a_failure_in_one_environment_only_is_still_said_of_that_one(tmp_path: Path) -> None:
    _project(tmp_path, 1, bad="(1 // 0) if env == 'production' else ''")
    problems = [str(p) for p in validate.check(tmp_path).problems]
    assert len(problems) == 1, problems
    assert problems[0].endswith("in environment production"), problems


def test_variables_set_for_one_environment_render_there_with_its_value(tmp_path: Path) -> None:
    _project(tmp_path, 1, bad="vars.brand")
    config = tmp_path / "ctflow.yaml"
    config.write_text(
        config.read_text().replace("{region: eu1}", "{region: eu1, variables: {brand: 7}}")
    )
    (tmp_path / "campaigns.yaml").write_text(
        (tmp_path / "campaigns.yaml").read_text().replace('"Deal 0"', '"[[ vars.brand.upper() ]]"')
    )
    problems = [str(p) for p in validate.check(tmp_path).problems]
    assert any("in environment production" in p for p in problems), problems
    assert not any("in environment sandbox" in p for p in problems), problems


def test_variables_equal_to_python_but_not_to_jinja_are_not_alike(tmp_path: Path) -> None:
    """``1`` and ``1.0`` are equal in Python; ``range()`` takes only the first."""
    _project(tmp_path, 1)
    campaigns = tmp_path / "campaigns.yaml"  # a title that does not name env
    campaigns.write_text(campaigns.read_text().replace('"Deal 0"', '"[[ range(vars.n) | list ]]"'))
    config = tmp_path / "ctflow.yaml"
    config.write_text(
        "project: p\nvariables: {brand: Shop, n: 1}\nenvironments:\n"
        "  production: {region: eu1}\n  sandbox: {variables: {n: 1.0}}\n"
    )
    problems = [str(p) for p in validate.check(tmp_path).problems]
    assert len(problems) == 1, problems
    assert problems[0].endswith("in environment sandbox"), problems
