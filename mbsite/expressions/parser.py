"""Expression text → AST (mbsite.expressions.nodes), by a Pratt parser over the lexer's tokens.

Grammar, loosest first: `pipe := expression ('|' name ['(' args ')'])*`; `expression := arrow | binary ['?'
expression ':' expression]`; binary operators by precedence (`??` < `||` < `&&` < equality < comparison < `+ -`
< `* / %`); then unary (`! - + typeof new`), postfix (`.name ?.name [key] (args)`) and primary values. A syntax
error is an ExpressionError whose location holds the column of the offending token.
"""
from __future__ import annotations

import math

from ..errors import ExpressionError, Location
from .lexer import Token, tokenize
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
from .values import UNDEFINED

MAX_SOURCE = 2000
MAX_DEPTH = 64

_BINARY = {"??": 1, "||": 2, "&&": 3, "==": 4, "!=": 4, "===": 4, "!==": 4,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}
_LOGICAL = frozenset({"&&", "||", "??"})
_LITERALS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED, "NaN": math.nan,
             "Infinity": math.inf}


def parse(src: str) -> Node:
    """Expression text (no braces) → the root node; raises ExpressionError with the column of the problem."""
    if len(src) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
    if not src.strip():
        raise ExpressionError("empty expression", Location(column=1))
    return _Parser(src).parse()


class _Parser:
    """One parse: the tokens, the position in them and the nesting depth (bounded, so no RecursionError)."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens = tokenize(src)
        self.count = len(self.tokens)
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> Token:
        """The token `offset` places ahead; past the end, the `end` token."""
        at = self.i + offset
        return self.tokens[at] if at < self.count else self.tokens[-1]

    def error(self, message: str, tok: Token | None = None) -> ExpressionError:
        tok = tok or self.peek()
        return ExpressionError(f"{message} in {self.src!r}", Location(column=tok.column))

    def take(self, value: str) -> bool:
        tok = self.peek()
        if tok.kind == "op" and tok.value == value:
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            tok = self.peek()
            found = tok.value if tok.kind != "end" else "end of expression"
            raise self.error(f"expected {value!r}, found {found!r}")

    def parse(self) -> Node:
        node = self.pipe()
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.peek().value!r}")
        return node

    def pipe(self) -> Node:
        node = self.expression()
        while self.take("|"):
            tok = self.peek()
            if tok.kind != "name":
                raise self.error("expected a filter name after '|'")
            self.i += 1
            args = self.arguments() if self.take("(") else ()
            node = Filter(node, tok.value, args)
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")
        arrow = self.arrow()
        node = arrow if arrow is not None else self.binary(0)
        if arrow is None and self.take("?"):
            then = self.expression()
            self.expect(":")
            node = Conditional(node, then, self.expression())
        self.depth -= 1
        return node

    def arrow(self) -> Arrow | None:
        """`x => …`, `() => …`, `(a, b) => …`; a `{ … }` body is skipped (its calls never run anyway)."""
        tok = self.peek()
        if tok.kind == "name" and self.peek(1).value == "=>":
            params: tuple[str, ...] = (tok.value,)
            self.i += 2
        elif tok.value == "(" and tok.kind == "op":
            j = 1
            while self.peek(j).kind == "name" or self.peek(j).value == ",":
                j += 1
            if not (self.peek(j).value == ")" and self.peek(j + 1).value == "=>"):
                return None
            params = tuple(t.value for t in self.tokens[self.i + 1:self.i + j] if t.kind == "name")
            self.i += j + 2
        else:
            return None
        if self.peek().value == "{":
            self.block()
            return Arrow(params, None)
        return Arrow(params, self.expression())

    def block(self) -> None:
        """Skip a balanced `{ … }`; an unclosed one is an error at its opening brace."""
        depth, start = 0, self.peek()
        while True:
            tok = self.peek()
            if tok.kind == "end":
                raise self.error("unclosed '{' in arrow function body", start)
            self.i += 1
            if tok.kind == "op":
                depth += {"{": 1, "}": -1}.get(tok.value, 0)
            if depth == 0:
                return

    def binary(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            prec = _BINARY.get(tok.value) if tok.kind == "op" else None
            if prec is None or prec <= min_prec:
                return left
            self.i += 1
            right = self.binary(prec)
            left = Logical(tok.value, left, right) if tok.value in _LOGICAL else Binary(tok.value, left, right)

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("!", "-", "+"):
            self.i += 1
            return Unary(tok.value, self.unary())
        if tok.kind == "name" and tok.value == "typeof":
            self.i += 1
            return Unary("typeof", self.unary())
        if tok.kind == "name" and tok.value == "new":
            self.i += 1
            callee = self.primary()
            args = self.arguments() if self.take("(") else ()
            return self.postfix(New(callee, args))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return node
            if tok.value in (".", "?."):
                self.i += 1
                name = self.peek()
                if name.kind != "name":
                    if tok.value == "?." and name.value in ("(", "["):
                        continue
                    raise self.error("expected a property name", name)
                self.i += 1
                node = Member(node, Literal(name.value))
            elif tok.value == "[":
                self.i += 1
                key = self.pipe()
                self.expect("]")
                node = Member(node, key)
            elif tok.value == "(":
                self.i += 1
                node = Call(node, self.arguments())
            else:
                return node

    def arguments(self) -> tuple[Node, ...]:
        """The rest of `(a, b, …)` after its opening parenthesis (a trailing comma is allowed)."""
        args: list[Node] = []
        while not self.take(")"):
            args.append(self.expression())
            if not self.take(","):
                self.expect(")")
                break
        return tuple(args)

    def primary(self) -> Node:
        tok = self.peek()
        self.i += 1
        kind, value = tok.kind, tok.value
        if kind in ("num", "str"):
            return Literal(value)
        if kind == "name":
            return Literal(_LITERALS[value]) if value in _LITERALS else Name(value)
        if value == "(":
            node = self.pipe()
            self.expect(")")
            return node
        if value == "[":
            items: list[Node] = []
            while not self.take("]"):
                items.append(self.expression())
                if not self.take(","):
                    self.expect("]")
                    break
            return Array(tuple(items))
        if value == "{":
            return self.object()
        self.i -= 1
        raise self.error("unexpected end of expression" if kind == "end" else f"unexpected {value!r}", tok)

    def object(self) -> Object:
        """The rest of `{key: value, shorthand, …}` after its opening brace."""
        pairs: list[tuple[str, Node]] = []
        while not self.take("}"):
            key = self.peek()
            if key.kind not in ("name", "str", "num"):
                raise self.error("expected an object key", key)
            self.i += 1
            if self.take(":"):
                value = self.expression()
            else:
                # A shorthand names a variable; a number is no name, so `{1}` reads nothing (key '1', undefined).
                value = Name(key.value) if isinstance(key.value, str) else Literal(UNDEFINED)
            pairs.append((str(key.value), value))
            if not self.take(","):
                self.expect("}")
                break
        return Object(tuple(pairs))
