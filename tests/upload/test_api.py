"""``ctflow.upload_records``: the engine for code (a Spark partition, an Airflow task). A prefix
names a partition, so a retried partition sends nothing twice; ledgers are pluggable; records
are checked against a project's schemas; rejects come back or go to a file; it works from inside
a running event loop and against an account given directly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import ctflow
from ctflow.errors import CtflowError, InvalidInput
from ctflow.sandbox import DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, Sandbox
from ctflow.upload.api import UploadIncomplete
from tests.upload.support import (
    Calls,
    Served,
    event,
    events,
    file_sandbox,
    numbers,
    once,
    profile,
    write_project,
)

TRACKING = """\
kind: EventSchema
event: Product Viewed
version: 1
strict: true
properties:
  n: {type: integer, required: true}
"""


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project without schemas; the working directory is elsewhere, so only ``project=``
    finds it."""
    monkeypatch.chdir(tmp_path)
    return write_project(tmp_path / "shop")


def stored(root: Path) -> Any:
    sb = file_sandbox(root)
    try:
        return numbers(sb)
    finally:
        sb.close()


@pytest.fixture(params=["memory", "journal", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield ctflow.MemoryLedger()
        return
    where = tmp_path / "ledger.db"
    if request.param == "postgresql":
        where = request.getfixturevalue("postgres_url")
    with ctflow.JournalLedger.open(where, "sandbox") as journal:
        yield journal


def test_the_same_prefix_twice_sends_nothing_the_second_time(shop: Path, ledger: Any) -> None:
    first = ctflow.upload_records(
        events(2500), batch_id_prefix="part-0", ledger=ledger, project=shop
    )
    assert (first.accepted, first.already_uploaded, first.ok) == (2500, 0, True)

    retried = ctflow.upload_records(
        events(2500), batch_id_prefix="part-0", ledger=ledger, project=shop
    )
    assert (retried.accepted, retried.already_uploaded, retried.ok) == (0, 2500, True)
    assert stored(shop) == {n: 1 for n in range(1, 2501)}

    other = ctflow.upload_records(
        events(2500), batch_id_prefix="part-1", ledger=ledger, project=shop
    )
    assert other.accepted == 2500, "another prefix is another partition"
    assert stored(shop) == {n: 2 for n in range(1, 2501)}


def test_a_journal_ledger_file_is_shared_by_later_workers(shop: Path, tmp_path: Path) -> None:
    with ctflow.JournalLedger.open(tmp_path / "shared.db", "sandbox") as first:
        ctflow.upload_records(events(1500), batch_id_prefix="p", ledger=first, project=shop)
    with ctflow.JournalLedger.open(tmp_path / "shared.db", "sandbox") as second:
        again = ctflow.upload_records(
            events(1500), batch_id_prefix="p", ledger=second, project=shop
        )
        assert second.states("p:") == {"p:0": "accepted", "p:1": "accepted"}
    assert again.accepted == 0
    assert again.already_uploaded == 1500
    assert stored(shop) == {n: 1 for n in range(1, 1501)}


def test_without_a_ledger_the_projects_journal_remembers(shop: Path) -> None:
    ctflow.upload_records(events(1200), batch_id_prefix="nightly", project=shop)
    again = ctflow.upload_records(events(1200), batch_id_prefix="nightly", project=shop)
    assert again.accepted == 0
    assert again.already_uploaded == 1200
    assert stored(shop) == {n: 1 for n in range(1, 1201)}


class FileLedger:
    """A ledger of one's own, as a team would keep on shared storage: a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.log: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def states(self, prefix: str) -> Mapping[str, str]:
        return {k: v for k, v in self._read().items() if k.startswith(prefix)}

    def record(self, batch_id: str, state: str, records: int, detail: Mapping[str, Any]) -> None:
        with self._lock:
            data = self._read()
            data[batch_id] = state
            self.path.write_text(json.dumps(data))
            self.log.append((batch_id, state))

    def forget(self, prefix: str) -> int:
        with self._lock:
            data = self._read()
            kept = {k: v for k, v in data.items() if not k.startswith(prefix)}
            self.path.write_text(json.dumps(kept))
            return len(data) - len(kept)


def test_a_ledger_of_ones_own_is_used_through_the_protocol(shop: Path, tmp_path: Path) -> None:
    mine = FileLedger(tmp_path / "ledger.json")
    assert isinstance(mine, ctflow.Ledger)
    ctflow.upload_records(events(2100), batch_id_prefix="day-7", ledger=mine, project=shop)

    assert mine.states("day-7:") == dict.fromkeys(("day-7:0", "day-7:1", "day-7:2"), "accepted")
    for batch in ("day-7:0", "day-7:1", "day-7:2"):
        steps = [state for seen, state in mine.log if seen == batch]
        assert steps == ["sending", "accepted"], "marked before the call, settled after it"

    again = ctflow.upload_records(
        events(2100), batch_id_prefix="day-7", ledger=FileLedger(mine.path), project=shop
    )
    assert again.accepted == 0
    assert again.already_uploaded == 2100
    assert stored(shop) == {n: 1 for n in range(1, 2101)}


def test_records_are_checked_against_the_projects_schemas(shop: Path) -> None:
    (shop / "tracking.yaml").write_text(TRACKING)
    records = events(5)
    records[1] = event(2, colour="red")  # strict: an undeclared property
    records[3] = {**event(4), "evtData": {"n": "four"}}
    records[4] = event(5, name="Mystery Event")  # not declared
    summary = ctflow.upload_records(records, batch_id_prefix="checked", project=shop)

    assert (summary.accepted, summary.rejected_locally, summary.exit_code) == (2, 3, 3)
    assert [(r.line, r.by) for r in summary.rejects] == [
        (2, "ctflow"),
        (4, "ctflow"),
        (5, "ctflow"),
    ], "a record's number in the order given stands for its line"
    assert "'colour' is not a declared property" in summary.rejects[0].reason
    assert "'Mystery Event' is not declared" in summary.rejects[2].reason
    assert stored(shop) == {1: 1, 3: 1}


def test_a_project_directory_without_ctflow_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no ctflow\.yaml in"):
        ctflow.upload_records(events(1), batch_id_prefix="x", project=tmp_path)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"batch_id_prefix": "a:b"}, "batch_id_prefix must be a non-empty name without ':'"),
        ({"batch_id_prefix": ""}, "batch_id_prefix must be a non-empty name"),
        ({"batch_id_prefix": "p", "kind": "event"}, "kind must be one of"),
    ],
)
def test_arguments_that_would_break_resuming_are_refused(
    shop: Path, arguments: dict[str, Any], says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        ctflow.upload_records(events(1), project=shop, **arguments)
    assert not (shop / ".ctflow" / "sandbox.db").exists()


def test_rejects_come_back_in_the_summary_or_go_to_the_dead_letter_file(
    shop: Path, tmp_path: Path
) -> None:
    people = [
        profile("p-1", Name="Asha"),
        profile("p-2", Gender="X"),  # ctflow's rule
        profile("p-3", Age=200),  # CleverTap's: code 520
        profile("p-4", Name="Ravi"),
    ]
    summary = ctflow.upload_records(people, kind="profiles", batch_id_prefix="a", project=shop)
    assert (summary.accepted, summary.rejected_locally, summary.rejected_by_clevertap) == (2, 1, 1)
    assert sorted((r.line, r.by, r.code) for r in summary.rejects) == [
        (2, "ctflow", None),
        (3, "clevertap", 520),
    ]
    assert not summary.ok
    assert summary.exit_code == 3
    summary.raise_for_status()  # every record was answered for: retrying would not help

    dead = tmp_path / "dead" / "people.jsonl"
    to_file = ctflow.upload_records(
        people, kind="profiles", batch_id_prefix="b", project=shop, dead_letter=dead
    )
    assert to_file.rejects == ()
    lines = [json.loads(line) for line in dead.read_text().splitlines()]
    assert sorted((d["line"], d["rejected_by"], d["code"]) for d in lines) == [
        (2, "ctflow", None),
        (3, "clevertap", 520),
    ]
    assert {d["file"] for d in lines} == {None}, "records from code have no file"


async def test_it_works_from_inside_a_running_event_loop(shop: Path) -> None:
    summary = ctflow.upload_records(events(1500), batch_id_prefix="nb", project=shop)
    assert summary.accepted == 1500
    assert summary.ok
    assert stored(shop) == {n: 1 for n in range(1, 1501)}


@pytest.mark.loopback
def test_an_account_given_directly_over_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: tuple[Sandbox, Calls, Served]
) -> None:
    monkeypatch.chdir(tmp_path)  # no ctflow.yaml anywhere: nothing but the account
    sb, _, server = served
    account = ctflow.Account(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, base_url=server.base_url)
    assert DEFAULT_PASSCODE not in repr(account)

    summary = ctflow.upload_records(events(2000), env=account, batch_id_prefix="w1")
    assert summary.accepted == 2000
    assert summary.ok
    assert once(sb, range(1, 2001))
    assert not (tmp_path / ".ctflow").exists(), "no project: nothing written locally"

    wrong = ctflow.Account(DEFAULT_ACCOUNT_ID, "not-it-123", base_url=server.base_url)
    with pytest.raises(CtflowError) as caught:
        ctflow.upload_records(events(10, start=9001), env=wrong, batch_id_prefix="w2")
    assert caught.value.exit_code == 4
    assert "not-it-123" not in str(caught.value)
    assert once(sb, range(1, 2001))


@pytest.mark.loopback
def test_a_lost_answer_raises_for_status_and_resend_ambiguous_sends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: tuple[Sandbox, Calls, Served]
) -> None:
    monkeypatch.chdir(tmp_path)
    sb, calls, server = served
    account = ctflow.Account(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, base_url=server.base_url)
    ledger = ctflow.MemoryLedger()
    sb.faults.drop_next = 1

    summary = ctflow.upload_records(
        events(2000), env=account, batch_id_prefix="p", ledger=ledger, concurrency=1
    )
    assert [b.id for b in summary.ambiguous_batches] == ["p:0"]
    assert (summary.ok, summary.exit_code) == (False, 6)
    with pytest.raises(UploadIncomplete) as caught:
        summary.raise_for_status()
    assert caught.value.exit_code == 6
    assert caught.value.summary is summary
    assert len(calls.statuses) == 2, "the unanswered batch was not sent again"

    resent = ctflow.upload_records(
        events(2000), env=account, batch_id_prefix="p", ledger=ledger, resend_ambiguous=True
    )
    resent.raise_for_status()
    assert resent.accepted == 1000
    assert resent.already_uploaded == 1000
    copies = numbers(sb)
    assert {n for n, c in copies.items() if c == 2} == set(range(1, 1001)), "as asked"


@pytest.mark.loopback
def test_workers_in_threads_share_the_account_and_deliver_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: tuple[Sandbox, Calls, Served]
) -> None:
    """Two tasks of 3 calls each, as two Spark executors would, against an account that takes
    4 at once: some calls draw a 429, are sent again, and every record arrives once."""
    monkeypatch.chdir(tmp_path)
    sb, calls, server = served
    sb.config.limits["upload"] = 4
    sb.faults.latency_ms = 300
    account = ctflow.Account(DEFAULT_ACCOUNT_ID, DEFAULT_PASSCODE, base_url=server.base_url)
    ledger = ctflow.MemoryLedger()
    results: dict[int, Any] = {}

    def worker(part: int) -> None:
        records = events(6000, start=part * 100_000 + 1)
        results[part] = ctflow.upload_records(
            records, env=account, batch_id_prefix=f"part-{part}", ledger=ledger, concurrency=3
        )

    threads = [threading.Thread(target=worker, args=(part,)) for part in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(results[part].ok for part in (0, 1))
    assert 429 in calls.statuses, "together they asked for more than the account takes"
    assert sum(results[part].retried for part in (0, 1)) == calls.statuses.count(429)
    assert once(sb, [*range(1, 6001), *range(100_001, 106_001)])


def test_the_callers_records_are_left_as_they_were(shop: Path) -> None:
    """Preparing converts dates in place; the records handed in (any Mapping) stay as given."""
    from collections import OrderedDict

    (shop / "tracking.yaml").write_text(
        "kind: EventSchema\nevent: Booked\nversion: 1\nproperties:\n  On: date\n"
    )
    data = OrderedDict(On="2026-01-05")
    record = {"identity": "C1", "ts": 1767225600, "evtName": "Booked", "evtData": data}
    summary = ctflow.upload_records([record], batch_id_prefix="own", project=shop)
    assert summary.accepted == 1
    assert record["evtData"] is data
    assert data == {"On": "2026-01-05"}
    assert "type" not in record
