"""Typed results parsed from documented, recorded and historical CleverTap bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ctflow.clevertap import (
    CampaignSummary,
    Estimates,
    MessageReportRow,
    RealtimeCounts,
    Schema,
    UploadResult,
)
from ctflow.clevertap.models import parse_schedule

PARTIAL_2018 = {
    "status": "partial",
    "processed": 1,
    "unprocessed": [
        {
            "status": "fail",
            "code": 515,
            "error": "Profile data is incorrect. Email is not valid.Skipped record number : 2",
            "record": {"identity": "42", "type": "profile", "profileData": {"Email": "x"}},
        }
    ],
}

# 2017: top-level "success" with nothing processed, record echoed as a JSON string
VARIANT_2017 = {
    "status": "success",
    "processed": 0,
    "unprocessed": [
        {
            "status": "fail",
            "code": 514,
            "error": "Profile data is incorrect. Gender needs to be M/F.Skipped record number : 1",
            "record": json.dumps({"identity": "7", "profileData": {"Gender": "X"}}),
        }
    ],
}


def test_partial_upload_names_the_failed_record_by_its_1_based_number() -> None:
    result = UploadResult.from_api(PARTIAL_2018)
    assert not result.ok
    assert result.processed == 1
    (failed,) = result.unprocessed
    assert failed.record_number == 2
    assert failed.code == 515
    assert failed.reason == "Profile data is incorrect. Email is not valid."
    assert failed.record["profileData"] == {"Email": "x"}


def test_2017_success_with_unprocessed_records_is_not_ok() -> None:
    result = UploadResult.from_api(VARIANT_2017)
    assert result.status == "success"
    assert not result.ok
    (failed,) = result.unprocessed
    assert failed.record_number == 1
    assert failed.record == {"identity": "7", "profileData": {"Gender": "X"}}


def test_all_good_upload_is_ok() -> None:
    result = UploadResult.from_api({"status": "success", "processed": 3, "unprocessed": []})
    assert result.ok
    assert result.processed == 3


def test_record_number_with_space_variant_and_missing_suffix() -> None:
    result = UploadResult.from_api(
        {
            "status": "fail",
            "processed": 0,
            "unprocessed": [
                {"code": 523, "error": "'identity' … under 120 chars. Skipped record number : 13"},
                {"code": 555, "error": "miscellaneous", "record": "not json"},
            ],
        }
    )
    assert [u.record_number for u in result.unprocessed] == [13, None]
    assert result.unprocessed[1].record == "not json"


def test_estimates_total_is_the_sum_over_devices() -> None:
    estimates = Estimates.from_api({"android": 10, "ios": 30, "windows": 5})
    assert estimates.by_device == {"android": 10, "ios": 30, "windows": 5}
    assert estimates.total == 45
    assert Estimates.from_api({}).total == 0  # skip_estimate answers {}
    assert Estimates.from_api(None).by_device == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (202601151030, datetime(2026, 1, 15, 10, 30)),
        ("202601151030", datetime(2026, 1, 15, 10, 30)),
        ("20260115 10:30", datetime(2026, 1, 15, 10, 30)),
        (1768473000, datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        (1768473000000, datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        (20260115, datetime(2026, 1, 15)),
        ("2026-01-15T10:30:00+00:00", datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        (None, None),
        (True, None),
        ("next tuesday", None),
        (209913991399, None),  # 12 digits that are no valid wall-clock time
        ({"weird": 1}, None),
    ],
)
def test_scheduled_on_shapes(raw: Any, expected: datetime | None) -> None:
    assert parse_schedule(raw) == expected


def test_campaign_summary_keeps_raw_and_tolerates_unknown_shapes() -> None:
    item = {"id": "1457433898", "name": "Welcome [ctflow:p/k@abcd1234]", "status": "pending"}
    summary = CampaignSummary.from_api({**item, "scheduled_on": "soon", "labels": ["ctflow"]})
    assert summary is not None
    assert summary.id == 1457433898
    assert summary.scheduled_on is None
    assert summary.raw["scheduled_on"] == "soon"
    assert summary.labels == ("ctflow",)
    assert CampaignSummary.from_api({"name": "no id"}) is None


def test_message_report_row_reads_the_key_with_a_space() -> None:
    row = MessageReportRow.from_api(
        {
            "message id": 1700000001,
            "message_name": "Welcome",
            "start_date": "15 Jan, 2026 10:30:00",
            "channel": "push",
        }
    )
    assert row.message_id == 1700000001
    assert row.name == "Welcome"
    assert row.start_date == datetime(2026, 1, 15, 10, 30)


def test_realtime_counts_split_breakdowns_from_totals() -> None:
    counts = RealtimeCounts.from_api(
        {
            "status": "success",
            "count": 214,
            "last_processed_ts": 1486536600,
            "user_type": {"new": 20, "repeat": 194},
        }
    )
    assert counts.count == 214
    assert counts.last_processed_ts == 1486536600
    assert counts.breakdowns == {"user_type": {"new": 20, "repeat": 194}}


def test_realtime_counts_read_the_full_samples_nesting() -> None:
    """sample_now_response_full.json, abridged: ``new`` holds the new users' breakdowns."""
    counts = RealtimeCounts.from_api(
        {
            "status": "success",
            "count": 214,
            "os": {"others": 2, "android": 196, "ios": 35},
            "device": {"desktop": 32, "mobile": 230, "tablet": 1},
            "new": {
                "os": {"others": 0, "android": 67, "ios": 2},
                "device": {"desktop": 18, "mobile": 68, "tablet": 1},
            },
            "last_processed_ts": 1486536600,
        }
    )
    assert counts.breakdowns == {
        "os": {"others": 2, "android": 196, "ios": 35},
        "device": {"desktop": 32, "mobile": 230, "tablet": 1},
    }
    assert counts.new_users == {
        "os": {"others": 0, "android": 67, "ios": 2},
        "device": {"desktop": 18, "mobile": 68, "tablet": 1},
    }


def test_realtime_counts_tolerate_flat_capitalised_and_odd_breakdowns() -> None:
    counts = RealtimeCounts.from_api(
        {
            "status": "success",
            "count": "7",
            "device": {"Mobile": 5, "mobile": 1, "Desktop": 1, "tablet": "n/a"},
            "new": {"new": 2, "repeat": 5},
            "browser": "unavailable",
            "message": "ok",
        }
    )
    assert counts.count == 7
    assert counts.breakdowns == {
        "device": {"mobile": 6, "desktop": 1},
        "new": {"new": 2, "repeat": 5},
    }
    assert counts.new_users == {}
    assert counts.raw["browser"] == "unavailable"


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"status": "success", "events": [{"name": "Charged"}, {"name": "App Launched"}]}, None),
        ({"status": "success", "data": {"Charged": {}, "App Launched": {}}}, None),
        ({"status": "success", "events": ["Charged", "App Launched"]}, None),
        ({"status": "success", "something": "else"}, []),
    ],
)
def test_schema_event_names_tolerate_several_shapes(raw: Any, names: list[str] | None) -> None:
    expected = ["App Launched", "Charged"] if names is None else names
    assert Schema(raw=raw).event_names() == expected
