"""`{{ … }}` expression text → compiled closures → values, with JavaScript semantics and no eval.

A hand-written tokenizer and Pratt parser build a small AST that is compiled once into Python
closures (cached by source text), so a component rendered many times parses each string once.
Nothing here can reach Python attributes: member access reads dict keys, list indexes and
``.length`` only; calls are limited to ``Math.*``, a few pure string/array methods and
conversions. Any other call or arrow function yields an inert :class:`Action` marker.

The module is longer than most on purpose: value semantics, tokenizer, parser and compiler are the
whole sandbox, and keeping them in one file keeps that boundary reviewable in one read.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Protocol

from .errors import ExpressionError, Location

Fn = Callable[[Any], Any]
MAX_SOURCE = 2000
MAX_DEPTH = 64


class _Undefined:
    """JavaScript `undefined`: falsy, renders as the empty string."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __str__(self) -> str:
        return ""


UNDEFINED = _Undefined()


class Action:
    """What a handler call or arrow function evaluates to in static HTML: a named, inert marker."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Action({self.name!r})"

    def __str__(self) -> str:
        return ""


class Scope(Protocol):
    def lookup(self, name: str) -> tuple[bool, Any]: ...


# --------------------------------------------------------------------------- JS value semantics

def truthy(value: Any) -> bool:
    """JavaScript truthiness: [] and {} are truthy; 0, NaN, '', null, undefined, false are not."""
    if value is None or value is UNDEFINED or value is False or value is True:
        return bool(value)
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    if isinstance(value, Action):
        return False
    return True


def _num_str(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def to_string(value: Any) -> str:
    """JavaScript String(value)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _num_str(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None or v is UNDEFINED else to_string(v) for v in value)
    if isinstance(value, Action):
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return "[object Object]"


def to_text(value: Any) -> str:
    """A value as page text: null/undefined/actions/objects → '' (JS would print noise), else String()."""
    if value is None or value is UNDEFINED or isinstance(value, (dict, Action)):
        return ""
    return to_string(value)


def to_number(value: Any) -> float | int:
    if value is True or value is False:
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            return math.nan
    if isinstance(value, (list, tuple)) and len(value) <= 1:
        return to_number(value[0]) if value else 0
    return math.nan


def _kind(value: Any) -> str:
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Action):
        return "function"
    return "object"


