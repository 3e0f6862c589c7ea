"""A `next` value from a request → the path a browser may be sent to after signing in or out, or the default.

The one place that decides it, for the functions and for `mbsite serve`. Only a path of this origin passes:
it starts with one `/`, and neither it nor any percent-decoding of it holds a second `/` in a row, a
backslash or a control character. Browsers strip tabs and newlines from URLs and read `\\` as `/`, so
`/%09/evil.example` or `/\\evil.example` would become `//evil.example`, another site; CR/LF would split the
Location header. What passes is returned percent-encoded (ASCII only), ready for a Location header.
"""
from __future__ import annotations

import re
from urllib.parse import quote, unquote

_REFUSED = re.compile(r"[\x00-\x1f\x7f\\]|//")
# Printable ASCII that may stay as it is in a path, query or fragment; anything else is percent-encoded.
_KEEP = "/?#[]@!$&'()*+,;=:-._~%"


def sign_in_target(value: object, default: str = "/") -> str:
    """`value` when it is a path of this origin that is safe to redirect to, else `default`."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("/api/"):
        return default
    form = value
    for _ in range(4):  # every decoding a browser or a proxy might apply: %2509 → %09 → a tab
        if _REFUSED.search(form):
            return default
        decoded = unquote(form)
        if decoded == form:
            return quote(value, safe=_KEEP)
        form = decoded
    return default  # encoded over and over: nobody needs that
