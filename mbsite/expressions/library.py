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

from ..dates import get_zone, show
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


# Date methods that show a moment: in the tenant's time zone (never the machine's), as the `date` filter does.
LOCAL_METHODS = {"toLocaleDateString": "date", "toLocaleString": "datetime", "toLocaleTimeString": "time"}


def zone_of(scope: Any) -> Any:
    """The time zone of the render (the tenant's: the scope's `timezone`), UTC for a scope that has none."""
    name = getattr(scope, "timezone", None)
    try:
        return get_zone(name) if isinstance(name, str) and name else timezone.utc
    except (ValueError, KeyError, OSError):
        return timezone.utc


def show_local(moment: datetime, scope: Any, method: str) -> str:
    """`d.toLocaleDateString()` and its kin: the moment in the render's time zone (dates.show)."""
    return str(show(moment, zone_of(scope), LOCAL_METHODS[method]))


def date_filter(value: Any, fmt: Any = "date", *, zone: Any = timezone.utc) -> Any:
    """`x | date` and `x | date('datetime')`: epoch milliseconds (as the data layer stores them), ISO strings and
    Date values, shown in the tenant's time zone (dates.show); anything else passes through."""
    if isinstance(value, bool):
        return value
    return show(value, zone, fmt if fmt in ("date", "datetime", "time") else "date")


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
    "default": lambda v, d=UNDEFINED, *_: v if truthy(v) else d,
    "join": lambda v, sep=", ", *_: to_string(sep).join(to_text(x) for x in v) if isinstance(v, list) else v,
}
