"""Icon name → inline SVG (a small bundled stroke icon set, 24×24; no icon font to download).

Names are matched loosely: ``CheckCircle``, ``check_circle`` and ``check-circle`` are one icon, and a
trailing ``Icon``/``Outlined``/``Rounded`` is ignored. An unknown name draws a generic glyph that
carries the name as its accessible label, so nothing silently disappears.
"""
from __future__ import annotations

import re

from markupsafe import escape

# Simple geometric drawings, stroked with currentColor (so they follow the text colour).
_PATHS: dict[str, str] = {
    "add": "M12 5v14M5 12h14",
    "remove": "M5 12h14",
    "close": "M6 6l12 12M18 6L6 18",
    "check": "M5 12l5 5L20 7",
    "checkcircle": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M8 12l3 3l5-6",
    "circle": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18",
    "cancel": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M9 9l6 6M15 9l-6 6",
    "error": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v6M12 16v1",
    "info": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 11v6M12 7v1",
    "warning": "M12 3L2 20h20L12 3M12 10v4M12 17v1",
    "helpoutline": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .9-1 1.6V14M12 17v1",
    "block": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M6 6l12 12",
    "arrowback": "M20 12H4M10 6l-6 6l6 6",
    "arrowforward": "M4 12h16M14 6l6 6l-6 6",
    "arrowup": "M12 20V4M6 10l6-6l6 6",
    "arrowdown": "M12 4v16M6 14l6 6l6-6",
    "chevronright": "M9 6l6 6l-6 6",
    "chevronleft": "M15 6l-6 6l6 6",
    "expandmore": "M6 9l6 6l6-6",
    "expandless": "M6 15l6-6l6 6",
    "unfoldmore": "M8 9l4-4l4 4M8 15l4 4l4-4",
    "unfoldless": "M8 5l4 4l4-4M8 19l4-4l4 4",
    "menu": "M4 6h16M4 12h16M4 18h16",
    "search": "M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M15.5 15.5L20 20",
    "edit": "M4 20h4L19 9l-4-4L4 16v4M13 7l4 4",
    "delete": "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
    "save": "M5 4h11l3 3v13H5V4M8 4v5h7V4M8 20v-6h8v6",
    "download": "M12 4v11M7 10l5 5l5-5M5 20h14",
    "upload": "M12 20V9M7 14l5-5l5 5M5 4h14",
    "refresh": "M20 12a8 8 0 1 1-2.3-5.7M20 4v5h-5",
    "settings": "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2",
    "build": "M14 6a4 4 0 0 0 5 5L11 19a2 2 0 0 1-3-3l8-8",
    "code": "M8 7l-5 5l5 5M16 7l5 5l-5 5",
    "person": "M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8M4 21c1-4 4-6 8-6s7 2 8 6",
    "people": "M9 5a3 3 0 1 0 0 6a3 3 0 1 0 0-6M2 20c.7-3 3.3-5 7-5s6.3 2 7 5M16 6a3 3 0 0 1 0 6M18 15c2 .6 3.4 2.3 4 5",
    "lock": "M6 11h12v10H6V11M8 11V8a4 4 0 0 1 8 0v3",
    "lockopen": "M6 11h12v10H6V11M8 11V8a4 4 0 0 1 8-1",
    "logout": "M10 4H5v16h5M14 8l4 4l-4 4M18 12H9",
    "login": "M14 4h5v16h-5M10 8l4 4l-4 4M14 12H4",
    "security": "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6l8-3",
    "shield": "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6l8-3",
    "verifieduser": "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6l8-3M8 12l3 3l5-6",
    "key": "M8 10a4 4 0 1 0 0 .1M12 10h9M18 10v3M21 10v2",
    "visibility": "M2 12s4-7 10-7s10 7 10 7s-4 7-10 7S2 12 2 12M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
    "notifications": "M6 17V11a6 6 0 0 1 12 0v6l2 2H4l2-2M10 21h4",
    "description": "M6 3h8l4 4v14H6V3M14 3v4h4M9 12h6M9 16h6",
    "file": "M6 3h8l4 4v14H6V3M14 3v4h4",
    "noteadd": "M6 3h8l4 4v14H6V3M14 3v4h4M12 11v6M9 14h6",
    "createnewfolder": "M3 6h6l2 2h10v11H3V6M12 11v5M9.5 13.5h5",
    "folder": "M3 6h6l2 2h10v11H3V6",
    "link": "M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1",
    "home": "M3 11l9-7l9 7M5 10v10h5v-6h4v6h5V10",
    "dashboard": "M4 4h7v9H4V4M13 4h7v5h-7V4M13 11h7v9h-7v-9M4 15h7v5H4v-5",
    "gridview": "M4 4h7v7H4V4M13 4h7v7h-7V4M4 13h7v7H4v-7M13 13h7v7h-7v-7",
    "viewlist": "M4 5h16M4 12h16M4 19h16",
    "tablechart": "M3 5h18v14H3V5M3 10h18M9 10v9M15 10v9",
    "accounttree": "M3 4h6v5H3V4M15 4h6v5h-6V4M15 15h6v5h-6v-5M6 9v8h9M9 6.5h6",
    "extension": "M4 8h4a2 2 0 1 1 4 0h4v4a2 2 0 1 1 0 4v4H4V8",
    "widgets": "M4 4h7v7H4V4M13 13h7v7h-7v-7M4 13h7v7H4v-7M16.5 3l4 4l-4 4l-4-4l4-4",
    "forum": "M4 4h12v9H8l-4 3V4M18 8h2v11l-3-2h-8v-2",
    "business": "M4 21V5h9v16M13 9h7v12M7 8h3M7 12h3M7 16h3M16 13h2M16 17h2",
    "computer": "M4 5h16v11H4V5M9 20h6M12 16v4",
    "tablet": "M6 3h12v18H6V3M11 18h2",
    "phoneandroid": "M8 3h8v18H8V3M11 18h2",
    "playarrow": "M8 5v14l11-7L8 5",
    "swaphoriz": "M4 9h16M16 5l4 4l-4 4M20 15H4M8 11l-4 4l4 4",
    "dragindicator": "M9 6v.1M15 6v.1M9 12v.1M15 12v.1M9 18v.1M15 18v.1",
    "formatalignleft": "M4 6h16M4 10h10M4 14h16M4 18h10",
    "brightness4": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7a5 5 0 0 1 0 10",
    "trendingup": "M3 17l6-6l4 4l8-8M15 7h6v6",
    "trendingdown": "M3 7l6 6l4-4l8 8M15 17h6v-6",
    "trendingflat": "M3 12h17M16 8l4 4l-4 4",
    "toggleon": "M7 7h10a5 5 0 0 1 0 10H7A5 5 0 0 1 7 7M17 9.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5",
    "toggleoff": "M7 7h10a5 5 0 0 1 0 10H7A5 5 0 0 1 7 7M7 9.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5",
    "loader": "M12 3v4M12 17v4M3 12h4M17 12h4M5.6 5.6l2.8 2.8M15.6 15.6l2.8 2.8",
    "xcircle": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M9 9l6 6M15 9l-6 6",
    "camera": "M4 7h4l2-3h4l2 3h4v12H4V7M12 10a3 3 0 1 0 0 6a3 3 0 1 0 0-6",
    "chart": "M4 20V10M10 20V4M16 20v-7M3 20h18",
    "clock": "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3 2",
    "database": "M4 6c0-2 16-2 16 0s-16 2-16 0M4 6v12c0 2 16 2 16 0V6M4 12c0 2 16 2 16 0",
    "mail": "M3 6h18v12H3V6M3 6l9 7l9-7",
    "star": "M12 3l2.7 5.6l6.1.8l-4.4 4.3l1 6.1L12 17l-5.4 2.8l1-6.1L3.2 9.4l6.1-.8L12 3",
    "github": "M9 19c-4 1.5-4-2-6-2.5M15 21v-3.5c0-1 .1-1.4-.5-2c2.8-.3 5.5-1.4 5.5-6a4.6 4.6 0 0 0-1.3-3.2a4.2 4.2 0 0 0-.1-3.2s-1-.3-3.4 1.3a11.6 11.6 0 0 0-6 0C6.8 2.8 5.8 3.1 5.8 3.1a4.2 4.2 0 0 0-.1 3.2A4.6 4.6 0 0 0 4.4 9.5c0 4.6 2.7 5.7 5.5 6c-.6.6-.6 1.2-.5 2V21",
    "linkedin": "M4 4h16v16H4V4M8 10v6M8 7v.1M12 16v-6M12 13a2.5 2.5 0 0 1 5 0v3",
    "twitter": "M4 4l16 16M20 4L4 20",
    "x": "M4 4l16 16M20 4L4 20",
    "calendar": "M4 6h16v14H4V6M4 10h16M8 3v5M16 3v5",
    "image": "M4 5h16v14H4V5M4 16l5-5l4 4l3-3l4 4M15 8.5v.1",
    "send": "M3 11l18-8l-8 18l-2-8l-8-2",
    "play": "M8 5v14l11-7L8 5",
    "pause": "M8 5v14M16 5v14",
    "stop": "M6 6h12v12H6V6",
    "filter": "M4 5h16l-6 8v6l-4-2v-4L4 5",
    "sort": "M4 7h16M7 12h10M10 17h4",
    "copy": "M8 8h12v12H8V8M4 16V4h12",
    "more": "M5 12v.1M12 12v.1M19 12v.1",
    "dot": "M12 11a1 1 0 1 0 0 2a1 1 0 1 0 0-2",
}
_ALIASES = {
    "plus": "add", "minus": "remove", "x": "x", "clear": "close", "done": "check", "checkcircleoutline": "checkcircle",
    "erroroutline": "error", "infooutlined": "info", "help": "helpoutline", "question": "helpoutline",
    "warningamber": "warning", "alerttriangle": "warning", "trash": "delete", "deleteoutline": "delete",
    "pencil": "edit", "create": "edit", "gear": "settings", "cog": "settings", "user": "person", "account": "person",
    "accountcircle": "person", "group": "people", "users": "people", "bell": "notifications", "eye": "visibility",
    "document": "description", "article": "description", "note": "description", "storage": "database",
    "email": "mail", "envelope": "mail", "moreverti": "more", "morehoriz": "more", "morevert": "more",
    "chevrondown": "expandmore", "chevronup": "expandless", "arrowleft": "arrowback", "arrowright": "arrowforward",
    "sync": "refresh", "cached": "refresh", "schedule": "clock", "time": "clock", "barchart": "chart",
    "analytics": "chart", "photo": "image", "play_arrow": "playarrow", "spinner": "loader", "hourglass": "loader",
}
_SUFFIXES = ("outlined", "rounded", "sharp", "outline", "twotone", "icon")


def normalize(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and key[: -len(suffix)] in _PATHS:
            return key[: -len(suffix)]
    return _ALIASES.get(key, key)


def has_icon(name: str) -> bool:
    return normalize(name) in _PATHS


def icon_svg(name: str, *, size: int | str = 24, label: str | None = None, cls: str = "mb-icon") -> str:
    """Icon name → `<svg>`; decorative (aria-hidden) unless a label is given; unknown → generic glyph."""
    key = normalize(name)
    path = _PATHS.get(key)
    if path is None:
        # Unknown: a dotted square, labelled with the requested name so it is still announced.
        path, label = "M5 5h14v14H5V5M9 12h6", label or name
    px = size if isinstance(size, int) else {"small": 20, "medium": 24, "large": 35, "inherit": "1em"}.get(size, 24)
    a11y = f' role="img" aria-label="{escape(label)}"' if label else ' aria-hidden="true"'
    return (f'<svg class="{escape(cls)}" data-icon="{escape(key or "unknown")}" width="{escape(px)}" '
            f'height="{escape(px)}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
            f'stroke-linecap="round" stroke-linejoin="round" focusable="false"{a11y}><path d="{path}"/></svg>')
