"""AST → one Python closure per node, `fn(scope) -> value`; dispatch on the node's class through a registry.

A node is compiled once (the result is cached by source text in :func:`compile_expression`), so evaluating an
expression is a few closure calls with no dispatch left: the registry is read at compile time only. A new
kind of node is one ``@compiles(NodeClass)`` function. Calls reach only the tables of :mod:`.library`; any
other call, and every arrow function, compiles to a constant inert :class:`Action`.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache, partial
from typing import Any, Callable, Protocol, TypeVar

from ..errors import ExpressionError
from .library import CONVERSIONS, FILTERS, LOCAL_METHODS, MATH, METHODS, date_filter, new_date, show_local, zone_of
from .nodes import (
    Array,
    Arrow,
    Binary,
    Call,
    Conditional,
    Filter,
    Literal,
    Logical,
    Member,
    Name,
    New,
    Node,
    Object,
    Unary,
)
from .parser import parse
from .values import (
    UNDEFINED,
    Action,
    add,
    arith,
    compare,
    get_member,
    kind_of,
    loose_equal,
    strict_equal,
    to_number,
    truthy,
)


class Scope(Protocol):
    """What an expression reads names from: `lookup(name) -> (found, value)`."""

    def lookup(self, name: str) -> tuple[bool, Any]: ...


Fn = Callable[[Scope], Any]
N = TypeVar("N", bound=Node)
_COMPILERS: dict[type[Node], Callable[[Any], Fn]] = {}


def compiles(kind: type[N]) -> Callable[[Callable[[N], Fn]], Callable[[N], Fn]]:
    """Register the function that compiles nodes of class `kind` (exactly that class, not its subclasses)."""
    def deco(fn: Callable[[N], Fn]) -> Callable[[N], Fn]:
        _COMPILERS[kind] = fn
        return fn
    return deco


def compile_node(node: Node) -> Fn:
    """A node → its closure; a node class without a registered compiler is an ExpressionError."""
    rule = _COMPILERS.get(type(node))
    if rule is None:
        raise ExpressionError(f"unsupported syntax {type(node).__name__}")
    return rule(node)


class Expression:
    """A compiled expression; `evaluate(scope)` may raise only on a broken scope object."""

    __slots__ = ("source", "_fn")

    def __init__(self, source: str, fn: Fn) -> None:
        self.source = source
        self._fn = fn

    def evaluate(self, scope: Scope) -> Any:
        return self._fn(scope)


@lru_cache(maxsize=8192)
def compile_expression(src: str) -> Expression:
    """Expression text (no braces) → Expression; raises ExpressionError (with the column)."""
    return Expression(src, compile_node(parse(src)))


# --------------------------------------------------------------------------- names of calls, for Actions

def dotted_name(node: Node) -> str:
    """The name an Action gets for a callee: `a.b.c` for a path of literal keys, else `handler` for the rest."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Member) and isinstance(node.key, Literal):
        return f"{dotted_name(node.obj)}.{node.key.value}"
    if isinstance(node, Call):
        return dotted_name(node.callee)
    return "handler"


def first_call(node: Node | None) -> str | None:
    """The callee name of the first call in source order (an arrow's Action is named after what it calls)."""
    if node is None:
        return None
    if isinstance(node, Call):
        return dotted_name(node.callee)
    for child in node.iter_child_nodes():
        found = first_call(child)
        if found:
            return found
    return None


# --------------------------------------------------------------------------- one compiler per node class

@compiles(Literal)
def _literal(node: Literal) -> Fn:
    value = node.value
    return lambda scope: value


@compiles(Name)
def _name(node: Name) -> Fn:
    name = node.name

    def lookup(scope: Scope) -> Any:
        found, value = scope.lookup(name)
        return value if found else UNDEFINED
    return lookup


@compiles(Member)
def _member(node: Member) -> Fn:
    obj = compile_node(node.obj)
    if isinstance(node.key, Literal):  # `a.b`, `a['b']`, `a[0]`: the key needs no evaluation
        key = node.key.value
        return lambda scope: get_member(obj(scope), key)
    dynamic = compile_node(node.key)
    return lambda scope: get_member(obj(scope), dynamic(scope))


_UNARY: dict[str, Callable[[Any], Any]] = {
    "!": lambda v: not truthy(v),
    "-": lambda v: -to_number(v),
    "+": to_number,
    "typeof": kind_of,
}


