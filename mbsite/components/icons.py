"""Icon name → inline SVG, drawn from vendored icon sets (icondata/icons.json; no icon font to download).

The data holds Material Design icons (what MUI icon names refer to) plus, for names Material lacks, icons
from Phosphor and Pictogrammers' Material Design Icons; `scripts/update_icons.py` regenerates it from the
published npm packages, and the licence texts ship beside it. Names are matched loosely: ``CheckCircle``,
``check_circle`` and ``check-circle`` are one icon, and a trailing ``Outlined``/``Rounded``/``Sharp``/
``TwoTone``/``Icon`` picks the same drawing. An unknown name draws a generic glyph that carries the name
as its accessible label, so nothing silently disappears.
"""
from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from markupsafe import escape

_SUFFIXES = ("outlined", "rounded", "sharp", "twotone", "outline", "filled", "icon")
_SIZES: dict[str, int | str] = {"small": 20, "medium": 24, "large": 35, "inherit": "1em"}
# Drawn for names no set knows: a square with a dash, stroked so it reads as a placeholder.
_UNKNOWN = ('<path d="M5 5h14v14H5V5M9 12h6" fill="none" stroke="currentColor" stroke-width="2" '
            'stroke-linecap="round" stroke-linejoin="round"/>')


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("icondata", "icons.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def normalize(name: str) -> str:
    """Any spelling of an icon name → the key of its drawing, or '' when no set draws it."""
    data = _data()
    icons, aliases = data["icons"], data["aliases"]
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    while key:
        if key in icons:
            return key
        if key in aliases:
            return str(aliases[key])
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                break
        else:
            return ""
    return ""


def has_icon(name: str) -> bool:
    return bool(normalize(name))


def icon_svg(name: str, *, size: int | str = 24, label: str | None = None, cls: str = "mb-icon") -> str:
    """Icon name → `<svg>`, filled with the text colour; decorative (aria-hidden) unless a label is given."""
    key = normalize(name)
    if key:
        set_name, body = _data()["icons"][key]
        view_box = _data()["sets"][set_name]["viewBox"]
    else:
        body, view_box, label = _UNKNOWN, "0 0 24 24", label or name
    px = size if isinstance(size, int) else _SIZES.get(size, 24)
    a11y = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true"'
    return (f'<svg class="{escape(cls)}" data-icon="{escape(key or "unknown")}" width="{escape(px)}" '
            f'height="{escape(px)}" viewBox="{view_box}" fill="currentColor" focusable="false"{a11y}>{body}</svg>')
