"""The expression AST: one frozen dataclass per kind of node, as the parser builds them and the compiler reads them.

Node names follow the JavaScript syntax they stand for (ESTree's `MemberExpression` is :class:`Member`, and so on),
plus the one construct JavaScript lacks, the pipe :class:`Filter`. Nodes are values: immutable, hashable (when
their literals are), comparable, and they hold nothing but syntax, so a tree can be built by hand in a test.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterator


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node."""

    def iter_child_nodes(self) -> Iterator[Node]:
        """The direct child nodes, in source order (a field's nodes, a tuple's nodes, an object's values)."""
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):
                        yield from (sub for sub in item if isinstance(sub, Node))


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: a number, a string, `true false null undefined NaN Infinity`."""

    value: Any


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A bare name, resolved through the scope when evaluated (`item`, `props`, `level`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    """`obj.key`, `obj?.key` (key is then a Literal) or `obj[key]`."""

    obj: Node
    key: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`callee(args…)`: a whitelisted function or method, or an inert Action."""

    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class New(Node):
    """`new callee(args…)`: `new Date(x)`, or an inert Action."""

    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """`!x`, `-x`, `+x`, `typeof x`."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Equality, comparison and arithmetic: `=== !== == != < <= > >= + - * / %` (both sides always evaluated)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`&&`, `||`, `??`: the right side is evaluated only when the left one does not decide."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`test ? then : otherwise`."""

    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Array(Node):
    """`[items…]`."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Object(Node):
    """`{key: value, shorthand, …}`: keys are plain strings (a shorthand `{a}` has the value `Name('a')`)."""

    pairs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Arrow(Node):
    """`(params) => body`; `body` is None for a `{ … }` block body, which is skipped rather than parsed."""

    params: tuple[str, ...]
    body: Node | None


@dataclass(frozen=True, slots=True)
class Filter(Node):
    """`value | name` or `value | name(args…)`."""

    value: Node
    name: str
    args: tuple[Node, ...]
