"""``ctflow.integrations.dask.upload`` on a real ``distributed`` cluster of two worker
processes, against the sandbox over loopback HTTP, with the batches kept in a real PostgreSQL
journal that every worker shares: a partition that fails partway, or whose worker process dies,
is run again by Dask and sends nothing twice; the same run again sends nothing at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.support import (
    EVENT,
    GUIDE,
    ROWS_PER_PARTITION,
    FailsOnce,
    Target,
    check_the_guide,
    first_batch,
    invalid,
    require,
    rows,
    to_event,
    valid,
)

require("dask.dataframe")
distributed = require("distributed")

import dask  # noqa: E402
import dask.bag  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402

from ctflow.integrations.dask import UploadReport, upload  # noqa: E402
from ctflow.upload.api import UploadIncomplete  # noqa: E402
from tests.upload.support import event, numbers  # noqa: E402

PARTITIONS = 8


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes of one thread each, on 127.0.0.1, no dashboard. The scheduler's
    HTTP server (/health, /metrics) starts even without one, on port 8787 unless told: a port
    of its own, so that two test runs at once do not collide (and warn)."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _partition(number: int) -> pd.DataFrame:
    return pd.DataFrame(rows(number))


def frame(partitions: int = PARTITIONS) -> dd.DataFrame:
    """``partitions`` partitions of 2,500 flat rows each, made on the workers."""
    meta = pd.DataFrame(
        {"customer": pd.Series(dtype=object), "n": pd.Series(dtype="int64"), "amount": 0.0}
    )
    return dd.from_map(_partition, range(partitions), meta=meta)


def _upload(target: Target, data: Any, **options: Any) -> UploadReport:
    return upload(
        data,
        env="local",
        project=target.project,
        journal=target.journal,
        environ=target.environ,
        **options,
    )


def dead_letters(directory: Path) -> set[tuple[int, int]]:
    """(partition, record number) of every line of the run's dead-letter files."""
    found = set()
    for path in directory.glob("*.jsonl"):
        partition = int(path.stem.rpartition(".p")[2])
        found |= {(partition, json.loads(line)["line"]) for line in path.read_text().splitlines()}
    return found


@pytest.mark.loopback
def test_without_a_cluster_dasks_local_scheduler_runs_the_partitions(target: Target) -> None:
    """First in the module: the cluster fixture, once up, is every later test's client."""
    with pytest.raises(ValueError, match="No clients found"):
        distributed.default_client()

    report = _upload(target, frame(2), run="local", to_record=to_event)

    assert [p.number for p in report.partitions] == [0, 1]
    assert report.total.accepted == len(valid(2))
    assert {(r.partition, r.number) for r in report.rejects} == invalid(2)
    assert numbers(target.sandbox) == dict.fromkeys(valid(2), 1)


@pytest.mark.slow
@pytest.mark.loopback
def test_a_partition_that_fails_partway_is_retried_and_sends_nothing_twice(
    client: Any, target: Target, tmp_path: Path
) -> None:
    fails = FailsOnce(tmp_path / "failed-once", at=5 * ROWS_PER_PARTITION + 1700)
    rejected = tmp_path / "rejected"

    report = _upload(
        target, frame(), run="orders", to_record=fails, dead_letter=rejected, retries=2
    )

    assert fails.marker.exists(), "the first attempt failed"
    assert numbers(target.sandbox) == dict.fromkeys(valid(PARTITIONS), 1)
    stored = {e.props["n"]: e.props for e in target.sandbox.store.events(name=EVENT)}
    assert "amount" not in stored[7], "a NaN is left out"
    assert stored[8]["amount"] == 0.8

    total = report.total
    assert [p.number for p in report.partitions] == list(range(PARTITIONS))
    retried = report.partitions[5].summary
    assert retried.already_uploaded == 1000, "batch 0 went out on the first attempt"
    assert retried.accepted + retried.rejected_locally == 1500
    rows_seen = total.accepted + total.rejected_locally + total.already_uploaded
    assert rows_seen == PARTITIONS * ROWS_PER_PARTITION
    assert total.rejected_by_clevertap == 0
    assert total.ambiguous_batches == total.failed_batches == ()
    assert (report.exit_code, report.ok) == (3, False), "rejected records, as the CLI says"
    report.raise_for_status()  # rejects do not raise

    # Every rejected row, the first attempt's included, with its partition and number.
    assert {(r.partition, r.number) for r in report.rejects} == invalid(PARTITIONS)
    assert len(report.rejects) == len(invalid(PARTITIONS))
    assert {r.reason for r in report.rejects} == {
        "no identity: a record needs one of identity, objectId, FBID or GPID"
    }
    assert {r.by for r in report.rejects} == {"ctflow"}
    assert dead_letters(rejected) == invalid(PARTITIONS)
    assert report.partitions[5].dead_letter == str(rejected / "orders.p5.jsonl")


