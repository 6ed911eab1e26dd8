"""The query a count or an export sends: a ``where`` file (YAML or JSON, clevertap-api.md §4.2)
with ``--event``, ``--from`` and ``--to`` written over it. A file that cannot be a query is
refused with every problem as ``file:line:col: message`` (exit 3); a query the flags leave
incomplete is a usage error (exit 64).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ctflow.errors import InvalidInput, UsageError
from ctflow.yamlio import Document, YamlError, load_single

# §4.2's top-level keys and the type each one holds.
TOP_LEVEL: dict[str, type | tuple[type, ...]] = {
    "event_name": str,
    "from": (int, str),
    "to": (int, str),
    "event_properties": list,
    "session_properties": list,
    "common_profile_properties": dict,
    "advanced_query": dict,
}
_TYPE_WORDS: dict[type, str] = {str: "text", list: "a list", dict: "a mapping"}


def yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def load_where(path: Path) -> dict[str, Any]:
    """The query in ``path``; YAML is read through :mod:`ctflow.yamlio` (JSON is YAML too, so a
    JSON file's problems say where as well)."""
    try:
        document = load_single(path)
    except YamlError as exc:
        raise InvalidInput(f"{path} is not a readable where query", [str(exc)]) from None
    if not isinstance(document.data, dict):
        found = "nothing" if document.data is None else f"a {type(document.data).__name__}"
        problem = f"{document.where([])}: a where query is a mapping (§4.2), found {found}"
        raise InvalidInput(f"{path} is not a valid where query", [problem])
    problems = [p for key, value in document.data.items() for p in _check(document, key, value)]
    if problems:
        raise InvalidInput(f"{path} is not a valid where query", problems)
    return {str(k): _day(v) if k in ("from", "to") else v for k, v in document.data.items()}


def _check(document: Document, key: Any, value: Any) -> list[str]:
    if key not in TOP_LEVEL:
        line, col = document.position([key], key=True)
        known = ", ".join(TOP_LEVEL)
        return [f"{document.path}:{line}:{col}: unknown key {key!r}; a where query has {known}"]
    wanted = TOP_LEVEL[key]
    where = document.where([key])
    if key in ("from", "to"):
        if _day(value) is None:
            return [f"{where}: {key}: {value!r} is not a date (YYYYMMDD or YYYY-MM-DD)"]
        return []
    if not isinstance(value, wanted):
        assert isinstance(wanted, type)
        return [f"{where}: {key}: expected {_TYPE_WORDS[wanted]}, found {_describe(value)}"]
    return []


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return _TYPE_WORDS.get(type(value), type(value).__name__)


def _day(value: Any) -> int | None:
    """A YYYYMMDD integer from one, or from an ISO ``YYYY-MM-DD`` text; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
        try:
            date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
        return value if len(text) == 8 else None
    if isinstance(value, str):
        try:
            return yyyymmdd(date.fromisoformat(value))
        except ValueError:
            return None
    return None


def build(
    kind: str,
    where: dict[str, Any] | None,
    *,
    event: str | None,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """The body to send: ``where`` with the flags written over it.

    Events need an event and a window; profiles need a window when they name an event.
    """
    query = dict(where or {})
    if event is not None:
        query["event_name"] = event
    if start is not None:
        query["from"] = yyyymmdd(start)
    if end is not None:
        query["to"] = yyyymmdd(end)
    if kind == "events" and "event_name" not in query:
        raise UsageError("events need --event NAME (or event_name in the --where file)")
    if "event_name" in query:
        missing = [f"--{k}" for k in ("from", "to") if k not in query]
        if missing:
            raise UsageError(
                f"an event needs a window: give {' and '.join(missing)} (YYYY-MM-DD), or "
                "from/to in the --where file"
            )
        if query["from"] > query["to"]:
            raise UsageError(f"--from {query['from']} is after --to {query['to']}")
    return query
