"""Jinja's filters within a render's budget: each filter's input and result are measured, and
the filters whose arguments can multiply their output (a width, a count, a separator, an
indent) are checked before they run, from the arguments the filter is given."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sized
from itertools import chain
from typing import Any

from jinja2.filters import make_attrgetter
from jinja2.utils import _PassArg

from ctflow.spec.templates_budget import Meter, meter


def budgeted(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """``filter_`` with its value and arguments measured, its own check run before it (a
    check may also give the result, computed more cheaply) and its result measured. A check
    takes the meter, the environment (``None`` for a filter not given it), then the filter's
    own arguments."""
    skip = 0 if _PassArg.from_obj(filter_) is None else 1  # the context Jinja passes first
    check = CHECKS.get(name)

    @functools.wraps(filter_)
    def within_budget(*args: Any, **kwargs: Any) -> Any:
        current = meter()
        current.clock()
        if len(args) > skip and isinstance(args[skip], Iterator):  # keep it, to measure it
            args = (*args[:skip], list(args[skip]), *args[skip + 1 :])
        for value in chain(args[skip:], kwargs.values()):
            current.check(value, f"the value given to {name}")
        if check is not None:
            environment = getattr(args[0], "environment", args[0]) if skip else None
            try:
                result = check(current, environment, *args[skip:], **kwargs)
            except TypeError:  # arguments the filter does not take: let it word the error
                result = None
            if result is not None:
                return result
        result = filter_(*args, **kwargs)
        if isinstance(result, Sized):
            current.check(result, name)
        return result

    return within_budget


def _center(current: Meter, environment: Any, value: Any, width: int = 80) -> None:
    if isinstance(width, int):
        current.fits(max(current.size(value), width), "center")


def _indent(
    current: Meter,
    environment: Any,
    s: Any,
    width: int | str = 4,
    first: bool = False,
    blank: bool = False,
) -> None:
    lines = str(s).count("\n") + 1
    indent = width if isinstance(width, int) else len(str(width))
    current.fits(current.size(s) + lines * max(indent, 0), "indent")


def _wordwrap(
    current: Meter,
    environment: Any,
    s: Any,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> None:
    if isinstance(width, int) and width > 0:
        size = current.size(s)
        lines = size // width + 1 if break_long_words else size // 2 + 1
        current.fits(size + lines * len(wrapstring or "\n"), "wordwrap")


def _join(current: Meter, environment: Any, value: Any, d: str = "", attribute: Any = None) -> None:
    if isinstance(value, Sized) and isinstance(d, str):
        current.fits(current.size(value) + len(value) * len(d), "join")


def _replace(
    current: Meter, environment: Any, s: Any, old: Any, new: Any, count: Any = None
) -> None:
    text, old, new = str(s), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    current.fits(len(text) + found * len(new), "replace")


def _format(current: Meter, environment: Any, value: Any, *args: Any, **kwargs: Any) -> None:
    percent_fits(current, str(value), [*args, *kwargs.values()], "format")


def _tojson(current: Meter, environment: Any, value: Any, indent: int | None = None) -> None:
    if isinstance(indent, int) and indent > 0:
        size, depth = current.size(value), current.depth(value)
        current.fits(size + size * indent * depth, "tojson")


def _pprint(current: Meter, environment: Any, value: Any) -> None:
    size = current.size(value)
    current.fits(size + size * current.depth(value), "pprint")


def _urlize(
    current: Meter,
    environment: Any,
    value: Any,
    trim_url_limit: Any = None,
    nofollow: bool = False,
    target: Any = None,
    rel: Any = None,
    extra_schemes: Any = None,
) -> None:
    size = current.size(value)
    per_link = 64 + len(str(target or "")) + len(str(rel or ""))
    current.fits(2 * size + (size // 2 + 1) * per_link, "urlize")


def _batch(
    current: Meter, environment: Any, value: Any, linecount: Any, fill_with: Any = None
) -> None:
    if isinstance(linecount, int):
        current.fits(linecount, "batch")


def _slice(
    current: Meter, environment: Any, value: Any, slices: Any, fill_with: Any = None
) -> None:
    if isinstance(slices, int):
        current.fits(slices, "slice")


def _sum(
    current: Meter, environment: Any, iterable: Any, attribute: Any = None, start: Any = 0
) -> Any:
    """``sum`` of lists or tuples in linear time (Python's ``sum`` copies them at each step)."""
    if not isinstance(start, list | tuple):
        return None
    items = list(iterable)
    if attribute is not None:
        items = [make_attrgetter(environment, attribute)(item) for item in items]
    current.fits(current.size(start) + sum(current.size(item) for item in items), "sum")
    if not all(isinstance(item, type(start)) for item in items):
        return None  # Python's sum words the type error
    return type(start)(chain(start, *items))


CHECKS: Mapping[str, Callable[..., Any]] = {
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "join": _join,
    "replace": _replace,
    "format": _format,
    "tojson": _tojson,
    "pprint": _pprint,
    "urlize": _urlize,
    "batch": _batch,
    "slice": _slice,
    "sum": _sum,
}

_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def percent_fits(current: Meter, text: str, values: list[Any], what: str) -> None:
    """``text % values`` (and the ``format`` filter) makes at most its text plus, for each
    field, its width and precision and the largest value."""
    specs = _PERCENT.findall(text)
    widths = sum(int(n) for spec in specs for n in spec if n.isdigit())
    if any("*" in spec for spec in specs):
        widths += sum(abs(v) for v in values if isinstance(v, int) and not isinstance(v, bool))
    largest = max((current.size(value) for value in values), default=0)
    current.fits(len(text) + widths + len(specs) * largest, what)
