"""The static template check: a walk over Jinja's AST with Jinja's own scoping rules.

Finds undeclared names and type misuse against a JSON Schema of the context; reports
``(line, message)`` pairs. Type rules live in ``templates_types``; no rendering happens here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jinja2 import nodes
from jinja2.environment import Environment

from ctflow.spec.templates_types import (
    BOOLEAN,
    INTEGER,
    STRING,
    Schema,
    SchemaTypes,
    Verdict,
    literal,
    suggest,
)

_ARITHMETIC: dict[type[nodes.BinExpr], str] = {
    nodes.Add: "+",
    nodes.Sub: "-",
    nodes.Mul: "*",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.Mod: "%",
    nodes.Pow: "**",
}
_ORDERING = {"lt": "<", "gt": ">", "lteq": "<=", "gteq": ">="}
_MACRO_NAMES = ("varargs", "kwargs", "caller")
_LOOP_INT = ("index", "index0", "revindex", "revindex0", "length", "depth", "depth0")
LOOP: Schema = {
    "type": "object",
    "properties": {
        **dict.fromkeys(_LOOP_INT, INTEGER),
        **dict.fromkeys(("first", "last"), BOOLEAN),
        **{key: {} for key in ("previtem", "nextitem", "cycle", "changed")},
    },
    "additionalProperties": False,
}
_LOADER_TAGS: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
}
_LOADERS = tuple(_LOADER_TAGS)


@dataclass
class _Scope:
    """Names bound so far in one Jinja frame; ``opaque`` frames see outer names as untyped."""

    parent: _Scope | None
    names: dict[str, Schema | None] = field(default_factory=dict)
    opaque: bool = False
    deferred: list[Callable[[], None]] = field(default_factory=list)

    def child(self, *, opaque: bool = False) -> _Scope:
        return _Scope(self, opaque=opaque)


class Checker:
    """One check of one parsed template against the declared context."""

    def __init__(self, env: Environment, context: Mapping[str, object]) -> None:
        self.env = env
        self.types = SchemaTypes(context)
        props = context.get("properties")
        self.declared: Mapping[str, object] = props if isinstance(props, Mapping) else {}
        self.problems: list[tuple[int, str]] = []
        self.undeclared: set[str] = set()
        self._guarded: list[str] = []
        self._top = _Scope(None)

    def run(self, template: nodes.Template) -> list[tuple[int, str]]:
        self._block(template.body, self._top)
        return self.problems

    def _report(self, node: nodes.Node, message: str | None) -> None:
        if message is not None:
            self.problems.append((node.lineno or 1, message))

    def _verdict(self, node: nodes.Node, verdict: Verdict) -> Schema | None:
        self._report(node, verdict[1])
        return verdict[0]

    # statements -----------------------------------------------------------------------------

    def _block(self, body: Sequence[nodes.Node], scope: _Scope) -> None:
        """Walk the body of a new frame, then the macros it defined (they run when called)."""
        self._stmts(body, scope)
        while scope.deferred:
            scope.deferred.pop(0)()

    def _stmts(self, body: Iterable[nodes.Node], scope: _Scope) -> None:
        for node in body:
            self._stmt(node, scope)

    def _stmt(self, node: nodes.Node, scope: _Scope) -> None:
        handler = _handler(_STATEMENTS, node)
        if handler is None:
            self._generic(node, scope)
        else:
            handler(self, node, scope)

    def _output(self, node: nodes.Output, scope: _Scope) -> None:
        for child in node.nodes:
            self._expr(child, scope)

    def _assign(self, node: nodes.Assign, scope: _Scope) -> None:
        self._bind(node.target, self._expr(node.node, scope), scope)

    def _assign_block(self, node: nodes.AssignBlock, scope: _Scope) -> None:
        self._block(node.body, scope.child())
        value = self._filter(node.filter, STRING, scope) if node.filter else STRING
        self._bind(node.target, value, scope)

    def _macro_definition(self, node: nodes.Macro, scope: _Scope) -> None:
        self._exprs(node.defaults, scope)
        scope.names[node.name] = None
        body = scope.child(opaque=True)
        scope.deferred.append(lambda: self._macro(node, body))

    def _call_block(self, node: nodes.CallBlock, scope: _Scope) -> None:
        self._expr(node.call, scope)
        self._exprs(node.defaults, scope)
        self._macro(node, scope.child())

    def _filter_block(self, node: nodes.FilterBlock, scope: _Scope) -> None:
        self._block(node.body, scope.child())
        self._filter(node.filter, STRING, scope)

    def _with(self, node: nodes.With, scope: _Scope) -> None:
        values = [self._expr(value, scope) for value in node.values]
        inner = scope.child()
        for target, value in zip(node.targets, values, strict=False):
            self._bind(target, value, inner)
        self._block(node.body, inner)

    def _named_block(self, node: nodes.Block, scope: _Scope) -> None:
        self._block(node.body, (scope if node.scoped else self._top).child())

    def _eval_context(self, node: nodes.ScopedEvalContextModifier, scope: _Scope) -> None:
        self._generic(node, scope, skip=node.body)
        self._block(node.body, scope.child())

    def _for(self, node: nodes.For, scope: _Scope) -> None:
        iterable = self._expr(node.iter, scope)
        element = self._verdict(node.iter, self.types.element(iterable, _path(node.iter)))
        inner = scope.child()
        self._bind(node.target, element, inner)
        if node.test is not None:
            self._expr(node.test, inner)
        inner.names["loop"] = LOOP
        self._block(node.body, inner)
        self._block(node.else_, scope.child())

    def _if(self, node: nodes.If, scope: _Scope) -> None:
        """Branches share the frame: a name set in one is bound after the ``if``, untyped."""
        before = dict(scope.names)
        changed: set[str] = set()
        branches = [(node.test, node.body), *((e.test, e.body) for e in node.elif_)]
        for test, body in [*branches, (None, node.else_)]:
            scope.names = dict(before)
            if test is not None:
                self._expr(test, scope)
            guard = _guarded_name(test)
            self._guarded.extend(guard)
            self._stmts(body, scope)
            del self._guarded[len(self._guarded) - len(guard) :]
            changed |= {k for k, v in scope.names.items() if k not in before or v is not before[k]}
        scope.names = {**before, **dict.fromkeys(changed)}

    def _macro(self, node: nodes.Macro | nodes.CallBlock, scope: _Scope) -> None:
        for name in (*(arg.name for arg in node.args), *_MACRO_NAMES):
            scope.names[name] = None
        self._block(node.body, scope)

    def _loader(self, node: nodes.Node, scope: _Scope) -> None:
        tag = _LOADER_TAGS[type(node)]
        self._report(node, f"'{tag}' is not available: ctflow templates cannot load other files")
        if isinstance(node, nodes.Import):
            scope.names[node.target] = None
        elif isinstance(node, nodes.FromImport):
            for name in node.names:
                scope.names[name if isinstance(name, str) else name[-1]] = None

    def _bind(self, target: nodes.Node, value: Schema | None, scope: _Scope) -> None:
        if isinstance(target, nodes.Name):
            scope.names[target.name] = value
        elif isinstance(target, nodes.NSRef):
            self._name(target, target.name, scope)
        else:
            for name in target.find_all(nodes.Name):
                scope.names[name.name] = None

    def _generic(self, node: nodes.Node, scope: _Scope, skip: Sequence[nodes.Node] = ()) -> None:
        for child in node.iter_child_nodes():
            if any(child is s for s in skip):
                continue
            if isinstance(child, nodes.Expr):
                self._expr(child, scope)
            elif isinstance(child, nodes.Stmt):
                self._stmt(child, scope)
            else:
                self._generic(child, scope)

    # expressions ----------------------------------------------------------------------------

    def _exprs(self, exprs: Iterable[nodes.Node | None], scope: _Scope) -> list[Schema | None]:
        return [self._expr(e, scope) if e is not None else None for e in exprs]

    def _expr(self, node: nodes.Node, scope: _Scope) -> Schema | None:
        handler = _handler(_EXPRESSIONS, node)
        if handler is None:
            self._generic(node, scope)
            return None
        return handler(self, node, scope)

    def _load(self, node: nodes.Name, scope: _Scope) -> Schema | None:
        return self._name(node, node.name, scope) if node.ctx == "load" else None

    def _const(self, node: nodes.Const, scope: _Scope) -> Schema | None:
        return literal(node.value)

    def _text(self, node: nodes.TemplateData | nodes.Concat, scope: _Scope) -> Schema | None:
        self._generic(node, scope)
        return STRING

    def _getattr(self, node: nodes.Getattr, scope: _Scope) -> Schema | None:
        base = self._expr(node.node, scope)
        found = self.types.attribute(base, node.attr, _path(node.node), item=False)
        return self._verdict(node, found)

    def _filtered(self, node: nodes.Filter, scope: _Scope) -> Schema | None:
        value = self._expr(node.node, scope) if node.node is not None else STRING
        return self._filter(node, value, scope)

    def _test(self, node: nodes.Test, scope: _Scope) -> Schema | None:
        self._expr(node.node, scope)
        self._call_args(node, scope)
        if node.name not in self.env.tests and node.name not in self._guarded:
            known = suggest(node.name, self.env.tests)
            self._report(node, f"no test named '{node.name}'{known}")
        return BOOLEAN

    def _arithmetic(self, node: nodes.BinExpr, scope: _Scope) -> Schema | None:
        left, right = self._expr(node.left, scope), self._expr(node.right, scope)
        paths = (_path(node.left), _path(node.right))
        return self._verdict(
            node, self.types.arithmetic(_ARITHMETIC[type(node)], left, right, paths)
        )

    def _unary(self, node: nodes.Neg | nodes.Pos, scope: _Scope) -> Schema | None:
        operand = self._expr(node.node, scope)
        op = "-" if isinstance(node, nodes.Neg) else "+"
        return self._verdict(node, self.types.unary(op, operand, _path(node.node)))

    def _not(self, node: nodes.Not, scope: _Scope) -> Schema | None:
        self._expr(node.node, scope)
        return BOOLEAN

    def _comparison(self, node: nodes.Compare, scope: _Scope) -> Schema | None:
        self._compare(node, scope)
        return BOOLEAN

    def _conditional(self, node: nodes.CondExpr, scope: _Scope) -> Schema | None:
        self._expr(node.test, scope)
        first = self._expr(node.expr1, scope)
        second = self._expr(node.expr2, scope) if node.expr2 is not None else None
        same = first is not None and self.types.kinds(first) == self.types.kinds(second)
        return first if same else None

    def _sequence(self, node: nodes.List | nodes.Tuple, scope: _Scope) -> Schema | None:
        self._generic(node, scope)
        return {"type": "array"}

    def _mapping(self, node: nodes.Dict, scope: _Scope) -> Schema | None:
        self._generic(node, scope)
        return {"type": "object"}

    def _name(self, node: nodes.Node, name: str, scope: _Scope) -> Schema | None:
        opaque = False
        frame: _Scope | None = scope
        while frame is not None:
            if name in frame.names:
                return None if opaque else frame.names[name]
            opaque = opaque or frame.opaque
            frame = frame.parent
        if name in self.declared:
            return self.types.resolve(self.declared[name])
        if name in self.env.globals or name == "self":
            return None
        self.undeclared.add(name)
        self._report(node, f"'{name}' is not declared{suggest(name, self._visible(scope))}")
        return None

    def _visible(self, scope: _Scope | None) -> set[str]:
        seen = set(self.declared)
        while scope is not None:
            seen |= set(scope.names)
            scope = scope.parent
        return seen

    def _getitem(self, node: nodes.Getitem, scope: _Scope) -> Schema | None:
        base = self._expr(node.node, scope)
        arg, path = node.arg, _path(node.node)
        if isinstance(arg, nodes.Slice):
            self._generic(arg, scope)
            return self._verdict(node, self.types.sliced(base, path))
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self._verdict(node, self.types.attribute(base, arg.value, path, item=True))
        if isinstance(arg, nodes.Const) and type(arg.value) is int:
            return self._verdict(node, self.types.index(base, path, arg.value))
        kinds = self.types.kinds(self._expr(arg, scope))
        if kinds is not None and kinds <= {"integer", "number"}:
            return self._verdict(node, self.types.index(base, path, None))
        return None

    def _filter(self, node: nodes.Filter, value: Schema | None, scope: _Scope) -> Schema | None:
        args = self._call_args(node, scope)
        if node.name not in self.env.filters:
            if node.name not in self._guarded:
                known = suggest(node.name, self.env.filters)
                self._report(node, f"no filter named '{node.name}'{known}")
            return None
        path = _path(node.node) if node.node is not None else None
        return self._verdict(node, self.types.filter(node.name, value, path, args))

    def _call_args(self, node: nodes.Filter | nodes.Test, scope: _Scope) -> list[Schema | None]:
        args = self._exprs(node.args, scope)
        self._exprs([kw.value for kw in node.kwargs], scope)
        self._exprs([node.dyn_args, node.dyn_kwargs], scope)
        return args

    def _compare(self, node: nodes.Compare, scope: _Scope) -> None:
        left, left_node = self._expr(node.expr, scope), node.expr
        for operand in node.ops:
            right = self._expr(operand.expr, scope)
            if operand.op in _ORDERING:
                paths = (_path(left_node), _path(operand.expr))
                self._report(node, self.types.compare(_ORDERING[operand.op], left, right, paths))
            left, left_node = right, operand.expr


H = TypeVar("H")


def _handler(handlers: Mapping[type[nodes.Node], H], node: nodes.Node) -> H | None:
    """The handler of ``node``'s class or of the nearest base class that has one."""
    for cls in type(node).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


