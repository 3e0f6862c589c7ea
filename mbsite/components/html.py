"""Tag name + attribute dict + inner HTML → one escaped HTML string.

The single place where attributes are written, so the safety rules hold everywhere: names are
validated, ``on*`` names are never written, URL attributes pass through :func:`safe_url`, every value
is escaped with markupsafe.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from markupsafe import Markup, escape

from .urls import safe_url

VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"})
URL_ATTRS = frozenset({"href", "src", "action", "formaction", "poster", "cite", "srcset", "background",
                       "data", "xlink:href", "ping"})
IMAGE_ATTRS = frozenset({"src", "poster", "srcset"})
_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_:.\-]*$")


def attr_name_ok(name: str) -> bool:
    low = name.lower()
    return bool(_NAME.match(name)) and not low.startswith("on") and low not in ("style", "srcdoc", "formaction")


def attrs_html(attrs: Mapping[str, Any]) -> str:
    """Attributes → ' a="b" c' (None/False dropped, True bare, lists space-joined, URLs checked)."""
    out: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False or not attr_name_ok(name):
            continue
        if value is True:
            out.append(" " + name)
            continue
        if isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value if v)
            if not value:
                continue
        elif isinstance(value, float) and value == int(value):
            value = int(value)
        if name in URL_ATTRS:
            value = safe_url(str(value), image=name in IMAGE_ATTRS)
            if value is None:
                continue
        out.append(f' {name}="{escape(str(value))}"')
    return "".join(out)


def tag(name: str, attrs: Mapping[str, Any] | None = None, inner: str = "") -> str:
    """One element; void elements get no closing tag (and lose `inner`)."""
    open_ = f"<{name}{attrs_html(attrs) if attrs else ''}>"
    if name in VOID:
        return open_
    return f"{open_}{inner}</{name}>"


def text(value: Any) -> str:
    return str(escape(value))


def markup(html: str) -> Markup:
    return Markup(html)
