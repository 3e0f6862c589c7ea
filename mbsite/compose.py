"""A page's skeleton + a level's chrome (header, footer) → the page that level sees; shared by the build and the gate.

A theme whose layout puts its level-dependent parts in the blocks `chrome_header` and `chrome_footer` lets a page be
rendered once: the builder renders the page with those blocks left as markers (the skeleton) and renders only the
blocks again for each further level. Most pages then have a single file; the gate composes the signed-in levels
from that file and the level's chrome fragment (`<tenant>/private/chrome/<L>.json`), replacing the base level's
fragment — and the builder checks, for every page and level, that this replacement gives exactly what a full
render gives, or writes the level's own file instead.
"""
from __future__ import annotations

import json
from typing import Any

HEADER, FOOTER = "chrome_header", "chrome_footer"
BLOCKS = (HEADER, FOOTER)
# Markers left in a skeleton where the chrome blocks go: NUL never comes out of an escaped template.
MARKS = {HEADER: "\x00mb-chrome-header\x00", FOOTER: "\x00mb-chrome-footer\x00"}
NO_KEY = ""  # the chrome key of a page that is not in the navigation

Chrome = tuple[str, str]  # (header block, footer block)


def fill(skeleton: str, chrome: Chrome) -> str:
    """The page: the skeleton with its markers replaced by the chrome blocks (each marker appears once)."""
    return skeleton.replace(MARKS[HEADER], chrome[0], 1).replace(MARKS[FOOTER], chrome[1], 1)


def composable(skeleton: str, base: str, base_chrome: Chrome) -> bool:
    """Whether `compose(base, base_chrome, chrome)` is `fill(skeleton, chrome)` for every chrome, given that `base`
    is `fill(skeleton, base_chrome)`: the header marker comes before the footer marker, both blocks of the base
    chrome are non-empty, and the splice finds them where the markers were (the base header's first occurrence,
    and the base footer's first one after it). Where the chrome goes in the result never depends on the chrome."""
    header_at, footer_mark = skeleton.find(MARKS[HEADER]), skeleton.find(MARKS[FOOTER])
    if header_at < 0 or footer_mark < header_at or not base_chrome[0] or not base_chrome[1]:
        return False
    between = footer_mark - header_at - len(MARKS[HEADER])  # the skeleton between the two markers
    footer_at = header_at + len(base_chrome[0]) + between
    return base.find(base_chrome[0]) == header_at and base.find(base_chrome[1], header_at + len(base_chrome[0])) \
        == footer_at


def same_page(skeleton: str, a: Chrome, b: Chrome) -> bool:
    """Whether `fill(skeleton, a) == fill(skeleton, b)`, without making either page when it can tell."""
    if a == b:
        return True
    if len(a[0]) + len(a[1]) != len(b[0]) + len(b[1]):
        return False
    return fill(skeleton, a) == fill(skeleton, b)


def compose(base: str, base_chrome: Chrome, chrome: Chrome) -> str | None:
    """The page another level sees, from the base level's page and both levels' chrome fragments: the first
    occurrence of the base header is replaced, then the first occurrence of the base footer after it. None when a
    fragment is not where it should be (the caller then falls back)."""
    header_at = base.find(base_chrome[0]) if base_chrome[0] else -1
    if header_at < 0:
        return None
    out = base[:header_at] + chrome[0] + base[header_at + len(base_chrome[0]):]
    start = header_at + len(chrome[0])
    footer_at = out.find(base_chrome[1], start) if base_chrome[1] else -1
    if footer_at < 0:
        return None
    return out[:footer_at] + chrome[1] + out[footer_at + len(base_chrome[1]):]


def fragment_file(tenant: str, level: int) -> str:
    """Output-relative file of a tenant's chrome fragments for one level (served to nobody; read by the gate)."""
    return f"{tenant}/private/chrome/{level}.json"


def dump_fragments(fragments: dict[str, Chrome]) -> bytes:
    """key → (header, footer) as the file the gate reads."""
    return (json.dumps({k: list(v) for k, v in sorted(fragments.items())}, ensure_ascii=False, sort_keys=True)
            + "\n").encode("utf-8")


def load_fragments(data: bytes) -> dict[str, Chrome]:
    raw: Any = json.loads(data)
    if not isinstance(raw, dict):
        raise ValueError("chrome fragments: not an object")
    out: dict[str, Chrome] = {}
    for key, value in raw.items():
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise ValueError(f"chrome fragments: bad entry {key!r}")
        out[str(key)] = (value[0], value[1])
    return out


__all__ = ["BLOCKS", "FOOTER", "HEADER", "MARKS", "NO_KEY", "Chrome", "compose", "dump_fragments", "fill",
           "fragment_file", "load_fragments"]
