"""MUI `sx` / CSS `style` objects → one class name each, plus the stylesheet text for those classes.

Conventions (FORMAT §3.3, §12.19): spacing keys multiply numbers by 8px; palette paths such as
``text.secondary`` become CSS variables (``var(--mb-text-secondary)``); breakpoint objects
(``{"xs": 1, "md": 2}``) and arrays become min-width media queries; ``&:hover``-style keys nest.
Class names are a hash of the declarations, so equal styles share a class across pages and builds.
Values that could leave the style context or load script are dropped, never escaped into shape.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable

import orjson

from .urls import safe_url

BREAKPOINTS = {"xs": 0, "sm": 600, "md": 900, "lg": 1200, "xl": 1536}
SPACING_UNIT = 8
_SPACING = {
    "m": ("margin",), "mt": ("margin-top",), "mr": ("margin-right",), "mb": ("margin-bottom",),
    "ml": ("margin-left",), "mx": ("margin-left", "margin-right"), "my": ("margin-top", "margin-bottom"),
    "p": ("padding",), "pt": ("padding-top",), "pr": ("padding-right",), "pb": ("padding-bottom",),
    "pl": ("padding-left",), "px": ("padding-left", "padding-right"), "py": ("padding-top", "padding-bottom"),
    "marginX": ("margin-left", "margin-right"), "marginY": ("margin-top", "margin-bottom"),
    "paddingX": ("padding-left", "padding-right"), "paddingY": ("padding-top", "padding-bottom"),
}
_SPACING_CSS = frozenset({"margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding",
                          "padding-top", "padding-right", "padding-bottom", "padding-left", "gap", "row-gap",
                          "column-gap"})
_FRACTION = frozenset({"width", "height", "min-width", "max-width", "min-height", "max-height", "flex-basis"})
_UNITLESS = frozenset({"font-weight", "line-height", "z-index", "opacity", "flex", "flex-grow", "flex-shrink",
                       "order", "zoom", "grid-column", "grid-row", "aspect-ratio", "column-count", "orphans",
                       "widows", "tab-size"})
_COLOR = frozenset({"color", "background-color", "background", "border-color", "fill", "stroke", "outline-color",
                    "border-top-color", "border-bottom-color", "border-left-color", "border-right-color",
                    "text-decoration-color", "caret-color", "accent-color"})
_ALIASES = {"bgcolor": "background-color"}
# Breakpoint names as widths (MUI Container's maxWidth; xs is Container's 444px, not the 0 breakpoint).
BREAKPOINT_WIDTHS = {"xs": "444px", "sm": "600px", "md": "900px", "lg": "1200px", "xl": "1536px"}
_WIDTHS = frozenset({"width", "max-width", "min-width", "flex-basis"})
# Named weights (Tailwind/design-token words) that are not CSS keywords → numbers browsers accept.
_WEIGHTS = {"thin": "100", "hairline": "100", "extralight": "200", "ultralight": "200", "light": "300",
            "regular": "400", "book": "400", "medium": "500", "semibold": "600", "demibold": "600",
            "extrabold": "800", "ultrabold": "800", "black": "900", "heavy": "900"}
PALETTE_ROOTS = frozenset({"primary", "secondary", "error", "warning", "info", "success", "text", "background",
                           "grey", "action", "common", "divider"})
_TOKEN = re.compile(r"^([a-z]+)(?:\.([A-Za-z0-9]+))*$")
_PROP = re.compile(r"^-?[a-z][a-z0-9-]*$")
_BAD_VALUE = re.compile(r"[<>{};\\\n\r\x00]|/\*|expression\s*\(|javascript:|vbscript:|@import|behavior\s*:|"
                        r"-moz-binding|&#", re.I)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)
_SELECTOR = re.compile(r"^[\w\s\-:.#>+~*,()\[\]=\"'&^$|%]+$")
_MEDIA = re.compile(r"^@media[\w\s\-:().,]+$")


def kebab(key: str) -> str:
    """camelCase → kebab-case; vendor prefixes (WebkitX, MozX, msX) gain their leading dash."""
    out = re.sub(r"([A-Z])", r"-\1", key).lower()
    if out.startswith(("webkit-", "moz-", "ms-", "o-")):
        out = "-" + out
    return out


def palette_var(value: str) -> str | None:
    """'text.secondary' → 'var(--mb-text-secondary)'; 'primary' → 'var(--mb-primary-main)'; else None.

    The camelCase spelling of a palette path (`textSecondary`, `primaryMain`, as MUI's old Typography
    colours and upstream data write them) means the same path."""
    camel = re.match(r"^([a-z]+)([A-Z][A-Za-z0-9]*)$", value)
    if camel and camel.group(1) in PALETTE_ROOTS:
        value = f"{camel.group(1)}.{camel.group(2)[0].lower()}{camel.group(2)[1:]}"
    m = _TOKEN.match(value)
    if m is None or m.group(1) not in PALETTE_ROOTS:
        return None
    parts = value.split(".")
    if len(parts) == 1 and parts[0] not in ("divider", "text", "background", "grey", "action", "common"):
        parts.append("main")
    return "var(--mb-" + "-".join(kebab(p) for p in parts) + ")"


def css_value_ok(value: str) -> bool:
    """False for anything that could close the style context, inject a rule or fetch script."""
    if _BAD_VALUE.search(value):
        return False
    for m in _URL.finditer(value):
        if safe_url(m.group(2), image=True) is None or '"' in m.group(2) or "'" in m.group(2):
            return False
    return "url(" not in value.lower().replace(" ", "") or bool(_URL.search(value))


def declarations(key: str, value: Any, *, system: bool = True) -> list[tuple[str, str]]:
    """One sx entry → CSS declarations (possibly several, e.g. px → padding-left/right)."""
    if value is None or value is False or isinstance(value, (dict, list)) or value == "":
        return []
    if value is True:
        value = "true"  # no CSS property takes a bare boolean: the declaration is dropped below
    names = _SPACING.get(key) if system else None
    if names is None:
        name = _ALIASES.get(key) if system else None
        names = (name or kebab(key),)
    out = []
    for name in names:
        if not _PROP.match(name):
            continue
        text = _value(name, value, system)
        if text is not None and text != "true" and css_value_ok(text):
            out.append((name, text))
    return out


def _value(name: str, value: Any, system: bool) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if name in _UNITLESS:
            return _num(value)
        if system and name in _SPACING_CSS:
            return _num(value * SPACING_UNIT) + "px"
        if system and name in _FRACTION and 0 < value <= 1:
            return _num(value * 100) + "%"
        if system and name == "border-radius":
            return _num(value * 4) + "px"
        if system and name.startswith("border") and name.count("-") <= 1 and name not in ("border-radius",):
            return f"{_num(value)}px solid"
        if system and name == "box-shadow":
            return f"var(--mb-shadow-{int(value)})"
        return "0" if value == 0 else _num(value) + "px"
    text = str(value).strip()
    if name == "font-weight":
        return _WEIGHTS.get(text.lower().replace("-", "").replace("_", ""), text)
    if name in _WIDTHS and text in BREAKPOINT_WIDTHS:
        return BREAKPOINT_WIDTHS[text]
    if system and name in _COLOR:
        return palette_var(text) or text
    if system and name.startswith("border") and " " in text:
        # "1px solid divider" → the palette word inside a border shorthand
        return " ".join(palette_var(part) or part for part in text.split(" "))
    return text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0").rstrip(".")


def _breakpoint_object(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(k in BREAKPOINTS for k in value)


def _combine(parent: str, key: str) -> str | None:
    key = key.strip()
    if not key or not _SELECTOR.match(key):
        return None
    parts = []
    for part in key.split(","):
        part = part.strip()
        if not part:
            return None
        part = part if "&" in part else ("&" + part if part.startswith(":") else "& " + part)
        parts.append(part.replace("&", parent))
    return ", ".join(parts)


class _Rules:
    """Buckets of declarations keyed by (media, selector), in first-use order."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def add(self, media: str, selector: str, decls: Iterable[tuple[str, str]]) -> None:
        decls = list(decls)
        if decls:
            self.buckets.setdefault((media, selector), []).extend(decls)

    def walk(self, sx: dict[str, Any], selector: str, media: str, system: bool, depth: int = 0) -> None:
        if depth > 4:
            return
        for key, value in sx.items():
            if not isinstance(key, str):
                continue
            if key.startswith("@media"):
                if isinstance(value, dict) and _MEDIA.match(key) and not media:
                    self.walk(value, selector, key, system, depth + 1)
            elif isinstance(value, dict) and not _breakpoint_object(value):
                nested = _combine(selector, key)  # "&:hover", "& .child", ".child", "img"
                if nested is not None:
                    self.walk(value, nested, media, system, depth + 1)
            elif _breakpoint_object(value) or isinstance(value, list):
                steps = value.items() if isinstance(value, dict) else zip(BREAKPOINTS, value, strict=False)
                for bp, v in steps:
                    query = "" if BREAKPOINTS[bp] == 0 else f"@media (min-width:{BREAKPOINTS[bp]}px)"
                    if media and query:
                        continue  # a breakpoint inside a custom @media cannot be expressed: skip it
                    self.add(query or media, selector, declarations(key, v, system=system))
            else:
                self.add(media, selector, declarations(key, value, system=system))

    def css(self, cls: str) -> str:
        def order(item: tuple[tuple[str, str], list[tuple[str, str]]]) -> tuple[int, int]:
            media = item[0][0]
            m = re.match(r"@media \(min-width:(\d+)px\)$", media)
            return (0 if not media else 1 if m else 2, int(m.group(1)) if m else 0)

        chunks = []
        for (media, selector), decls in sorted(self.buckets.items(), key=order):
            body = ";".join(f"{k}:{v}" for k, v in decls)
            rule = f"{selector.replace('&', '.' + cls)}{{{body}}}"
            chunks.append(f"{media}{{{rule}}}" if media else rule)
        return "\n".join(chunks)


