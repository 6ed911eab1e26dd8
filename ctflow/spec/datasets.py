"""Checks of datasets: the file exists and can be read, its schema is declared, its columns map
onto declared properties. Reads at most the first line of a file (a CSV header).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from pathlib import Path

from ctflow.problems import Problems, suggest
from ctflow.spec.declared import complete, undeclared
from ctflow.spec.files import unreadable
from ctflow.spec.model import Decl
from ctflow.spec.types import Property

MAX_HEADER_BYTES = 1_000_000
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def dataset_format(decl: Decl) -> str | None:
    """The declared format, else the one the file name says (``.csv``, ``.jsonl``, with ``.gz``)."""
    declared = decl.data.get("format")
    if isinstance(declared, str):
        return declared
    name = Path(decl.data["file"]).name.lower().removesuffix(".gz")
    return FORMATS.get(Path(name).suffix)


def check_dataset(
    decl: Decl,
    events: Mapping[str, Mapping[str, Property]],
    profile: Mapping[str, Property],
    profiles_declared: bool,
    problems: Problems,
    *,
    strict_events: frozenset[str] = frozenset(),
) -> None:
    """The file, its format and header, and the declared schema it is checked against."""
    data = decl.data
    path = decl.directory / data["file"]
    fmt = dataset_format(decl)
    missing = unreadable(path)
    if missing is not None:
        problems.add(decl.document, ("file",), f"{missing}: {path}")
    if fmt is None:
        problems.add(
            decl.document,
            ("file",),
            "cannot tell the format from the file name; add format: csv, jsonl or native",
        )
    properties = _schema(decl, fmt, events, profile, profiles_declared, problems)
    columns: Mapping[str, str] = data.get("columns") or {}
    if properties is not None:
        for column, target in columns.items():
            if undeclared(target, properties):
                problems.add(
                    decl.document,
                    ("columns", column),
                    f"{target!r} is not a declared property{suggest(target, properties)}",
                )
    if fmt in ("csv", "jsonl") and missing is None:
        header = _header(decl, path, fmt, problems)
        if header is not None:
            _check_header(decl, path, header, columns, problems)
            strict = data["type"] == "events" and data.get("event") in strict_events
            if strict and properties is not None and complete(properties):
                _check_strict(decl, header, columns, properties, problems)


def _schema(
    decl: Decl,
    fmt: str | None,
    events: Mapping[str, Mapping[str, Property]],
    profile: Mapping[str, Property],
    profiles_declared: bool,
    problems: Problems,
) -> Mapping[str, Property] | None:
    """The declared properties the rows are checked against; ``None`` when there are none (a
    native events file names its event per row)."""
    data = decl.data
    if data["type"] == "events" and fmt != "native":
        event = data.get("event")
        if event is None:
            problems.add(decl.document, (), "missing 'event': which event every row of the file is")
            return None
        if event not in events:
            if undeclared(event, events):
                hint = suggest(event, events)
                problems.add(decl.document, ("event",), f"event {event!r} is not declared{hint}")
            return None
        return events[event]
    if data["type"] == "profiles":
        if profiles_declared:
            return profile
        problems.add(
            decl.document,
            ("type",),
            "no ProfileSchema is declared; profile datasets are checked against it",
        )
    return None


def _header(decl: Decl, path: Path, fmt: str, problems: Problems) -> list[str] | None:
    """The column names: a CSV's header row, or the keys of a JSONL file's first record."""
    what = "CSV header" if fmt == "csv" else "first JSON line"
    try:
        line = _first_line(path)
        if line is None:
            problems.add(decl.document, ("file",), f"{path} is empty")
            return None
        if fmt == "csv":
            return next(csv.reader(io.StringIO(line.decode("utf-8-sig"))))
        record = json.loads(line)
    except (OSError, UnicodeDecodeError, csv.Error, EOFError, ValueError) as error:
        problems.add(decl.document, ("file",), f"cannot read the {what} of {path}: {error}")
        return None
    if not isinstance(record, dict):
        problems.add(decl.document, ("file",), f"the {what} of {path} is not a JSON object")
        return None
    return [str(key) for key in record]


def _check_strict(
    decl: Decl,
    header: list[str],
    columns: Mapping[str, str],
    properties: Mapping[str, Property],
    problems: Problems,
) -> None:
    """A strict event takes no undeclared property: every other column must map onto one."""
    skipped = {decl.data.get("identity", "identity"), decl.data.get("timestamp")}
    if not skipped & set(header):
        return  # the identity column is misnamed: that problem is reported on its own
    for column in header:
        target = columns.get(column, column)
        if column not in skipped and target not in properties:
            problems.add(
                decl.document,
                ("file",),
                f"column {column!r} is not a property of strict event {decl.data['event']!r}; "
                "declare it, or rename it under columns:",
            )


def _check_header(
    decl: Decl, path: Path, header: list[str], columns: Mapping[str, str], problems: Problems
) -> None:
    wanted = [("identity", decl.data.get("identity", "identity"))]
    if "timestamp" in decl.data:
        wanted.append(("timestamp", decl.data["timestamp"]))
    wanted.extend(("columns", column) for column in columns)
    for field, column in wanted:
        if column not in header:
            keys: tuple[str, ...] = (field, column) if field == "columns" else (field,)
            where = decl.data.get(field) is None and field == "identity"
            problems.add(
                decl.document,
                () if where else keys,
                f"column {column!r} is not in {path.name}{suggest(column, header)}",
                at_key=field == "columns",
            )


def _first_line(path: Path) -> bytes | None:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as packed:
            line = packed.readline(MAX_HEADER_BYTES)
    else:
        with path.open("rb") as plain:
            line = plain.readline(MAX_HEADER_BYTES)
    return line if line.strip() else None
