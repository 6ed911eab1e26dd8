"""The Jinja environment ctflow renders with: Jinja's immutable sandbox (no attribute, format or
global escapes) that also keeps every render within its budget (``templates_budget``), checking
each operation where it is evaluated, before it can build more than a template may make.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping, Sized
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

from ctflow.spec.templates_budget import BudgetExceeded, Meter, meter
from ctflow.spec.templates_filters import budgeted, percent_fits


class BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with a budget on output, loops, calls, sizes and time."""

    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options, finalize=_printed)
        self.code_generator_class = _Generator
        self.filters = {name: budgeted(name, f) for name, f in self.filters.items()}
        self.globals.update(range=_range, lipsum=_lipsum)
        self.concat = _concat  # type: ignore[method-assign]  # a macro's or block's text

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _Metered(self).visit(source)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        current = meter()
        current.clock()
        _binop_fits(current, operator, left, right)
        return self.binop_table[operator](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        current = meter()
        current.clock()
        owner = getattr(__obj, "__self__", None)
        name = str(getattr(__obj, "__name__", None) or getattr(__obj, "name", "a call"))
        if isinstance(owner, str):
            args = _str_method_fits(current, owner, name, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        current.check(result, f"{name}()")
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        mapping = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            values = (
                list(args[0].values())
                if mapping and args and isinstance(args[0], Mapping)
                else [*args, *kwargs.values()]
            )
            _format_fits(meter(), text, values, f"{value.__name__}()")
            return wrapped(*args, **kwargs)

        return checked

    # what the generated code calls (see _Metered and _Generator)

    def budget_step(self, kind: str, line: int) -> bool:
        return meter().step(kind, line)

    def budget_built(self, value: Any) -> Any:
        meter().check(value, "a list or mapping")
        return value

    def budget_joined(self, join: Callable[[Iterable[Any]], str], values: tuple[Any, ...]) -> str:
        current = meter()
        current.fits(sum(current.size(value) for value in values), "'~'")
        return join(values)


def _printed(value: Any) -> Any:
    meter().check(value, "the printed value")
    return value


def _concat(parts: Iterable[str]) -> str:
    pieces = list(parts)
    meter().fits(sum(len(piece) for piece in pieces), "a macro or block")
    return "".join(pieces)


def _range(*args: int) -> range:
    numbers = range(*args)
    budget = meter().budget
    if len(numbers) > budget.loop_iterations:
        raise BudgetExceeded(f"range() makes more than {budget.loop_iterations:,} numbers")
    return numbers


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    meter().fits(int(n) * int(max) * 12, "lipsum()")
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


class _Metered(NodeTransformer):
    """Adds the budget's checks to a parsed template: a step at each loop iteration (before
    a loop's ``if`` filter, so a loop that filters everything out still counts) and at each
    macro, call-block and block call; every list, tuple and mapping written in it is measured."""

    def __init__(self, environment: BudgetedEnvironment) -> None:
        self.environment = environment

    def _own(self, method: str, line: int, *args: nodes.Expr) -> nodes.Call:
        """A call of one of the environment's ``budget_`` methods (written as a direct call)."""
        call = nodes.Call(nodes.EnvironmentAttribute(method), list(args), [], None, None)
        call.set_lineno(line)
        call.set_environment(self.environment)
        return call

    def _step(self, kind: str, line: int) -> nodes.Call:
        return self._own("budget_step", line, nodes.Const(kind), nodes.Const(line))

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        step = self._step("loop", node.lineno)
        if node.test is None:
            statement = nodes.ExprStmt(step, lineno=node.lineno, environment=self.environment)
            node.body = [statement, *node.body]
        else:
            node.test = nodes.And(step, node.test, lineno=node.lineno, environment=self.environment)
        return node

    def _called(self, node: nodes.Macro | nodes.CallBlock | nodes.Block) -> nodes.Node:
        self.generic_visit(node)
        step = self._step("call", node.lineno)
        statement = nodes.ExprStmt(step, lineno=node.lineno, environment=self.environment)
        node.body = [statement, *node.body]
        return node

    visit_Macro = visit_CallBlock = _called

    def visit_Block(self, node: nodes.Block) -> nodes.Node:
        if node.required:  # may hold nothing but whitespace; it can never render anyway
            return node
        return self._called(node)

    def _built(self, node: nodes.List | nodes.Tuple | nodes.Dict) -> nodes.Node:
        self.generic_visit(node)
        if isinstance(node, nodes.Tuple) and node.ctx != "load":
            return node
        try:  # written out in full in the template: no larger than its source
            node.as_const()
        except nodes.Impossible:
            return self._own("budget_built", node.lineno, node)
        return node

    visit_List = visit_Tuple = visit_Dict = _built


class _Generator(CodeGenerator):
    """Jinja's code generator, which also writes the budget's own calls directly (not through
    the sandbox's ``call``: they run at every loop iteration) and measures ``~``."""

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if not (
            isinstance(node.node, nodes.EnvironmentAttribute)
            and node.node.name.startswith("budget_")
        ):
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.write(f"environment.{node.node.name}(")
        for arg in node.args:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.budget_joined({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _binop_fits(current: Meter, operator: str, left: Any, right: Any) -> None:
    what = f"'{operator}'"
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                current.fits(current.size(seq) * max(count, 0), what)
        if _integers(left, right):
            _digits_fit(current, left.bit_length() + right.bit_length(), what)
    elif operator == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            current.fits(current.size(left) + current.size(right), what)
    elif operator == "%" and isinstance(left, str):  # a tuple gives several values
        values = right.values() if isinstance(right, Mapping) else right
        percent_fits(current, left, list(values) if isinstance(values, tuple) else [right], what)
    elif operator == "**" and _integers(left, right) and abs(left) > 1 and right > 0:
        _digits_fit(current, left.bit_length() * right, what)


def _integers(left: Any, right: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))


def _digits_fit(current: Meter, bits: int, what: str) -> None:
    digits = bits * 30103 // 100000
    if digits > current.budget.digits:
        raise BudgetExceeded(f"{what} makes a number of more than {current.budget.digits:,} digits")


def _format_fits(current: Meter, text: str, values: list[Any], what: str) -> None:
    try:
        fields = [
            (spec or "")
            for _, field, spec, _ in string.Formatter().parse(text)
            if field is not None
        ]
    except ValueError:
        return  # the call itself words the error
    widths = sum(int(n) for spec in fields for n in re.findall(r"\d+", spec))
    if any("{" in spec for spec in fields):
        widths += sum(abs(v) for v in values if isinstance(v, int) and not isinstance(v, bool))
    largest = max((current.size(value) for value in values), default=0)
    current.fits(len(text) + widths + len(fields) * largest, what)


def _str_method_fits(
    current: Meter, text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    """Checks the text methods that can make more text than they are given; returns the
    arguments to call with (an iterator given to ``join`` becomes a list, to be measured)."""
    what = f"{name}()"
    first = args[0] if args else None
    if name in ("ljust", "rjust", "center", "zfill") and isinstance(first, int):
        current.fits(max(len(text), first), what)
    elif name == "expandtabs":
        size = first if isinstance(first, int) else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            current.fits(len(text) + text.count("\t") * size, what)
    elif name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        current.fits(len(text) + (text.count(old) if old else len(text) + 1) * len(new), what)
    elif name == "join" and args:
        items = first if isinstance(first, Sized) else list(args[0])
        current.fits(current.size(items) + len(items) * len(text), what)
        return (items, *args[1:])
    elif name == "translate" and isinstance(first, Mapping):
        largest = max((current.size(v) for v in first.values()), default=0)
        current.fits(len(text) * max(largest, 1), what)
    return args
