"""Name → function for everything an expression may call: `Math.*`, conversions, pure methods, `new Date`, filters.

These tables are the whole list of callables reachable from an expression; each entry takes plain values and
returns a plain value, and none of them can reach anything but its arguments. A name missing from a table is
not an error: the compiler turns such a call into an inert Action, and an unknown filter passes its value on.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Callable

from .values import UNDEFINED, strict_equal, to_number, to_string, to_text, truthy


def _round_op(fn: Callable[[float], Any], x: Any) -> Any:
    v = to_number(x)
    return v if v != v or v in (math.inf, -math.inf) else int(fn(v))


def utc(moment: datetime) -> datetime:
    """A moment without an offset is UTC (as JavaScript reads a date-only string), so that a build gives the same
    output on every machine whatever its time zone; one with an offset is converted to UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def new_date(value: Any = UNDEFINED, *_: Any) -> Any:
    """`new Date(x)` → an aware datetime (UTC); no argument (now) is refused: output must be reproducible."""
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
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
            moment = utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    elif isinstance(value, datetime):
        moment = utc(value)
    else:
        return value
    return moment.strftime("%Y-%m-%d %H:%M" if fmt == "datetime" else "%Y-%m-%d")


MATH: dict[str, Callable[..., Any]] = {
    "min": lambda *a: min((to_number(x) for x in a), default=math.inf),
    "max": lambda *a: max((to_number(x) for x in a), default=-math.inf),
    "ceil": lambda x=UNDEFINED, *_: _round_op(math.ceil, x),
    "floor": lambda x=UNDEFINED, *_: _round_op(math.floor, x),
    "round": lambda x=UNDEFINED, *_: _round_op(lambda v: math.floor(v + 0.5), x),
    "abs": lambda x=UNDEFINED, *_: abs(to_number(x)),
}
CONVERSIONS: dict[str, Callable[..., Any]] = {
    "String": lambda x="", *_: to_string(x),
    "Number": lambda x=0, *_: to_number(x),
    "Boolean": lambda x=False, *_: truthy(x),
}
# (receiver type, method name) → implementation; lists and tuples both look up `list`.
METHODS: dict[tuple[type, str], Callable[..., Any]] = {
    (str, "toUpperCase"): lambda s: s.upper(),
    (str, "toLowerCase"): lambda s: s.lower(),
    (str, "trim"): lambda s: s.strip(),
    (str, "includes"): lambda s, x=UNDEFINED, *_: to_string(x) in s,
    (str, "startsWith"): lambda s, x=UNDEFINED, *_: s.startswith(to_string(x)),
    (str, "endsWith"): lambda s, x=UNDEFINED, *_: s.endswith(to_string(x)),
    (str, "toString"): lambda s: s,
    (list, "includes"): lambda a, x=UNDEFINED, *_: any(strict_equal(v, x) for v in a),
    (list, "join"): lambda a, sep=",", *_: to_string(sep).join(to_text(v) for v in a),
    (datetime, "toLocaleDateString"): lambda d, *_: utc(d).strftime("%Y-%m-%d"),
    (datetime, "toLocaleString"): lambda d, *_: utc(d).strftime("%Y-%m-%d %H:%M"),
    (datetime, "toISOString"): lambda d, *_: utc(d).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    (datetime, "getFullYear"): lambda d, *_: d.year,
    (datetime, "getTime"): lambda d, *_: int(utc(d).timestamp() * 1000),
}
FILTERS: dict[str, Callable[..., Any]] = {
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
