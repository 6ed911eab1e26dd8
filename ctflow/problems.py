"""Problems found in declarations: where (file, line, column) and what, collected all at once.

Imports only ``ctflow.yamlio``; every check of the spec layer, and of a send's data, reports
through :class:`Problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from ctflow.yamlio import Document, YamlError

Keys = Sequence[str | int]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem; ``str()`` is ``path:line:col: message`` and sorting is by position."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        """One line whatever the path and message hold (see :func:`one_line`)."""
        return one_line(f"{self.path}:{self.line}:{self.column}: {self.message}")

    def to_json(self) -> dict[str, str | int]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Problems:
    """A collector; checks add to it and never stop at the first problem."""

    items: set[Problem] = field(default_factory=set)

    def add(self, document: Document, keys: Keys, message: str, *, at_key: bool = False) -> None:
        """A problem at the value at ``keys``; the message is prefixed with ``keys`` as dotted."""
        line, column = document.position(keys, key=at_key)
        where = dotted(keys)
        if where and not message.startswith(f"{where}: "):
            message = f"{where}: {message}"
        self.items.add(Problem(str(document.path), line, column, message))

    def at(self, path: Path | str, line: int, column: int, message: str) -> None:
        self.items.add(Problem(str(path), line, column, message))

    def yaml(self, error: YamlError) -> None:
        self.items.add(Problem(error.path, error.line, error.col, error.message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.update(problems)

    def sorted(self) -> list[Problem]:
        return sorted(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.sorted())


def one_line(text: str) -> str:
    """``text`` with each character that is not printable (a line break, a form feed, a lone
    surrogate) escaped as Python writes it (``\\x0c``), so one problem stays one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


LONE_SURROGATE = "holds a lone surrogate (\\ud800-\\udfff), which is not a character"


def lone_surrogates(value: Any, keys: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where ``value`` holds text no request can carry (a lone surrogate, as Python keeps bytes
    that were not UTF-8): the keys of each such string, or key, inside it."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            found.append(keys)
    elif isinstance(value, Mapping):
        if any(lone_surrogates(name) for name in value if isinstance(name, str)):
            found.append(keys)  # one of its keys
        for name, child in value.items():
            found.extend(
                lone_surrogates(child, (*keys, repr(name) if lone_surrogates(name) else str(name)))
            )
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            found.extend(lone_surrogates(child, (*keys, index)))
    return found


def dotted(keys: Iterable[str | int]) -> str:
    """``content.android.channel_id`` / ``steps[2].after``: a path as people write it."""
    parts = [f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys]
    return "".join(parts).lstrip(".")


def suggest(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, ignoring case first; else ``""``."""
    if not isinstance(word, str):
        return ""
    known = list(choices)
    folded = {k.strip().casefold(): k for k in known}
    close = folded.get(word.strip().casefold())
    if close is None:
        matches = get_close_matches(word, known, n=1, cutoff=0.6)
        close = matches[0] if matches else None
    return f" (did you mean {close!r}?)" if close is not None else ""
