"""`ctflow campaigns list` and `ctflow report` against the sandbox, through the real CLI."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ctflow.plan.marker import mark
from tests.reads.support import (
    campaign,
    create,
    fill,
    local_sandbox,
    run,
    served_account,
)

pytestmark = pytest.mark.loopback

OURS = mark("Win back lapsed buyers", "shop", "winback", "ab12cd34")
THEIRS = mark("Their welcome", "blog", "welcome", "0011aa22")


@pytest.mark.parametrize("schedule_format", ["yyyymmddhhmm", "epoch"])
def test_list_marks_this_projects_campaigns_with_their_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], schedule_format: str
) -> None:
    with served_account(tmp_path, capsys, list_scheduled_format=schedule_format) as account:
        ours = create(account.sandbox, campaign(OURS, when="20261121 10:00"))
        theirs = create(account.sandbox, campaign(THEIRS, when="20261121 11:00"))
        plain = create(account.sandbox, campaign("Diwali sale", when="20261122 08:15"))
        code, out, err = account.run(
            "campaigns", "list", "--from", "2026-11-01", "--to", "2026-11-30"
        )
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "ID          STATUS   SCHEDULED (Asia/Kolkata)  KEY      NAME",
            f"{ours}  pending  2026-11-21 10:00          winback  Win back lapsed buyers",
            f"{theirs}  pending  2026-11-21 11:00          -        {THEIRS}",
            f"{plain}  pending  2026-11-22 08:15          -        Diwali sale",
            "3 campaigns scheduled 2026-11-01 to 2026-11-30 (environment 'local'); 1 carries the "
            "marker of project shop (KEY is their resource key).",
        ]

        code, out, _ = account.run(
            "campaigns", "list", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"
        )
    assert code == 0
    listing = json.loads(out)
    assert {k: listing[k] for k in ("environment", "project", "from", "to")} == {
        "environment": "local",
        "project": "shop",
        "from": "2026-11-01",
        "to": "2026-11-30",
    }
    first, second, third = listing["campaigns"]
    assert first == {
        "id": ours,
        "name": OURS,
        "display_name": "Win back lapsed buyers",
        "status": "pending",
        "scheduled_on": "2026-11-21T10:00",
        "ours": True,
        "key": "winback",
        "marker": "shop/winback@ab12cd34",
    }
    assert (second["ours"], second["key"], second["marker"]) == (
        False,
        None,
        "blog/welcome@0011aa22",
    )
    assert (third["ours"], third["key"], third["marker"]) == (False, None, None)


def test_list_window_is_inclusive_and_leaves_out_other_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        create(account.sandbox, campaign(OURS, when="20261121 10:00"))
        code, out, _ = account.run(
            "campaigns", "list", "--from", "2026-11-22", "--to", "2026-11-30"
        )
        assert code == 0
        assert out == (
            "No API-created campaigns scheduled 2026-11-22 to 2026-11-30 (environment 'local').\n"
        )
        code, out, _ = account.run(
            "campaigns", "list", "--from", "2026-11-21", "--to", "2026-11-21"
        )
        assert code == 0
        assert "winback" in out


def test_list_defaults_to_30_days_back_and_a_year_ahead_of_the_default_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = local_sandbox(tmp_path)
    try:
        today = sandbox.clock.now().date()
        create(
            sandbox,
            campaign(mark("Flash sale", tmp_path.name, "flash", "00ff00ff"), day=today),
        )
    finally:
        sandbox.close()
    code, out, err = run(capsys, tmp_path, "campaigns", "list", "--format", "json")
    assert (code, err) == (0, "")
    listing = json.loads(out)
    assert listing["environment"] == "sandbox"
    assert (listing["from"], listing["to"]) == (
        (today - timedelta(days=30)).isoformat(),
        (today + timedelta(days=365)).isoformat(),
    )
    [only] = listing["campaigns"]
    assert (only["display_name"], only["ours"], only["key"]) == ("Flash sale", True, "flash")
    assert listing["project"] == tmp_path.name  # no ctflow.yaml: the directory names the project


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--from", "2026-11-30", "--to", "2026-11-01"), "--from 2026-11-30 is after --to"),
        (("--from", "30/11/2026"), "'30/11/2026' does not match the format '%Y-%m-%d'"),
    ],
)
def test_list_refuses_a_bad_window_as_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, tmp_path, "campaigns", "list", *argv)
    assert (code, out) == (64, "")
    assert message in err


def test_report_of_a_completed_campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        campaign_id = create(account.sandbox, campaign(OURS))
        code, out, err = account.run("report", str(campaign_id))
        assert (code, out) == (3, "")
        assert err == (
            f"ctflow: campaign {campaign_id} has not completed yet (environment 'local'): "
            "CleverTap reports a campaign once it has finished sending; `ctflow campaigns list` "
            "shows its status\n"
        )
        account.sandbox.clock.advance(hours=1)
        code, out, err = account.run("report", str(campaign_id))
        assert (code, err) == (0, "")
        text = out
        code, out, _ = account.run("report", str(campaign_id), "--format", "json")
    report = json.loads(out)
    sent, clicked = report["metrics"]["sent"], report["metrics"]["clicked"]
    assert report == {
        "environment": "local",
        "id": campaign_id,
        "metrics": {"sent": sent, "clicked": clicked},
    }
    assert sent == 6  # the six buyers have an e-mail address
    assert text.splitlines() == [
        f"Campaign {campaign_id} (environment 'local')",
        "METRIC   VALUE",
        f"sent     {sent:>5}",
        f"clicked  {clicked:>5}",
    ]


def test_report_of_an_unknown_campaign_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, tmp_path, "report", "123")
    assert (code, out) == (3, "")
    assert "Invalid campaign id: 123 not found" in err


def test_wrong_passcode_exits_4_and_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        account.environ = {**account.environ, "CLEVERTAP_PASSCODE": "not-the-passcode"}
        code, out, err = account.run("campaigns", "list")
    assert (code, out) == (4, "")
    assert "not-the-passcode" not in err
    assert "Passcode Invalid" in err


class Terminal(io.StringIO):
    """Standard output as a terminal (rich draws the table), kept for the test to read."""

    def isatty(self) -> bool:
        return True


def test_list_on_an_80_column_terminal_keeps_every_key_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """KEY is what people copy into `--target` and `--replace`: the names wrap instead."""
    keys = ["onboarding-2027-01.welcome", "cart-sale-2027-01.push"]
    long_name = "Onboarding January 2027: the day-2 email to the customers who did not buy yet"
    with served_account(tmp_path, capsys) as account:
        ids = [
            create(account.sandbox, campaign(mark(long_name, "shop", key, "ab12cd34"), when=w))
            for key, w in zip(keys, ["20261121 10:00", "20261121 11:00"], strict=True)
        ]
        screen = Terminal()
        monkeypatch.setattr(sys, "stdout", screen)
        monkeypatch.setenv("COLUMNS", "80")
        code, _, err = account.run(
            "campaigns", "list", "--from", "2026-11-01", "--to", "2026-11-30"
        )
    assert (code, err) == (0, "")
    lines = [
        re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in screen.getvalue().splitlines()
    ]
    table = lines[: lines.index(next(line for line in lines if "campaigns scheduled" in line))]
    assert max(len(line) for line in table) <= 80
    for campaign_id, key in zip(ids, keys, strict=True):
        (row,) = [line for line in lines if line.startswith(str(campaign_id))]
        assert " 2026-11-21 1" in row
        assert f" {key} " in row
    assert sum("Onboarding" in line for line in table) == 2  # the names wrapped, not cut
    assert " ".join(table).split().count("yet") == 2  # to their last word
    assert "…" not in "".join(table)
