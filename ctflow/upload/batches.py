"""Rows into batches: checked, shaped, encoded, each with an id that does not depend on the rules.

Batch ``i`` covers rows ``i*size`` to ``(i+1)*size - 1`` of the file, valid or not, and its id is
``<prefix>:<i>`` where the prefix names the file's content. So a re-run finds the same batches
whatever changed in the schemas meanwhile, and a batch already accepted is skipped without
being read further than its rows. The records a batch sends are its valid rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import orjson

from ctflow.upload.ledger import DONE
from ctflow.upload.rules import Rules, repeatable
from ctflow.upload.shape import Shaper
from ctflow.upload.sources import Row, Unreadable

EVENT_BATCH = 1000
TOKEN_BATCH = 100


@dataclass(frozen=True)
class Reject:
    """A record that was not sent, or that CleverTap did not take: where it came from and why."""

    source: str | None
    line: int | None
    batch: str
    reason: str
    record: Any
    by: Literal["ctflow", "clevertap"] = "ctflow"
    code: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "line": self.line,
            "batch": self.batch,
            "rejected_by": self.by,
            "code": self.code,
            "reason": self.reason,
            "record": self.record,
        }


@dataclass
class Batch:
    """Records ready to send; ``lines[i]`` is where ``records[i]`` was read."""

    index: int
    id: str
    rows: int
    first_line: int | None
    last_line: int | None
    source: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    body: bytes = b""
    repeatable: bool = True
    """Sending it twice is harmless (profiles without $incr/$decr, tokens)."""


@dataclass(frozen=True)
class Skipped:
    """A batch an earlier run settled (``accepted``/``settled``): not read, not sent."""

    index: int
    id: str
    rows: int
    state: str


class Preparer:
    """How rows become records: shaped, then checked."""

    def __init__(self, shaper: Shaper, rules: Rules, *, text_cells: bool = False) -> None:
        self.shaper = shaper
        self.rules = rules
        self.text_cells = text_cells
        self.repeatable_kind = rules.kind != "events"


def make_batches(
    rows: Iterable[tuple[int | None, Row]],
    *,
    prefix: str,
    size: int,
    prepare: Preparer,
    states: Mapping[str, str],
    source: str | None,
) -> Iterator[Batch | Skipped]:
    """Group ``rows`` into batches of ``size`` rows; settled ones come out as :class:`Skipped`."""
    stream = iter(rows)
    index = 0
    while chunk := list(islice(stream, size)):
        yield _batch(index, chunk, prefix, prepare, states, source)
        index += 1


def batch_id(prefix: str, index: int) -> str:
    return f"{prefix}:{index}"


def _batch(
    index: int,
    chunk: list[tuple[int | None, Row]],
    prefix: str,
    prepare: Preparer,
    states: Mapping[str, str],
    source: str | None,
) -> Batch | Skipped:
    ident = batch_id(prefix, index)
    state = states.get(ident)
    if state in DONE:
        return Skipped(index, ident, len(chunk), state)
    batch = Batch(index, ident, len(chunk), chunk[0][0], chunk[-1][0], source)
    records, lines, rejects = batch.records, batch.lines, batch.rejects
    # The loop every row goes through: kept flat, since it is the CPU cost of an upload.
    shape, problem, text_cells = prepare.shaper.shape, prepare.rules.problem, prepare.text_cells
    for line, row in chunk:
        if type(row) is Unreadable:
            rejects.append(Reject(source, line, ident, row.reason, row.text))
            continue
        typed = "type" in row  # type: ignore[operator]
        try:
            record = shape(row, text_cells)  # type: ignore[arg-type]
            reason = problem(record)
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            reason = f"cannot be read: {exc}"
        if reason is None:
            records.append(record)
            lines.append(line)
        else:
            if not typed:
                row.pop("type", None)  # type: ignore[union-attr]  # back as read
            rejects.append(Reject(source, line, ident, reason, row))
    if records:
        _encode(batch, source)
    batch.repeatable = prepare.repeatable_kind and all(repeatable(r) for r in batch.records)
    return batch


def _encode(batch: Batch, source: str | None) -> None:
    try:
        batch.body = orjson.dumps({"d": batch.records})
        return
    except TypeError:
        pass
    records, lines = [], []
    for record, line in zip(batch.records, batch.lines, strict=True):
        try:
            orjson.dumps(record)
        except TypeError as exc:
            reason = f"cannot be encoded as JSON: {exc}"
            batch.rejects.append(Reject(source, line, batch.id, reason, repr(record)[:500]))
            continue
        records.append(record)
        lines.append(line)
    batch.records, batch.lines = records, lines
    batch.body = orjson.dumps({"d": records}) if records else b""
