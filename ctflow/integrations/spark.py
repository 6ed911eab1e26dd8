"""Uploading a Spark DataFrame or RDD to CleverTap: ``upload(dataframe, run=...)``.

Owns running one task per partition (``mapPartitionsWithIndex``: the partition's index names
its batches) and collecting what each did; Spark retries a failed task up to
``spark.task.maxFailures`` times. The partition's upload and the report are
``ctflow.integrations.partitions``'. Needs the ``spark`` extra; classic Spark (an RDD behind the
DataFrame), not Spark Connect.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

try:
    from pyspark import RDD, SparkConf
    from pyspark.sql import DataFrame, Row
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError(
        f"ctflow.integrations.spark needs {exc.name}: pip install 'ctflow[spark]'"
    ) from exc

from ctflow.errors import InvalidInput
from ctflow.integrations.partitions import (
    Call,
    PartitionResult,
    Rejected,
    ToRecord,
    UploadReport,
    upload_partition,
)
from ctflow.upload.api import Account
from ctflow.upload.rules import Kind

__all__ = ["PartitionResult", "Rejected", "UploadReport", "upload"]


def upload(
    dataframe: DataFrame | RDD[Any],
    *,
    run: str,
    kind: Kind = "events",
    env: str | Account = "sandbox",
    journal: str | None = None,
    project: str | Path | None = None,
    concurrency: int = 15,
    to_record: ToRecord | None = None,
    environ: Mapping[str, str] | None = None,
    resend_ambiguous: bool = False,
    dead_letter: str | Path | None = None,
) -> UploadReport:
    """Upload every partition of ``dataframe`` (each row, as a dict, a record, or
    ``to_record(row)``; an RDD's items may be dicts) and return the report once all have ended.

    Partition ``n`` is ``upload_records(..., batch_id_prefix=f"{run}.p{n}")``, so a task Spark
    runs again skips the batches an earlier attempt delivered, provided the journal
    (``journal``, else ``CTFLOW_JOURNAL_URL`` or the project's) is one every executor reaches.
    ``environ`` and ``dead_letter`` are as for ``ctflow.integrations.dask.upload``. Refuses
    speculative execution: two copies of one task would send the same batches.
    """
    rdd = dataframe.rdd if isinstance(dataframe, DataFrame) else dataframe
    refuse_speculation(rdd.context.getConf())
    call = Call(
        run=run,
        kind=kind,
        env=env,
        journal=journal,
        project=project,
        concurrency=concurrency,
        to_record=to_record,
        environ=environ,
        resend_ambiguous=resend_ambiguous,
        dead_letter=dead_letter,
    )
    started = time.monotonic()
    results = rdd.mapPartitionsWithIndex(partial(_upload_partition, call=call)).collect()
    return UploadReport.of(run, results, time.monotonic() - started)


def refuse_speculation(conf: SparkConf) -> None:
    """Raise when ``spark.speculation`` is on (it is off by default)."""
    if (conf.get("spark.speculation") or "false").strip().lower() == "true":
        raise InvalidInput(
            "spark.speculation is on: two copies of one task would send the same batches; "
            "turn it off for the upload"
        )


def _upload_partition(number: int, rows: Iterable[Any], call: Call) -> Iterator[PartitionResult]:
    records = (row.asDict(recursive=True) if isinstance(row, Row) else row for row in rows)
    yield upload_partition(records, number, call)
