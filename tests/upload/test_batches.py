"""Rows into batches (ctflow/upload/batches.py) and a file into a job (ctflow/upload/job.py):
every row lands exactly once, as a record to send or a reject with its line and reason; batch
ids depend on the file's content and the mapping only; settled batches are not read again.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctflow.errors import InvalidInput
from ctflow.spec.types import Property
from ctflow.spec.validate import load
from ctflow.upload.batches import Batch, Preparer, Reject, Skipped, make_batches
from ctflow.upload.job import file_job, schemas_of
from ctflow.upload.ledger import DONE
from ctflow.upload.rules import RECORD_TYPE, Kind, Rules, Schemas
from ctflow.upload.shape import DatasetMapping, Shaper
from ctflow.upload.sources import Row, Unreadable, chunked

UTC = ZoneInfo("UTC")
TS = 1767225600
PREFIX = "events:0123456789abcdef"
SOURCE = "data/events.jsonl"
STATES = ["sending", "accepted", "ambiguous", "failed", "settled"]


def prepare(kind: Kind = "events", schemas: Schemas | None = None) -> Preparer:
    schemas = schemas or Schemas()
    return Preparer(Shaper(kind, schemas, UTC, None), Rules(kind, schemas))


def batched(
    rows: list[tuple[int | None, Row]],
    *,
    size: int = 3,
    kind: Kind = "events",
    states: dict[str, str] | None = None,
    preparer: Preparer | None = None,
) -> list[Batch | Skipped]:
    return list(
        make_batches(
            chunked(rows, size),
            prefix=PREFIX,
            prepare=preparer or prepare(kind),
            states=states or {},
            source=SOURCE,
        )
    )


def sent(batch: Batch | Skipped) -> Batch:
    assert isinstance(batch, Batch)
    return batch


def good(n: int) -> dict[str, Any]:
    return {"identity": f"C{n}", "ts": TS, "evtName": "Page Viewed", "evtData": {"n": n}}


def numbered(records: list[Row]) -> list[tuple[int | None, Row]]:
    return list(enumerate(records, start=1))


# -- grouping --------------------------------------------------------------------------------


def test_batch_i_covers_rows_i_times_size_and_is_named_prefix_colon_i() -> None:
    out = batched(numbered([good(n) for n in range(7)]), size=3)
    assert [(b.id, b.rows) for b in out] == [
        (f"{PREFIX}:0", 3),
        (f"{PREFIX}:1", 3),
        (f"{PREFIX}:2", 1),
    ]
    assert [(sent(b).first_line, sent(b).last_line, sent(b).lines) for b in out] == [
        (1, 3, [1, 2, 3]),
        (4, 6, [4, 5, 6]),
        (7, 7, [7]),
    ]


def test_no_rows_no_batches() -> None:
    assert batched([]) == []


def test_batches_count_rows_valid_or_not() -> None:
    rows = numbered([good(1), {"ts": 0}, Unreadable("not a JSON object", "[]"), good(4)])
    first, second = batched(rows, size=3)
    assert (first.rows, second.rows) == (3, 1)
    assert (sent(first).lines, sent(second).lines) == ([1], [4])


def test_records_are_the_shaped_rows_and_the_body_is_clevertap_upload_json() -> None:
    [batch] = batched(numbered([good(1), good(2)]))
    assert sent(batch).records == [{**good(1), "type": "event"}, {**good(2), "type": "event"}]
    assert orjson.loads(sent(batch).body) == {"d": sent(batch).records}


def test_batches_waiting_to_be_sent_hold_what_they_send_as_bytes_not_as_records() -> None:
    """The engine keeps a few dozen batches queued and in flight: each holds its encoded body,
    and the records it was made of are freed at once, while the CPU's caches still hold them."""

    def rows() -> Iterator[tuple[int | None, Row]]:  # read one at a time, as from a file
        for n in range(1, 20_001):
            props = {"n": n, "Product": f"Trail Runner {n:05d}", "Price": n / 4}
            yield n, {**good(n), "evtData": props}

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        held = list(
            make_batches(
                chunked(rows(), 1000), prefix=PREFIX, prepare=prepare(), states={}, source=SOURCE
            )
        )
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    bodies = sum(len(sent(batch).body) for batch in held)
    assert sum(sent(batch).count for batch in held) == 20_000
    # the bodies (orjson's buffers are a little larger than the bytes in them) and the lines;
    # the records would take about six times the bodies
    assert grown < 3 * bodies, f"{grown:,} bytes held for {bodies:,} bytes to send"


