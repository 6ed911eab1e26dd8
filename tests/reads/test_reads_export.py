"""`ctflow export`: cursor pages streamed to JSON lines, the all-or-nothing output file, the
summary, and an export that fails half way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stamina

from tests.reads.support import BUYERS, CUSTOMERS, PLATINUM, fill, run, served_account

WINDOW = ("--from", "2026-11-13", "--to", "2026-11-20")
pytestmark = pytest.mark.loopback


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_export_across_many_pages_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        code, out, err = account.run(
            "export", "profiles", "-o", "all.jsonl", "--batch-size", "5", "--format", "json"
        )
        pages = account.recorder.count("GET /1/profiles.json?cursor=")
    assert code == 0, err
    assert pages == 3  # 12 profiles, 5 a page
    records = lines(tmp_path / "all.jsonl")
    assert sorted(r["identity"] for r in records) == [f"c-{n:02d}" for n in range(CUSTOMERS)]
    assert [p.name for p in tmp_path.iterdir() if "all.jsonl" in p.name] == ["all.jsonl"]
    summary = json.loads(out)
    assert summary["elapsed_seconds"] >= 0
    del summary["elapsed_seconds"]
    assert summary == {
        "environment": "local",
        "kind": "profiles",
        "records": CUSTOMERS,
        "output": str(tmp_path / "all.jsonl"),
        "query": {},
    }
    assert err.startswith(f"ctflow: exported {CUSTOMERS} profiles to {tmp_path / 'all.jsonl'} in ")


def test_events_to_stdout_one_record_a_line_summary_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "platinum.yaml").write_text(
        "common_profile_properties:\n"
        "  profile_fields: [{name: Customer Type, operator: equals, value: Platinum}]\n"
    )
    with served_account(tmp_path, capsys) as account:
        fill(account.sandbox)
        code, out, err = account.run(
            "export",
            "events",
            "--event",
            "Charged",
            *WINDOW,
            "--batch-size",
            "2",
            "--format",
            "json",
        )
        assert code == 0
        records = [json.loads(line) for line in out.splitlines()]  # no summary among them
        assert len(records) == BUYERS
        assert {r["event_props"]["Amount"] for r in records} == {100 + n for n in range(0, 12, 2)}
        [summary] = err.splitlines()
        assert summary.startswith(f"ctflow: exported {BUYERS} events to stdout in ")

        code, out, _ = account.run(
            "export", "events", "--where", "platinum.yaml", "--event", "Charged", *WINDOW
        )
        assert code == 0
        platinum_buyers = [f"c-{n:02d}" for n in range(PLATINUM) if n % 2 == 0]
        assert sorted(json.loads(x)["profile"]["identity"] for x in out.splitlines()) == (
            platinum_buyers
        )


def test_a_500_on_a_page_is_asked_again_and_the_export_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page is safe to ask twice; one 500 used to fail the whole export."""
    with served_account(tmp_path, capsys) as account, stamina.set_testing(True, attempts=2):
        fill(account.sandbox)
        recorder = account.recorder
        recorder.fail_on, recorder.fail_from, recorder.fail_times = "GET /1/events.json", 2, 1
        code, _, err = account.run(
            "export", "events", "--event", "Charged", *WINDOW, "--batch-size", "2", "-o", "b.jsonl"
        )
        pages = recorder.count("GET /1/events.json?cursor=")
    assert code == 0, err
    assert pages == 4, "three pages of two buyers, the second asked twice"
    assert len(lines(tmp_path / "b.jsonl")) == BUYERS


def test_a_failed_export_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "buyers.jsonl").write_text('{"from": "yesterday\'s complete export"}\n')
    with served_account(tmp_path, capsys) as account, stamina.set_testing(True, attempts=3):
        fill(account.sandbox)
        account.recorder.fail_on, account.recorder.fail_from = "GET /1/events.json", 2
        code, out, err = account.run(
            "export",
            "events",
            "--event",
            "Charged",
            *WINDOW,
            "--batch-size",
            "2",
            "-o",
            "buyers.jsonl",
        )
        asked = account.recorder.count("GET /1/events.json?cursor=")
    assert asked == 4, "the first page, then the failing one until the 3 attempts were spent"
    assert (code, out) == (5, "")
    assert "GET /1/events.json" in err
    assert "HTTP 500" in err
    assert (tmp_path / "buyers.jsonl").read_text() == '{"from": "yesterday\'s complete export"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["buyers.jsonl", "ctflow.yaml"]


def test_export_of_events_needs_an_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, tmp_path, "export", "events", *WINDOW)
    assert (code, out) == (64, "")
    assert "events need --event NAME" in err
    assert not (tmp_path / ".ctflow").exists()  # refused before connecting