_STATEMENTS: dict[type[nodes.Node], Callable[[Checker, Any, _Scope], None]] = {
    nodes.Output: Checker._output,
    nodes.Assign: Checker._assign,
    nodes.AssignBlock: Checker._assign_block,
    nodes.For: Checker._for,
    nodes.If: Checker._if,
    nodes.Macro: Checker._macro_definition,
    nodes.CallBlock: Checker._call_block,
    nodes.FilterBlock: Checker._filter_block,
    nodes.With: Checker._with,
    nodes.Block: Checker._named_block,
    nodes.ScopedEvalContextModifier: Checker._eval_context,
    **dict.fromkeys(_LOADERS, Checker._loader),
}
"""How each kind of statement is walked; any other: its children, generically."""
_EXPRESSIONS: dict[type[nodes.Node], Callable[[Checker, Any, _Scope], Schema | None]] = {
    nodes.Name: Checker._load,
    nodes.Const: Checker._const,
    nodes.TemplateData: Checker._text,
    nodes.Concat: Checker._text,
    nodes.Getattr: Checker._getattr,
    nodes.Getitem: Checker._getitem,
    nodes.Filter: Checker._filtered,
    nodes.Test: Checker._test,
    **dict.fromkeys(_ARITHMETIC, Checker._arithmetic),
    nodes.Neg: Checker._unary,
    nodes.Pos: Checker._unary,
    nodes.Not: Checker._not,
    nodes.Compare: Checker._comparison,
    nodes.CondExpr: Checker._conditional,
    nodes.List: Checker._sequence,
    nodes.Tuple: Checker._sequence,
    nodes.Dict: Checker._mapping,
}
"""The type of each kind of expression (``None``: unknown); any other: its children are
walked, and its type is unknown."""


def _guarded_name(test: nodes.Node | None) -> list[str]:
    """``[% if 'markdown' is filter %]``: Jinja only fails if the unknown name is used."""
    if (
        isinstance(test, nodes.Test)
        and test.name in ("filter", "test")
        and isinstance(test.node, nodes.Const)
        and isinstance(test.node.value, str)
    ):
        return [test.node.value]
    return []


def _path(node: nodes.Node) -> str | None:
    """How the template wrote an expression (``order.items[0]``), for messages."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        value = node.value
        if isinstance(value, bool) or value is None:
            return str(value).lower()
        return json.dumps(value) if isinstance(value, str | int | float) else None
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Filter):
        base = _path(node.node) if node.node is not None else None
        if base is None:
            return None
        if isinstance(node, nodes.Getattr):
            return f"{base}.{node.attr}"
        if isinstance(node, nodes.Filter):
            return f"{base} | {node.name}"
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.isidentifier():
            return f"{base}.{arg.value}"
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str | int):
            return f"{base}[{json.dumps(arg.value)}]"
    return None