def test_invalid_and_unreadable_rows_are_rejected_with_line_and_reason() -> None:
    invalid = {"identity": "C2", "ts": 0, "evtName": "Page Viewed"}
    rows = [(10, good(1)), (11, invalid), (14, Unreadable("not a JSON object", "[1]"))]
    [batch] = batched(rows)
    ident = f"{PREFIX}:0"
    assert sent(batch).lines == [10]
    assert sent(batch).rejects == [
        Reject(SOURCE, 11, ident, "ts: 0 is not a time in epoch seconds", invalid),
        Reject(SOURCE, 14, ident, "not a JSON object", "[1]"),
    ]
    assert sent(batch).rejects[0].to_json() == {
        "file": SOURCE,
        "line": 11,
        "batch": ident,
        "rejected_by": "ctflow",
        "code": None,
        "reason": "ts: 0 is not a time in epoch seconds",
        "record": invalid,
    }


def test_batch_without_a_valid_row_has_nothing_to_send() -> None:
    [batch] = batched(numbered([{"ts": 0}, Unreadable("not JSON: x", "x")]))
    assert (sent(batch).records, sent(batch).body) == ([], b"")
    assert [r.line for r in sent(batch).rejects] == [1, 2]


def test_record_that_cannot_be_encoded_is_rejected_and_the_rest_still_goes() -> None:
    huge = {**good(2), "evtData": {"n": 2**70}}  # valid by the rules, beyond JSON's 64 bits
    [batch] = batched(numbered([good(1), huge, good(3)]))
    assert sent(batch).lines == [1, 3]
    assert orjson.loads(sent(batch).body) == {"d": [{**good(n), "type": "event"} for n in (1, 3)]}
    [reject] = sent(batch).rejects
    assert (reject.line, reject.batch) == (2, f"{PREFIX}:0")
    assert reject.reason.startswith("cannot be encoded as JSON: ")


def test_event_row_in_a_profile_upload_is_rejected() -> None:
    row = {"identity": "C1", "type": "event", "evtName": "Charged", "evtData": {"Amount": 5}}
    [batch] = batched([(1, row)], kind="profiles")
    assert sent(batch).records == []
    [reject] = sent(batch).rejects
    assert reject.reason == "type is 'event', but this is an upload of profiles"


@pytest.mark.parametrize("kind", ["events", "profiles", "tokens"])
def test_row_with_a_null_type_is_not_sent_with_it(kind: Kind) -> None:
    rows: dict[str, dict[str, Any]] = {
        "events": {"identity": "C1", "evtName": "Charged", "evtData": {}},
        "profiles": {"identity": "C1", "profileData": {"Name": "Ana"}},
        "tokens": {"objectId": "__g1", "tokenData": {"id": "t", "type": "fcm"}},
    }
    [batch] = batched([(1, {**rows[kind], "type": None})], kind=kind)
    assert len(sent(batch).records) + len(sent(batch).rejects) == 1
    assert [r["type"] for r in sent(batch).records] in ([], [RECORD_TYPE[kind]])


@pytest.mark.parametrize(
    ("kind", "row"),
    [
        pytest.param(
            "events",
            {"identity": "", "evtName": "Points Earned", "evtData": {"Since": "2026-01-01"}},
        ),
        pytest.param("events", {"identity": "C1", "ts": "2026-01-01", "evtName": "App Launched"}),
        pytest.param("profiles", {"identity": "", "profileData": {"Since": "2026-01-01"}}),
        pytest.param("profiles", {"identity": "", "ts": 5, "profileData": {"Name": "Ana"}}),
    ],
)
def test_rejected_row_is_kept_as_read_for_the_dead_letter_file(
    kind: Kind, row: dict[str, Any]
) -> None:
    since = {"Since": Property("Since", "date")}
    schemas = Schemas(events={"Points Earned": since}, profile=since)
    as_read = copy.deepcopy(row)
    [batch] = batched([(1, row)], kind=kind, preparer=prepare(kind, schemas))
    [reject] = sent(batch).rejects
    assert reject.record == as_read


# -- batches settled earlier -----------------------------------------------------------------


class _UntouchableGates(dict[Any, Any]):
    def __missing__(self, name: Any) -> Any:
        raise AssertionError("a settled batch went through the gate")


