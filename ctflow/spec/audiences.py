"""Audiences (``kind: Audience``): reading their members (a CSV or JSONL file, or an inline list),
checking each member row with its line number, and checking that every campaign and journey
``audience: KEY`` names a declared one. Imports only the standard library and ctflow.spec.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctflow.errors import InvalidInput
from ctflow.problems import Problems, suggest
from ctflow.spec.datasets import FORMATS
from ctflow.spec.files import unreadable
from ctflow.spec.model import Decl, Keys
from ctflow.yamlio import Document

EVERYONE = "everyone"
MAX_MEMBER_CHARS = 119
"""CleverTap's identities are non-empty and under 120 characters (clevertap-api.md §1.5)."""
MAX_ROW_PROBLEMS = 20
"""Bad rows reported one by one per file; the rest are counted in one more line."""
CONTROL = frozenset({"Cc", "Zl", "Zp"})
"""Unicode categories no member may hold: control characters (a tab, a line break) and line
or paragraph separators."""


@dataclass(frozen=True)
class Members:
    """An Audience's members as declared: ``by`` says what each value is (identity or guid)."""

    by: str
    values: frozenset[str]


class MembersError(InvalidInput):
    """A members file that cannot be read; the message says why (and where): exit 3."""


CUSTOM_LIST = "custom_list"


def audience_by(data: Mapping[str, Any]) -> str:
    return str(data.get("by", "identity"))


def audience_source(data: Mapping[str, Any]) -> str:
    """``api_segment`` (the default) or ``custom_list``."""
    return str(data.get("source", "api_segment"))


def members_format(path: str) -> str | None:
    name = Path(path).name.lower().removesuffix(".gz")
    return FORMATS.get(Path(name).suffix)


def read_members(decl: Decl, problems: Problems | None = None) -> Members:
    """The members of a checked Audience. A bad row is reported to ``problems`` and left out
    (without ``problems``, the first raises :class:`MembersError`)."""
    data = decl.data
    by = audience_by(data)
    declared = data["members"]
    if isinstance(declared, list):
        return Members(by, frozenset(_inline(decl, declared, problems)))
    path = members_path(decl, declared)
    column = str(data.get("column", by))
    values: set[str] = set()
    bad = 0
    for line, value, error in _rows(path, column):
        if error is None and value is not None:
            values.add(value)
            continue
        message = f"record {line}: {error}"
        if problems is None:
            raise MembersError(f"{path}:{line}:1: {message}")
        bad += 1
        if bad <= MAX_ROW_PROBLEMS:
            problems.at(path, line, 1, message)
    if problems is not None and bad > MAX_ROW_PROBLEMS:
        problems.at(path, 1, 1, f"{bad - MAX_ROW_PROBLEMS} more bad member rows not listed")
    return Members(by, frozenset(values))


def members_path(decl: Decl, name: str) -> Path:
    """A members file as other file references are shown: ``data/vip.csv``, not
    ``audiences/../data/vip.csv``."""
    return Path(os.path.normpath(decl.directory / name))


def _inline(decl: Decl, declared: list[object], problems: Problems | None) -> Iterator[str]:
    """The members of an inline list, checked as file rows are (a problem at ``members[i]``)."""
    for index, item in enumerate(declared):
        value, error = _member(item)
        if value is not None:
            yield value
        elif problems is None:
            where = decl.document.where(("members", index))
            raise MembersError(f"{where}: members[{index}]: {error}")
        else:
            problems.add(decl.document, ("members", index), str(error))


def _open(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="")


def _member(value: object) -> tuple[str | None, str | None]:
    """(value, None), or (None, why it is not a member)."""
    if not isinstance(value, str):
        return None, f"expected a string, not {json.dumps(value)}"
    text = value.strip()
    if not text:
        return None, "empty member"
    if len(text) > MAX_MEMBER_CHARS:
        return None, f"{len(text)} characters; CleverTap takes at most {MAX_MEMBER_CHARS}"
    control = next((c for c in text if unicodedata.category(c) in CONTROL), None)
    if control is not None:
        return None, f"holds the control character {control!a}; a member is one line of text"
    return text, None