_CACHE: dict[bytes, tuple[str, str] | None] = {}
_PLACEHOLDER = "mb-00000000"


def compile_style(sx: dict[str, Any], style: dict[str, Any] | None = None) -> tuple[str, str] | None:
    """sx (MUI conventions) + style (plain CSS) → (class name, CSS text), or None when empty. Cached."""
    # Key order is part of the key: declaration order matters in CSS, and a sorted key would let the first
    # order compiled in a process decide the class name for every order (output would depend on scheduling).
    key = orjson.dumps([sx, style], option=orjson.OPT_NON_STR_KEYS, default=str)
    if key in _CACHE:
        return _CACHE[key]
    rules = _Rules()
    if sx:
        rules.walk(sx, "&", "", True)
    if style:
        rules.walk(style, "&", "", False)
    result = None
    if rules.buckets:
        text = rules.css(_PLACEHOLDER)
        cls = "mb-" + hashlib.sha1(text.encode()).hexdigest()[:8]
        result = (cls, text.replace(_PLACEHOLDER, cls))
    if len(_CACHE) < 50_000:
        _CACHE[key] = result
    return result


class StyleSheet:
    """The classes one render used, in first-use order, and their CSS."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def use(self, sx: dict[str, Any] | None, style: dict[str, Any] | None = None) -> str | None:
        if not sx and not style:
            return None
        compiled = compile_style(sx or {}, style)
        if compiled is None:
            return None
        cls, css = compiled
        self.rules.setdefault(cls, css)
        return cls

    def css(self) -> str:
        return "\n".join(self.rules.values())
