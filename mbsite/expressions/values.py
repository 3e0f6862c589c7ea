"""Python values → JavaScript semantics: `undefined`, truthiness, String()/Number(), equality, operators, member reads.

Every operator of the expression language is defined here over plain Python values (dicts, lists, strings,
numbers, None, datetimes), so that the compiler only wires these functions together. Member access is the
sandbox's wall: it reads dict keys, list/string indexes and ``length``, never a Python attribute.
"""
from __future__ import annotations

import math
import operator
import re
from datetime import datetime
from typing import Any, Callable


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
    """JavaScript Number(value), keeping Python ints for integral input."""
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


def kind_of(value: Any) -> str:
    """JavaScript `typeof value` (an Action is a function; a datetime, list or dict is an object)."""
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
    """`a === b`: objects and functions by identity, everything else by kind and value."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return False
    if ka in ("object", "function"):
        return a is b
    return bool(a == b)


def loose_equal(a: Any, b: Any) -> bool:
    """`a == b` with JavaScript's coercions (null == undefined, '1' == 1, [1] == '1')."""
    ka, kb = kind_of(a), kind_of(b)
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


_ORDER: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                                 ">=": operator.ge}


def compare(op: str, a: Any, b: Any) -> bool:
    """`a < b` and friends: two strings compare as text, anything else as numbers (NaN compares false)."""
    if isinstance(a, str) and isinstance(b, str):
        return _ORDER[op](a, b)
    x, y = to_number(a), to_number(b)
    if x != x or y != y:
        return False
    return _ORDER[op](x, y)


def add(a: Any, b: Any) -> Any:
    """`a + b`: concatenation when either side is a string or an object, else numeric addition."""
    if isinstance(a, str) or isinstance(b, str) or kind_of(a) == "object" or kind_of(b) == "object":
        return to_string(a) + to_string(b)
    return to_number(a) + to_number(b)


def arith(op: str, a: Any, b: Any) -> Any:
    """`a - b`, `a * b`, `a / b`, `a % b` on Number(a), Number(b), with JavaScript's zero and NaN rules."""
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
