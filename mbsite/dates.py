"""A moment (date, date-time, epoch ms) + a time zone → the text a page shows, the instant a schedule means, the
RFC 3339 stamp a feed carries. Every date a page displays goes through `show`.

The time zone is the site's `site.timezone` (mbsite.toml), overridden per tenant by its `timezone` setting; it is
never the machine's, so that a build gives the same output everywhere. Dates without a time (`2024-01-05`) are
calendar days: shown as written, whatever the zone. A date-time with an offset is converted to the zone; one
without an offset is a wall-clock time in the zone.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc
DEFAULT_ZONE = "UTC"
# Named formats of `show` (besides Babel's short/medium/long/full, written in the page's language).
FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M", "time": "%H:%M"}
BABEL_FORMATS = ("short", "medium", "long", "full")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def zone_problem(name: Any) -> str | None:
    """Why `name` is not a time zone of the IANA database (None when it is one)."""
    if not isinstance(name, str) or not name.strip():
        return f"expected an IANA time zone name such as 'Europe/Berlin', got {name!r}"
    try:
        get_zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (expected an IANA name such as 'Europe/Berlin' or 'UTC')"
    return None


@lru_cache(maxsize=64)
def get_zone(name: str) -> dt.tzinfo:
    """The tzinfo of an IANA name ('UTC' is the fixed UTC zone); raises ZoneInfoNotFoundError or ValueError."""
    if name == "UTC":
        return UTC
    return ZoneInfo(name)


def moment(value: Any, zone: dt.tzinfo = UTC) -> dt.datetime | dt.date | None:
    """A value as a moment: a calendar day (date) or an aware date-time in `zone`; numbers are epoch
    milliseconds (as the data layer stores them); None when the value is not a date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000, tz=UTC).astimezone(zone)
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                return None
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)


def show(value: Any, zone: dt.tzinfo = UTC, fmt: str = "date", lang: str = "en") -> Any:
    """How a page shows a date: `fmt` is one of FORMATS, one of Babel's short/medium/long/full (in `lang`), "iso"
    (ISO 8601 with the zone's offset, for `<time datetime>`) or a strftime pattern; a value that is not a date is
    returned unchanged."""
    when = moment(value, zone)
    if when is None:
        return value
    day_only = not isinstance(when, dt.datetime)
    if fmt == "iso":
        if isinstance(when, dt.datetime):
            return when.isoformat(timespec="seconds").replace("+00:00", "Z")
        return when.isoformat()
    if fmt in BABEL_FORMATS:
        from babel.dates import format_date, format_datetime

        locale = babel_locale(lang)
        if day_only:
            return format_date(when, format=fmt, locale=locale)
        return format_datetime(when, format=fmt, tzinfo=zone, locale=locale)
    pattern = FORMATS.get(fmt, fmt if isinstance(fmt, str) and "%" in fmt else FORMATS["date"])
    if day_only and any(code in pattern for code in ("%H", "%M", "%S", "%I", "%p", "%z", "%Z")):
        pattern = FORMATS["date"]  # a calendar day has no time to show
    return when.strftime(pattern)


@lru_cache(maxsize=64)
def babel_locale(lang: str) -> Any:
    """Babel's locale for a language tag (English when Babel does not know it)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def rfc3339(value: Any, zone: dt.tzinfo = UTC) -> str:
    """A feed's timestamp (Atom: RFC 3339) in UTC: a calendar day is its midnight in `zone`; no date is the epoch."""
    when = moment(value, zone)
    if when is None:
        return "1970-01-01T00:00:00Z"
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day, tzinfo=zone)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_instant(ms: int, zone: dt.tzinfo) -> int:
    """An epoch-ms instant read as UTC wall-clock time → the same wall-clock time in `zone` (a publish date
    written without an offset means the site's time zone)."""
    wall = dt.datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)
    return int(wall.replace(tzinfo=zone).timestamp() * 1000)


__all__ = ["BABEL_FORMATS", "DEFAULT_ZONE", "FORMATS", "UTC", "babel_locale", "get_zone", "local_instant", "moment",
           "rfc3339", "show", "zone_problem"]
