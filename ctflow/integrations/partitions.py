"""One partition's upload, and the report of a whole collection's: what the engine integrations
(``ctflow.integrations.dask``, ``ctflow.integrations.spark``) share.

A partition's rows become records (``to_record``; missing values left out) and go to
``upload_records`` under the batch prefix ``<run>.p<number>``, so a retried task skips the
batches an earlier attempt delivered. Imports ctflow.upload and ctflow.errors, no engine.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import orjson

from ctflow.errors import InvalidInput, UnavailableError
from ctflow.upload.api import Account, UploadSummary, upload_records
from ctflow.upload.batches import Reject
from ctflow.upload.rules import Kind

ToRecord = Callable[[dict[str, Any]], Mapping[str, Any]]
"""A row (column name to value) to a record in CleverTap's shape."""

_PROPERTIES = ("evtData", "profileData")


@dataclass(frozen=True)
class Call:
    """What every partition's upload is given; it travels to the workers with each task."""

    run: str
    kind: Kind
    env: str | Account
    journal: str | None
    project: str | Path | None
    concurrency: int
    to_record: ToRecord | None
    environ: Mapping[str, str] | None
    resend_ambiguous: bool
    dead_letter: str | Path | None

    def __post_init__(self) -> None:
        if not self.run or ":" in self.run:
            raise InvalidInput(f"run must be a non-empty name without ':', not {self.run!r}")
        if self.environ is not None:  # os.environ itself does not travel
            object.__setattr__(self, "environ", dict(self.environ))

    def record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        record = self.to_record(dict(row)) if self.to_record is not None else row
        return without_missing(record)


@dataclass(frozen=True)
class PartitionResult:
    """One partition's upload. With a dead-letter directory, ``summary.rejects`` is read back
    from ``dead_letter``, so it holds the rejects of every attempt."""

    number: int
    batch_id_prefix: str
    summary: UploadSummary
    dead_letter: str | None = None


@dataclass(frozen=True)
class Rejected:
    """A record not uploaded: its partition, its number there (1-based, in the partition's
    order), why, and who refused it (``ctflow`` or ``clevertap``)."""

    partition: int
    number: int | None
    reason: str
    by: str
    record: Any


@dataclass(frozen=True)
class UploadReport:
    """Every partition's upload. ``total`` adds their summaries up (its ``elapsed_seconds`` is
    the whole job's); ``ok``, ``exit_code`` and ``raise_for_status()`` are the total's."""

    run: str
    total: UploadSummary
    partitions: tuple[PartitionResult, ...]
    rejects: tuple[Rejected, ...]

    @classmethod
    def of(cls, run: str, results: Iterable[PartitionResult], elapsed: float) -> UploadReport:
        parts = tuple(sorted(results, key=lambda result: result.number))
        done = [part.summary for part in parts]
        total = UploadSummary(
            accepted=sum(s.accepted for s in done),
            rejected_locally=sum(s.rejected_locally for s in done),
            rejected_by_clevertap=sum(s.rejected_by_clevertap for s in done),
            already_uploaded=sum(s.already_uploaded for s in done),
            retried=sum(s.retried for s in done),
            ambiguous_batches=tuple(batch for s in done for batch in s.ambiguous_batches),
            failed_batches=tuple(batch for s in done for batch in s.failed_batches),
            unavailable=next((s.unavailable for s in done if s.unavailable), None),
            elapsed_seconds=round(elapsed, 3),
            rejects=tuple(reject for s in done for reject in s.rejects),
        )
        rejects = tuple(
            Rejected(part.number, r.line, r.reason, r.by, r.record)
            for part in parts
            for r in part.summary.rejects
        )
        return cls(run, total, parts, rejects)

    @property
    def ok(self) -> bool:
        return self.total.ok

    @property
    def exit_code(self) -> int:
        return self.total.exit_code

    def raise_for_status(self) -> None:
        """Raise ``UploadIncomplete`` when batches are ambiguous (or CleverTap stayed
        unavailable); rejected records do not raise."""
        self.total.raise_for_status()


def upload_partition(rows: Iterable[Mapping[str, Any]], number: int, call: Call) -> PartitionResult:
    """Upload partition ``number``'s rows (in the same order on every attempt). Raises
    ``UnavailableError`` when CleverTap stayed unavailable or the journal was lost: what a retry
    of the task can fix, continuing from there. Ambiguous batches are returned, not raised: a
    retry would not send them either."""
    prefix = f"{call.run}.p{number}"
    dead_letter = Path(call.dead_letter, f"{prefix}.jsonl") if call.dead_letter else None
    summary = upload_records(
        (call.record(row) for row in rows),
        env=call.env,
        kind=call.kind,
        concurrency=call.concurrency,
        batch_id_prefix=prefix,
        project=call.project,
        dead_letter=dead_letter,
        resend_ambiguous=call.resend_ambiguous,
        environ=call.environ,
        journal=call.journal,
    )
    if summary.unavailable:
        # Not summary.raise_for_status(): UploadIncomplete does not survive pickling, and an
        # engine pickles a task's error to report it.
        raise UnavailableError(f"partition {number} ({prefix}): {summary.unavailable}")
    if dead_letter is None:
        return PartitionResult(number, prefix, summary)
    summary = replace(summary, rejects=read_rejects(dead_letter))
    return PartitionResult(number, prefix, summary, str(dead_letter))


def read_rejects(path: Path) -> tuple[Reject, ...]:
    """The rejects of a dead-letter file, each once: a worker that died between writing a
    batch's rejects and recording the batch leaves them to be written again."""
    if not path.exists():
        return ()
    found: dict[tuple[object, ...], Reject] = {}
    with path.open("rb") as lines:
        for line in lines:
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:  # a write a killed worker left half done
                continue
            by: Literal["ctflow", "clevertap"] = (
                "clevertap" if doc["rejected_by"] == "clevertap" else "ctflow"
            )
            reject = Reject(
                doc["file"],
                doc["line"],
                doc["batch"],
                doc["reason"],
                doc["record"],
                by,
                doc["code"],
            )
            found.setdefault((reject.batch, reject.line, reject.by, reject.reason), reject)
    return tuple(found.values())


def without_missing(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` without its missing values (None, NaN, pandas' NaT and NA), at the top and in
    ``evtData``/``profileData``: a frame's empty cell sets nothing."""
    own = {key: value for key, value in record.items() if not _missing(value)}
    for key in _PROPERTIES:
        data = own.get(key)
        if isinstance(data, Mapping):
            own[key] = {name: value for name, value in data.items() if not _missing(value)}
    return own


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    pandas = sys.modules.get("pandas")  # NaT and NA exist only once pandas is imported
    return pandas is not None and (value is pandas.NaT or value is pandas.NA)
