"""Ambiguous batches named for the user: read from the ledger with their lines, size and time,
and chosen one by one (by batch id or line range) to be accepted as arrived or sent again."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctflow.errors import UsageError
from ctflow.journal import UploadRecords
from ctflow.upload.engine import BatchRef
from ctflow.upload.ledger import AMBIGUOUS, SENDING

ALL = "all"
"""What ``--accept-ambiguous`` / ``--resend-ambiguous`` stand for without a batch."""
_RANGE = re.compile(r"([0-9]+)-([0-9]+)")
CUT_OFF = "cut off: the run stopped during its call"


@dataclass(frozen=True)
class Unsettled(BatchRef):
    """A batch an earlier run sent without reading the answer: it may or may not have arrived."""

    since: str
    """When its answer was lost (or, cut off, when it was sent)."""
    why: str

    @property
    def lines(self) -> str:
        if self.first_line is None or self.last_line is None:
            return "?"
        return f"{self.first_line}-{self.last_line}"

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "since": self.since, "why": self.why}


def unsettled(journal: UploadRecords, environment: str, prefix: str) -> list[Unsettled]:
    """The ambiguous batches of the file content ``prefix`` names, in batch order."""
    found = []
    for row in journal.batch_records(environment, prefix + ":"):
        if row["state"] not in (AMBIGUOUS, SENDING):
            continue
        detail = row.get("detail") or {}
        why = str(detail.get("error") or "") if row["state"] == AMBIGUOUS else CUT_OFF
        found.append(
            Unsettled(
                row["batch_id"],
                detail.get("first_line"),
                detail.get("last_line"),
                int(row["records"]),
                str(row["updated_at"]),
                why or "the answer was lost",
            )
        )
    return found


def chosen(
    flag: str, selectors: Iterable[str], files: Mapping[str, Sequence[Unsettled]]
) -> set[str]:
    """The ids of the batches ``selectors`` (given to ``flag``) name among the ambiguous
    batches of ``files`` (shown name → its batches): each a batch id, or a line range that
    covers whole batches of the only file. Usage error (64) for one that names none."""
    ids: set[str] = set()
    for selector in (part.strip() for given in selectors for part in given.split(",")):
        if not selector or selector == ALL:
            continue
        ids |= _named(flag, selector, files)
    return ids


def _named(flag: str, selector: str, files: Mapping[str, Sequence[Unsettled]]) -> set[str]:
    span = _RANGE.fullmatch(selector)
    if span is None:
        for batches in files.values():
            if any(b.id == selector for b in batches):
                return {selector}
        raise UsageError(f"{flag} {selector}: not an ambiguous batch of {_listed(files)}")
    if len(files) != 1:
        raise UsageError(
            f"{flag} {selector}: a line range needs one file; name batches of several by id"
        )
    first, last = int(span[1]), int(span[2])
    (name, batches), *_ = files.items()
    inside = set()
    for batch in batches:
        if batch.first_line is None or batch.last_line is None:
            continue
        if first <= batch.first_line and batch.last_line <= last:
            inside.add(batch.id)
        elif batch.first_line <= last and first <= batch.last_line:
            raise UsageError(
                f"{flag} {selector}: covers only part of batch {batch.id} (lines {batch.lines}); "
                "a batch is accepted or sent again whole"
            )
    if not inside:
        raise UsageError(f"{flag} {selector}: no ambiguous batch of {name} within those lines")
    return inside


def _listed(files: Mapping[str, Sequence[Unsettled]]) -> str:
    names = ", ".join(files)
    ids = [b.id for batches in files.values() for b in batches]
    if not ids:
        return f"{names} (it has none)"
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return f"{names} (its ambiguous batches: {shown}; `--ambiguous` lists them)"


def text(files: Mapping[str, Sequence[Unsettled]], environment: str) -> str:
    """The listing ``ctflow upload KIND FILE... --ambiguous`` prints."""
    out = []
    for name, batches in files.items():
        if not batches:
            out.append(f"{name}: no ambiguous batches in environment {environment!r}")
            continue
        out.append(f"{name}: {len(batches)} ambiguous batch(es) in environment {environment!r}")
        width = max(len(b.id) for b in batches)
        lines = max(len(b.lines) for b in batches)
        records = max(len(f"{b.records:,}") for b in batches)
        for b in batches:
            out.append(
                f"  {b.id:<{width}}  lines {b.lines:<{lines}}  {b.records:>{records},} records  "
                f"since {b.since}  {b.why}"
            )
    if any(files.values()):
        out.append(
            "Check which arrived, then settle each by id or line range: --accept-ambiguous "
            "BATCH... (it arrived) or --resend-ambiguous BATCH... (it did not)"
        )
    return "\n".join(out) + "\n"
