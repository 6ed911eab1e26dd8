"""Rows into batches: checked, shaped, encoded, each with an id that does not depend on the rules.

Batch ``i`` covers rows ``i*size`` to ``(i+1)*size - 1`` of the file, valid or not, and its id is
``<prefix>:<i>`` where the prefix names the file's content. So a re-run finds the same batches
whatever changed in the schemas meanwhile, and a batch already accepted is skipped without
being read further than its rows. The records a batch sends are its valid rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Literal

import orjson

from ctflow.upload.ledger import DONE
from ctflow.upload.rules import Rules, repeatable
from ctflow.upload.shape import Shaper
from ctflow.upload.sources import Chunk, Row, Unreadable

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
    """Records ready to send, kept encoded (``body``); ``lines[i]`` is where the i-th record
    sent was read.

    The records themselves are not kept: freed as soon as they are encoded, their memory is
    still in the CPU's caches and the next batch reuses it, where records freed after their
    call (a few dozen batches later) cost about a microsecond a row to free and to replace.
    """

    index: int
    id: str
    rows: int
    first_line: int | None
    last_line: int | None
    source: str | None = None
    lines: list[int | None] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    body: bytes = b""
    repeatable: bool = True
    """Sending it twice is harmless (profiles without $incr/$decr, tokens)."""

    @property
    def count(self) -> int:
        """How many records it sends."""
        return len(self.lines)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records it sends, as sent (read back from the body)."""
        sent: list[dict[str, Any]] = orjson.loads(self.body)["d"] if self.body else []
        return sent


@dataclass(frozen=True)
class Skipped:
    """A batch an earlier run settled (``accepted``/``settled``): not read, not sent."""

    index: int
    id: str
    rows: int
    state: str


class Preparer:
    """How rows become records. Events go the fast way first (:meth:`accept`); a row it
    refuses, and every profile and token, goes the exact way: shaped on a copy, then checked
    by every rule, which says why it is refused."""

    def __init__(self, shaper: Shaper, rules: Rules, *, text_cells: bool = False) -> None:
        self.shaper = shaper
        self.rules = rules
        self.text_cells = text_cells
        self.repeatable_kind = rules.kind != "events"
        self.fast = rules.kind == "events" and shaper.kind == "events"
        self.build = shaper.from_flat if shaper.mapping is not None else None
        """A Dataset's flat row into a new record; None: rows are records already."""
        self._gates = rules.row_gates
        self._dates = shaper.event_dates
        self._known_dates = shaper.known_dates
        self._clevertap_date = shaper.clevertap_date
        self._type = shaper.type

    def accept(self, record: Any) -> bool:
        """The fast way for an event record as read: the gate passes it, then its declared
        dates become CleverTap dates and its ``type`` is set, in place. False leaves the record
        untouched for the exact way (the gate refused it, or a date is not a calendar date)."""
        try:
            name = record["evtName"]
            gate = self._gates[name]
        except (KeyError, TypeError):  # no name, or one that is not a string
            return False
        if not gate or type(record.get("ts", 0)) is not int or not gate.is_valid(record):
            return False
        dates = self._dates.get(name)
        if dates and (data := record.get("evtData")):
            if len(dates) == 1:  # the usual case, kept short: this runs for every row
                key = dates[0]
                value = data.get(key)  # the gate let through only strings and integers
                if value is not None:
                    converted = self._known_dates.get(value) or self._clevertap_date(value)
                    if converted is None:
                        return False
                    data[key] = converted
            elif not self._dates_in_place(data, dates):
                return False
        if "type" not in record:
            record["type"] = self._type
        return True

    def _dates_in_place(self, data: dict[str, Any], dates: tuple[str, ...]) -> bool:
        """``data``'s date properties as CleverTap dates, all or (False) none."""
        clevertap_date = self._clevertap_date
        pairs = [(key, clevertap_date(data[key])) for key in dates if key in data]
        if any(converted is None for _, converted in pairs):
            return False
        data.update(pairs)
        return True