@compiles(Unary)
def _unary(node: Unary) -> Fn:
    operand = compile_node(node.operand)
    if node.op == "!":  # the most frequent one, inlined
        return lambda scope: not truthy(operand(scope))
    op = _UNARY.get(node.op)
    if op is None:
        raise ExpressionError(f"unsupported operator {node.op!r}")
    return lambda scope: op(operand(scope))


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "===": strict_equal,
    "!==": lambda a, b: not strict_equal(a, b),
    "==": loose_equal,
    "!=": lambda a, b: not loose_equal(a, b),
    **{op: partial(compare, op) for op in ("<", "<=", ">", ">=")},
    "+": add,
    **{op: partial(arith, op) for op in ("-", "*", "/", "%")},
}


@compiles(Binary)
def _binary(node: Binary) -> Fn:
    op = _BINARY.get(node.op)
    if op is None:
        raise ExpressionError(f"unsupported operator {node.op!r}")
    left, right = compile_node(node.left), compile_node(node.right)
    return lambda scope: op(left(scope), right(scope))


@compiles(Logical)
def _logical(node: Logical) -> Fn:
    left, right = compile_node(node.left), compile_node(node.right)
    if node.op == "&&":
        def both(scope: Scope) -> Any:
            value = left(scope)
            return right(scope) if truthy(value) else value
        return both
    if node.op == "||":
        def either(scope: Scope) -> Any:
            value = left(scope)
            return value if truthy(value) else right(scope)
        return either
    if node.op == "??":
        def nullish(scope: Scope) -> Any:
            value = left(scope)
            return right(scope) if value is None or value is UNDEFINED else value
        return nullish
    raise ExpressionError(f"unsupported operator {node.op!r}")


@compiles(Conditional)
def _conditional(node: Conditional) -> Fn:
    test, then, otherwise = compile_node(node.test), compile_node(node.then), compile_node(node.otherwise)
    return lambda scope: then(scope) if truthy(test(scope)) else otherwise(scope)


@compiles(Array)
def _array(node: Array) -> Fn:
    items = [compile_node(item) for item in node.items]
    return lambda scope: [fn(scope) for fn in items]


@compiles(Object)
def _object(node: Object) -> Fn:
    pairs = [(key, compile_node(value)) for key, value in node.pairs]
    return lambda scope: {key: fn(scope) for key, fn in pairs}


@compiles(Arrow)
def _arrow(node: Arrow) -> Fn:
    action = Action(first_call(node.body) or "handler")
    return lambda scope: action


@compiles(Call)
def _call(node: Call) -> Fn:
    callee = node.callee
    args = [compile_node(arg) for arg in node.args]
    if isinstance(callee, Member) and isinstance(callee.obj, Name) and callee.obj.name == "Math" \
            and isinstance(callee.key, Literal) and callee.key.value in MATH:
        fn = MATH[callee.key.value]
        return lambda scope: fn(*(a(scope) for a in args))
    if isinstance(callee, Name) and callee.name in CONVERSIONS:
        conv = CONVERSIONS[callee.name]
        return lambda scope: conv(*(a(scope) for a in args))
    action = Action(dotted_name(callee))
    if isinstance(callee, Member) and isinstance(callee.key, Literal):
        target, method = compile_node(callee.obj), callee.key.value

        def call(scope: Scope) -> Any:
            obj = target(scope)
            if method in LOCAL_METHODS and isinstance(obj, datetime):
                return show_local(obj, scope, method)
            impl = METHODS.get((list if isinstance(obj, (list, tuple)) else type(obj), method))
            return impl(obj, *(a(scope) for a in args)) if impl else action
        return call
    return lambda scope: action


@compiles(New)
def _new(node: New) -> Fn:
    args = [compile_node(arg) for arg in node.args]
    if isinstance(node.callee, Name) and node.callee.name == "Date":
        return lambda scope: new_date(*(a(scope) for a in args))
    action = Action(dotted_name(node.callee))
    return lambda scope: action


@compiles(Filter)
def _filter(node: Filter) -> Fn:
    value = compile_node(node.value)
    args = [compile_node(arg) for arg in node.args]
    if node.name == "date":  # the one filter that reads the render's time zone
        return lambda scope: date_filter(value(scope), *(a(scope) for a in args), zone=zone_of(scope))
    impl = FILTERS.get(node.name)
    if impl is None:
        return value  # unknown filter: the value passes through unchanged
    return lambda scope: impl(value(scope), *(a(scope) for a in args))