class Untouchable:
    """A shaper and rules that fail the test if a settled batch is read."""

    kind = "events"
    type = "event"
    mapping = None
    event_dates: ClassVar[dict[str, Any]] = {}
    known_dates: ClassVar[dict[Any, Any]] = {}
    row_gates = _UntouchableGates()

    def clevertap_date(self, value: Any) -> Any:
        raise AssertionError("a settled batch's dates were read")

    def shape(self, row: Any, text_cells: bool = False) -> Any:
        raise AssertionError("a settled batch was shaped")

    def problem(self, record: Any) -> Any:
        raise AssertionError("a settled batch was checked")


def test_accepted_and_settled_batches_are_skipped_without_checking_a_row() -> None:
    stub = Untouchable()
    preparer = Preparer(stub, stub)  # type: ignore[arg-type]
    states = {f"{PREFIX}:0": "accepted", f"{PREFIX}:1": "settled"}
    out = batched(numbered([good(n) for n in range(5)]), states=states, preparer=preparer)
    assert out == [
        Skipped(0, f"{PREFIX}:0", 3, "accepted"),
        Skipped(1, f"{PREFIX}:1", 2, "settled"),
    ]


@pytest.mark.parametrize("state", ["sending", "ambiguous", "failed"])
def test_batches_not_settled_are_prepared_again(state: str) -> None:
    [batch] = batched(numbered([good(1)]), states={f"{PREFIX}:0": state})
    assert sent(batch).lines == [1]


def test_states_of_other_prefixes_do_not_skip() -> None:
    [batch] = batched(numbered([good(1)]), states={"events:ffffffffffffffff:0": "accepted"})
    assert isinstance(batch, Batch)


# -- whether a batch may be sent twice ---------------------------------------------------------


def profile(data: dict[str, Any]) -> dict[str, Any]:
    return {"identity": "C1", "profileData": data}


@pytest.mark.parametrize(
    ("kind", "records", "repeatable"),
    [
        pytest.param("events", [good(1)], False, id="events"),
        pytest.param("profiles", [profile({"Name": "Ana"})], True, id="profiles"),
        pytest.param("profiles", [profile({"Tags": {"$add": ["vip"]}})], True, id="add"),
        pytest.param(
            "profiles",
            [profile({"Name": "Ana"}), profile({"Visits": {"$incr": 1}})],
            False,
            id="incr",
        ),
        pytest.param("profiles", [profile({"Visits": {"$decr": 1}})], False, id="decr"),
        pytest.param(
            "profiles",
            [profile({"Name": "Ana"}), {"ts": 0, "profileData": {"Visits": {"$incr": 1}}}],
            True,
            id="rejected-incr-is-not-sent",
        ),
        pytest.param(
            "tokens",
            [{"objectId": "__g1", "tokenData": {"id": "t", "type": "fcm"}}],
            True,
            id="tokens",
        ),
    ],
)
def test_batch_is_repeatable_for_upserts_without_increments(
    kind: Kind, records: list[Row], repeatable: bool
) -> None:
    [batch] = batched(numbered(records), kind=kind, size=10)
    assert sent(batch).records, "the batch has something to send"
    assert sent(batch).repeatable is repeatable


# -- lossless batching -----------------------------------------------------------------------

ROW_KINDS: dict[str, Any] = {
    "valid": st.builds(good, st.integers(0, 10**6)),
    "invalid": st.sampled_from(
        [
            {"ts": TS, "evtName": "Page Viewed"},
            {"identity": "C1", "ts": 0, "evtName": "Page Viewed"},
            {"identity": "C1", "evtName": "App Launched"},
            {"identity": "C1", "evtName": "E", "evtData": {"k": "€" * 200}},
            {"identity": "C1", "evtName": ["not", "hashable"]},
        ]
    ),
    "unreadable": st.builds(
        Unreadable, st.sampled_from(["not a JSON object", "not JSON"]), st.text()
    ),
    "unencodable": st.builds(lambda n: {**good(n), "evtData": {"n": 2**64 + n}}, st.integers(0, 9)),
}


