"""What both Markdown engines share: the component shortcode syntax, heading slugs and code highlighting."""
from __future__ import annotations

import json
import re
from typing import Any, Callable

# {{< component PKG:ID key="value" n=3 >}} — one line; recognised only as Markdown syntax, so never inside code.
SHORTCODE_RE = re.compile(r"\{\{<\s*component\s+([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)((?:\s+[^>]*?)?)\s*>\}\}")
_ARG_RE = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+)""")


ShortcodeHandler = Callable[[str, str, dict[str, Any], int | None], str]


def parse_shortcode_args(text: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key, raw in _ARG_RE.findall(text or ""):
        if raw.startswith("'"):
            args[key] = raw[1:-1]
            continue
        try:
            args[key] = json.loads(raw)
        except json.JSONDecodeError:
            args[key] = raw
    return args


def highlight(code: str, lang: str, _attrs: str) -> str:
    """markdown-it's highlight callback: Pygments HTML, or "" for an unknown language (markdown-it then writes
    the code escaped)."""
    from .highlight import highlight as pygments_html

    return pygments_html(code, lang) or ""


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"[\s_-]+", "-", slug) or "section"


_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})")
_COMMENT_START = re.compile(r" {0,3}<!--")


def drop_comments(body: str) -> str:
    """The body without its HTML comment blocks — a comment that starts a line (`<!-- note -->`, `<!--more-->`, over
    several lines too) and ends one — outside fenced code, each line kept as an empty one (line numbers stay). Raw
    HTML is otherwise shown escaped, so a comment would be printed on the page; removed, it prints nothing, in
    every engine. A comment inside a paragraph's line, a list item or a quote is left as it is."""
    if "<!--" not in body:
        return body
    lines = body.split("\n")
    fence = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if fence:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = ""
        elif (opened := _FENCE_OPEN.match(line)) is not None:
            fence = opened.group(1)
        elif _COMMENT_START.match(line):
            last, at = i, line.find("-->", line.find("<!--") + 4)
            while at < 0 and last + 1 < len(lines):
                last += 1
                at = lines[last].find("-->")
            if at >= 0 and lines[last][at + 3:].strip() == "":  # (text after the first `-->`: left as it is)
                lines[i:last + 1] = [""] * (last + 1 - i)
                i = last
        i += 1
    return "\n".join(lines)


_CODE_HTML = re.compile(r"<pre\b.*?</pre>|<code\b.*?</code>", re.S)
_SHOWN_SHORTCODE = re.compile(r"\{\{(?:&lt;|%)\s*([A-Za-z][\w./-]*)")
_SOURCE_SHORTCODE = r"\{{\{{(?:<|%)\s*{name}\b"


def stray_shortcodes(html: str, body: str) -> list[tuple[str, int]]:
    """The shortcodes a rendered body shows as text outside code — another generator's (`{{< figure … >}}`,
    `{{% note %}}`) or a component shortcode that is not well formed — as (name, line of its first use in `body`,
    1-based; 0 when not found there), in order of first appearance."""
    if "{{" not in html:
        return []
    found: dict[str, int] = {}
    for m in _SHOWN_SHORTCODE.finditer(_CODE_HTML.sub("", html)):
        name = m.group(1)
        if name not in found:
            at = re.search(_SOURCE_SHORTCODE.format(name=re.escape(name)), body)
            found[name] = body.count("\n", 0, at.start()) + 1 if at else 0
    return list(found.items())
