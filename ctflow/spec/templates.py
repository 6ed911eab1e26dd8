"""ctflow's templates: sandboxed Jinja2 with ``[[ ]]``/``[% %]``/``[# #]`` delimiters.

Owns the environment, rendering and the static check (docs/declarations.md "Templates").
CleverTap's Liquid (``{{ }}``, ``{% %}``) is plain text here. Must not import HTTP or the client.
"""

from __future__ import annotations

import functools
import re
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from markupsafe import escape

from ctflow.spec.templates_budget import LIMITS, Budget, BudgetExceeded, Meter, metered
from ctflow.spec.templates_check import Checker
from ctflow.spec.templates_sandbox import BudgetedEnvironment

DELIMITERS = {
    "variable_start_string": "[[",
    "variable_end_string": "]]",
    "block_start_string": "[%",
    "block_end_string": "%]",
    "comment_start_string": "[#",
    "comment_end_string": "#]",
}
_STARTS = re.compile(
    "|".join(re.escape(v) for k, v in DELIMITERS.items() if k.endswith("start_string"))
)
_TEMPLATE_FILE = "<template>"  # how Jinja names a string template's frames in a traceback


def _environment(*, autoescape: bool) -> BudgetedEnvironment:
    return BudgetedEnvironment(
        **DELIMITERS,
        line_statement_prefix=None,
        line_comment_prefix=None,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=autoescape,
    )


_PLAIN = _environment(autoescape=False)
_ESCAPING = _environment(autoescape=True)


@dataclass(frozen=True)
class TemplateProblem:
    """One problem found by :func:`check`; ``line`` and ``column`` are 1-based in the source."""

    line: int
    column: int
    message: str


