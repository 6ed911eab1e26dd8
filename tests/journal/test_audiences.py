"""The journal's audiences, against SQLite and PostgreSQL alike: the segment of each Audience,
and its members last applied, per environment, each batch all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctflow.journal import Holder, Journal, copy_journal
from tests.journal.support import Backend, clock, sqlite_backend


@pytest.fixture
def journal(backend: Backend) -> Iterator[Journal]:
    with backend.open(now=clock()) as opened:
        yield opened


def test_a_segment_is_remembered_per_environment_and_key(journal: Journal) -> None:
    assert journal.audience("prod", "vip") is None
    journal.record_audience("prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=7)
    journal.record_audience("prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=8)
    found = journal.audience("prod", "vip")
    assert found is not None
    assert (found["customer_segment_id"], found["ct_segment_id"]) == ("ctflow.shop.vip", 8)
    assert journal.audience("staging", "vip") is None
    assert journal.audiences("prod") == ["vip"]
    assert journal.audiences("staging") == []


def test_members_are_added_and_removed_batch_by_batch(journal: Journal) -> None:
    journal.record_members("prod", "vip", added=["identity:a", "identity:b"], removed=[])
    journal.record_members(
        "prod", "vip", added=["identity:c", "identity:a"], removed=["identity:b"]
    )
    journal.record_members("staging", "vip", added=["identity:z"], removed=[])
    assert journal.audience_members("prod", "vip") == {"identity:a", "identity:c"}
    assert journal.audience_members("staging", "vip") == {"identity:z"}
    assert journal.audience_members("prod", "other") == set()


def test_the_members_survive_a_reopen(backend: Backend) -> None:
    with backend.open() as first:
        first.record_members("prod", "vip", added=["identity:a"], removed=[])
    with backend.open() as second:
        assert second.audience_members("prod", "vip") == {"identity:a"}


def test_a_copy_into_postgresql_keeps_the_segments_and_members(
    tmp_path: Path, postgres_url: str
) -> None:
    laptop = sqlite_backend(tmp_path)
    with laptop.open() as journal:
        journal.record_audience(
            "prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=9
        )
        journal.record_members("prod", "vip", added=["identity:a", "identity:b"], removed=[])
        journal.pending_members("prod", "vip", added=["identity:c"], removed=[])
    shared = Backend("postgresql", postgres_url, tmp_path)
    holder = Holder(1, "ana", "laptop", "ctflow journal copy", "2026-05-01T09:00:00+00:00")
    source = tmp_path / ".ctflow" / "journal.db"

    copied = copy_journal(source, shared.location, project="shop", holder=holder)
    again = copy_journal(source, shared.location, project="shop", holder=holder)
    assert (copied.copied["audiences"], copied.copied["audience_members"]) == (1, 2)
    assert copied.copied["audience_pending"] == 1
    assert (again.already["audiences"], again.already["audience_members"]) == (1, 2)
    with shared.open() as journal:
        found = journal.audience("prod", "vip")
        assert found is not None
        assert found["ct_segment_id"] == 9
        assert journal.audience_members("prod", "vip") == {"identity:a", "identity:b"}
        assert journal.audience_pending("prod", "vip") == ({"identity:c"}, set())


def test_an_emptied_environment_forgets_its_audiences_only(journal: Journal) -> None:
    journal.record_audience(
        "sandbox", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=1
    )
    journal.record_members("sandbox", "vip", added=["identity:a"], removed=[])
    journal.record_audience("prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=2)
    journal.record_members("prod", "vip", added=["identity:b"], removed=[])

    assert journal.forget_environment_audiences("sandbox") == 1

    assert journal.audience("sandbox", "vip") is None
    assert journal.audience_members("sandbox", "vip") == set()
    assert journal.audience_members("prod", "vip") == {"identity:b"}


def test_a_batch_is_pending_until_recorded_and_then_applied(journal: Journal) -> None:
    journal.record_members("prod", "vip", added=["identity:a", "identity:b"], removed=[])
    journal.pending_members(
        "prod", "vip", added=["identity:c", "identity:d"], removed=["identity:a"]
    )
    assert journal.audience_pending("prod", "vip") == (
        {"identity:c", "identity:d"},
        {"identity:a"},
    )
    assert journal.audience_members("prod", "vip") == {"identity:a", "identity:b"}
    assert journal.audience_pending("staging", "vip") == (set(), set())

    # CleverTap took c and the removal of a; d was not in the account
    journal.record_members(
        "prod", "vip", added=["identity:c"], removed=["identity:a"], settled=["identity:d"]
    )
    assert journal.audience_pending("prod", "vip") == (set(), set())
    assert journal.audience_members("prod", "vip") == {"identity:b", "identity:c"}


def test_pending_members_survive_a_reopen_and_a_later_batch_turns_them(backend: Backend) -> None:
    with backend.open() as first:
        first.pending_members("prod", "vip", added=["identity:a"], removed=[])
    with backend.open() as second:
        assert second.audience_pending("prod", "vip") == ({"identity:a"}, set())
        second.pending_members("prod", "vip", added=[], removed=["identity:a"])
        assert second.audience_pending("prod", "vip") == (set(), {"identity:a"})
        assert second.forget_environment_audiences("prod") == 0
        assert second.audience_pending("prod", "vip") == (set(), set())


def test_a_segment_of_another_source_forgets_the_members_of_the_one_before(
    journal: Journal,
) -> None:
    journal.record_audience("prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=7)
    journal.record_members("prod", "vip", added=["identity:a"], removed=[])
    journal.pending_members("prod", "vip", added=["identity:b"], removed=[])
    journal.record_audience("prod", "vip", customer_segment_id="ctflow.shop.vip", ct_segment_id=8)
    assert journal.audience_members("prod", "vip") == {"identity:a"}, "the same segment id"

    journal.record_audience(
        "prod", "vip", customer_segment_id="custom_list:VIP", ct_segment_id=None
    )
    assert journal.audience_members("prod", "vip") == set()
    assert journal.audience_pending("prod", "vip") == (set(), set())