def _rows(path: Path, column: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, member, problem) for each record of the file."""
    fmt = members_format(path.name)
    try:
        with _open(path) as text:
            if fmt == "csv":
                yield from _csv_rows(text, column, path)
            else:
                yield from _jsonl_rows(text, column)
    except (OSError, UnicodeDecodeError, EOFError, csv.Error) as error:
        raise MembersError(f"cannot read {path}: {error}") from None


def _csv_rows(
    text: io.TextIOBase, column: str, path: Path
) -> Iterator[tuple[int, str | None, str | None]]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        raise MembersError(f"{path} is empty")
    if column not in header:
        raise MembersError(
            f"{path.name} has no column {column!r}"
            + (suggest(column, header) or "; column: names the one holding the members")
        )
    at = header.index(column)
    for row in reader:
        if not row:
            continue
        line = reader.line_num
        if at >= len(row):
            yield line, None, f"no {column!r} value"
            continue
        yield line, *_member(row[at])


def _jsonl_rows(text: io.TextIOBase, column: str) -> Iterator[tuple[int, str | None, str | None]]:
    for line, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            yield line, None, f"not JSON: {exc}"
            continue
        if not isinstance(record, dict) or column not in record:
            yield line, None, f"no {column!r} key"
            continue
        yield line, *_member(record[column])


def check_audience_decl(decl: Decl, problems: Problems) -> None:
    """The members file exists, has the column, and each row is a member."""
    declared = decl.data.get("members")
    if not isinstance(declared, str):
        if "column" in decl.data:
            problems.add(decl.document, ("column",), "column is for a members file, not a list")
        if isinstance(declared, list):
            read_members(decl, problems)
        return
    path = members_path(decl, declared)
    missing = unreadable(path)
    if missing is not None:
        problems.add(decl.document, ("members",), f"{missing}: {path}")
        return
    if members_format(declared) is None:
        problems.add(
            decl.document, ("members",), "a members file is .csv or .jsonl (optionally .gz)"
        )
        return
    try:
        read_members(decl, problems)
    except MembersError as error:
        keys: Keys = ("column",) if "column" in decl.data else ("members",)
        problems.add(decl.document, keys, str(error))


# -- references ------------------------------------------------------------------------------


def check_references(
    campaigns: Mapping[str, Decl],
    journeys: Mapping[str, Decl],
    audiences: Mapping[str, Decl],
    problems: Problems,
) -> None:
    """Every ``audience: KEY`` (a campaign's, a journey's defaults' or steps') names a declared
    Audience."""
    for decl in campaigns.values():
        if decl.journey is None:
            _reference(decl.document, ("audience",), decl.data.get("audience"), audiences, problems)
    for journey in journeys.values():
        defaults = journey.data.get("defaults") or {}
        _reference(
            journey.document,
            ("defaults", "audience"),
            defaults.get("audience"),
            audiences,
            problems,
        )
        for index, step in enumerate(journey.data.get("steps") or []):
            if isinstance(step, Mapping):
                keys = ("steps", index, "audience")
                _reference(journey.document, keys, step.get("audience"), audiences, problems)
                if _mixed(defaults.get("audience"), step.get("audience")):
                    problems.add(journey.document, keys, MIXED)
                elif _two_segments(defaults.get("audience"), step.get("audience"), audiences):
                    message = TWO_SEGMENTS.format(default=defaults["audience"])
                    problems.add(journey.document, keys, message)


CUSTOM_LIST_TARGET = (
    "{key!r} is a custom list: CleverTap returns no segment id for a custom list, so a campaign "
    "cannot target it by key (make it an API segment, source: api_segment, or target the list "
    "in the dashboard)"
)
MIXED = (
    "a step cannot join conditions to an Audience of the defaults, or an Audience to their "
    "conditions: CleverTap targets a segment or a query, not both"
)

TWO_SEGMENTS = (
    "the journey's defaults target the Audience {default!r}, so its steps do too: a step can "
    "leave audience out (or say everyone) but not target another Audience, as CleverTap "
    "targets one segment"
)


def _two_segments(default: object, step: object, audiences: Mapping[str, Decl]) -> bool:
    """Both name a declared Audience, not the same one (an unknown key is reported already)."""
    first, second = segment_of(default), segment_of(step)
    return first in audiences and second in audiences and first != second


def _mixed(default: object, step: object) -> bool:
    both = (default, step)
    return any(segment_of(a) for a in both) and any(isinstance(a, Mapping) for a in both)


def _reference(
    document: Document,
    keys: Keys,
    value: object,
    audiences: Mapping[str, Decl],
    problems: Problems,
) -> None:
    if not isinstance(value, str) or value == EVERYONE:
        return
    if value in audiences:
        if audience_source(audiences[value].data) == CUSTOM_LIST:
            problems.add(document, keys, CUSTOM_LIST_TARGET.format(key=value))
        return
    problems.add(
        document,
        keys,
        f"{value!r} is not 'everyone' or a declared Audience"
        f"{suggest(value, [EVERYONE, *audiences])}",
    )


def segment_of(audience: object) -> str | None:
    """The Audience key a campaign's audience names; ``None`` for everyone or a query."""
    return audience if isinstance(audience, str) and audience != EVERYONE else None


def check_key_clashes(
    audiences: Mapping[str, Decl],
    campaigns: Mapping[str, Decl],
    journeys: Mapping[str, Decl],
    problems: Problems,
) -> None:
    """An Audience key is not also a campaign's, a journey's or a journey step's: apply reports
    each change by its key, so two things under one key would be mixed up."""
    for key, decl in audiences.items():
        other = campaigns.get(key) or journeys.get(key)
        if other is None:
            continue
        what = "journey" if other.kind == "Journey" else "campaign"
        where = other.document.where(other.locate(("key",)))
        problems.add(
            decl.document,
            decl.locate(("key",)),
            f"audience key {key!r} is already a {what}'s key ({where}); give the Audience "
            "another key",
        )
