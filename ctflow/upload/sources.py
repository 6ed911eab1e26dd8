"""Reading the files to upload: JSONL and CSV, plain or gzip-compressed, one row at a time.

Rows come with the line they start on, in constant memory whatever the size of the file. A line
that is not a JSON object, or a CSV row with the wrong number of cells, is a row too (a
:class:`Unreadable`), so that it is reported with its line and counted like any other.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
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


def format_of(path: Path) -> Format | None:
    """The format the file's name says: ``.jsonl``/``.ndjson``/``.csv``, optionally ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return SUFFIXES.get(Path(name).suffix)


def rows(path: Path, fmt: Format) -> Iterator[tuple[int, Row]]:
    """(line number, row) for every record of the file; blank lines are skipped."""
    try:
        with _open(path) as stream:
            if fmt == "jsonl":
                yield from _jsonl(stream)
            else:
                yield from _csv(stream)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(f"cannot read {path}: {reason}") from None


def _open(path: Path) -> IO[bytes]:
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _jsonl(stream: IO[bytes]) -> Iterator[tuple[int, Row]]:
    loads = orjson.loads
    for number, line in enumerate(stream, start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            value = loads(line)
        except orjson.JSONDecodeError as exc:
            if not line.strip():
                continue
            yield number, Unreadable(f"not JSON: {exc}", _text(line))
            continue
        if type(value) is dict:
            yield number, value
        else:
            yield number, Unreadable("not a JSON object", _text(line))


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
