"""`ctflow campaigns list --all`: the account's other campaigns too — API-created ones without
this project's marker and, from the message report, those built in the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctflow.plan.marker import mark
from ctflow.sandbox import dashboard
from tests.reads.support import campaign, create, run, served_account

pytestmark = pytest.mark.loopback

OURS = mark("Win back lapsed buyers", "shop", "winback", "ab12cd34")
STARTED = datetime(2026, 11, 15, 6, 30, tzinfo=UTC)  # 12:00 in Asia/Kolkata


def test_all_adds_the_dashboard_built_campaigns_marked_as_not_ours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        ours = create(account.sandbox, campaign(OURS, when="20261121 10:00"))
        plain = create(account.sandbox, campaign("Diwali sale", when="20261122 08:15"))
        built = dashboard.DashboardCampaign(
            1700000201, "Black Friday push", "push", STARTED.timestamp()
        )
        dashboard.add(account.sandbox.store, built)
        window = ("campaigns", "list", "--from", "2026-11-01", "--to", "2026-11-30")

        code, out, _ = account.run(*window)
        assert code == 0
        assert "Black Friday push" not in out, "targets/list shows API-created ones only"

        code, out, err = account.run(*window, "--all")
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "ID          STATUS     BUILT      SCHEDULED (Asia/Kolkata)  KEY      NAME",
            "1700000201  completed  dashboard  2026-11-15 12:00          -        "
            "Black Friday push",
            f"{ours}  pending    api        2026-11-21 10:00          winback  "
            "Win back lapsed buyers",
            f"{plain}  pending    api        2026-11-22 08:15          -        Diwali sale",
            "3 campaigns scheduled 2026-11-01 to 2026-11-30 (environment 'local'): 2 API-created, "
            "1 built in the dashboard; 1 carries the marker of project shop (KEY is their "
            "resource key).",
        ]

        code, out, _ = account.run(*window, "--all", "--format", "json")
    assert code == 0
    rows = json.loads(out)["campaigns"]
    assert [(r["id"], r["source"], r["ours"], r["key"]) for r in rows] == [
        (1700000201, "dashboard", False, None),
        (ours, "api", True, "winback"),
        (plain, "api", False, None),
    ]
    assert rows[0]["status"] == "completed"
    asked = account.recorder.count("POST /1/message/report.json")
    assert asked == 2 * 3, "asked with --all only, in report's 14-day slices (14 + 14 + 2 days)"


def test_all_on_an_account_without_campaigns_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        code, out, _ = account.run("campaigns", "list", "--all")
    assert code == 0
    assert out.startswith("No campaigns scheduled ")


def test_the_seeded_sandbox_has_dashboard_built_campaigns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, tmp_path, "sandbox", "seed", "--profiles", "20")[0] == 0
    code, out, _ = run(capsys, tmp_path, "campaigns", "list", "--all", "--format", "json")
    assert code == 0
    rows = json.loads(out)["campaigns"]
    assert {(r["name"], r["source"], r["status"]) for r in rows} == {
        ("Diwali flash sale", "dashboard", "completed"),
        ("Weekly newsletter", "dashboard", "running"),
    }
    assert run(capsys, tmp_path, "sandbox", "seed", "--profiles", "20")[0] == 0
    _, again, _ = run(capsys, tmp_path, "campaigns", "list", "--all", "--format", "json")
    assert len(json.loads(again)["campaigns"]) == 2, "seeding again adds no second copy"


def test_the_seeded_dashboard_campaigns_are_the_same_in_the_list_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert run(capsys, tmp_path, "sandbox", "seed", "--profiles", "20")[0] == 0
    code, out, _ = run(capsys, tmp_path, "campaigns", "list", "--all", "--format", "json")
    assert code == 0
    listed = {(r["id"], r["name"], r["status"]) for r in json.loads(out)["campaigns"]}
    code, out, _ = run(capsys, tmp_path, "report", "--format", "json")
    assert code == 0
    reported = json.loads(out)["campaigns"]
    assert {(r["id"], r["name"], r["status"]) for r in reported} == listed
    assert len(reported) == 2, "each seeded campaign once"
    assert all(0 < r["figures"]["sent"] <= 20 for r in reported), "sent to the seeded users"


def test_all_misses_no_campaign_the_report_holds_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A message report answers at most so many campaigns a call: --all asks in the slices
    ``report`` does, halving one that holds some back, so every campaign is listed."""
    with served_account(tmp_path, capsys, message_report_max_results=1) as account:
        for days in (1, 4, 9):
            start = account.sandbox.clock.now() - timedelta(days=days)
            account.sandbox.add_dashboard_campaign(f"{days} days ago", start=start)
        code, out, err = account.run("campaigns", "list", "--all", "--format", "json")
    assert (code, err) == (0, "")
    names = [c["name"] for c in json.loads(out)["campaigns"] if c["source"] == "dashboard"]
    assert sorted(names) == ["1 days ago", "4 days ago", "9 days ago"]
