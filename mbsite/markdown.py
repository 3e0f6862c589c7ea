"""Markdown files → front matter + HTML (markdown-it-py, footnotes, anchors, Pygments, component shortcodes)."""
from __future__ import annotations

import datetime as dt
import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markupsafe import escape

from .errors import ConfigError, DataError, Location
from .frontmatter import parse_yaml, simple_yaml
from .levels import clamp_level
from .markdown_syntax import SHORTCODE_RE, ShortcodeHandler, highlight, parse_shortcode_args, slugify

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
    """Split `---` YAML front matter from the body; returns (front matter, body, line where body starts)."""
    if not text.startswith("---"):
        return FrontMatter(), text, 1
    nl = text.find("\n")
    if (text if nl < 0 else text[:nl]).strip() != "---":
        return FrontMatter(), text, 1
    raw_lines: list[str] = []
    while True:  # line by line up to the closing marker; the body is never split into lines
        if nl < 0:
            raise DataError("front matter: no closing '---'", Location(file=file, line=1))
        start = nl + 1
        nl = text.find("\n", start)
        line = text[start:] if nl < 0 else text[start:nl]
        if line.strip() in ("---", "..."):
            body = "" if nl < 0 else text[nl + 1:]
            break
        raw_lines.append(line)
    data = simple_yaml(raw_lines)
    if data is None:
        data = parse_yaml("\n".join(raw_lines), file)
    return _front_matter(data, file, raw_lines), body, len(raw_lines) + 3


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
        if line.startswith(f"{key}:"):
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
    from .languages import lang_problem

    if value is None or value == "":
        return None
    problem = lang_problem(value)
    if problem:
        raise DataError(f"front matter: 'lang': {problem}", where)
    return str(value)


def _shortcode_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    pos = state.bMarks[start] + state.tShift[start]
    line = state.src[pos:state.eMarks[start]]
    if state.sCount[start] - state.blkIndent >= 4 or not line.startswith("{{<"):
        return False
    m = SHORTCODE_RE.fullmatch(line.strip())
    if not m:
        return False
    if silent:
        return True
    token = state.push("mb_shortcode", "", 0)
    token.meta = {"package": m.group(1), "component": m.group(2), "args": parse_shortcode_args(m.group(3)),
                  "line": start}
    token.map = [start, start + 1]
    state.line = start + 1
    return True


def _shortcode_inline(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("{{<", state.pos):
        return False
    m = SHORTCODE_RE.match(state.src, state.pos)
    if not m:
        return False
    if not silent:
        token = state.push("mb_shortcode", "", 0)
        token.meta = {"package": m.group(1), "component": m.group(2), "args": parse_shortcode_args(m.group(3)),
                      "line": None}
    state.pos = m.end()
    return True


def _render_shortcode(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    meta = tokens[idx].meta
    handler: ShortcodeHandler | None = env.get("shortcode")
    if handler is None:
        return f'<div data-mb-shortcode="{escape(meta["package"])}:{escape(meta["component"])}"></div>'
    line = meta["line"] + 1 + env.get("line_offset", 0) if meta["line"] is not None else None
    return handler(meta["package"], meta["component"], meta["args"], line)


def _image_lines(state: Any) -> None:
    """Note on each image token the line (0-based, in the body) it starts on: the line of its block plus the line
    breaks before it inside the block's inline content."""
    for block in state.tokens:
        if block.type != "inline" or not block.map or not block.children:
            continue
        line = block.map[0]
        todo = list(block.children)
        for child in todo:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "image":
                child.meta["line"] = line
                line += sum(1 for c in child.children or () if c.type in ("softbreak", "hardbreak"))


def _render_image(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    """The default image (src, alt, title) plus its source line (`data-mb-line`), which the page's image step
    (images.rewrite_markdown) reads and replaces."""
    token = tokens[idx]
    token.attrs["alt"] = self.renderInlineAsText(token.children, options, env)
    if "line" in token.meta:
        token.attrs["data-mb-line"] = str(token.meta["line"] + 1 + env.get("line_offset", 0))
    return self.renderToken(tokens, idx, options, env)


def make_markdown(*, highlight_code: bool = True) -> MarkdownIt:
    """The Markdown engine: CommonMark + tables + strikethrough + footnotes + heading anchors + shortcodes."""
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                   "highlight": highlight if highlight_code else None})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(anchors_plugin, min_level=2, max_level=4, slug_func=slugify, permalink=True,
                                permalinkSymbol="#", permalinkBefore=False)
    md.block.ruler.before("paragraph", "mb_shortcode", _shortcode_block)
    md.inline.ruler.before("text", "mb_shortcode", _shortcode_inline)
    md.add_render_rule("mb_shortcode", _render_shortcode)
    md.core.ruler.push("mb_image_lines", _image_lines)
    md.add_render_rule("image", _render_image)
    # The default text rule stops only at "terminator" characters; "{" is not one, so make it one.
    _add_terminator(md)
    return md


def _add_terminator(md: MarkdownIt) -> None:
    from markdown_it.rules_inline import text as text_rule

    if "{" not in getattr(text_rule, "_TerminatorChars", set()) and hasattr(text_rule, "_TerminatorChars"):
        text_rule._TerminatorChars = set(text_rule._TerminatorChars) | {"{"}  # type: ignore[attr-defined]


@lru_cache(maxsize=4)
def markdown_engine(highlight_code: bool = True) -> MarkdownIt:
    return make_markdown(highlight_code=highlight_code)


ENGINES = ("markdown-it", "pyromark")
_ENGINE_PACKAGES = {"pyromark": "pyromark"}


def check_engine(engine: str) -> None:
    """Raise a ConfigError naming `build.markdown_engine` when the engine is unknown or not installed."""
    if engine not in ENGINES:
        raise ConfigError(f"build.markdown_engine: unknown Markdown engine {engine!r} "
                          f"(choose one of {', '.join(ENGINES)})", Location(file="mbsite.toml"))
    package = _ENGINE_PACKAGES.get(engine)
    if package is not None and importlib.util.find_spec(package) is None:
        raise ConfigError(f"build.markdown_engine: engine {engine!r} needs the {package!r} package "
                          f"(pip install 'mbsite[fast]')", Location(file="mbsite.toml"))


@lru_cache(maxsize=8)
def _renderer(engine: str) -> Callable[..., str]:
    check_engine(engine)
    if engine == "pyromark":
        from .markdown_pyromark import render

        return render
    return _render_markdown_it


def _render_markdown_it(body: str, *, highlight_code: bool = True, shortcode: ShortcodeHandler | None = None,
                        line_offset: int = 0) -> str:
    env: dict[str, Any] = {"line_offset": line_offset}
    if shortcode is not None:
        env["shortcode"] = shortcode
    return markdown_engine(highlight_code).render(body, env)


def render_markdown(body: str, *, highlight_code: bool = True, shortcode: ShortcodeHandler | None = None,
                    line_offset: int = 0, engine: str = "markdown-it") -> str:
    """Markdown body → HTML with the configured engine (`build.markdown_engine`); every engine writes the same
    constructs: tables, strikethrough, footnotes, heading anchors, highlighted code, shortcodes outside code."""
    return _renderer(engine)(body, highlight_code=highlight_code, shortcode=shortcode, line_offset=line_offset)