class TemplateRenderError(Exception):
    """Rendering failed; ``str()`` is the message, ``line`` the template line (1 if unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def is_template(source: str) -> bool:
    """Whether ``source`` contains any ctflow delimiter (Liquid alone is not a ctflow template)."""
    return "[" in source and _STARTS.search(source) is not None  # asked of every text


def check(source: str, context: Mapping[str, Any]) -> list[TemplateProblem]:
    """Static check of one template against ``context``, a JSON Schema of the names it may use.

    Reports a syntax error alone; otherwise every undeclared name and every use a value's
    declared type cannot allow, sorted by line. Unknown types are never reported. Jinja
    knows lines only, so ``column`` is always 1.
    """
    if not is_template(source):  # plain text (Liquid included): nothing Jinja could object to
        return []
    try:
        tree = _PLAIN.parse(source)
    except TemplateSyntaxError as exc:
        return [TemplateProblem(exc.lineno or 1, 1, _one_line(exc.message or str(exc)))]
    except RecursionError:
        return [TemplateProblem(1, 1, "the template is nested too deeply")]
    found = Checker(_PLAIN, context).run(tree)
    if _substitutes_only(tree):  # the compiler's own checks concern statements and calls
        return _sorted(found)
    try:  # what only Jinja's compiler knows ("block 'x' defined twice", assigning to loop)
        _PLAIN.compile(tree, raw=True)
    except TemplateSyntaxError as exc:  # an unknown filter is also found by the walk, better put
        message = _one_line(exc.message or str(exc))
        if not any(seen.startswith(message) for _, seen in found):
            found.append((exc.lineno or 1, message))
    except (TemplateError, RecursionError):
        pass  # constant folding met an error that rendering reports; the walk found the rest
    return _sorted(found)


_SUBSTITUTION = (nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Const)


def _substitutes_only(tree: nodes.Template) -> bool:
    """Whether ``tree`` only prints text and names (``[[ vars.brand ]]``): what Jinja's compiler
    refuses (a block defined twice, assigning to ``loop``) needs a statement it lacks."""
    return all(isinstance(node, _SUBSTITUTION) for node in tree.find_all(nodes.Node))


def _sorted(found: list[tuple[int, str]]) -> list[TemplateProblem]:
    unique = sorted(dict.fromkeys(found), key=lambda problem: problem[0])
    return [TemplateProblem(line, 1, message) for line, message in unique]


_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Jinja's lexer counts as a line break


def skeleton(source: str) -> str:
    """``source`` with the text around its substitutions reduced to its line breaks, when it
    only substitutes names (``Deal [[ vars.brand ]] 12`` reads as ``[[ vars.brand ]]``): what
    :func:`check` reports is the same for both, so thousands of such texts are checked once.
    Any other template is returned as it is."""
    if "[%" in source or "[#" in source:
        return source
    pieces: list[str] = []
    end = 0
    for match in _NAME_ONLY.finditer(source):
        text = source[end : match.start()]
        if "[[" in text or text.endswith("["):  # Jinja's lexer would start a substitution there
            return source
        pieces.append("\n" * len(_NEWLINE.findall(text)))
        pieces.append(match[0])
        end = match.end()
    rest = source[end:]
    if "[[" in rest:
        return source
    pieces.append("\n" * len(_NEWLINE.findall(rest)))
    return "".join(pieces)


def names(source: str) -> set[str]:
    """The names a template reads from its context (``vars``, ``env``, parameters).

    Names bound inside the template and Jinja's globals (``range``, ``namespace``…) are not
    included; a template with a syntax error gives an empty set (:func:`check` reports it).
    """
    try:
        tree = _PLAIN.parse(source)
    except (TemplateSyntaxError, RecursionError):
        return set()
    checker = Checker(_PLAIN, {})
    checker.run(tree)
    return checker.undeclared


def render(
    source: str, context: Mapping[str, Any], *, autoescape: bool = False, budget: Budget = LIMITS
) -> str:
    """Render ``source`` with ``context``; ``autoescape`` HTML-escapes every substituted value.

    Any failure (syntax, an undefined name, a type error, a sandbox refusal, crossing one of
    ``budget``'s limits) raises :class:`TemplateRenderError` carrying the template line.
    """
    simple = _substituted(source, context, autoescape)
    if simple is not None and len(simple) <= budget.characters:
        return simple
    try:
        template = _compiled(source, autoescape)
        with metered(budget) as meter:
            return _streamed(template, context, meter)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(exc.lineno or 1, _one_line(exc.message or str(exc))) from exc
    except TemplateRenderError:
        raise
    except Exception as exc:
        raise TemplateRenderError(_failing_line(exc), _one_line(str(exc) or repr(exc))) from exc


def _streamed(template: Template, context: Mapping[str, Any], meter: Meter) -> str:
    """The template's output, refused as soon as it is longer than the budget allows."""
    out: list[str] = []
    length = 0
    for piece in template.generate(dict(context)):
        length += len(piece)
        if length > meter.budget.characters:
            raise TemplateRenderError(
                meter.line, f"renders more than {meter.budget.characters:,} characters"
            )
        out.append(piece)
        try:
            meter.clock()
        except BudgetExceeded as exc:
            raise TemplateRenderError(meter.line, str(exc)) from exc
    return "".join(out)


_NAME_ONLY = re.compile(r"\[\[\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\]\]")


def _substituted(source: str, context: Mapping[str, Any], autoescape: bool) -> str | None:
    """The output Jinja would give for a template that only substitutes names (``[[ a.b ]]``),
    without compiling it: a plan renders thousands of such one-off texts. ``None`` whenever
    Jinja itself is needed (any statement, filter or expression; a missing name, whose error
    Jinja words; a value that is not text or a number; a ``\r``, which Jinja normalises)."""
    if "[%" in source or "[#" in source or "\r" in source:
        return None
    out: list[str] = []
    end = 0
    for match in _NAME_ONLY.finditer(source):
        value: Any = context
        for part in match[1].split("."):
            if not isinstance(value, Mapping) or part not in value or hasattr(dict, part):
                return None
            value = value[part]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None
        text = str(value)
        out.append(source[end : match.start()])
        out.append(str(escape(text)) if autoescape else text)
        end = match.end()
    rest = source[end:]
    if "[[" in rest or any("[[" in piece for piece in out[::2]):
        return None
    out.append(rest)
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, autoescape: bool) -> Template:
    with warnings.catch_warnings():  # Python's SyntaxWarning on e.g. `5[0]` in generated code
        warnings.simplefilter("ignore", SyntaxWarning)
        return (_ESCAPING if autoescape else _PLAIN).from_string(source)


def _failing_line(exc: BaseException) -> int:
    """The template line of the innermost template frame (Jinja rewrites tracebacks so)."""
    lines = [
        f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == _TEMPLATE_FILE
    ]
    return next((line for line in reversed(lines) if line), 1)


_INNERMOST = re.compile(r"\. The innermost block that needs to be closed is ('[^']*')")
_SENTENCE = re.compile(r"\. (?=[A-Z])")


def _one_line(message: str) -> str:
    """Jinja's messages as ctflow writes messages: one line, lower-case start, no final stop."""
    text = re.sub(r"\s+", " ", message).strip().removesuffix(".")
    text = _INNERMOST.sub(r" (in block \1)", text)
    text = text.replace(". Jinja was looking for the following tags: ", ", expected ")
    text = "; ".join(_lower_first(sentence) for sentence in _SENTENCE.split(text))
    return text or "invalid template"


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower() and not text.startswith("Jinja"):
        return text[0].lower() + text[1:]
    return text
