"""Reading CleverTap's Liquid (``{{ Profile.Name | default: 'x' }}``) in a message text: which
``Profile`` and ``Event`` properties it reads, how, and where; or where its syntax is wrong.

Parses with python-liquid (imported on first use: ``ctflow --help`` never pays for it); imports
nothing else of ctflow. What is *said* of the references is :mod:`ctflow.spec.personalisation`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liquid import Environment

# CleverTap's namespaces (docs.clevertap.com/docs/liquid-tags: "You can personalize your messages
# for Events and User Profiles", written `Profile.<property>` in tags and outputs, e.g.
# `{% if Profile.Language == "Spanish" %}`); event properties are `Event.<property>`, read from the
# event the campaign qualified on (docs.clevertap.com/docs/catalog-send-time-personalization: "the
# most recent occurrence of the event is used"). Property names with spaces are written
# `Profile["Loyalty Tier"]`, as Liquid reads any name that is not a plain word.
ROOTS = ("Profile", "Event")
_CTFLOW_COMMENT = re.compile(r"\[#.*?#\]", re.DOTALL)
_CTFLOW_CODE = re.compile(r"\[\[.*?\]\]|\[%.*?%\]", re.DOTALL)
_SPACED = re.compile(r"\b(Profile|Event)\.([\w-]+)\s+$")
_WORD = re.compile(r"[\w-]+")
_MARKUP = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_NAME = re.compile(r"""\w+\s*(?:\.\s*[\w-]+|\[\s*(?:"[^"]*"|'[^']*'|[^\]]*)\s*\])""")


@dataclass(frozen=True)
class Reference:
    """One read of ``root.name``; ``index`` is where its path starts in the text."""

    root: str
    name: str
    index: int
    printed: bool  # output as it is: {{ Profile.X }}, no filter to turn it into text


@dataclass(frozen=True)
class Reading:
    """What a text's Liquid reads, or the first reason it is not Liquid (index, message)."""

    references: tuple[Reference, ...] = ()
    unknown_filters: tuple[tuple[int, str], ...] = ()
    error: tuple[int, str] | None = None


def has_liquid(text: str) -> bool:
    """Whether ``text`` holds Liquid markup at all (the cheap test run on every text)."""
    return "{{" in text or "{%" in text


def read(text: str) -> Reading:
    """The Liquid of ``text`` as written, every index where it was in ``text`` (a short text is
    remembered: campaigns often share a title or a push body word for word).

    ctflow's own ``[# comments #]`` are blanked (they never reach CleverTap) and its ``[[ … ]]``
    and ``[% … %]`` filled with ``_``: what they render to is not known here, so a name they
    build (``Profile.[[ vars.field ]]``) is not checked, and does not break the Liquid.

    The text between the markup changes nothing the Liquid reads, so only the markup is parsed,
    once for every text with the same markup (campaigns share their personalisation and differ
    in their words), and its indices are moved back to where the markup is in ``text``."""
    return _remembered(text) if len(text) <= REMEMBERED_CHARACTERS else _read(text)


REMEMBERED_CHARACTERS = 2000
"""Texts up to this long are remembered (4,096 of them at most: a few megabytes)."""


@functools.lru_cache(maxsize=4096)
def _remembered(text: str) -> Reading:
    return _read(text)


def _read(text: str) -> Reading:
    source = _CTFLOW_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    built = [(m.start(), m.end()) for m in _CTFLOW_CODE.finditer(source)]
    source = _CTFLOW_CODE.sub(lambda m: re.sub(r"[^\n]", "_", m[0]), source)
    spans = [(m.start(), m.end()) for m in _MARKUP.finditer(source)]
    left = _MARKUP.sub("", source)
    if "{{" in left or "{%" in left:  # markup left open: parsed whole, for the text's own error
        spans = [(0, len(source))]
    skeleton = "".join(source[start:stop] for start, stop in spans)
    parsed = _parse(skeleton)

    def moved(index: int) -> int:
        """``index`` in the skeleton, in ``text``."""
        if index < 0:
            return index
        offset = 0
        for start, stop in spans:
            if index < offset + stop - start:
                return start + index - offset
            offset += stop - start
        return len(source)  # the end of the markup: the end of the text

    if parsed.error is not None:
        index = moved(parsed.error[0])
        return Reading(error=(index, parsed.error[1] + _spaced_hint(source, index)))
    found = [Reference(r.root, r.name, moved(r.index), r.printed) for r in parsed.references]
    return Reading(
        tuple(ref for ref in found if not _built(source, ref, built)),
        tuple((moved(index), name) for index, name in parsed.unknown_filters),
    )


@functools.lru_cache(maxsize=4096)
def _parse(source: str) -> Reading:
    """The references of ``source``'s Liquid (ctflow's own code already masked)."""
    from liquid.exceptions import LiquidError

    env = _environment()
    try:
        template = env.parse(source)
    except LiquidError as error:
        token = error.token
        index = token.start_index if token is not None and token.start_index >= 0 else -1
        return Reading(error=(index, _message(error)))
    except RecursionError:
        return Reading(error=(-1, "the Liquid is nested too deeply"))
    walk = _Walk(env)
    for node in template.nodes:
        walk.node(node, frozenset())
    return Reading(tuple(walk.references), tuple(walk.unknown))


def _built(source: str, ref: Reference, built: list[tuple[int, int]]) -> bool:
    """Whether ctflow's own code builds part of ``ref``'s ``Profile.name``."""
    if not built:
        return False
    match = _NAME.match(source, ref.index)
    end = match.end() if match else ref.index + len(ref.root) + len(ref.name) + 1
    return any(start < end and stop > ref.index for start, stop in built)


def _spaced_hint(source: str, index: int) -> str:
    """For ``{{ Profile.Customer Type }}``: how Liquid writes a name with a space."""
    found = _SPACED.search(source[:index]) if index > 0 else None
    word = _WORD.match(source, index) if index >= 0 else None
    if found is None or word is None:
        return ""
    name = f"{found[2]} {word[0]}"
    return f"; a name with a space is written {found[1]}[{_quoted(name)}]"


def _quoted(name: str) -> str:
    return f'"{name}"'


def known_filters() -> list[str]:
    return sorted(_environment().filters)


def position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of ``index`` in ``text``; (1, 1) when it is unknown."""
    if index < 0:
        return 1, 1
    before = text[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


@functools.cache
def _environment() -> Environment:
    from liquid import Environment

    return Environment()


def _message(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error)
    return " ".join(str(text).split()) or "invalid Liquid"


class _Walk:
    """Collects the references of a parsed template; names bound by ``assign``, ``capture`` and
    ``for`` are the template's own, not CleverTap's."""

    def __init__(self, env: Environment) -> None:
        from liquid.context import RenderContext

        self.env = env
        self.context = RenderContext(env.from_string(""))
        self.references: list[Reference] = []
        self.unknown: list[tuple[int, str]] = []
        self.bound: set[str] = set()

    def node(self, node: Any, scope: frozenset[str]) -> None:
        from liquid.builtin.output import OutputNode

        self.bound.update(str(name) for name in node.template_scope())
        inner = scope | {str(name) for name in node.block_scope()}
        for expression in node.expressions():
            self.expression(expression, inner, printed=isinstance(node, OutputNode))
        for child in node.children(self.context, include_partials=False):
            self.node(child, inner)

    def expression(self, expression: Any, scope: frozenset[str], *, printed: bool) -> None:
        from liquid.builtin.expressions import FilteredExpression, Path

        if isinstance(expression, FilteredExpression):
            filters = list(expression.filters or [])
            self._filters(filters)
            if isinstance(expression.left, Path):
                self.path(expression.left, scope, printed=printed and not filters)
            else:
                self.expression(expression.left, scope, printed=False)
            for item in filters:
                for child in item.children():
                    self.expression(child, scope, printed=False)
            return
        if isinstance(expression, Path):
            self.path(expression, scope, printed=printed)
            return
        self._filters(list(getattr(expression, "filters", None) or []))
        self._filters(list(getattr(expression, "tail_filters", None) or []))
        for child in expression.children():
            self.expression(child, scope, printed=False)

    def path(self, path: Any, scope: frozenset[str], *, printed: bool) -> None:
        segments = list(path.path)
        head = segments[0] if segments else None
        ours = head in ROOTS and head not in scope and head not in self.bound
        if ours and len(segments) > 1 and isinstance(segments[1], str):
            self.references.append(
                Reference(str(head), segments[1], path.token.start_index, printed)
            )
        for child in path.children():  # Profile[Event.key]: the inner path is read too
            self.expression(child, scope, printed=False)

    def _filters(self, filters: list[Any]) -> None:
        for item in filters:
            if item.name not in self.env.filters:
                self.unknown.append((item.token.start_index, item.name))