@pytest.mark.slow
@pytest.mark.loopback
def test_a_worker_killed_mid_partition_sends_nothing_twice(
    client: Any, target: Target, tmp_path: Path
) -> None:
    """The worker dies while batch 0 of partition 2 may be marked ``sending`` (its call never
    started): if it is, the retried task reports it ambiguous rather than sending it, and the
    run again with ``resend_ambiguous`` completes the partition."""
    dies = FailsOnce(tmp_path / "died", at=2 * ROWS_PER_PARTITION + 1700, exit=True)
    options: dict[str, Any] = {"run": "kill", "to_record": dies, "dead_letter": tmp_path / "rej"}

    report = _upload(target, frame(4), **options)

    assert dies.marker.exists(), "a worker process died"
    counts = numbers(target.sandbox)
    assert max(counts.values()) == 1, "nothing stored twice"
    ambiguous = [batch.id for batch in report.total.ambiguous_batches]
    assert ambiguous in ([], ["kill.p2:0"])
    assert valid(4) - counts.keys() == (first_batch(2) if ambiguous else set())
    unread = {(2, number) for number in (250, 500, 750, 1000)} if ambiguous else set()
    assert {(r.partition, r.number) for r in report.rejects} == invalid(4) - unread
    if ambiguous:
        assert report.exit_code == 6
        with pytest.raises(UploadIncomplete, match="1 ambiguous batch"):
            report.raise_for_status()
        again = _upload(target, frame(4), resend_ambiguous=True, **options)
        assert again.total.accepted == len(first_batch(2))
        assert {(r.partition, r.number) for r in again.rejects} == invalid(4)
        assert again.total.ambiguous_batches == ()
    assert numbers(target.sandbox) == dict.fromkeys(valid(4), 1)


@pytest.mark.slow
@pytest.mark.loopback
def test_the_same_run_again_uploads_nothing_new(client: Any, target: Target) -> None:
    """A Bag of records already in CleverTap's shape; the rejects come back in the report."""
    records = [event(n) for n in range(1, 6001)]
    for n in (10, 1600, 4500):
        del records[n - 1]["identity"]
    bag = dask.bag.from_sequence(records, npartitions=4)

    first = _upload(target, bag, run="bag")
    again = _upload(target, bag, run="bag")

    assert first.total.accepted == 5997
    assert [(r.partition, r.number) for r in first.rejects] == [(0, 10), (1, 100), (2, 1500)]
    assert (again.total.accepted, again.total.already_uploaded) == (0, 6000)
    assert again.rejects == (), "the batches were not read again"
    assert numbers(target.sandbox) == {n: 1 for n in range(1, 6001) if n not in (10, 1600, 4500)}


@pytest.mark.slow
@pytest.mark.loopback
def test_rows_already_in_clevertaps_shape_lose_their_missing_values(
    client: Any, target: Target
) -> None:
    """A column of dicts stays dicts only without Dask's conversion of object columns to
    strings (docs/upload-python.md says so)."""
    data = pd.DataFrame(
        {
            "identity": ["c-1", "c-2", None],
            "ts": [1_763_600_001, 1_763_600_002, 1_763_600_003],
            "evtName": ["Order Placed"] * 3,
            "evtData": [{"n": 1, "coupon": None}, {"n": 2, "amount": float("nan")}, {"n": 3}],
        }
    )
    with dask.config.set({"dataframe.convert-string": False}):
        report = _upload(target, dd.from_pandas(data, npartitions=2), run="shaped")

    assert report.total.accepted == 2
    assert [(r.partition, r.number) for r in report.rejects] == [(1, 1)]
    stored = {e.props["n"]: e.props for e in target.sandbox.store.events()}
    assert stored == {1: {"n": 1}, 2: {"n": 2}}


def test_the_guide_shows_the_real_signature_and_keywords() -> None:
    check_the_guide("### Dask", upload)


def test_the_guides_report_table_names_real_fields() -> None:
    section = GUIDE.read_text(encoding="utf-8").split("The report, ", 1)[1].split("\n\n", 2)[1]
    named = {name for row in section.splitlines() for name in re.findall(r"`(\w+)`", row[:30])}
    assert named == {*UploadReport.__dataclass_fields__, "ok", "exit_code"}