@st.composite
def row_streams(draw: st.DrawFn) -> list[tuple[int, str, Row]]:
    kinds = draw(st.lists(st.sampled_from(sorted(ROW_KINDS)), max_size=30))
    line = 0
    stream = []
    for kind in kinds:
        line += draw(st.integers(1, 3))  # blank lines and multi-line cells leave gaps
        stream.append((line, kind, draw(ROW_KINDS[kind])))
    return stream


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    stream=row_streams(),
    size=st.integers(1, 7),
    settled=st.dictionaries(st.integers(0, 8), st.sampled_from(STATES), max_size=4),
)
def test_every_row_lands_exactly_once(
    stream: list[tuple[int, str, Row]], size: int, settled: dict[int, str]
) -> None:
    states = {f"{PREFIX}:{index}": state for index, state in settled.items()}
    out = batched([(line, row) for line, _, row in stream], size=size, states=states)
    assert [b.index for b in out] == list(range(-(-len(stream) // size)))
    for batch in out:
        chunk = stream[batch.index * size : (batch.index + 1) * size]
        assert (batch.id, batch.rows) == (f"{PREFIX}:{batch.index}", len(chunk))
        state = states.get(batch.id)
        if state in DONE:
            assert batch == Skipped(batch.index, batch.id, len(chunk), state)  # type: ignore[arg-type]
            continue
        batch = sent(batch)
        assert (batch.first_line, batch.last_line) == (chunk[0][0], chunk[-1][0])
        records = dict(zip(batch.lines, batch.records, strict=True))
        rejects = {r.line: r for r in batch.rejects}
        assert len(records) + len(rejects) == len(batch.lines) + len(batch.rejects) == len(chunk)
        for line, kind, row in chunk:
            if kind == "valid":
                assert records[line] == {**row, "type": "event"}  # type: ignore[dict-item]
            else:
                reject = rejects[line]
                assert (reject.source, reject.batch, reject.by) == (SOURCE, batch.id, "ctflow")
                assert reject.reason
                if kind == "invalid":
                    assert reject.record == row  # as read, for the dead-letter file
                elif kind == "unreadable":
                    assert reject.record == row.text  # type: ignore[union-attr]
        body = orjson.loads(batch.body) if batch.body else {"d": []}
        assert body == {"d": batch.records}


# -- a file as a job: job.file_job -----------------------------------------------------------

PROJECT = {
    "ctflow.yaml": "project: x\ntimezone: Asia/Kolkata\nexclude: ['data/**']\n",
    "tracking.yaml": """\
kind: EventSchema
event: Points Earned
version: 1
properties:
  Points: {type: integer, required: true}
  Reason: string
---
kind: ProfileSchema
key: customers
properties:
  Name: string
""",
    "datasets.yaml": """\
kind: Dataset
key: points
type: events
description: Loyalty backfill
file: data/points.csv
event: Points Earned
identity: customer_id
timestamp: earned_at
columns: {pts: Points}
---
kind: Dataset
key: people
type: profiles
file: data/people.jsonl
identity: cid
""",
    "data/points.csv": "customer_id,earned_at,pts,Reason\nC1,2026-01-04 11:42,250,review\n",
    "data/people.jsonl": '{"cid": "C1", "Name": "Ana"}\n',
    "data/native.jsonl": (
        '{"identity": "C1", "evtName": "Points Earned", "evtData": {"Points": 1}}\n'
    ),
}


def write_project(root: Path, changes: dict[str, str] | None = None) -> Path:
    for name, text in {**PROJECT, **(changes or {})}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop")


def prefix_of(root: Path, name: str, kind: Kind = "events") -> str:
    return file_job(root / name, kind, load(root)).prefix


def job_records(root: Path, name: str, kind: Kind) -> list[dict[str, Any]]:
    decls = load(root)
    job = file_job(root / name, kind, decls)
    out = list(job.batches(schemas_of(decls), ZoneInfo(decls.project.timezone), {}))
    return [record for batch in out for record in sent(batch).records]


def test_jsonl_file_without_a_dataset_is_read_in_clevertap_shape(project: Path) -> None:
    path = project / "data/native.jsonl"
    job = file_job(path, "events", load(project))
    assert (job.format, job.mapping, job.dataset) == ("jsonl", None, None)
    assert (job.file_digest, job.lines) == (hashlib.sha256(path.read_bytes()).hexdigest(), 1)
    assert job_records(project, "data/native.jsonl", "events") == [
        {"identity": "C1", "evtName": "Points Earned", "evtData": {"Points": 1}, "type": "event"}
    ]


def test_jsonl_file_outside_any_project_is_read_in_clevertap_shape(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text('{"identity": "C1", "evtName": "E"}\n')
    job = file_job(path, "events", None)
    assert (job.format, job.mapping, job.dataset) == ("jsonl", None, None)


def test_csv_file_of_a_dataset_is_mapped_by_it(project: Path) -> None:
    job = file_job(project / "data/points.csv", "events", load(project))
    assert (job.format, job.dataset) == ("csv", "points")
    assert job.mapping == DatasetMapping(
        event="Points Earned",
        identity="customer_id",
        timestamp="earned_at",
        columns={"pts": "Points"},
    )
    assert job_records(project, "data/points.csv", "events") == [
        {
            "identity": "C1",
            "ts": 1767507120,  # 2026-01-04 11:42 in Asia/Kolkata
            "evtName": "Points Earned",
            "evtData": {"Points": 250, "Reason": "review"},
            "type": "event",
        }
    ]


def test_jsonl_file_of_a_profile_dataset_is_mapped_by_it(project: Path) -> None:
    assert job_records(project, "data/people.jsonl", "profiles") == [
        {"identity": "C1", "profileData": {"Name": "Ana"}, "type": "profile"}
    ]


def test_csv_file_without_a_dataset_is_invalid_input_naming_the_docs(project: Path) -> None:
    path = project / "data/other.csv"
    path.write_text("identity,Points\nC1,5\n")
    with pytest.raises(InvalidInput) as caught:
        file_job(path, "events", load(project))
    assert str(caught.value) == (
        f"{path}: a CSV file needs a Dataset declaring it (which column is the identity, "
        "which event the rows are); see docs/uploads.md"
    )


def test_dataset_file_uploaded_as_the_other_kind_says_which_command_to_run(
    project: Path,
) -> None:
    path = project / "data/points.csv"
    with pytest.raises(InvalidInput) as caught:
        file_job(path, "profiles", load(project))
    assert str(caught.value) == (
        f"{path}: dataset 'points' ({project / 'datasets.yaml'}) declares this file as events; "
        f"run `ctflow upload events {path}`"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("data/missing.jsonl", "file not found"),
        (
            "data/notes.txt",
            "cannot tell the format from the name; use .jsonl or .csv (optionally .gz)",
        ),
    ],
)
def test_file_that_cannot_be_uploaded_is_invalid_input(
    project: Path, name: str, message: str
) -> None:
    (project / "data/notes.txt").write_text("hello\n")
    with pytest.raises(InvalidInput) as caught:
        file_job(project / name, "events", load(project))
    assert str(caught.value) == f"{project / name}: {message}"


def test_prefix_names_the_kind_and_16_hex_of_the_content(project: Path) -> None:
    kind, digest = prefix_of(project, "data/native.jsonl").split(":")
    assert kind == "events"
    assert len(digest) == 16
    assert int(digest, 16) >= 0
    assert prefix_of(project, "data/native.jsonl", "profiles").startswith("profiles:")


def test_prefix_is_the_same_when_neither_bytes_nor_mapping_change(
    project: Path, tmp_path: Path
) -> None:
    native = prefix_of(project, "data/native.jsonl")
    points = prefix_of(project, "data/points.csv")
    # the same bytes elsewhere, the schemas and a dataset's description edited
    other = shutil.copytree(project, tmp_path / "elsewhere")
    changed = {
        "tracking.yaml": PROJECT["tracking.yaml"] + "  City: string\n",
        "datasets.yaml": PROJECT["datasets.yaml"].replace("Loyalty backfill", "Points, 2026"),
    }
    write_project(other, changed)
    assert prefix_of(other, "data/native.jsonl") == native
    assert prefix_of(other, "data/points.csv") == points


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"data/native.jsonl": PROJECT["data/native.jsonl"] + "\n"}, id="bytes"),
        pytest.param(
            {"data/points.csv": PROJECT["data/points.csv"].replace("250", "251")}, id="cell"
        ),
        pytest.param(
            {
                "datasets.yaml": PROJECT["datasets.yaml"].replace(
                    "{pts: Points}", "{pts: Points, Reason: Reason}"
                )
            },
            id="columns",
        ),
        pytest.param(
            {"datasets.yaml": PROJECT["datasets.yaml"].replace("timestamp: earned_at\n", "")},
            id="timestamp",
        ),
    ],
)
def test_prefix_changes_with_the_bytes_or_the_mapping(
    project: Path, tmp_path: Path, changes: dict[str, str]
) -> None:
    before = {name: prefix_of(project, name) for name in ("data/native.jsonl", "data/points.csv")}
    other = write_project(shutil.copytree(project, tmp_path / "changed"), changes)
    after = {name: prefix_of(other, name) for name in before}
    changed_file = next(iter(changes))
    expected = "data/points.csv" if changed_file == "datasets.yaml" else changed_file
    assert {name for name in before if before[name] != after[name]} == {expected}
