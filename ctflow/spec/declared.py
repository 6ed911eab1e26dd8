"""Names declared so far, and whether a declaration that failed may declare more.

When it may (a broken EventSchema, an unreadable file naming ProfileSchema), "not declared" is
not said of any name: that would only repeat the failure in other words. Plain data, no imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

V = TypeVar("V")


class Declared(dict[str, V]):
    """A dict of declared names; ``complete`` is false when more may be declared than it holds."""

    def __init__(self, items: Iterable[tuple[str, V]] = (), *, complete: bool = True) -> None:
        super().__init__(items)
        self.complete = complete


def complete(declared: Mapping[str, Any]) -> bool:
    """Whether ``declared`` holds every name that is declared (a plain mapping does)."""
    return getattr(declared, "complete", True) is not False


def undeclared(name: object, declared: Mapping[str, Any]) -> bool:
    """Whether ``name`` is surely not declared in ``declared``."""
    known = isinstance(name, str) and name in declared
    return not known and complete(declared)
