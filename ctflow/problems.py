"""Problems found in declarations: where (file, line, column) and what, collected all at once.

Imports only ``ctflow.yamlio``; every check of the spec layer, and of a send's data, reports
through :class:`Problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

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
        return f"{self.path}:{self.line}:{self.column}: {self.message}"

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
