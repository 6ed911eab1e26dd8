"""`ctflow report --from --to`: every campaign's figures in a window through the message report,
dashboard-built ones included, ours marked with their key; and one campaign's in every format."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from ctflow.clevertap import MessageReport, MessageReportRow
from ctflow.commands.performance import Window, fetch, slices
from ctflow.plan.marker import mark
from tests.reads.support import NOW, campaign, create, fill, served_account

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "reads.md"

pytestmark = pytest.mark.loopback

OURS = mark("Win back lapsed buyers", "shop", "winback", "ab12cd34")
THEIRS = mark("Their welcome", "blog", "welcome", "0011aa22")
WINDOW = ("--from", "2026-11-01", "--to", "2026-11-20")


def test_window_lists_every_campaign_with_its_figures_ours_by_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        ours = create(account.sandbox, campaign(OURS))
        theirs = create(account.sandbox, campaign(THEIRS))
        dashboard = account.sandbox.add_dashboard_campaign(
            "Diwali sale", channel="sms", start=NOW - timedelta(days=3), sent=1200
        )
        later = create(account.sandbox, campaign("Next month", when="20261201 10:00"))
        account.sandbox.clock.advance(hours=1)
        code, text, err = account.run("report", *WINDOW)
        assert (code, err) == (0, "")
        code, out, _ = account.run("report", *WINDOW, "--format", "json")
        assert code == 0
        report = json.loads(out)
        code, out, _ = account.run("report", *WINDOW, "--format", "csv")
        assert code == 0
        table = list(csv.reader(io.StringIO(out)))

    assert later not in {c["id"] for c in report["campaigns"]}  # starts after the window
    by_id = {c["id"]: c for c in report["campaigns"]}
    assert list(by_id) == [dashboard, ours, theirs]  # by start
    assert report["figures"] == ["sent", "viewed", "clicked", "errors"]
    mine = by_id[ours]
    assert (mine["ours"], mine["key"], mine["display_name"]) == (
        True,
        "winback",
        "Win back lapsed buyers",
    )
    assert mine["figures"]["sent"] == 6  # the six buyers have an e-mail address
    assert (by_id[theirs]["key"], by_id[theirs]["marker"]) == (None, "blog/welcome@0011aa22")
    built = by_id[dashboard]
    assert (built["ours"], built["channel"], built["status"]) == (False, "sms", "completed")
    assert built["figures"]["sent"] == 1200
    assert built["start_date"] == "2026-11-17T14:30"  # the account's time (Asia/Kolkata)

    assert text.splitlines()[0].split() == [
        "ID",
        "STARTED",
        "(Asia/Kolkata)",
        "CHANNEL",
        "STATUS",
        "KEY",
        "NAME",
        "SENT",
        "VIEWED",
        "CLICKED",
        "ERRORS",
    ]
    mine_line = next(line for line in text.splitlines() if line.startswith(str(ours)))
    assert "winback  Win back lapsed buyers" in mine_line
    assert text.splitlines()[-1] == (
        "3 campaigns starting 2026-11-01 to 2026-11-20 (environment 'local'); 1 carries the marker "
        "of project shop (KEY is their resource key), 2 were built elsewhere (the dashboard, "
        "another project)."
    )

    assert table[0] == [
        "id",
        "start_date",
        "channel",
        "status",
        "key",
        "name",
        "sent",
        "viewed",
        "clicked",
        "errors",
    ]
    rows = {row[0]: row for row in table[1:]}
    assert rows[str(ours)][4:7] == ["winback", "Win back lapsed buyers", "6"]
    assert rows[str(dashboard)][1:7] == [
        "2026-11-17T14:30",
        "sms",
        "completed",
        "",
        "Diwali sale",
        "1200",
    ]


def test_a_label_narrows_the_window_to_the_campaigns_carrying_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        labelled = create(account.sandbox, {**campaign(OURS), "labels": ["ctflow:shop"]})
        create(account.sandbox, campaign(THEIRS))
        code, out, _ = account.run("report", *WINDOW, "--label", "ctflow:shop", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert [c["id"] for c in report["campaigns"]] == [labelled]
    assert report["labels"] == ["ctflow:shop"]


def test_a_long_window_is_asked_in_slices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        account.sandbox.add_dashboard_campaign("Early", start=NOW - timedelta(days=40))
        account.sandbox.add_dashboard_campaign("Late", start=NOW - timedelta(days=1))
        code, out, _ = account.run(
            "report", "--from", "2026-10-01", "--to", "2026-11-20", "--format", "json"
        )
        calls = account.recorder.count("POST /1/message/report.json")
    assert code == 0
    assert [c["name"] for c in json.loads(out)["campaigns"]] == ["Early", "Late"]
    assert calls == 4  # 51 days: 14 + 14 + 14 + 9


def test_a_slice_that_holds_campaigns_back_is_halved_until_all_are_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys, message_report_max_results=1) as account:
        for days in (1, 4, 9):
            account.sandbox.add_dashboard_campaign(f"{days} days ago", start=NOW - timedelta(days))
        code, out, err = account.run(
            "report", "--from", "2026-11-07", "--to", "2026-11-20", "--format", "json"
        )
        account.sandbox.add_dashboard_campaign("Same day", start=NOW - timedelta(days=1))
        code_again, _, err_again = account.run(
            "report", "--from", "2026-11-07", "--to", "2026-11-20", "--format", "json"
        )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert [c["name"] for c in report["campaigns"]] == ["9 days ago", "4 days ago", "1 days ago"]
    assert report["complete"] is True
    assert code_again == 0
    assert err_again == (
        "ctflow: CleverTap answered 1 of the 2 campaigns started on 2026-11-19; the others are "
        "missing from this list (narrow it with --label)\n"
    )


@dataclass
class Answers:
    """A client whose message report answers ``rows`` for every window, and remembers them."""

    rows: list[MessageReportRow]
    asked: list[tuple[date, date]] = field(default_factory=list)

    async def message_report_window(
        self, first: date, last: date, *, label: list[str] | None = None
    ) -> MessageReport:
        self.asked.append((first, last))
        return MessageReport(self.rows, len(self.rows))


def test_a_campaign_in_several_slices_is_reported_once() -> None:
    row = MessageReportRow.from_api({"message id": 7, "message_name": "Recurring", "sent": 3})
    client = Answers([row])
    fetched = asyncio.run(fetch(client, Window(date(2026, 1, 1), date(2026, 2, 20))))  # type: ignore[arg-type]
    assert [r.message_id for r in fetched.rows] == [7]
    assert sorted(client.asked) == slices(date(2026, 1, 1), date(2026, 2, 20))
    assert slices(date(2026, 1, 1), date(2026, 2, 20)) == [
        (date(2026, 1, 1), date(2026, 1, 14)),
        (date(2026, 1, 15), date(2026, 1, 28)),
        (date(2026, 1, 29), date(2026, 2, 11)),
        (date(2026, 2, 12), date(2026, 2, 20)),
    ]


def test_one_campaigns_report_as_csv_and_a_window_with_an_id_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        campaign_id = create(account.sandbox, campaign(OURS))
        account.sandbox.clock.advance(hours=1)
        code, out, err = account.run("report", str(campaign_id), "--format", "csv")
        assert (code, err) == (0, "")
        refused = account.run("report", str(campaign_id), "--from", "2026-11-01")
    lines = out.splitlines()
    assert lines[:2] == ["metric,value", "sent,6"]
    assert lines[2].startswith("clicked,")
    code, out, err = refused
    assert (code, out) == (64, "")
    assert "not both" in err


def test_the_campaign_keys_the_guide_tables_are_the_real_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        account.sandbox.add_dashboard_campaign("Flash sale", start=NOW - timedelta(days=1))
        code, out, _ = account.run("report", "--format", "json")
    assert code == 0
    [entry] = json.loads(out)["campaigns"]
    section = GUIDE.read_text(encoding="utf-8").split("## `ctflow report --from --to`", 1)[1]
    section = section.split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
    assert documented == entry.keys()