def make_batches(
    chunks: Iterable[Chunk],
    *,
    prefix: str,
    prepare: Preparer,
    states: Mapping[str, str],
    source: str | None,
) -> Iterator[Batch | Skipped]:
    """A batch of each chunk of rows (see ``sources.chunks``); settled ones come out as
    :class:`Skipped`."""
    for index, (lines, found) in enumerate(chunks):
        yield _batch(index, lines, found, prefix, prepare, states, source)


def batch_id(prefix: str, index: int) -> str:
    return f"{prefix}:{index}"


def _batch(
    index: int,
    numbers: Sequence[int | None],
    found: list[Row],
    prefix: str,
    prepare: Preparer,
    states: Mapping[str, str],
    source: str | None,
) -> Batch | Skipped:
    ident = batch_id(prefix, index)
    state = states.get(ident)
    if state in DONE:
        return Skipped(index, ident, len(found), state)
    batch = Batch(index, ident, len(found), numbers[0], numbers[-1], source)
    passed = _fast_way(prepare, found)
    if passed is not None and all(passed):  # the usual chunk: no row needs more
        records: list[dict[str, Any]] = found  # type: ignore[assignment]  # dicts: all passed
        batch.lines.extend(numbers)
    else:
        records = _row_by_row(batch, numbers, found, prepare, passed)
    if records:
        records = _encode(batch, records, source)
    batch.repeatable = prepare.repeatable_kind and all(repeatable(r) for r in records)
    found.clear()  # the rows are freed now (see Batch), whoever still holds the chunk
    return batch


def _fast_way(prepare: Preparer, found: list[Row]) -> list[bool] | None:
    """Which rows the fast way took (in place), every row in one call of ``map``; None when
    the rows are not events as read (flat rows, profiles, tokens), or a row broke it (then
    every row goes row by row: taking the fast way twice changes nothing)."""
    if not prepare.fast or prepare.build is not None:
        return None
    try:
        return list(map(prepare.accept, found))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def _row_by_row(
    batch: Batch,
    numbers: Sequence[int | None],
    found: list[Row],
    prepare: Preparer,
    passed: list[bool] | None,
) -> list[dict[str, Any]]:
    """The records of a chunk where some row is unreadable, refused or not an event as read;
    ``passed``: the rows the fast way already took."""
    source, ident = batch.source, batch.id
    records: list[dict[str, Any]] = []
    lines, rejects = batch.lines, batch.rejects
    shape, problem, text_cells = prepare.shaper.shape, prepare.rules.problem, prepare.text_cells
    accept = prepare.accept if prepare.fast and passed is None else None
    build = prepare.build
    for line, row, fast in zip(numbers, found, passed or repeat(False), strict=False):
        if fast:
            records.append(row)  # type: ignore[arg-type]  # the fast way takes only dicts
            lines.append(line)
            continue
        if isinstance(row, Unreadable):
            rejects.append(Reject(source, line, ident, row.reason, row.text))
            continue
        typed = "type" in row
        try:
            if accept is not None:
                built = row if build is None else build(row, text_cells)
                if accept(built):
                    records.append(built)
                    lines.append(line)
                    continue
            record = shape(row, text_cells)
            reason = problem(record)
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            reason = f"cannot be read: {exc}"
        if reason is None:
            records.append(record)
            lines.append(line)
        else:
            if not typed:
                row.pop("type", None)  # back as read
            rejects.append(Reject(source, line, ident, reason, row))
    return records


def _encode(batch: Batch, records: list[dict[str, Any]], source: str | None) -> list[Any]:
    """The batch's body; the records it holds (those JSON cannot hold are rejected)."""
    try:
        batch.body = orjson.dumps({"d": records})
        return records
    except TypeError:
        pass
    kept, lines = [], []
    for record, line in zip(records, batch.lines, strict=True):
        try:
            orjson.dumps(record)
        except TypeError as exc:
            reason = f"cannot be encoded as JSON: {exc}"
            batch.rejects.append(Reject(source, line, batch.id, reason, repr(record)[:500]))
            continue
        kept.append(record)
        lines.append(line)
    batch.lines = lines
    batch.body = orjson.dumps({"d": kept}) if kept else b""
    return kept
