"""The resource budget of one template render: the limits (named here, once), the meter that
counts a render against them, and how large a value would be as text. Imports nothing of ctflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import chain

from jinja2.utils import Namespace


@dataclass(frozen=True)
class Budget:
    """What one render of one template may use (docs/declarations.md "Template limits")."""

    characters: int = 1_000_000  # the output, and any text or list built on the way to it
    loop_iterations: int = 100_000  # loop bodies run, all loops of the render together
    calls: int = 10_000  # macro, call-block and block calls
    digits: int = 4_300  # the size of a number (Python's own limit for printing one)
    nesting: int = 200  # lists and mappings inside each other
    seconds: float = 1.0  # processor time


LIMITS = Budget()


class BudgetExceeded(Exception):
    """A render crossed its budget; ``str()`` says which limit, in the user's words."""


class Meter:
    """One render's counts. Time is the thread's processor time, so a busy machine or a
    worker's other threads do not count, and nothing (no signal, no thread) interrupts it."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.deadline = time.thread_time() + budget.seconds
        self.loops = 0
        self.calls = 0
        self.line = 1  # of the loop or macro that ran last: where streamed output comes from
        self._ticks = 0
        self._sizes: dict[int, tuple[object, int, int]] = {}
        self._path: set[int] = set()

    def step(self, kind: str, line: int) -> bool:
        """One loop iteration (``kind`` "loop") or one macro or block call ("call")."""
        self.line = line
        if kind == "loop":
            self.loops += 1
            if self.loops > self.budget.loop_iterations:
                raise BudgetExceeded(
                    f"loops run more than {self.budget.loop_iterations:,} times in all"
                )
        else:
            self.calls += 1
            if self.calls > self.budget.calls:
                raise BudgetExceeded(
                    f"macros and blocks are called more than {self.budget.calls:,} times"
                )
        self.clock()
        return True

    def clock(self) -> None:
        """Refuse to go on past the time limit. Reading the clock costs more than a loop
        iteration, so it is read at every 16th call: each call stands for one bounded step."""
        self._ticks += 1
        if self._ticks & 15 == 0 and time.thread_time() > self.deadline:
            raise BudgetExceeded(
                f"takes more than {self.budget.seconds:g} s of processor time to render"
            )

    def fits(self, characters: int, what: str) -> None:
        """Refuse ``what`` when it would be more text than a template may make."""
        if characters > self.budget.characters:
            raise BudgetExceeded(f"{what} makes more than {self.budget.characters:,} characters")

    def check(self, value: object, what: str) -> None:
        """Refuse ``value`` when printing it would make more text than a template may."""
        self.fits(self.size(value), what)

    def size(self, value: object) -> int:
        """About how many characters ``value`` is as text, counted only to just past the limit;
        what was measured is remembered, so a list holding one list twice, a thousand times
        over, costs little to measure."""
        if isinstance(value, str | bytes):
            return len(value)
        return self._measure(value, 0)[0]

    def depth(self, value: object) -> int:
        """How deep lists and mappings nest in ``value``."""
        return self._measure(value, 0)[1]

    def _measure(self, value: object, level: int) -> tuple[int, int]:
        if isinstance(value, str | bytes):
            return len(value) + 2, 0
        if isinstance(value, Namespace):  # changes as the template runs: never remembered
            attrs: dict[str, object] = object.__getattribute__(value, "_Namespace__attrs")
            size, depth = self._walk(attrs, level)
            return size + 12, depth
        if not isinstance(value, Mapping | list | tuple | set | frozenset):
            return (_number_size(value) if isinstance(value, int | float) else 8), 0
        known = self._sizes.get(id(value))
        if known is not None and known[0] is value:
            return known[1], known[2]
        size, depth = self._walk(value, level)
        self._sizes[id(value)] = (value, size, depth)
        return size, depth

    def _walk(
        self, value: Mapping[object, object] | Iterable[object], level: int
    ) -> tuple[int, int]:
        if id(value) in self._path:  # a namespace holding itself, printed as [...]
            return 5, 0
        nesting = self.budget.nesting
        if level >= nesting:
            raise BudgetExceeded(f"nests lists or mappings more than {nesting} deep")
        children = chain.from_iterable(value.items()) if isinstance(value, Mapping) else value
        total, deepest = 2, 0
        self._path.add(id(value))
        limit = self.budget.characters
        try:
            for child in children:
                kind = type(child)
                if kind is str:  # the common cases first: a list of texts or numbers
                    total += len(child) + 4  # type: ignore[arg-type]
                elif kind in _SMALL:
                    total += 26
                else:
                    size, depth = self._measure(child, level + 1)
                    total += size + 2
                    deepest = max(deepest, depth)
                if total > limit:
                    break  # too large already: the rest need not be measured
        finally:
            self._path.discard(id(value))
        if deepest + 1 > nesting:
            raise BudgetExceeded(f"nests lists or mappings more than {nesting} deep")
        return total, deepest + 1


def _number_size(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() * 30103 // 100000 + 2
    return 24


_SMALL = frozenset({float, bool, type(None)})  # an int may be long: it is measured


_CURRENT: ContextVar[Meter | None] = ContextVar("ctflow_template_meter", default=None)


def meter() -> Meter:
    """The meter of the render under way; outside any (Jinja folding constants while it
    compiles a template) a fresh one, so the size limits hold there too."""
    return _CURRENT.get() or Meter(LIMITS)


@contextmanager
def metered(budget: Budget) -> Iterator[Meter]:
    """Count the render run inside against ``budget`` (per thread and per task)."""
    current = Meter(budget)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)
