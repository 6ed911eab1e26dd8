"""``ctflow.integrations.spark.upload`` on a real Spark in local mode with task retries
(``local[2,3]``: two task slots, a task tried up to 3 times), against the sandbox over loopback
HTTP, with the batches kept in a real PostgreSQL journal: a task that fails partway is run
again by Spark and sends nothing twice; the same run again sends nothing at all.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.support import (
    ROWS_PER_PARTITION,
    FailsOnce,
    Target,
    check_the_guide,
    first_batch,
    in_ci,
    invalid,
    require,
    rows,
    valid,
)

require("pyspark")
if shutil.which("java") is None:
    if in_ci():
        pytest.fail("Spark needs Java in CI: install a JDK 17 or later", pytrace=False)
    pytest.skip("Spark needs Java: install a JDK 17 or later", allow_module_level=True)

from pyspark import SparkConf  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType  # noqa: E402

from ctflow.errors import InvalidInput  # noqa: E402
from ctflow.integrations.spark import UploadReport, refuse_speculation, upload  # noqa: E402
from tests.upload.support import event, numbers  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 8
SCHEMA = StructType(
    [
        StructField("customer", StringType(), nullable=True),
        StructField("n", LongType(), nullable=False),
        StructField("amount", DoubleType(), nullable=True),
    ]
)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """Local mode on 127.0.0.1, without a UI; the Python workers run this interpreter and can
    import the tests (for ``to_record``)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        env.setenv("PYTHONPATH", str(ROOT))
        env.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2,3]")
            .appName("ctflow-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def frame(spark: SparkSession, partitions: int = PARTITIONS) -> Any:
    """``partitions`` partitions of 2,500 flat rows each, in a fixed order."""
    numbered = spark.sparkContext.parallelize(range(partitions), partitions).flatMap(rows)
    return spark.createDataFrame(numbered, SCHEMA)


def _upload(target: Target, data: Any, **options: Any) -> UploadReport:
    return upload(
        data,
        env="local",
        project=target.project,
        journal=target.journal,
        environ=target.environ,
        **options,
    )


@pytest.mark.slow
@pytest.mark.loopback
def test_a_task_that_fails_partway_is_retried_and_sends_nothing_twice(
    spark: SparkSession, target: Target, tmp_path: Path
) -> None:
    fails = FailsOnce(tmp_path / "failed-once", at=5 * ROWS_PER_PARTITION + 1700)

    report = _upload(
        target, frame(spark), run="orders", to_record=fails, dead_letter=tmp_path / "rejected"
    )

    assert fails.marker.exists(), "the first attempt failed"
    assert numbers(target.sandbox) == dict.fromkeys(valid(PARTITIONS), 1)
    stored = {e.props["n"]: e.props for e in target.sandbox.store.events()}
    assert "amount" not in stored[7], "a NaN is left out"
    assert stored[8]["amount"] == 0.8

    total = report.total
    assert [p.number for p in report.partitions] == list(range(PARTITIONS))
    assert report.partitions[5].summary.already_uploaded == 1000, "batch 0 went out first"
    rows_seen = total.accepted + total.rejected_locally + total.already_uploaded
    assert rows_seen == PARTITIONS * ROWS_PER_PARTITION
    assert total.ambiguous_batches == total.failed_batches == ()
    assert report.exit_code == 3
    assert {(r.partition, r.number) for r in report.rejects} == invalid(PARTITIONS)
    assert len(report.rejects) == len(invalid(PARTITIONS))


@pytest.mark.slow
@pytest.mark.loopback
def test_a_python_worker_killed_mid_partition_sends_nothing_twice(
    spark: SparkSession, target: Target, tmp_path: Path
) -> None:
    """As with Dask: batch 0 of partition 2 may be marked ``sending`` when the worker dies (its
    call never started); the retried task then reports it ambiguous, and the run again with
    ``resend_ambiguous`` completes the partition."""
    dies = FailsOnce(tmp_path / "died", at=2 * ROWS_PER_PARTITION + 1700, exit=True)
    options: dict[str, Any] = {"run": "kill", "to_record": dies, "dead_letter": tmp_path / "rej"}

    report = _upload(target, frame(spark, 4), **options)

    assert dies.marker.exists(), "a Python worker died"
    counts = numbers(target.sandbox)
    assert max(counts.values()) == 1, "nothing stored twice"
    ambiguous = [batch.id for batch in report.total.ambiguous_batches]
    assert ambiguous in ([], ["kill.p2:0"])
    assert valid(4) - counts.keys() == (first_batch(2) if ambiguous else set())
    unread = {(2, number) for number in (250, 500, 750, 1000)} if ambiguous else set()
    assert {(r.partition, r.number) for r in report.rejects} == invalid(4) - unread
    if ambiguous:
        again = _upload(target, frame(spark, 4), resend_ambiguous=True, **options)
        assert again.total.accepted == len(first_batch(2))
        assert {(r.partition, r.number) for r in again.rejects} == invalid(4)
    assert numbers(target.sandbox) == dict.fromkeys(valid(4), 1)


@pytest.mark.slow
@pytest.mark.loopback
def test_the_same_run_again_uploads_nothing_new(spark: SparkSession, target: Target) -> None:
    """An RDD of records already in CleverTap's shape; the rejects come back in the report."""
    records = [event(n) for n in range(1, 3001)]
    del records[1499]["identity"]
    rdd = spark.sparkContext.parallelize(records, 3)

    first = _upload(target, rdd, run="rdd")
    again = _upload(target, rdd, run="rdd")

    assert (first.total.accepted, first.total.rejected_locally) == (2999, 1)
    assert [(r.partition, r.number) for r in first.rejects] == [(1, 500)]
    assert (again.total.accepted, again.total.already_uploaded) == (0, 3000)
    assert numbers(target.sandbox) == {n: 1 for n in range(1, 3001) if n != 1500}


def test_speculative_execution_is_refused() -> None:
    """Two copies of one task would send the same batches. (A running context's conf cannot
    change: the check is given the conf a job would start with.)"""
    conf = SparkConf(loadDefaults=False)
    refuse_speculation(conf.set("spark.speculation", "false"))
    with pytest.raises(InvalidInput, match=r"spark\.speculation is on"):
        refuse_speculation(conf.set("spark.speculation", "true"))


def test_the_guide_shows_the_real_signature_and_keywords() -> None:
    check_the_guide("### Spark", upload)
