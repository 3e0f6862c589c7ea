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
