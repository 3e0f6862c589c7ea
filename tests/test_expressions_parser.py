"""Expression text → tokens → typed AST: the lexer, the parser's trees for every construct, and located syntax errors."""
from __future__ import annotations

import dataclasses
import math

import pytest

from mbsite.errors import ExpressionError
from mbsite.expressions import UNDEFINED, DictScope, Token, evaluate, parse, tokenize
from mbsite.expressions.nodes import (
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


def test_tokens_carry_kind_value_and_column() -> None:
    assert tokenize("a.b >= 1.5 && 'x\\n\\u0041' | upper") == [
        Token("name", "a", 1), Token("op", ".", 2), Token("name", "b", 3), Token("op", ">=", 5),
        Token("num", 1.5, 8), Token("op", "&&", 12), Token("str", "x\nA", 15), Token("op", "|", 27),
        Token("name", "upper", 29), Token("end", None, 34),
    ]
    assert [t.value for t in tokenize("12 1e3 .5 $x a?.b a?.5")[:-1]] == [
        12, 1000.0, 0.5, "$x", "a", "?.", "b", "a", "?", 0.5]  # `?.5` is a ternary, not optional chaining
    assert type(tokenize("12")[0].value) is int and tokenize("")[-1] == Token("end", None, 1)


def test_an_unknown_character_is_an_error_at_its_column() -> None:
    with pytest.raises(ExpressionError) as info:
        tokenize("a + #b")
    assert info.value.location.column == 5 and "'#'" in info.value.message


A, B, C = Name("a"), Name("b"), Name("c")

TREES = [
    # literals and names
    ("42", Literal(42), "int"), ("'hi'", Literal("hi"), "string"), ("true", Literal(True), "true"),
    ("null", Literal(None), "null"), ("undefined", Literal(UNDEFINED), "undefined"), ("a", A, "name"),
    ("$json", Name("$json"), "dollar-name"),
    # member access: a dotted name and an optional chain are the same node, a key is any expression
    ("a.b", Member(A, Literal("b")), "dotted"), ("a?.b", Member(A, Literal("b")), "optional-chain"),
    ("a[b]", Member(A, B), "computed"), ("a['b']", Member(A, Literal("b")), "string-key"),
    ("a.b.c", Member(Member(A, Literal("b")), Literal("c")), "path"),
    ("a[b | upper]", Member(A, Filter(B, "upper", ())), "filter-in-brackets"),
    ("a?.[0]", Member(A, Literal(0)), "optional-index"),
    # calls
    ("f()", Call(Name("f"), ()), "call-no-args"), ("f(a, b,)", Call(Name("f"), (A, B)), "call-trailing-comma"),
    ("a.b(c)", Call(Member(A, Literal("b")), (C,)), "method-call"), ("a?.(b)", Call(A, (B,)), "optional-call"),
    ("new Date(a)", New(Name("Date"), (A,)), "new"), ("new Date", New(Name("Date"), ()), "new-no-parens"),
    ("new Date(a).getTime()", Call(Member(New(Name("Date"), (A,)), Literal("getTime")), ()), "new-then-method"),
    # operators
    ("!a", Unary("!", A), "not"), ("-a", Unary("-", A), "negate"), ("typeof a", Unary("typeof", A), "typeof"),
    ("!!a", Unary("!", Unary("!", A)), "double-not"), ("a + b", Binary("+", A, B), "binary"),
    ("a && b", Logical("&&", A, B), "and"), ("a ?? b", Logical("??", A, B), "nullish"),
    ("a + b * c", Binary("+", A, Binary("*", B, C)), "precedence"),
    ("a - b - c", Binary("-", Binary("-", A, B), C), "left-associative"),
    ("(a + b) * c", Binary("*", Binary("+", A, B), C), "parentheses"),
    ("a || b && c", Logical("||", A, Logical("&&", B, C)), "and-binds-tighter"),
    ("a === b < c", Binary("===", A, Binary("<", B, C)), "comparison-binds-tighter"),
    ("-a.b", Unary("-", Member(A, Literal("b"))), "unary-over-member"),
    ("a ? b : c", Conditional(A, B, C), "conditional"),
    ("a ? b : c ? 1 : 2", Conditional(A, B, Conditional(C, Literal(1), Literal(2))), "conditional-right-nested"),
    # array and object literals
    ("[]", Array(()), "empty-array"), ("[a, 1,]", Array((A, Literal(1))), "array"),
    ("{a, 'b c': 1, 2: b}", Object((("a", A), ("b c", Literal(1)), ("2", B))), "object"),
    ("{1}", Object((("1", Literal(UNDEFINED)),)), "number-shorthand-reads-nothing"),
    # arrow functions and filters
    ("x => f(x)", Arrow(("x",), Call(Name("f"), (Name("x"),))), "arrow-one-param"),
    ("() => a", Arrow((), A), "arrow-no-params"), ("(a, b) => a", Arrow(("a", "b"), A), "arrow-params"),
    ("() => { f( { } ) }", Arrow((), None), "arrow-block-skipped"),
    ("a | upper", Filter(A, "upper", ()), "filter"),
    ("a | default('x') | upper", Filter(Filter(A, "default", (Literal("x"),)), "upper", ()), "filter-chain"),
    ("a || b | upper", Filter(Logical("||", A, B), "upper", ()), "filter-loosest"),
]


@pytest.mark.parametrize(("src", "tree"), [(c[0], c[1]) for c in TREES], ids=[c[2] for c in TREES])
def test_parse_builds_typed_nodes(src: str, tree: Node) -> None:
    assert parse(src) == tree


def test_special_numbers_are_literals() -> None:
    nan, inf = parse("NaN"), parse("Infinity")
    assert isinstance(nan, Literal) and math.isnan(nan.value)
    assert inf == Literal(math.inf)


def test_nodes_are_frozen_slotted_values() -> None:
    node = parse("a.b + 1")
    assert node == parse("a.b  +  1") and hash(node) == hash(parse("a.b+1"))
    assert not hasattr(node, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.op = "-"  # type: ignore[misc]


def test_child_nodes_come_in_source_order() -> None:
    assert list(parse("a ? b : c").iter_child_nodes()) == [A, B, C]
    assert list(parse("{x: a, y: [b]}").iter_child_nodes()) == [A, Array((B,))]
    assert list(parse("f(a, b)").iter_child_nodes()) == [Name("f"), A, B]
    assert list(parse("a | join(b)").iter_child_nodes()) == [A, B]
    assert list(Arrow(("x",), None).iter_child_nodes()) == [] and list(A.iter_child_nodes()) == []


SYNTAX_ERRORS = [
    ("a +", 4, "unexpected end of expression in 'a +'", "dangling-operator"),
    ("(a", 3, "expected ')', found 'end of expression' in '(a'", "unclosed-paren"),
    ("a ? b", 6, "expected ':', found 'end of expression' in 'a ? b'", "ternary-missing-colon"),
    ("a b", 3, "unexpected 'b' in 'a b'", "two-values"),
    ("f(a b)", 5, "expected ')', found 'b' in 'f(a b)'", "arguments-without-comma"),
    ("[1, 2", 6, "expected ']', found 'end of expression' in '[1, 2'", "unclosed-array"),
    ("{a: 1 b}", 7, "expected '}', found 'b' in '{a: 1 b}'", "object-without-comma"),
    ("{[a]: 1}", 2, "expected an object key in '{[a]: 1}'", "bad-object-key"),
    ("user.", 6, "expected a property name in 'user.'", "missing-property"),
    ("a.?b", 3, "expected a property name in 'a.?b'", "dot-then-question"),
    ("a | 3", 5, "expected a filter name after '|' in 'a | 3'", "filter-not-a-name"),
    ("x => { a", 6, "unclosed '{' in arrow function body in 'x => { a'", "unclosed-arrow-block"),
    ("a ?? ? b", 6, "unexpected '?' in 'a ?? ? b'", "operator-for-operand"),
    ("a @ b", 3, "unexpected character '@'", "bad-character"),
    ("", 1, "empty expression", "empty"),
]


@pytest.mark.parametrize(("src", "column", "message"), [c[:3] for c in SYNTAX_ERRORS],
                         ids=[c[3] for c in SYNTAX_ERRORS])
def test_syntax_errors_name_their_position(src: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(src)
    assert (info.value.location.column, info.value.message) == (column, message)
    scope = DictScope({})
    assert evaluate(src, scope) is UNDEFINED
    assert scope.warnings == [f"expression error (column {column}): {message}"]


def test_nesting_and_length_are_bounded() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply") as info:
        parse("[" * 70 + "]" * 70)
    assert info.value.location.column == 65  # the 65th bracket opens the 65th level
    with pytest.raises(ExpressionError, match="longer than 2000"):
        parse("a" * 2001)
    assert parse("(" * 60 + "a" + ")" * 60) == A
