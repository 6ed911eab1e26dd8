"""Reading the files to upload: JSONL and CSV, plain or gzip-compressed, one row at a time.

Rows come with the line they start on, in constant memory whatever the size of the file. A line
that is not a JSON object, or a CSV row with the wrong number of cells, is a row too (a
:class:`Unreadable`), so that it is reported with its line and counted like any other.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias

import orjson

from ctflow.errors import InvalidInput

Format: TypeAlias = Literal["jsonl", "csv"]
SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
}
CHUNK = 1 << 20


@dataclass(frozen=True)
class Unreadable:
    """A row that could not be read as a record, and why."""

    reason: str
    text: str


Row: TypeAlias = dict[str, Any] | Unreadable
Chunk: TypeAlias = tuple[Sequence[int | None], list[Row]]
"""Rows in file order, each with the line it starts on (None: not from a file)."""


def format_of(path: Path) -> Format | None:
    """The format the file's name says: ``.jsonl``/``.ndjson``/``.csv``, optionally ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return SUFFIXES.get(Path(name).suffix)


def rows(path: Path, fmt: Format) -> Iterator[tuple[int, Row]]:
    """(line number, row) for every record of the file; blank lines are skipped."""
    with _reading(path) as stream:
        yield from _jsonl(stream) if fmt == "jsonl" else _csv(stream)


def count_rows(path: Path, fmt: Format) -> int:
    """How many rows ``rows`` would give, without parsing JSON: a JSONL row is a line with
    anything but whitespace on it (an unreadable line is a row too)."""
    if fmt == "csv":
        return sum(1 for _ in rows(path, fmt))
    with _reading(path) as stream:
        count = 0
        for number, line in enumerate(stream, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.strip():
                count += 1
        return count


def chunks(path: Path, fmt: Format, size: int) -> Iterator[Chunk]:
    """The file's rows, ``size`` at a time (the last chunk may have fewer): what
    ``chunked(rows(path, fmt), size)`` gives, read faster."""
    with _reading(path) as stream:
        yield from _jsonl_chunks(stream, size) if fmt == "jsonl" else chunked(_csv(stream), size)


def chunked(pairs: Iterable[tuple[int | None, Row]], size: int) -> Iterator[Chunk]:
    """(line, row) pairs, ``size`` at a time."""
    stream = iter(pairs)
    while chunk := list(islice(stream, size)):
        lines, found = zip(*chunk, strict=True)
        yield lines, list(found)


@contextmanager
def _reading(path: Path) -> Iterator[IO[bytes]]:
    try:
        with _open(path) as stream:
            yield stream
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot read {path}: {reason}") from None


def _open(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _jsonl(stream: IO[bytes]) -> Iterator[tuple[int, Row]]:
    for number, line in enumerate(stream, start=1):
        row = _jsonl_row(number, line)
        if row is not None:
            yield number, row


def _jsonl_chunks(stream: IO[bytes], size: int) -> Iterator[Chunk]:
    """``size`` lines parsed in one go while they are all JSON objects (the common case: no
    loop of Python per line); a chunk with a blank, broken or non-object line is read line by
    line, and topped up to ``size`` rows."""
    loads = orjson.loads
    done = 0  # lines read
    lines: list[int | None] = []
    found: list[Row] = []
    while raw := list(islice(stream, size - len(found))):
        if not found and done:  # (line 1 may start with a byte-order mark)
            try:
                parsed = [loads(line) for line in raw]
            except orjson.JSONDecodeError:
                parsed = None
            if parsed is not None and all(type(value) is dict for value in parsed):
                yield range(done + 1, done + 1 + len(raw)), parsed
                done += len(raw)
                continue
        for line in raw:
            done += 1
            row = _jsonl_row(done, line)
            if row is not None:
                lines.append(done)
                found.append(row)
        if len(found) == size:
            yield lines, found
            lines, found = [], []
    if found:
        yield lines, found


def _jsonl_row(number: int, line: bytes) -> Row | None:
    """Line ``number`` of a JSONL file as a row; None when it is blank."""
    if number == 1 and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if not line.strip():
            return None
        return Unreadable(f"not JSON: {exc}", _text(line))
    if type(value) is dict:
        return value
    return Unreadable("not a JSON object", _text(line))


def _csv(stream: IO[bytes]) -> Iterator[tuple[int, Row]]:
    with io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
        yield from _csv_rows(csv.reader(text))


def _csv_rows(reader: Any) -> Iterator[tuple[int, Row]]:
    header = next(reader, None)
    if header is None:
        return
    width = len(header)
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != width:
            reason = f"{len(cells)} cells; the header has {width}"
            yield line, Unreadable(reason, ",".join(cells)[:500])
            continue
        yield line, dict(zip(header, cells, strict=True))


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace").rstrip("\r\n")[:500]
