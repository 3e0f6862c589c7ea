"""URL values from data → safe href/src/action values, or None when they must be dropped.

Browsers ignore ASCII whitespace and control characters inside a scheme (``java\tscript:``) and
accept any letter case, so the scheme is read after removing them. Only a known list of schemes
passes; ``data:`` passes only for raster images in ``src``-like attributes (never SVG, which can
carry script).
"""
from __future__ import annotations

import re

SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel", "ftp", "sms"})
_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp|avif|bmp|x-icon);base64,[a-z0-9+/=\s]*$", re.I)
_STRIP = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)


def safe_url(value: object, *, image: bool = False) -> str | None:
    """A URL string → the same string when safe; None for script-capable or unknown schemes."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url:
        return None
    probe = _STRIP.sub("", url)
    m = _SCHEME.match(probe)
    if m is None:
        # No scheme: a relative path, fragment, query or protocol-relative URL. A colon before any
        # slash would be read as a scheme by browsers, so such values are refused.
        head = probe.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        return None if ":" in head or "&#" in probe.lower() else url
    scheme = m.group(1).lower()
    if scheme in SAFE_SCHEMES:
        return url
    if scheme == "data" and image and _DATA_IMAGE.match(probe):
        return url
    return None


def is_external(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url, re.I))
