"""A Markdown file's text → its front matter (typed, checked, located), body and first body line."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError, Location
from ..levels import clamp_level
from .frontmatter_yaml import parse_yaml, simple_yaml

FRONT_MATTER_KEYS: dict[str, type | tuple[type, ...]] = {
    "title": str, "description": str, "date": (str, dt.date), "tags": list, "template": str, "level": int,
    "draft": bool, "revalidate": int, "tenants": list, "requiresAuth": bool, "sortOrder": int, "data": dict,
    "slug": str, "nav": bool, "icon": str, "publishDate": (str, dt.date), "expiryDate": (str, dt.date),
    "aliases": list, "lang": str, "translationKey": str,
}



@dataclass(frozen=True)
class FrontMatter:
    title: str = ""
    description: str = ""
    date: str | None = None
    tags: tuple[str, ...] = ()
    template: str | None = None
    level: int = 0
    requires_auth: bool = False
    draft: bool = False
    revalidate: int | None = None
    tenants: tuple[str, ...] | None = None
    sort_order: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    nav: bool = False
    icon: str | None = None
    publish_date: int | None = None      # epoch ms: not published before
    expiry_date: int | None = None       # epoch ms: not published from then on
    aliases: tuple[str, ...] = ()        # earlier paths of the page, redirected to it
    publish_naive: bool = False          # publishDate had no offset: a wall-clock time of the tenant's zone
    expiry_naive: bool = False           # expiryDate likewise
    lang: str | None = None              # the page's language (else its folder's, else the tenant's)
    translation_key: str | None = None   # shared by the translations of one page (else their path)
    extra: dict[str, Any] = field(default_factory=dict)


def split_front_matter(text: str, file: str) -> tuple[FrontMatter, str, int]:
    """Split the front matter from the body: YAML between `---` lines, or TOML between `+++` lines (as Hugo writes
    it); returns (front matter, body, line where body starts)."""
    if not text.startswith(("---", "+++")):
        return FrontMatter(), text, 1
    nl = text.find("\n")
    marker = (text if nl < 0 else text[:nl]).strip()
    if marker not in ("---", "+++"):
        return FrontMatter(), text, 1
    closing = ("---", "...") if marker == "---" else ("+++",)
    raw_lines: list[str] = []
    while True:  # line by line up to the closing marker; the body is never split into lines
        if nl < 0:
            raise DataError(f"front matter: no closing '{marker}'", Location(file=file, line=1))
        start = nl + 1
        nl = text.find("\n", start)
        line = text[start:] if nl < 0 else text[start:nl]
        if line.strip() in closing:
            body = "" if nl < 0 else text[nl + 1:]
            break
        raw_lines.append(line)
    if marker == "+++":
        data = _toml(raw_lines, file)
    else:
        data = simple_yaml(raw_lines)
        if data is None:
            data = parse_yaml("\n".join(raw_lines), file)
    return _front_matter(data, file, raw_lines), body, len(raw_lines) + 3


def _toml(raw_lines: list[str], file: str) -> dict[str, Any]:
    """TOML front matter as a dict; a syntax error names its line in the file (the front matter starts at line 2)."""
    import tomllib  # (only for a file that has TOML front matter)

    try:
        return tomllib.loads("\n".join(raw_lines))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) + 1 if found else len(raw_lines) + 1  # ("at end of document": its last line)
        raise DataError(f"front matter: {exc}", Location(file=file, line=line)) from None


def instant(value: Any, where: Location, key: str, zone: dt.tzinfo | None = None) -> int | None:
    """A publish or expiry date as epoch milliseconds: a date means its midnight in `zone` (the tenant's time
    zone, UTC when None), a time without an offset is a wall-clock time there; never the machine's zone, so the
    result is the same on every machine."""
    if value is None or value == "":
        return None
    when: dt.datetime
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DataError(f"{key}: {value!r} is not a date or date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z])",
                            where) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone or dt.timezone.utc)
    return int(when.timestamp() * 1000)


def _naive(value: Any) -> bool:
    """Whether a publish or expiry date has no offset (so it is read in the tenant's time zone)."""
    if value is None or value == "":
        return False
    if isinstance(value, dt.datetime):
        return value.tzinfo is None
    if isinstance(value, dt.date):
        return True
    try:
        return dt.datetime.fromisoformat(str(value).strip()).tzinfo is None
    except ValueError:
        return False


def _key_line(key: str, raw_lines: list[str]) -> int:
    for i, line in enumerate(raw_lines):
        if line.startswith(f"{key}:") or line.split("=", 1)[0].strip() == key:  # (YAML, or TOML)
            return i + 2
    return 1


def _front_matter(data: dict[str, Any], file: str, raw_lines: list[str]) -> FrontMatter:
    for key, expected in FRONT_MATTER_KEYS.items():
        if key in data and data[key] is not None and not isinstance(data[key], expected):
            if expected is int and isinstance(data[key], str) and data[key].strip().isdigit():
                data[key] = int(data[key])
                continue
            name = expected.__name__ if isinstance(expected, type) else "string or date"
            raise DataError(f"front matter: {key!r} must be a {name}, got {type(data[key]).__name__}",
                            Location(file=file, line=_key_line(key, raw_lines)))
    tags = data.get("tags") or []
    date = data.get("date")
    tenants = data.get("tenants")
    return FrontMatter(
        title=str(data.get("title") or ""),
        description=str(data.get("description") or ""),
        date=date.isoformat() if isinstance(date, dt.date) else (str(date) if date else None),
        tags=tuple(str(t) for t in tags),
        template=data.get("template"),
        level=clamp_level(data.get("level", 0)),
        requires_auth=bool(data.get("requiresAuth", False)),
        draft=bool(data.get("draft", False)),
        revalidate=data.get("revalidate"),
        tenants=tuple(str(t) for t in tenants) if tenants else None,
        sort_order=int(data.get("sortOrder") or 0),
        data=dict(data.get("data") or {}),
        nav=bool(data.get("nav", False)),
        icon=data.get("icon"),
        publish_date=instant(data.get("publishDate"), Location(file=file, line=_key_line("publishDate", raw_lines)),
                              "publishDate"),
        expiry_date=instant(data.get("expiryDate"), Location(file=file, line=_key_line("expiryDate", raw_lines)),
                             "expiryDate"),
        aliases=tuple(str(a) for a in data.get("aliases") or ()),
        publish_naive=_naive(data.get("publishDate")),
        expiry_naive=_naive(data.get("expiryDate")),
        lang=_lang(data.get("lang"), Location(file=file, line=_key_line("lang", raw_lines))),
        translation_key=str(data["translationKey"]) if data.get("translationKey") else None,
        extra={k: v for k, v in data.items() if k not in FRONT_MATTER_KEYS},
    )


def _lang(value: Any, where: Location) -> str | None:
    from ..languages import lang_problem

    if value is None or value == "":
        return None
    problem = lang_problem(value)
    if problem:
        raise DataError(f"front matter: 'lang': {problem}", where)
    return str(value)