def strict_equal(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka in ("object", "function"):
        return a is b
    return bool(a == b)


def loose_equal(a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        return strict_equal(a, b)
    if {ka, kb} <= {"null", "undefined"}:
        return True
    if "null" in (ka, kb) or "undefined" in (ka, kb):
        return False
    if ka == "object":
        a = to_string(a)
    if kb == "object":
        b = to_string(b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return to_number(a) == to_number(b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a
        y: Any = b
    else:
        x, y = to_number(a), to_number(b)
        if x != x or y != y:
            return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str) or _kind(a) == "object" or _kind(b) == "object":
        return to_string(a) + to_string(b)
    return to_number(a) + to_number(b)


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = to_number(a), to_number(b)
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0 or x != x or y != y:
        if op == "%" or x == 0 or x != x or y != y:
            return math.nan
        return math.inf if (x > 0) == (math.copysign(1, y) > 0) else -math.inf
    if op == "/":
        return x / y
    result = math.fmod(x, y)  # JS: the sign follows the dividend
    return int(result) if isinstance(x, int) and isinstance(y, int) else result


def get_member(obj: Any, key: Any) -> Any:
    """obj[key] the forgiving way (like lodash get): missing or nullish → undefined, never an error."""
    if isinstance(obj, dict):
        if not isinstance(key, str):
            key = to_string(key)
        return obj.get(key, UNDEFINED)
    if isinstance(obj, (list, tuple, str)):
        if key == "length":
            return len(obj)
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if isinstance(key, float) and key == int(key):
            key = int(key)
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(obj):
            return obj[key]
    return UNDEFINED


# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>===|!==|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?!\d)|[-+*/%<>!?:.,()\[\]{}|])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)",
                  lambda m: chr(int(m.group(1)[1:], 16)) if len(m.group(1)) == 5 else _ESCAPES.get(m.group(1), m.group(1)),
                  body)


def tokenize(src: str) -> list[tuple[str, Any, int]]:
    """Expression text → [(kind, value, column)]; kind is num/str/name/op/end."""
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {src[pos]!r}", Location(column=pos + 1))
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "num":
            tokens.append(("num", float(text) if any(c in text for c in ".eE") else int(text), pos + 1))
        elif kind == "str":
            tokens.append(("str", _unquote(text), pos + 1))
        elif kind != "ws":
            tokens.append((kind, text, pos + 1))
        pos = m.end()
    tokens.append(("end", None, len(src) + 1))
    return tokens


# --------------------------------------------------------------------------- parser (Pratt) → AST tuples

_BINARY = {"??": 1, "||": 2, "&&": 3, "==": 4, "!=": 4, "===": 4, "!==": 4,
           "<": 5, "<=": 5, ">": 5, ">=": 5, "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}
_LITERALS = {"true": True, "false": False, "null": None, "undefined": UNDEFINED, "NaN": math.nan,
             "Infinity": math.inf}


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens = tokenize(src)
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> tuple[str, Any, int]:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def error(self, message: str, tok: tuple[str, Any, int] | None = None) -> ExpressionError:
        tok = tok or self.peek()
        return ExpressionError(f"{message} in {self.src!r}", Location(column=tok[2]))

    def take(self, value: str) -> bool:
        if self.peek()[0] == "op" and self.peek()[1] == value:
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.take(value):
            tok = self.peek()
            raise self.error(f"expected {value!r}, found {tok[1] if tok[0] != 'end' else 'end of expression'!r}")

    def parse(self) -> tuple:
        node = self.pipe()
        if self.peek()[0] != "end":
            raise self.error(f"unexpected {self.peek()[1]!r}")
        return node

    def pipe(self) -> tuple:
        node = self.expression()
        while self.take("|"):
            tok = self.peek()
            if tok[0] != "name":
                raise self.error("expected a filter name after '|'")
            self.i += 1
            args = self.arguments() if self.take("(") else []
            node = ("filter", node, tok[1], args)
        return node

    def expression(self) -> tuple:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")
        arrow = self.arrow()
        node = arrow if arrow is not None else self.binary(0)
        if arrow is None and self.take("?"):
            then = self.expression()
            self.expect(":")
            node = ("cond", node, then, self.expression())
        self.depth -= 1
        return node

    def arrow(self) -> tuple | None:
        """`x => …`, `() => …`, `(a, b) => …`: parsed for syntax, compiled to an inert Action."""
        tok = self.peek()
        if tok[0] == "name" and self.peek(1)[1] == "=>":
            self.i += 2
        elif tok[1] == "(" and tok[0] == "op":
            j = 1
            while self.peek(j)[0] == "name" or self.peek(j)[1] == ",":
                j += 1
            if not (self.peek(j)[1] == ")" and self.peek(j + 1)[1] == "=>"):
                return None
            self.i += j + 2
        else:
            return None
        body = self.expression() if self.peek()[1] != "{" else self.block()
        return ("arrow", body)

    def block(self) -> tuple:
        depth, start = 0, self.peek()
        while True:
            tok = self.peek()
            if tok[0] == "end":
                raise self.error("unclosed '{' in arrow function body", start)
            self.i += 1
            depth += {"{": 1, "}": -1}.get(tok[1], 0) if tok[0] == "op" else 0
            if depth == 0:
                return ("lit", UNDEFINED)

    def binary(self, min_prec: int) -> tuple:
        left = self.unary()
        while True:
            tok = self.peek()
            prec = _BINARY.get(tok[1]) if tok[0] == "op" else None
            if prec is None or prec <= min_prec:
                return left
            self.i += 1
            left = ("bin", tok[1], left, self.binary(prec))

    def unary(self) -> tuple:
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("!", "-", "+"):
            self.i += 1
            return ("unary", tok[1], self.unary())
        if tok == ("name", "typeof", tok[2]):
            self.i += 1
            return ("unary", "typeof", self.unary())
        if tok == ("name", "new", tok[2]):
            self.i += 1
            callee = self.primary()
            args = self.arguments() if self.take("(") else []
            return self.postfix(("new", callee, args))
        return self.postfix(self.primary())

    def postfix(self, node: tuple) -> tuple:
        while True:
            tok = self.peek()
            if tok[0] != "op":
                return node
            if tok[1] in (".", "?."):
                self.i += 1
                name = self.peek()
                if name[0] != "name":
                    if tok[1] == "?." and name[1] in ("(", "["):
                        continue
                    raise self.error("expected a property name", name)
                self.i += 1
                node = ("member", node, ("lit", name[1]))
            elif tok[1] == "[":
                self.i += 1
                key = self.pipe()
                self.expect("]")
                node = ("member", node, key)
            elif tok[1] == "(":
                self.i += 1
                node = ("call", node, self.arguments())
            else:
                return node

    def arguments(self) -> list[tuple]:
        args: list[tuple] = []
        while not self.take(")"):
            args.append(self.expression())
            if not self.take(","):
                self.expect(")")
                break
        return args

    def primary(self) -> tuple:
        tok = self.peek()
        self.i += 1
        kind, value = tok[0], tok[1]
        if kind in ("num", "str"):
            return ("lit", value)
        if kind == "name":
            return ("lit", _LITERALS[value]) if value in _LITERALS else ("name", value)
        if value == "(":
            node = self.pipe()
            self.expect(")")
            return node
        if value == "[":
            items = []
            while not self.take("]"):
                items.append(self.expression())
                if not self.take(","):
                    self.expect("]")
                    break
            return ("array", items)
        if value == "{":
            pairs = []
            while not self.take("}"):
                key = self.peek()
                if key[0] not in ("name", "str", "num"):
                    raise self.error("expected an object key", key)
                self.i += 1
                pairs.append((str(key[1]), self.expression() if self.take(":") else ("name", key[1])))
                if not self.take(","):
                    self.expect("}")
                    break
            return ("object", pairs)
        self.i -= 1
        raise self.error("unexpected end of expression" if kind == "end" else f"unexpected {value!r}", tok)


# --------------------------------------------------------------------------- compiler: AST → closures

_MATH: dict[str, Callable[..., Any]] = {
    "min": lambda *a: min((to_number(x) for x in a), default=math.inf),
    "max": lambda *a: max((to_number(x) for x in a), default=-math.inf),
    "ceil": lambda x=UNDEFINED, *_: _round_op(math.ceil, x),
    "floor": lambda x=UNDEFINED, *_: _round_op(math.floor, x),
    "round": lambda x=UNDEFINED, *_: _round_op(lambda v: math.floor(v + 0.5), x),
    "abs": lambda x=UNDEFINED, *_: abs(to_number(x)),
}
_CONVERT: dict[str, Callable[..., Any]] = {
    "String": lambda x="", *_: to_string(x),
    "Number": lambda x=0, *_: to_number(x),
    "Boolean": lambda x=False, *_: truthy(x),
}
# Pure methods that cannot reach anything but the value itself.
_METHODS: dict[tuple[type, str], Callable[..., Any]] = {
    (str, "toUpperCase"): lambda s: s.upper(),
    (str, "toLowerCase"): lambda s: s.lower(),
    (str, "trim"): lambda s: s.strip(),
    (str, "includes"): lambda s, x=UNDEFINED, *_: to_string(x) in s,
    (str, "startsWith"): lambda s, x=UNDEFINED, *_: s.startswith(to_string(x)),
    (str, "endsWith"): lambda s, x=UNDEFINED, *_: s.endswith(to_string(x)),
    (str, "toString"): lambda s: s,
    (list, "includes"): lambda a, x=UNDEFINED, *_: any(strict_equal(v, x) for v in a),
    (list, "join"): lambda a, sep=",", *_: to_string(sep).join(to_text(v) for v in a),
    (datetime, "toLocaleDateString"): lambda d, *_: _utc(d).strftime("%Y-%m-%d"),
    (datetime, "toLocaleString"): lambda d, *_: _utc(d).strftime("%Y-%m-%d %H:%M"),
    (datetime, "toISOString"): lambda d, *_: _utc(d).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    (datetime, "getFullYear"): lambda d, *_: d.year,
    (datetime, "getTime"): lambda d, *_: int(_utc(d).timestamp() * 1000),
}


def _round_op(fn: Callable[[float], Any], x: Any) -> Any:
    v = to_number(x)
    return v if v != v or v in (math.inf, -math.inf) else int(fn(v))


def _dotted(node: tuple) -> str:
    if node[0] == "name":
        return node[1]
    if node[0] == "member" and node[2][0] == "lit":
        return f"{_dotted(node[1])}.{node[2][1]}"
    if node[0] == "call":
        return _dotted(node[1])
    return "handler"


def _first_call(node: Any) -> str | None:
    if not isinstance(node, tuple):
        return None
    if node[0] == "call":
        return _dotted(node[1])
    for part in node[1:]:
        for sub in part if isinstance(part, list) else [part]:
            found = _first_call(sub)
            if found:
                return found
    return None


def _lookup(name: str) -> Fn:
    def fn(scope: Any) -> Any:
        found, value = scope.lookup(name)
        return value if found else UNDEFINED
    return fn


def _compile(node: tuple) -> Fn:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda scope: value
    if kind == "name":
        return _lookup(node[1])
    if kind == "member":
        obj, key = _compile(node[1]), _compile(node[2])
        return lambda scope: get_member(obj(scope), key(scope))
    if kind == "unary":
        op, x = node[1], _compile(node[2])
        if op == "!":
            return lambda scope: not truthy(x(scope))
        if op == "-":
            return lambda scope: -to_number(x(scope))
        if op == "+":
            return lambda scope: to_number(x(scope))
        return lambda scope: _kind(x(scope))
    if kind == "bin":
        return _compile_binary(node[1], _compile(node[2]), _compile(node[3]))
    if kind == "cond":
        test, then, other = _compile(node[1]), _compile(node[2]), _compile(node[3])
        return lambda scope: then(scope) if truthy(test(scope)) else other(scope)
    if kind == "array":
        items = [_compile(n) for n in node[1]]
        return lambda scope: [f(scope) for f in items]
    if kind == "object":
        pairs = [(k, _compile(v)) for k, v in node[1]]
        return lambda scope: {k: f(scope) for k, f in pairs}
    if kind == "arrow":
        action = Action(_first_call(node[1]) or "handler")
        return lambda scope: action
    if kind == "call":
        return _compile_call(node[1], [_compile(a) for a in node[2]])
    if kind == "new":
        args = [_compile(a) for a in node[2]]
        if node[1] == ("name", "Date"):
            return lambda s: _new_date(*(a(s) for a in args))
        action = Action(_dotted(node[1]))
        return lambda s: action
    if kind == "filter":
        return _compile_filter(_compile(node[1]), node[2], [_compile(a) for a in node[3]])
    raise ExpressionError(f"unsupported syntax {kind}")


def _compile_binary(op: str, a: Fn, b: Fn) -> Fn:
    if op == "&&":
        return lambda s: (lambda x: b(s) if truthy(x) else x)(a(s))
    if op == "||":
        return lambda s: (lambda x: x if truthy(x) else b(s))(a(s))
    if op == "??":
        return lambda s: (lambda x: b(s) if x is None or x is UNDEFINED else x)(a(s))
    if op == "===":
        return lambda s: strict_equal(a(s), b(s))
    if op == "!==":
        return lambda s: not strict_equal(a(s), b(s))
    if op == "==":
        return lambda s: loose_equal(a(s), b(s))
    if op == "!=":
        return lambda s: not loose_equal(a(s), b(s))
    if op in ("<", "<=", ">", ">="):
        return lambda s: _compare(op, a(s), b(s))
    if op == "+":
        return lambda s: _add(a(s), b(s))
    return lambda s: _arith(op, a(s), b(s))


def _compile_call(callee: tuple, args: list[Fn]) -> Fn:
    if callee[0] == "member" and callee[1] == ("name", "Math") and callee[2][0] == "lit" and callee[2][1] in _MATH:
        fn = _MATH[callee[2][1]]
        return lambda s: fn(*(a(s) for a in args))
    if callee[0] == "name" and callee[1] in _CONVERT:
        conv = _CONVERT[callee[1]]
        return lambda s: conv(*(a(s) for a in args))
    action = Action(_dotted(callee))
    if callee[0] == "member" and callee[2][0] == "lit":
        target, method = _compile(callee[1]), callee[2][1]

        def call(s: Any) -> Any:
            obj = target(s)
            impl = _METHODS.get((list if isinstance(obj, (list, tuple)) else type(obj), method))
            return impl(obj, *(a(s) for a in args)) if impl else action
        return call
    return lambda s: action


def _utc(moment: datetime) -> datetime:
    """A moment without an offset is UTC (as JavaScript reads a date-only string), so that a build gives the same
    output on every machine whatever its time zone; one with an offset is converted to UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _new_date(value: Any = UNDEFINED, *_: Any) -> Any:
    """`new Date(x)` → an aware datetime (UTC); no argument (now) is refused: output must be reproducible."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return UNDEFINED
    number = to_number(value)
    if value is UNDEFINED or number != number:
        return UNDEFINED
    return datetime.fromtimestamp(number / 1000, tz=timezone.utc)


def _date(value: Any, fmt: Any = "date") -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, tz=timezone.utc)  # data uses epoch milliseconds
    elif isinstance(value, str):
        try:
            moment = _utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    elif isinstance(value, datetime):
        moment = _utc(value)
    else:
        return value
    return moment.strftime("%Y-%m-%d %H:%M" if fmt == "datetime" else "%Y-%m-%d")


_FILTERS: dict[str, Callable[..., Any]] = {
    "upper": lambda v, *_: to_text(v).upper(),
    "lower": lambda v, *_: to_text(v).lower(),
    "capitalize": lambda v, *_: to_text(v)[:1].upper() + to_text(v)[1:],
    "trim": lambda v, *_: to_text(v).strip(),
    "length": lambda v, *_: len(v) if isinstance(v, (str, list, tuple, dict)) else 0,
    "json": lambda v, *_: json.dumps(None if v is UNDEFINED else v, default=str, ensure_ascii=False),
    "date": _date,
    "default": lambda v, d=UNDEFINED, *_: v if truthy(v) else d,
    "join": lambda v, sep=", ", *_: to_string(sep).join(to_text(x) for x in v) if isinstance(v, list) else v,
}


def _compile_filter(value: Fn, name: str, args: list[Fn]) -> Fn:
    impl = _FILTERS.get(name)
    if impl is None:
        return value  # unknown filter: the value passes through unchanged
    return lambda s: impl(value(s), *(a(s) for a in args))


# --------------------------------------------------------------------------- public API

class Expression:
    """A compiled expression; `evaluate(scope)` may raise only on a broken scope object."""

    __slots__ = ("source", "_fn")

    def __init__(self, source: str, fn: Fn) -> None:
        self.source = source
        self._fn = fn

    def evaluate(self, scope: Any) -> Any:
        return self._fn(scope)


@lru_cache(maxsize=8192)
def compile_expression(src: str) -> Expression:
    """Expression text (no braces) → Expression; raises ExpressionError (with the column)."""
    if len(src) > MAX_SOURCE:
        raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
    if not src.strip():
        raise ExpressionError("empty expression", Location(column=1))
    return Expression(src, _compile(_Parser(src).parse()))


class DictScope:
    """Adapts a plain mapping to the scope protocol (tests, page props)."""

    __slots__ = ("data", "warnings")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.warnings: list[str] = []

    def lookup(self, name: str) -> tuple[bool, Any]:
        return (True, self.data[name]) if name in self.data else (False, None)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _scope(scope: Any) -> Any:
    return DictScope(scope) if isinstance(scope, dict) else scope


def _warn(scope: Any, message: str) -> None:
    warn = getattr(scope, "warn", None)
    if warn is not None:
        warn(message)


def evaluate(src: str, scope: Any) -> Any:
    """Expression text → value; never raises: errors give UNDEFINED and a warning through scope.warn."""
    scope = _scope(scope)
    try:
        return compile_expression(src).evaluate(scope)
    except ExpressionError as err:
        column = f" (column {err.location.column})" if err.location.column else ""
        _warn(scope, f"expression error{column}: {err.message}")
    except (RecursionError, OverflowError, ValueError, TypeError) as err:
        _warn(scope, f"expression {src!r} failed: {err}")
    return UNDEFINED


_PART = re.compile(r"\{\{(.*?)\}\}", re.S)


@lru_cache(maxsize=8192)
def split_template(text: str) -> tuple[tuple[bool, str], ...]:
    """Text with `{{…}}` → ((is_expression, text), …); an unclosed `{{` becomes an empty expression."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _PART.finditer(text):
        if m.start() > pos:
            parts.append((False, text[pos:m.start()]))
        parts.append((True, m.group(1).strip()))
        pos = m.end()
    rest = text[pos:]
    if "{{" in rest:
        cut = rest.index("{{")
        parts.extend([(False, rest[:cut]), (True, "")]) if cut else parts.append((True, ""))
    elif rest:
        parts.append((False, rest))
    return tuple(parts)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def interpolate(text: str, scope: Any) -> Any:
    """Template text → value: a whole `{{x}}` gives the raw value; mixed text gives a string."""
    if "{{" not in text:
        return text
    scope = _scope(scope)
    parts = split_template(text)
    if len(parts) == 1 and parts[0][0]:
        return evaluate(parts[0][1], scope)
    return "".join(to_text(evaluate(src, scope)) if is_expr else src for is_expr, src in parts)
