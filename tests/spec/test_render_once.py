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
