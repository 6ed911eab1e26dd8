"""Uploading a Dask DataFrame or Bag to CleverTap: ``upload(frame, run=...)``.

Owns turning the collection into one task per partition, whose number names the partition's
batches, and computing those tasks with retries on the current ``distributed`` client (Dask's
local scheduler without one). The partition's upload and the report are
``ctflow.integrations.partitions``'. Needs the ``dask`` extra.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

try:
    import dask.bag
    import dask.dataframe
    import distributed
    from dask.base import compute
    from dask.delayed import delayed
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError(
        f"ctflow.integrations.dask needs {exc.name}: pip install 'ctflow[dask]'"
    ) from exc

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
    frame: dask.dataframe.DataFrame | dask.bag.Bag,
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
    retries: int = 2,
) -> UploadReport:
    """Upload every partition of ``frame`` (each of its rows a record, or ``to_record(row)``)
    and return the report once all have ended.

    Partition ``n`` is ``upload_records(..., batch_id_prefix=f"{run}.p{n}")``, so a task Dask
    runs again (an error, ``retries`` times; a worker that died) skips the batches an earlier
    attempt delivered, provided the journal (``journal``, else ``CTFLOW_JOURNAL_URL`` or the
    project's) is one every worker reaches. ``environ``: where the workers read credentials,
    sent with the tasks; default their own environment. ``dead_letter``: a directory every
    worker can write; partition ``n`` appends its rejects to ``<run>.p<n>.jsonl`` there, on
    every attempt. A partition that still fails after its retries raises its error, once every
    other partition has ended.
    """
    if not isinstance(frame, dask.dataframe.DataFrame | dask.bag.Bag):
        raise TypeError(f"upload takes a Dask DataFrame or Bag, not {type(frame).__name__}")
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
    task = delayed(partial(_upload_partition, call=call), pure=False)
    name = f"ctflow-upload-{uuid.uuid4().hex}"  # fresh keys: a result of an earlier run is no use
    parts = frame.to_delayed()
    tasks = [task(part, number, dask_key_name=(name, number)) for number, part in enumerate(parts)]
    started = time.monotonic()
    results = _compute(tasks, retries)
    return UploadReport.of(run, results, time.monotonic() - started)


def _compute(tasks: Sequence[Any], retries: int) -> list[PartitionResult]:
    try:
        client = distributed.default_client()
    except ValueError:  # no cluster: Dask's local scheduler, which does not retry
        return list(compute(*tasks))
    futures = client.compute(list(tasks), retries=retries)
    # Every partition ends before one's error is raised: a caller who runs the upload again
    # must not find a partition of this one still sending.
    distributed.wait(futures)
    results: list[PartitionResult] = client.gather(futures)
    return results


def _upload_partition(part: Any, number: int, call: Call) -> PartitionResult:
    return upload_partition(_rows(part), number, call)


def _rows(part: Any) -> Iterator[Mapping[str, Any]]:
    """A DataFrame partition's rows as dicts, or a Bag partition's items."""
    if not hasattr(part, "itertuples"):
        yield from part
        return
    columns = list(part.columns)
    for values in part.itertuples(index=False, name=None):
        yield dict(zip(columns, values, strict=True))
