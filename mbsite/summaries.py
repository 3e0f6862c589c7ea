"""A Markdown page → what listings and the page's own layout say about it: a summary, its reading time and its
table of contents (from the rendered headings)."""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .markdown.syntax import drop_comments

if TYPE_CHECKING:
    from .sources import MarkdownSource

SUMMARY_WORDS = 40
WORDS_PER_MINUTE = 220

_FENCE = re.compile(r"^(```|~~~)")
_SKIP_LINE = re.compile(r"^\s*(#|>|\||[-*+]\s|\d+[.)]\s|<|\{\{<|!\[|\[\^)")
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),   # images: their alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),    # links: their text
    (re.compile(r"\[\^[^\]]*\]"), ""),                 # footnote references
    (re.compile(r"`([^`]*)`"), r"\1"),                 # code spans
    (re.compile(r"<[^>]+>"), ""),                      # inline HTML
    (re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis
]
_ATX_H1 = re.compile(r" {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_H1 = re.compile(r" {0,3}=+[ \t]*$")
_NOT_SETEXT = re.compile(r"\s*$| {4}|\s*(#|>|[-*+][ \t]|\d+[.)]|<|\||```|~~~|\{\{<)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_MORE = re.compile(r"<!--\s*more\s*-->")
_HEADING = re.compile(r'<h([2-4]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_TAGS = re.compile(r"<[^>]+>")
_ANCHOR = re.compile(r'<a class="header-anchor"[^>]*>.*?</a>', re.S)


def summary(md: MarkdownSource, words: int = SUMMARY_WORDS) -> str:
    """The page's `summary` front matter, else its `description`, else the text of its first paragraph (Markdown
    syntax taken out), cut at `words` words with an ellipsis."""
    given = md.front.extra.get("summary")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if md.front.description:
        return md.front.description
    manual = _manual_summary(md.body)
    if manual is not None:  # the author's own cut (`<!--more-->`, as Hugo has it): all of it, plain
        return manual
    cut = _plain(_first_paragraph(drop_comments(md.body))).split()
    return " ".join(cut[:words]) + ("…" if len(cut) > words else "")


def _plain(text: str) -> str:
    text = " ".join(text.split())
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


def _manual_summary(body: str) -> str | None:
    """The prose before a `<!--more-->` line outside fenced code (headings, quotes, tables, lists, HTML and comments
    left out), plain; None when the body has no such line."""
    if "<!--" not in body:
        return None
    prose: list[str] = []
    fenced = False
    # (drop_comments keeps every line, emptied: its lines pair with the body's)
    for raw, line in zip(body.split("\n"), drop_comments(body).split("\n"), strict=True):
        if _FENCE.match(line.strip()):
            fenced = not fenced
        elif fenced:
            continue
        elif _MORE.fullmatch(raw.strip()):
            return _plain(" ".join(prose))
        elif line.strip() and not _SKIP_LINE.match(line) and not line.startswith("    "):
            prose.append(line)
    return None


def _first_paragraph(body: str) -> str:
    lines: list[str] = []
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if fenced:
            continue
        if not line.strip():
            if lines:
                break
            continue
        if not lines and (_SKIP_LINE.match(line) or line.startswith("    ")):
            continue
        lines.append(line)
    return " ".join(lines)


def first_heading(body: str) -> str:
    """The text of the level-1 heading that opens a Markdown body (`# Title`, or `Title` over a line of `=`), its
    Markdown syntax taken out; "" when the body opens with anything else. (Only the first lines are looked at.)"""
    body = drop_comments(body)  # (as the page shows it: a comment above the heading prints nothing)
    start = len(body) - len(body.lstrip())
    start = body.rfind("\n", 0, start) + 1  # (the indentation of the first line counts)
    lines = body[start:start + 2000].split("\n", 2)
    first = lines[0].rstrip()
    atx = _ATX_H1.match(first)
    if atx is not None:
        text = atx.group(1)
    elif len(lines) > 1 and _SETEXT_H1.match(lines[1]) and not _NOT_SETEXT.match(first):
        text = first.strip()
    else:
        return ""
    return " ".join(html.unescape(_ESCAPED.sub(r"\1", _plain(text))).split())


def reading_minutes(md: MarkdownSource) -> int:
    """Minutes a reader needs for the body, at 220 words a minute (at least 1)."""
    return max(1, round(len(drop_comments(md.body).split()) / WORDS_PER_MINUTE))


def table_of_contents(body_html: str) -> list[dict[str, Any]]:
    """The rendered body's h2–h4 headings that carry an anchor: [{level, id, text}], in order."""
    out = []
    for level, anchor, inner in _HEADING.findall(body_html):
        text = html.unescape(_TAGS.sub("", _ANCHOR.sub("", inner))).strip()
        if text:
            out.append({"level": int(level), "id": html.unescape(anchor), "text": text})
    return out


__all__ = ["first_heading", "reading_minutes", "summary", "table_of_contents"]
