"""Node type → HTML: the registry, the Element handed to each entry, and the layout/text entries.

A new component type is one decorated function: ``@renders("Chip")`` plus ``def chip(el) -> str``.
Entries receive evaluated props and already-rendered children, and build tags only through
:func:`html.tag`, so escaping and attribute safety are never an entry's concern.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from markupsafe import Markup, escape

from ..expressions import UNDEFINED, to_text, truthy
from .html import tag
from .styles import BREAKPOINT_WIDTHS

Render = Callable[["Element"], str]
# provide(props, inherited context, run) → the context this node's descendants (and the node) see
Provide = Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    render: Render
    provide: Provide | None = None
    system: bool = False  # MUI system props (p, mt, display, gap, …) on the node become CSS


REGISTRY: dict[str, Entry] = {}


def renders(*types: str, system: bool = False, provide: Provide | None = None) -> Callable[[Render], Render]:
    """Register an entry for one or more node types (`provide` passes context down to descendants)."""
    def deco(fn: Render) -> Render:
        for name in types:
            REGISTRY[name] = Entry(fn, provide, system)
        return fn
    return deco


SYSTEM_PROPS = frozenset({
    "m", "mt", "mr", "mb", "ml", "mx", "my", "p", "pt", "pr", "pb", "pl", "px", "py", "margin", "padding",
    "display", "gap", "rowGap", "columnGap", "flexDirection", "flexWrap", "alignItems", "alignContent",
    "justifyContent", "alignSelf", "flex", "flexGrow", "flexShrink", "flexBasis", "textAlign", "bgcolor",
    "width", "height", "minWidth", "maxWidth", "minHeight", "maxHeight", "position", "top", "left", "right",
    "bottom", "zIndex", "overflow", "border", "borderRadius", "borderColor", "boxShadow", "fontWeight",
    "fontSize", "fontFamily", "fontStyle", "letterSpacing", "lineHeight", "whiteSpace", "textTransform",
    "opacity", "gridTemplateColumns", "gridColumn", "order",
})
_CLASS_TOKEN = re.compile(r"^[A-Za-z0-9_\-:/.\[\]%!#@()&>,=+*~'\"]+$")
_ARIA = re.compile(r"^aria(-[a-z]+|[A-Z][a-zA-Z]*)$")
_DATA = re.compile(r"^data-[a-z0-9\-]+$")


class Element:
    """One node being rendered: evaluated props, rendered child fragments, context from ancestors."""

    __slots__ = ("type", "props", "parts", "events", "inherit", "parent", "run")

    def __init__(self, type_: str, props: dict[str, Any], parts: list[str], events: dict[str, str],
                 inherit: dict[str, Any], parent: str, run: Any) -> None:
        self.type, self.props, self.parts, self.events = type_, props, parts, events
        self.inherit, self.parent, self.run = inherit, parent, run

    @property
    def children(self) -> str:
        return "".join(self.parts)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.props.get(name, default)
        return default if value is UNDEFINED else value

    def flag(self, name: str) -> bool:
        value = self.props.get(name)
        return truthy(value) and value != "false"

    def text(self, name: str, default: str = "") -> str:
        """A prop as HTML: node-valued props are already markup; everything else is escaped text."""
        value = self.get(name)
        if isinstance(value, Markup):
            return str(value)
        return str(escape(to_text(value))) if value is not None else default

    def content(self, *names: str) -> str:
        """Children, or the first non-empty text prop among `names` (label, title, text, …)."""
        if self.parts:
            return self.children
        for name in names:
            out = self.text(name)
            if out:
                return out
        return ""

    def attrs(self, cls: str | None = None, sx: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """Common attributes: id, class (base + className + style class), title, role, aria-*, data-*."""
        props = self.props
        classes = [cls] if cls else []
        class_name = props.get("className")
        if isinstance(class_name, str):
            classes.extend(t for t in class_name.split() if _CLASS_TOKEN.match(t))
        style_sx: dict[str, Any] = dict(sx) if sx else {}
        if REGISTRY.get(self.type, _UNKNOWN).system:
            for key in props:  # in the node's own order: set iteration order would vary between runs
                if key in SYSTEM_PROPS:
                    style_sx[key] = props[key]
        node_sx = props.get("sx")
        if isinstance(node_sx, dict):
            style_sx.update(node_sx)
        style = props.get("style")
        style_cls = self.run.sheet.use(style_sx, style if isinstance(style, dict) else None)
        if style_cls:
            classes.append(style_cls)
        out: dict[str, Any] = {"id": _scalar(props.get("id")), "class": classes or None}
        for key in ("title", "role", "lang", "dir"):
            if key in props and key not in extra:
                out[key] = _scalar(props[key])
        for key, value in props.items():
            if _ARIA.match(key):
                out["aria-" + key[5:].lower() if key[4] != "-" else key] = _scalar(value)
            elif _DATA.match(key):
                out[key] = _scalar(value)
        if self.events:
            out["data-action"] = " ".join(f"{evt}:{name}" for evt, name in self.events.items())
        out.update(extra)
        return out


def _scalar(value: Any) -> Any:
    if value is None or value is UNDEFINED or isinstance(value, (dict, list)):
        return None
    return to_text(value) if not isinstance(value, bool) else value


# `color` words the stylesheet defines (theme.py COLOR_CSS); other colours become a style (color_sx)
PALETTE_COLORS = ("primary", "secondary", "error", "warning", "info", "success")
COLOR_WORDS = frozenset(PALETTE_COLORS + ("inherit", "default", "action", "disabled"))
_SIZE_WORDS = {"small": "small", "sm": "small", "xs": "small", "medium": "medium", "md": "medium",
               "large": "large", "lg": "large", "xl": "large"}


def variant_classes(el: Element, base: str, *names: str) -> str:
    """'mb-button' + modifiers from simple props: 'mb-button mb-button--contained mb-color-primary'.

    `color` gives a class only for the palette words the stylesheet defines, `size` only for small/medium/
    large (sm/md/lg read as those), so every class emitted here has a rule."""
    out = [base]
    for name in names:
        value = el.get(name)
        if not isinstance(value, str) or not re.match(r"^[A-Za-z0-9_-]+$", value):
            continue
        if name == "color":
            if value in COLOR_WORDS:
                out.append(f"mb-color-{value}")
        elif name == "size":
            if value in _SIZE_WORDS:
                out.append(f"mb-size-{_SIZE_WORDS[value]}")
        elif name == "variant":
            out.append(f"{base}--{value}")
        else:
            out.append(f"mb-{name}-{value}")
    return " ".join(out)


def color_sx(el: Element) -> dict[str, Any]:
    """A `color` that is no palette word (`text.secondary`, `#6c757d`, `white`) → an sx colour, else {}."""
    value = el.get("color")
    if isinstance(value, str) and value and value not in COLOR_WORDS:
        return {"color": value}
    return {}


def _unknown(el: Element) -> str:
    return tag("div", {**el.attrs("mb-unknown"), "data-mb-type": el.type}, el.children)


_UNKNOWN = Entry(_unknown)
unknown = _unknown  # the fallback for types without an entry: children inside a marked <div>


def lookup(type_: str) -> Entry | None:
    return REGISTRY.get(type_)


# --------------------------------------------------------------------------- layout

_SECTION_TAGS = frozenset({"div", "section", "article", "aside", "header", "footer", "main", "nav", "span", "ul",
                           "ol", "li", "form", "label", "p", "figure", "figcaption", "address", "blockquote",
                           "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "small", "pre", "code"})


def tag_override(el: Element, default: str) -> str:
    """`component: "section"` picks the HTML tag, from a safe list only."""
    name = el.get("component")
    return name if isinstance(name, str) and name in _SECTION_TAGS else default


@renders("Box", "div", system=True)
def box(el: Element) -> str:
    return tag(tag_override(el, "div"), el.attrs("mb-box"), el.children)


@renders("Stack", "Flex", system=True)
def stack(el: Element) -> str:
    default_dir = "row" if el.type == "Flex" else "column"
    direction = el.get("direction", el.get("flexDirection", default_dir))
    sx: dict[str, Any] = {"display": "flex", "flexDirection": direction if direction else default_dir}
    gap = el.get("spacing", el.get("gap"))
    if gap is not None and gap != UNDEFINED:
        sx["gap"] = gap  # spacing units; styles.py multiplies by 8px
    for key in ("alignItems", "justifyContent", "flexWrap"):
        if el.get(key) is not None:
            sx[key] = el.get(key)
    for short, css in (("align", "alignItems"), ("justify", "justifyContent"), ("wrap", "flexWrap")):
        value = el.get(short)
        if isinstance(value, str):
            sx[css] = {"start": "flex-start", "end": "flex-end", "between": "space-between"}.get(value, value)
        elif value is True and short == "wrap":
            sx[css] = "wrap"
    return tag(tag_override(el, "div"), el.attrs("mb-stack", sx), el.children)


_GRID_SIZES = ("xs", "sm", "md", "lg", "xl")


@renders("Grid", system=True)
def grid(el: Element) -> str:
    sx: dict[str, Any] = {}
    if el.flag("container"):
        sx["display"] = "grid"
        columns = el.get("columns", 12)
        sx["gridTemplateColumns"] = f"repeat({columns if isinstance(columns, int) else 12}, minmax(0, 1fr))"
        spacing = el.get("spacing")
        if spacing is not None:
            sx["gap"] = spacing
    size = el.get("size")
    spans = size if isinstance(size, dict) else {"xs": size} if size is not None else \
        {bp: el.get(bp) for bp in _GRID_SIZES if el.get(bp) is not None}
    span: dict[str, Any] = {}
    columns = el.get("columns")
    width = columns if isinstance(columns, int) and not isinstance(columns, bool) and columns > 0 else 12
    for bp, value in spans.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and bp in _GRID_SIZES:
            # Computed spans (`12 / items.length`) may be Infinity or NaN: clamp to 1..columns, never raise.
            if value != value:
                continue
            count = width if value == float("inf") else 1 if value == float("-inf") else int(value)
            span[bp] = f"span {max(1, min(width, count))}"
        elif value is True or value == "auto" or value == "grow":
            span[bp] = "auto"
    if span:
        sx["gridColumn"] = span if len(span) > 1 or "xs" not in span else span["xs"]
    elif el.flag("item") and el.parent == "Grid":
        sx["gridColumn"] = "span 12"
    return tag(tag_override(el, "div"), el.attrs("mb-grid", sx), el.children)


@renders("Container", system=True)
def container(el: Element) -> str:
    width = el.get("maxWidth", "lg")
    sx = {"maxWidth": BREAKPOINT_WIDTHS.get(width, "1200px") if width is not False else "none",
          "marginLeft": "auto", "marginRight": "auto", "px": {"xs": 2, "sm": 3}}
    return tag(tag_override(el, "div"), el.attrs("mb-container", sx), el.children)


@renders("Paper", "Card", system=True)
def paper(el: Element) -> str:
    base = "mb-card" if el.type == "Card" else "mb-paper"
    cls = variant_classes(el, base, "variant")
    elevation = el.get("elevation")
    if isinstance(elevation, int):
        cls += f" mb-elevation-{max(0, min(24, elevation))}"
    default = "article" if el.type == "Card" else "div"
    return tag(tag_override(el, default), el.attrs(cls), el.children)


@renders("Toolbar", "CardContent", "CardActions", "CardFooter", "DialogActions", "ScrollArea", "FormGroup",
         "ButtonGroup", "ToggleButtonGroup", system=True)
def simple_block(el: Element) -> str:
    kebab = re.sub(r"(?<!^)([A-Z])", r"-\1", el.type).lower()
    attrs = el.attrs(f"mb-{kebab}")
    if el.type in ("ButtonGroup", "ToggleButtonGroup", "FormGroup"):
        attrs.setdefault("role", "group")
    return tag(tag_override(el, "div"), attrs, el.children)


@renders("CardHeader", system=True)
def card_header(el: Element) -> str:
    title = el.text("title")
    sub = el.text("subheader") or el.text("subtitle")
    text_part = (tag("h3", {"class": "mb-card-header__title"}, title) if title else "") + \
        (tag("p", {"class": "mb-card-header__subheader"}, sub) if sub else "")
    inner = el.text("avatar") + tag("div", {"class": "mb-card-header__content"}, text_part + el.children) + \
        el.text("action")
    return tag("header", el.attrs("mb-card-header", title=None), inner)  # `title` is the heading, no tooltip


@renders("AppBar", "Header", system=True)
def app_bar(el: Element) -> str:
    return tag(tag_override(el, "header"), el.attrs("mb-app-bar"), el.children)


@renders("Nav", "nav", system=True)
def nav(el: Element) -> str:
    return tag("nav", el.attrs("mb-nav"), el.children)


@renders("Collapse", system=True)
def collapse(el: Element) -> str:
    shown = el.get("in", True)
    return tag("div", el.attrs("mb-collapse", hidden=not truthy(shown)), el.children)


# --------------------------------------------------------------------------- typography

_VARIANT_TAGS = {"h1": "h1", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5", "h6": "h6",
                 "subtitle1": "p", "subtitle2": "p", "body1": "p", "body2": "p", "body": "p",
                 "caption": "span", "overline": "span", "button": "span", "inherit": "span", "lead": "p",
                 "small": "small", "muted": "p", "large": "p", "code": "code", "p": "p", "blockquote": "blockquote"}


@renders("Typography", "Text", system=True)
def typography(el: Element) -> str:
    variant = el.get("variant", "body1" if el.type == "Typography" else "body")
    name = tag_override(el, _VARIANT_TAGS.get(variant, "p" if el.type == "Typography" else "span"))
    sx: dict[str, Any] = {}
    color = el.get("color")
    if color is not None:
        # fakemui's Text/Typography read `secondary` as the muted text colour, not the secondary palette hue.
        sx["color"] = "text.secondary" if color == "secondary" else color
    if isinstance(el.get("align"), str):
        sx["textAlign"] = el.get("align")
    if el.flag("gutterBottom"):
        sx["marginBottom"] = "0.35em"
    if el.flag("noWrap"):
        sx.update({"overflow": "hidden", "textOverflow": "ellipsis", "whiteSpace": "nowrap"})
    cls = variant_classes(el, "mb-text", "variant")
    return tag(name, el.attrs(cls, sx), el.content("text", "label", "value"))


@renders("Label", "InputLabel", "FormLabel", system=True)
def label(el: Element) -> str:
    target = el.get("htmlFor") or el.get("for") or el.inherit.get("field_id")
    marks = el.inherit.get("labelled")
    if isinstance(marks, list) and el.type in ("InputLabel", "FormLabel", "Label"):
        marks.append(target)
    return tag("label", el.attrs("mb-label", **{"for": target}), el.content("text", "label"))


@renders("CardTitle", "DialogTitle", "AlertTitle")
def title(el: Element) -> str:
    name = {"CardTitle": "h3", "DialogTitle": "h2", "AlertTitle": "strong"}[el.type]
    return tag(name, el.attrs("mb-" + el.type.lower()), el.content("text", "title"))


@renders("CardDescription", "DialogContentText", "FormHelperText")
def description(el: Element) -> str:
    return tag("p", el.attrs("mb-" + el.type.lower()), el.content("text"))


@renders("Markdown", "CodeDisplay", "pre")
def preformatted(el: Element) -> str:
    body = el.content("content", "code", "text", "value")
    if el.type == "Markdown":
        return tag("div", el.attrs("mb-markdown"), body)
    return tag("pre", el.attrs("mb-code"), tag("code", {"class": el.text("language") and "language-" + el.text("language")}, body))


_HTML_TAGS = ("span", "p", "section", "article", "aside", "header", "footer", "main", "ul", "ol", "li",
              "strong", "em", "small", "code", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure",
              "figcaption", "label", "b", "i", "u", "br", "hr", "dl", "dt", "dd", "sup", "sub", "mark", "time")


@renders(*_HTML_TAGS, system=True)
def raw_tag(el: Element) -> str:
    extra = {"for": el.get("htmlFor")} if el.type == "label" else {}
    return tag(el.type, el.attrs(None, **extra), el.content("text"))
