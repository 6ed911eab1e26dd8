"""When an Audience's apply fails, the campaigns on it are left alone (neither a create on a
part-filled segment nor a replace's stop), reported as not attempted; an Audience and a
campaign of one key keep their outcomes apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctflow.clevertap import ServerError, ValidationError
from ctflow.clevertap import client as clientmod
from ctflow.commands.outcome import Ended, to_dict
from ctflow.plan.apply import Outcome
from ctflow.plan.model import AudienceUpdate, Create, Plan
from ctflow.sandbox import Sandbox, SandboxConfig
from tests.contract.support import LoopbackServer
from tests.plan.support import cli_files, write_project
from tests.plan.test_audiences import (  # noqa: F401
    AUDIENCE,
    NEWSLETTER,
    members_csv,
    people,
    run,
    served,
)

Patch = pytest.MonkeyPatch
TZ = "Europe/Berlin"


def _refuse_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """updateSegment answers 503 after its first ``calls`` calls."""
    real = clientmod.CleverTap.update_segment
    made = {"n": 0}

    async def flaky(self: clientmod.CleverTap, *a: Any, **k: Any) -> Any:
        made["n"] += 1
        if made["n"] > calls:
            raise ServerError("POST /api/updateSegment: HTTP 503 (simulated)", status=503)
        return await real(self, *a, **k)

    monkeypatch.setattr(clientmod.CleverTap, "update_segment", flaky)


def test_a_campaign_on_an_audience_that_failed_part_way_is_not_created(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, sb, _ = request.getfixturevalue("served")
    _refuse_after(monkeypatch, 3)
    code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")
    assert code == 5, out + err
    [segment] = sb.segments()
    assert 0 < segment["members"] < 3000, "the audience stopped part-way"
    assert sb.campaigns() == [], "no campaign reaches a part of its audience"
    assert "  ! vip-offer: not attempted: audience vip failed" in out
    assert "  ✗ audience vip: POST /api/updateSegment: HTTP 503 (simulated)" in out


def test_the_json_outcome_says_why_and_what_the_failed_audience_sent(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, _sb, _ = request.getfixturevalue("served")
    _refuse_after(monkeypatch, 3)
    _code, out, _ = run(
        capsys, root, "apply", "--env", "served", "--auto-approve", "--format", "json"
    )
    doc = json.loads(out[out.index("{") :])
    changes = {(c["action"], c["key"]): c for c in doc["changes"]}
    audience, campaign = changes["audience", "vip"], changes["create", "vip-offer"]
    assert audience["outcome"] == "failed"
    assert audience["members"] == {"added": 300, "removed": 0}, "what was sent before it failed"
    assert campaign["outcome"] == "not_attempted"
    assert campaign["why"] == "not attempted: audience vip failed"
    assert campaign["errors"] == []
    assert campaign["created"] == []
    assert (doc["summary"]["failed"], doc["summary"]["not_attempted"]) == (1, 1)


def test_a_replace_onto_an_audience_whose_segment_is_refused_stops_nothing(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, sb, _ = request.getfixturevalue("served")
    path = root / "campaigns" / "vip-offer.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("audience: vip", "audience: everyone"), encoding="utf-8")
    (root / "audiences" / "vip.yaml").unlink()
    code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")
    assert code == 0, out + err
    [before] = sb.campaigns()

    (root / "audiences" / "vip.yaml").write_text(AUDIENCE, encoding="utf-8")
    path.write_text(text, encoding="utf-8")

    async def refuse(self: clientmod.CleverTap, *a: Any, **k: Any) -> Any:
        raise ValidationError("POST /api/createSegment: not enabled (simulated)", status=400)

    monkeypatch.setattr(clientmod.CleverTap, "create_segment", refuse)
    code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")
    assert code == 3, out + err
    [after] = sb.campaigns()
    assert (after["id"], after["status"]) == (before["id"], "pending"), "the live one still runs"
    assert "  ! vip-offer: not attempted: audience vip failed" in out
    assert "0 stopped" in out
    assert "--target vip" not in out + err


def test_an_audience_and_a_campaign_of_one_key_keep_their_outcomes_apart() -> None:
    plan = Plan(
        project="shop",
        environment="sandbox",
        sandbox=True,
        created_at="2026-12-07T00:00:00+00:00",
        window=("2026-12-01", "2026-12-31"),
        fingerprint="f",
        changes=(
            AudienceUpdate(
                key="vip",
                name="VIP",
                reason="r",
                hash="h",
                segment="s",
                new_segment=True,
                members=2,
            ),
            Create(key="vip", name="VIP offer", reason="r", hash="h"),
        ),
    )
    outcome = Outcome(
        created=[("vip", 7)], audience_failures=[("vip", "HTTP 503", 5)], uploads_done=True
    )
    outcome.audience_sent["vip"] = (100, 0)
    doc = to_dict(Ended("apply", plan, outcome, (), outcome.exit_code, "text"))
    audience, campaign = doc["changes"]
    assert (audience["outcome"], audience["created"], audience["members"]) == (
        "failed",
        [],
        {"added": 100, "removed": 0},
    )
    assert (campaign["outcome"], campaign["errors"], campaign["created"]) == ("done", [], [7])


def test_a_custom_list_whose_urls_expire_fails_alone_not_as_credentials(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sb = Sandbox(db=":memory:", config=SandboxConfig(timezone=TZ, custom_list_url_seconds=-1))
    people(sb, 10)
    with LoopbackServer(sb) as server:
        root = write_project(
            tmp_path / "shop",
            {
                **cli_files(),
                "audiences/news.yaml": NEWSLETTER,
                "data/news.csv": members_csv(["u-1"]),
                "ctflow.yaml": (
                    f"project: shop\ntimezone: {TZ}\nenvironments:\n"
                    f"  served: {{base_url: {server.base_url}}}\n"
                ),
            },
        )
        code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")
    sb.close()
    assert code == 5, out + err
    assert "  ✗ audience news: PUT (presigned URL): 403 twice" in out
    assert "1 created" in out
    assert "1 failed" in out
    assert "credentials" not in out + err


def test_ctrl_c_among_the_membership_batches_says_how_far_the_audiences_got(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, _sb, _ = request.getfixturevalue("served")
    real = clientmod.CleverTap.update_segment
    made = {"n": 0}

    async def interrupted(self: clientmod.CleverTap, *a: Any, **k: Any) -> Any:
        made["n"] += 1
        if made["n"] == 2:
            raise KeyboardInterrupt
        return await real(self, *a, **k)

    monkeypatch.setattr(clientmod.CleverTap, "update_segment", interrupted)
    code, out, err = run(capsys, root, "apply", "--env", "served", "--auto-approve")
    assert code == 130, out + err
    assert "interrupted after 0 of 1 audience(s), 0 stop(s) and 0 create(s)" in err
    assert "sends the members not recorded" in err
