"""The ownership marker in campaign names, and the live state read from one listing: status
words, the listing window, the fingerprint a saved plan is checked against."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import pytest

from ctflow.clevertap import CampaignSummary
from ctflow.plan import marker
from ctflow.plan.live import LiveState, from_summaries, normalise, scheduled_dates, window
from ctflow.plan.marker import Marker
from ctflow.plan.model import LiveRef, Status

SPAN = (date(2025, 1, 1), date(2028, 1, 1))

# --- marker -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("We miss you", "winback"),
        ("Onboarding: day 2", "onboarding.day2"),
        ("Sale [EU] [50%]", "sale_eu-2027"),
        ("", "x"),
    ],
)
def test_mark_parse_and_display_name_round_trip(name: str, key: str) -> None:
    marked = marker.mark(name, "shop", key, "0123abcd")

    assert marked == f"{name} [ctflow:shop/{key}@0123abcd]"
    assert marker.parse(marked) == Marker("shop", key, "0123abcd")
    assert marker.display_name(marked) == name


def test_trailing_whitespace_after_the_marker_is_tolerated() -> None:
    assert marker.parse("Hi [ctflow:shop/winback@0123abcd]  ") == Marker(
        "shop", "winback", "0123abcd"
    )


def test_only_the_marker_at_the_end_counts() -> None:
    name = "Copy of [ctflow:blog/promo@11111111] [ctflow:shop/promo@22222222]"

    assert marker.parse(name) == Marker("shop", "promo", "22222222")
    assert marker.display_name(name) == "Copy of [ctflow:blog/promo@11111111]"


@pytest.mark.parametrize(
    "name",
    [
        "We miss you",
        "We miss you [ctflow:shop/winback]",  # no hash
        "We miss you [ctflow:shop/winback@0123abc]",  # seven digits
        "We miss you [ctflow:shop/winback@0123ABCD]",  # upper-case hex
        "We miss you [ctflow:shop/winback@0123abcg]",  # not hex
        "We miss you [ctflow:winback@0123abcd]",  # no project
        "We miss you [ctflow:Shop/winback@0123abcd]",  # not a project name
        "We miss you [ctflow:shop/Winback@0123abcd]",  # not a key
        "We miss you [ctflow:shop/winback@0123abcd] (copy)",  # not at the end
        "We miss you (ctflow:shop/winback@0123abcd)",
        "We miss you [terraform:shop/winback@0123abcd]",
    ],
)
def test_a_marker_of_another_shape_is_not_ours(name: str) -> None:
    assert marker.parse(name) is None
    assert marker.display_name(name) == name


BODY: dict[str, Any] = {
    "name": "We miss you",
    "content": {"title": "Hi", "body": "Come back", "platform_specific": {"android": {}}},
    "labels": ["ctflow", "ctflow:shop"],
    "when": "20270105 10:00",
    "respect_frequency_caps": True,
    "users_limit_overall": 1,
}


def test_digest_is_eight_hex_digits_and_ignores_key_order() -> None:
    shuffled = {k: BODY[k] for k in reversed(list(BODY))}
    shuffled["content"] = {k: BODY["content"][k] for k in reversed(list(BODY["content"]))}

    assert len(marker.digest(BODY)) == 8
    assert int(marker.digest(BODY), 16) >= 0
    assert marker.digest(shuffled) == marker.digest(BODY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "We miss you!"),
        ("content", {"title": "Hi", "body": "Come back"}),
        ("content", {"title": "Hi", "body": "Come back ", "platform_specific": {"android": {}}}),
        ("labels", ["ctflow:shop", "ctflow"]),
        ("when", "20270105 10:01"),
        ("respect_frequency_caps", False),
        ("users_limit_overall", True),  # equal to 1 in Python, not in the create body
        ("users_limit_overall", 1.0),
        ("extra", None),
    ],
)
def test_digest_changes_with_any_value(field: str, value: Any) -> None:
    assert marker.digest({**BODY, field: value}) != marker.digest(BODY)


# --- status words -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"),
    [
        *((w, Status.PENDING) for w in ("pending", "scheduled", "waiting", "draft", "queued")),
        *((w, Status.RUNNING) for w in ("running", "live", "active", "in progress", "sending")),
        ("in_progress", Status.RUNNING),
        *((w, Status.COMPLETED) for w in ("completed", "complete", "finished", "sent", "done")),
        ("delivered", Status.COMPLETED),
        *((w, Status.STOPPED) for w in ("stopped", "cancelled", "canceled", "aborted")),
        *((w, Status.STOPPED) for w in ("deleted", "expired")),
        (" Pending ", Status.PENDING),
        ("STOPPED", Status.STOPPED),
    ],
)
def test_status_words_are_normalised(
    word: str, status: Status, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ctflow.plan"):
        assert normalise(word) is status
    assert caplog.records == []


@pytest.mark.parametrize("word", ["paused", "", "throttled"])
def test_an_unknown_status_is_read_as_running_with_a_warning(
    word: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ctflow.plan"):
        assert normalise(word) is Status.RUNNING

    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.name == "ctflow.plan"
    assert record.getMessage() == f"unknown campaign status {word!r}: treated as running"


# --- the listing window -------------------------------------------------------------------------


def test_window_reaches_two_years_back_and_ahead() -> None:
    assert window(date(2026, 11, 22)) == (date(2024, 11, 22), date(2028, 11, 21))


def test_window_stretches_to_a_far_declared_schedule() -> None:
    today = date(2026, 11, 22)

    assert window(today, [date(2027, 1, 5)]) == (date(2024, 11, 22), date(2028, 11, 21))
    assert window(today, [date(2027, 1, 5), date(2031, 3, 1)]) == (
        date(2024, 11, 22),
        date(2031, 3, 1),
    )


def test_window_stretches_back_to_an_old_declared_schedule() -> None:
    start, _ = window(date(2026, 11, 22), [date(2023, 6, 1)])

    assert start <= date(2023, 6, 1)


@pytest.mark.parametrize(
    ("when", "dates"),
    [
        ("20270105 10:00", [date(2027, 1, 5)]),
        ("now", []),
        (
            {
                "type": "recurring",
                "repeat_type": "week",
                "start_time": "20270110 09:00",
                "delivery_date_time": "20270110 09:00",
                "end_by_date": 20271231,
            },
            [date(2027, 1, 10)],
        ),
        ({"type": "recurring"}, []),
        ("20271345 10:00", []),  # not a date
        (None, []),
    ],
)
def test_scheduled_dates_read_each_form_of_when(when: Any, dates: list[date]) -> None:
    assert scheduled_dates([{"name": "x", "when": when}]) == dates


def test_scheduled_dates_of_several_bodies_keep_their_order() -> None:
    bodies = [{"when": "20280101 00:00"}, {"name": "no when"}, {"when": "20270105 10:00"}]

    assert scheduled_dates(bodies) == [date(2028, 1, 1), date(2027, 1, 5)]


# --- live state ---------------------------------------------------------------------------------


def summary(id: int, name: str, status: str = "pending", at: datetime | None = None) -> Any:
    return CampaignSummary(id=id, name=name, status=status, scheduled_on=at, labels=())


OURS = [
    summary(9, "Hi [ctflow:shop/winback@22222222]", "Running"),
    summary(3, "Hi [ctflow:shop/winback@11111111]", "stopped"),
    summary(5, "Day 2 [ctflow:shop/onboarding.day2@33333333]", "scheduled", datetime(2027, 1, 6)),
]
THEIRS = [
    summary(4, "Hi [ctflow:blog/winback@44444444]", "running"),
    summary(6, "Made in the dashboard", "running"),
]


def test_from_summaries_keeps_ours_by_key_oldest_first_and_counts_the_others() -> None:
    live = from_summaries([*OURS, *THEIRS], "shop", SPAN)

    assert live.window == SPAN
    assert live.others == 2
    assert live.by_key == {
        "winback": (
            LiveRef(3, "Hi [ctflow:shop/winback@11111111]", Status.STOPPED, "11111111"),
            LiveRef(9, "Hi [ctflow:shop/winback@22222222]", Status.RUNNING, "22222222"),
        ),
        "onboarding.day2": (
            LiveRef(
                5,
                "Day 2 [ctflow:shop/onboarding.day2@33333333]",
                Status.PENDING,
                "33333333",
                "2027-01-06T00:00:00",
            ),
        ),
    }
    assert [r.id for r in live.refs()] == [3, 9, 5]


def test_fingerprint_follows_our_campaigns_only() -> None:
    base = from_summaries([*OURS, *THEIRS], "shop", SPAN).fingerprint
    stopped = [summary(9, OURS[0].name, "stopped"), *OURS[1:], *THEIRS]
    added = [*OURS, summary(12, "New [ctflow:shop/promo@55555555]"), *THEIRS]
    gone = [*OURS[1:], *THEIRS]
    theirs_changed = [*OURS, summary(4, THEIRS[0].name, "stopped"), summary(7, "Another")]

    assert base.startswith("sha256:")
    assert from_summaries(stopped, "shop", SPAN).fingerprint != base
    assert from_summaries(added, "shop", SPAN).fingerprint != base
    assert from_summaries(gone, "shop", SPAN).fingerprint != base
    assert from_summaries(theirs_changed, "shop", SPAN).fingerprint == base
    assert from_summaries(list(reversed(OURS)), "shop", SPAN).fingerprint == base


def test_fingerprint_of_an_empty_account_is_stable() -> None:
    assert LiveState(window=SPAN).fingerprint == LiveState(window=SPAN, others=3).fingerprint
