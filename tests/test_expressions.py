"""The `{{ … }}` evaluator: every operator, JS semantics, errors that never raise."""
from __future__ import annotations

import math

import pytest

from mbsite.errors import ExpressionError
from mbsite.expressions import (
    UNDEFINED,
    Action,
    DictScope,
    compile_expression,
    evaluate,
    interpolate,
    to_string,
    truthy,
)

SCOPE = {
    "a": 1, "b": 2, "s": "x", "zero": 0, "empty": "", "none": None, "t": True, "f": False,
    "items": [10, 20, 30], "user": {"name": "Ann", "role": "admin", "tags": ["x"]}, "mode": "dark",
    "row": {"id": 7}, "column": {"id": "id"}, "ts": 1700000000000, "ten": "10",
}

CASES = [
    # literals
    ("42", 42, "int"), ("1.5", 1.5, "float"), ("'hi'", "hi", "single-quoted"), ('"hi"', "hi", "double-quoted"),
    (r"'a\'b'", "a'b", "escaped-quote"), ("true", True, "true"), ("false", False, "false"), ("null", None, "null"),
    ("undefined", UNDEFINED, "undefined"), ("[1, 2]", [1, 2], "array"), ("{k: 1, 'm': a}", {"k": 1, "m": 1}, "object"),
    # names and paths
    ("a", 1, "name"), ("missing", UNDEFINED, "missing-name"), ("user.name", "Ann", "dotted"),
    ("user.missing.deeper", UNDEFINED, "forgiving-path"), ("none.x", UNDEFINED, "member-of-null"),
    ("user?.name", "Ann", "optional-chain"), ("none?.name", UNDEFINED, "optional-chain-null"),
    ("items[1]", 20, "index"), ("row[column.id]", 7, "computed-key"), ("user['role']", "admin", "string-key"),
    ("items.length", 3, "array-length"), ("s.length", 1, "string-length"), ("user.tags.length", 1, "nested-length"),
    ("items[9]", UNDEFINED, "index-out-of-range"),
    # unary
    ("!t", False, "not"), ("!!s", True, "double-not"), ("!items", False, "not-array-truthy"), ("-a", -1, "neg"),
    ("+ten", 10, "unary-plus"), ("typeof s", "string", "typeof"),
    # equality and comparison
    ("a === 1", True, "strict-eq"), ("a === '1'", False, "strict-eq-types"), ("a == '1'", True, "loose-eq"),
    ("a !== 1", False, "strict-ne"), ("a != 2", True, "loose-ne"), ("none == undefined", True, "null-eq-undefined"),
    ("none === undefined", False, "null-strict-undefined"), ("a < b", True, "lt"), ("a <= 1", True, "le"),
    ("b > a", True, "gt"), ("b >= 3", False, "ge"), ("'a' < 'b'", True, "string-compare"),
    ("ten > 9", True, "numeric-string-compare"), ("mode === 'dark'", True, "compare-string"),
    # logical
    ("t && s", "x", "and-value"), ("zero && s", 0, "and-short-circuit"), ("empty || 'fb'", "fb", "or-fallback"),
    ("s || 'fb'", "x", "or-value"), ("none ?? 'd'", "d", "nullish"), ("zero ?? 'd'", 0, "nullish-keeps-zero"),
    # conditional
    ("t ? 'y' : 'n'", "y", "ternary"), ("f ? 'y' : zero ? 'z' : 'n'", "n", "nested-ternary"),
    # arithmetic
    ("a + b", 3, "add"), ("s + a", "x1", "concat"), ("'n=' + items.length", "n=3", "concat-length"),
    ("b - a", 1, "sub"), ("b * 3", 6, "mul"), ("7 / 2", 3.5, "div"), ("7 % 3", 1, "mod"), ("-7 % 3", -1, "mod-sign"),
    ("(a + b) * 2", 6, "parens"), ("a + b * 2", 5, "precedence"), ("ten * 2", 20, "string-times"),
    ("1 / 0", math.inf, "div-zero"),
    # Math and safe methods
    ("Math.ceil(7 / 2)", 4, "math-ceil"), ("Math.floor(3.7)", 3, "math-floor"), ("Math.round(2.5)", 3, "math-round"),
    ("Math.max(a, b, 5)", 5, "math-max"), ("Math.min(a, b)", 1, "math-min"), ("Math.abs(-3)", 3, "math-abs"),
    ("user.name.toUpperCase()", "ANN", "string-method"), ("items.includes(20)", True, "array-includes"),
    ("String(a)", "1", "String"), ("Number(ten)", 10, "Number"),
    ("new Date(ts).toLocaleDateString()", "2023-11-14", "new-date"),
    # filters
    ("s | upper", "X", "filter-upper"), ("'AB' | lower", "ab", "filter-lower"), ("items | length", 3, "filter-length"),
    ("user.tags | json", '["x"]', "filter-json"), ("ts | date", "2023-11-14", "filter-date"),
    ("missing | default('d')", "d", "filter-default"), ("s | nosuchfilter", "x", "filter-unknown"),
    ("items | join('-')", "10-20-30", "filter-join"), ("a || b | upper", "1", "filter-after-or"),
]


