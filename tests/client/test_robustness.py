"""Whatever CleverTap (or a proxy in front of it) answers, parsing neither crashes nor hangs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ctflow.clevertap import CampaignSummary, CleverTapError, UploadResult, error_from_response
from ctflow.clevertap.models import parse_schedule

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.integers(min_value=100, max_value=599),
    st.binary(max_size=64) | JSON.map(json.dumps).map(str.encode),
)
@settings(max_examples=200)
def test_error_mapping_is_total(status: int, body: bytes) -> None:
    error = error_from_response(status, body, endpoint="POST /1/upload")
    assert error is None or isinstance(error, CleverTapError)
    if status >= 400:
        assert error is not None
        assert str(error).startswith("POST /1/upload: ")


@given(JSON)
def test_schedule_parsing_never_crashes(value: Any) -> None:
    assert parse_schedule(value) is None or isinstance(parse_schedule(value), datetime)


@given(st.dictionaries(st.sampled_from(["id", "name", "status", "scheduled_on", "labels"]), JSON))
def test_campaign_entries_of_any_shape_parse_or_are_skipped(item: dict[str, Any]) -> None:
    summary = CampaignSummary.from_api(item)
    assert summary is None or summary.raw == item


@given(st.dictionaries(st.sampled_from(["status", "processed", "unprocessed"]), JSON))
def test_upload_answers_of_any_shape_parse(doc: dict[str, Any]) -> None:
    result = UploadResult.from_api(doc)
    assert isinstance(result.processed, int)
    assert all(isinstance(u.error, str) for u in result.unprocessed)


def test_a_superscript_digit_is_not_a_number() -> None:
    """``"²".isdigit()`` is true, yet ``int("²")`` fails: a campaign id of "²" is skipped."""
    assert CampaignSummary.from_api({"id": "²", "name": "x", "status": "pending"}) is None
