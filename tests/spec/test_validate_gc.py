"""Checking a project builds objects that all stay alive; the cyclic collector is paused while
it does (each collection would walk everything read so far again) and is as before after."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from ctflow.spec import validate

CAMPAIGN = """\
kind: Campaign
key: c{n}
name: Campaign {n}
channel: push
audience:
  did: [{{event: App Launched, in_last: 30d}}]
content: {{title: "Deal {n}", body: "Hello", android: {{channel_id: deals}}}}
schedule: {{at: "2030-01-01 10:00"}}
---
"""


def _project(root: Path) -> None:
    (root / "ctflow.yaml").write_text("project: p\n")
    (root / "tracking.yaml").write_text("kind: EventSchema\nevent: App Launched\nversion: 1\n")
    (root / "campaigns.yaml").write_text("".join(CAMPAIGN.format(n=n) for n in range(300)))


def test_the_collector_is_paused_while_a_project_is_read_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path)
    enabled: list[bool] = []
    original = validate.read_declarations

    def reading(*args: Any) -> Any:
        enabled.append(gc.isenabled())
        return original(*args)

    monkeypatch.setattr(validate, "read_declarations", reading)
    result = validate.check(tmp_path)
    assert result.valid, result.problems
    assert len(result.declarations.campaigns) == 300
    assert enabled == [False]
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off(tmp_path: Path) -> None:
    _project(tmp_path)
    gc.disable()
    try:
        assert validate.check(tmp_path).valid
        assert not gc.isenabled()
    finally:
        gc.enable()