@pytest.mark.parametrize(("src", "expected"), [(c[0], c[1]) for c in CASES], ids=[c[2] for c in CASES])
def test_operator(src: str, expected: object) -> None:
    scope = DictScope(SCOPE)
    result = evaluate(src, scope)
    if isinstance(expected, float) and math.isinf(expected):
        assert result == expected
    else:
        assert result == expected and type(result) is type(expected)
    assert scope.warnings == []


INERT = [
    ("() => onAction(item)", "onAction", "arrow-call"), ("x => select(x.id)", "select", "arrow-param"),
    ("(a, b) => a + b", "handler", "arrow-two-params"), ("() => { doThing() }", "handler", "arrow-block"),
    ("onNavigate('profile')", "onNavigate", "handler-call"), ("actions.save(1)", "actions.save", "member-call"),
    ("items.filter(x => x)", "items.filter", "unsafe-method"), ("new Thing()", "Thing", "new-other"),
]


@pytest.mark.parametrize(("src", "name"), [(c[0], c[1]) for c in INERT], ids=[c[2] for c in INERT])
def test_calls_and_arrows_are_inert(src: str, name: str) -> None:
    value = evaluate(src, SCOPE)
    assert isinstance(value, Action) and value.name == name
    assert not truthy(value) and to_string(value) == ""


ERRORS = [
    ("a +", 4, "dangling-operator"), ("(a", 3, "unclosed-paren"), ("a ? b", 6, "ternary-missing-colon"),
    ("a @ b", 3, "bad-character"), ("'open", 1, "unclosed-string"), ("a b", 3, "two-values"), ("", 1, "empty"),
    ("items[", 7, "unclosed-index"), ("a | 3", 5, "filter-not-a-name"), ("{[a]: 1}", 2, "bad-object-key"),
    ("user.", 6, "missing-property"), ("(" * 80 + "a" + ")" * 80, None, "too-deep"),
]


@pytest.mark.parametrize(("src", "column"), [(c[0], c[1]) for c in ERRORS], ids=[c[2] for c in ERRORS])
def test_errors_yield_undefined_and_a_warning(src: str, column: int | None) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(src)
    if column is not None:
        assert info.value.location.column == column
    scope = DictScope(SCOPE)
    assert evaluate(src, scope) is UNDEFINED
    assert len(scope.warnings) == 1 and "expression" in scope.warnings[0]


def test_too_long_is_an_error() -> None:
    scope = DictScope({})
    assert evaluate("a" * 3000, scope) is UNDEFINED and scope.warnings


@pytest.mark.parametrize(("value", "expected"), [
    (0, False), (0.0, False), (math.nan, False), ("", False), (None, False), (UNDEFINED, False), (False, False),
    ([], True), ({}, True), ("0", True), ("false", True), (-1, True), (True, True),
], ids=["zero", "zero-float", "nan", "empty-string", "null", "undefined", "false", "empty-array", "empty-object",
        "string-zero", "string-false", "negative", "true"])
def test_truthiness_follows_javascript(value: object, expected: bool) -> None:
    assert truthy(value) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("{{items}}", [10, 20, 30]), ("{{t}}", True), ("{{ a }}", 1), ("Hi {{user.name}}!", "Hi Ann!"),
    ("{{a}}/{{b}}", "1/2"), ("n={{none}}", "n="), ("{{missing}}", UNDEFINED), ("no braces", "no braces"),
    ("x {{t}}", "x true"), ("{{items}} items", "10,20,30 items"),
], ids=["whole-array", "whole-bool", "whole-spaced", "mixed", "two-parts", "mixed-null", "whole-missing", "plain",
        "mixed-bool", "mixed-array"])
def test_interpolate(text: str, expected: object) -> None:
    assert interpolate(text, SCOPE) == expected


def test_interpolate_unclosed_braces_drop_the_tail_with_a_warning() -> None:
    scope = DictScope(SCOPE)
    assert interpolate("a {{ b", scope) == "a "
    assert scope.warnings


def test_compiled_form_is_cached() -> None:
    assert compile_expression("a + b") is compile_expression("a + b")


def test_no_python_attribute_access() -> None:
    scope = DictScope({"s": "x", "d": {}})
    for src in ("s.__class__", "d.__class__.__mro__", "s.upper", "constructor.constructor('x')()"):
        value = evaluate(src, scope)
        assert value is UNDEFINED or isinstance(value, Action)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_dates_are_the_same_in_every_machine_time_zone(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A date without an offset is UTC (as JavaScript reads '2024-01-05'), whatever the machine's time zone."""
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        scope = DictScope({"day": "2024-01-05", "at": "2024-01-05T23:30:00", "east": "2024-01-06T01:30:00+02:00"})
        assert evaluate("new Date(day).getTime()", scope) == 1704412800000
        assert evaluate("new Date(day).toISOString()", scope) == "2024-01-05T00:00:00.000Z"
        assert evaluate("new Date(east).toISOString()", scope) == "2024-01-05T23:30:00.000Z"
        assert evaluate("new Date(at).toLocaleDateString()", scope) == "2024-01-05"
        assert evaluate("east | date", scope) == "2024-01-05"
        assert evaluate("new Date(east).getTime() === new Date(at + 'Z').getTime()", scope) is True
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
