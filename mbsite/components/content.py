"""Registry entries for actions and content: buttons, links, images, icons, lists, tables, chips, badges.

Each entry turns one node type into semantic HTML (a real `<a href>` for navigation, `<button>` for
actions, `<table>` structure with header cells, `<img alt>`), through :func:`html.tag` only.
"""
from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from ..expressions import to_text, truthy
from .html import attrs_html, tag, text
from .icons import icon_svg
from .registry import Element, color_sx, renders, variant_classes
from .urls import is_external, safe_url


def _icon_html(el: Element, name: str) -> str:
    value = el.get(name)
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, str) and value:
        return icon_svg(value)
    return ""


# --------------------------------------------------------------------------- actions

@renders("Button", "ToggleButton", "button")
def button(el: Element) -> str:
    cls = variant_classes(el, "mb-button", "variant", "color", "size")
    if el.flag("fullWidth"):
        cls += " mb-full-width"
    inner = _icon_html(el, "startIcon") + el.content("label", "text", "title") + _icon_html(el, "endIcon")
    href = safe_url(el.get("href"))
    if href is not None and not el.flag("disabled"):
        attrs = el.attrs(cls, href=href)
        if truthy(el.get("external")) or el.get("target") == "_blank":
            attrs.update(target="_blank", rel="noopener noreferrer")
        return tag("a", attrs, inner)
    kind = el.get("inputType") or el.get("type")
    kind = kind if kind in ("submit", "reset", "button") else "button"
    extra: dict[str, Any] = {"type": kind, "disabled": el.flag("disabled")}
    if el.type == "ToggleButton":
        extra["aria-pressed"] = "true" if el.flag("selected") else "false"
        extra["value"] = el.get("value") if isinstance(el.get("value"), (str, int, float)) else None
    if kind == "submit" and isinstance(el.get("name"), str):
        extra.update(name=el.get("name"), value=to_text(el.get("value")) or None)
    return tag("button", el.attrs(cls, **extra), inner)


@renders("IconButton")
def icon_button(el: Element) -> str:
    label = el.get("aria-label") or el.get("ariaLabel") or el.get("title") or el.get("label")
    icon_name = el.get("icon") if isinstance(el.get("icon"), str) else None
    if not label:
        label = icon_name or el.get("name") or "button"
    inner = el.children or _icon_html(el, "icon") or icon_svg(str(label))
    cls = variant_classes(el, "mb-icon-button", "color", "size")
    attrs = el.attrs(cls, color_sx(el), **{"aria-label": to_text(label)})
    href = safe_url(el.get("href"))
    if href is not None:
        return tag("a", {**attrs, "href": href}, inner)
    return tag("button", {**attrs, "type": "button", "disabled": el.flag("disabled")}, inner)


@renders("Link", "a")
def link(el: Element) -> str:
    href = safe_url(el.get("href") or el.get("to"))
    attrs = el.attrs(variant_classes(el, "mb-link", "color", "underline"), href=href)
    if href is not None and (truthy(el.get("external")) or el.get("target") == "_blank"):
        attrs.update(target="_blank", rel="noopener noreferrer")
    elif href is not None and is_external(href):
        attrs["rel"] = "noopener"
    inner = el.content("label", "text", "title") or text(el.get("href") or "")
    if not attrs.get("aria-label") and not _TAGS.sub("", str(inner)).strip():
        # Only a (decorative) icon, say a brand link whose text came out empty: name the link after the icon, as
        # IconButton does, so that a screen reader does not announce a nameless link.
        found = _ICON_NAME.search(str(inner))
        if found:
            attrs["aria-label"] = found.group(1).replace("_", " ").replace("-", " ").capitalize()
    return tag("a", attrs, inner)


_TAGS = re.compile(r"<[^>]*>")
_ICON_NAME = re.compile(r'<svg[^>]*\bdata-icon="([^"]+)"')


# --------------------------------------------------------------------------- media

def _processed(el: Element, src: str, alt: str, attrs: dict[str, Any], size: dict[str, Any]) -> str | None:
    """A local image of a page body through the site's image step (images.py): variants, width and height, a
    located warning when it is missing or broken. None where there is no such step (the chrome, the gallery)."""
    hook = getattr(el.run.page, "images", None)
    if hook is None:
        return None
    given = (size.get("width"), size.get("height")) if size else None
    return str(hook(src, alt, el.run.recorder, lambda message: el.run.warn(message, el.run.at),
                    attrs=attrs_html(attrs), size=given))


@renders("Image", "img", "CardMedia", "ImagePreview")
def image(el: Element) -> str:
    src = safe_url(el.get("src") or el.get("image"), image=True)
    alt = to_text(el.get("alt") or el.get("title") or "")
    if src is None:
        return tag("div", {**el.attrs("mb-image mb-image--empty"), "role": "img", "aria-label": alt or None},
                   el.children)
    size = {k: el.get(k) for k in ("width", "height") if isinstance(el.get(k), (int, str))}
    done = _processed(el, src, alt, el.attrs("mb-image"), size)
    if done is not None:
        return done
    return tag("img", el.attrs("mb-image", src=src, alt=alt, loading="lazy", decoding="async", **size))


@renders("Avatar", "ListItemAvatar")
def avatar(el: Element) -> str:
    if el.type == "ListItemAvatar":
        return tag("span", el.attrs("mb-list-item-avatar"), el.children)
    src = safe_url(el.get("src"), image=True)
    alt = to_text(el.get("alt") or el.get("name") or "")
    cls = variant_classes(el, "mb-avatar", "variant", "size")
    if src is not None:
        return _processed(el, src, alt, el.attrs(cls), {}) or tag("img", el.attrs(cls, src=src, alt=alt,
                                                                                  loading="lazy"))
    initials = el.children or text("".join(w[:1] for w in alt.split()[:2]).upper())
    return tag("span", el.attrs(cls, **({"role": "img", "aria-label": alt} if alt else {})), initials)


@renders("Icon")
def icon(el: Element) -> str:
    name = el.get("name") or el.get("icon") or ""
    label = el.get("aria-label") or el.get("ariaLabel") or el.get("title")
    size = el.get("size", el.get("fontSize", 24))
    attrs = el.attrs(variant_classes(el, "mb-icon", "color"), color_sx(el))
    svg = icon_svg(to_text(name) or "unknown", size=size if isinstance(size, (int, str)) else 24,
                   label=to_text(label) or None, cls=" ".join(attrs.get("class") or ["mb-icon"]))
    return svg


@renders("Iframe", "iframe")
def iframe(el: Element) -> str:
    src = safe_url(el.get("src"))
    title = to_text(el.get("title")) or "embedded content"
    # Sandboxed without scripts: static output must never run third-party code with page privileges.
    return tag("iframe", el.attrs("mb-iframe", src=src, title=title, loading="lazy", sandbox="",
                                  referrerpolicy="no-referrer"))


@renders("video", "Video")
def video(el: Element) -> str:
    src = safe_url(el.get("src"))
    poster = safe_url(el.get("poster"), image=True)
    return tag("video", el.attrs("mb-video", src=src, poster=poster, controls=True, preload="metadata"),
               el.children)


@renders("canvas")
def canvas(el: Element) -> str:
    size = {k: el.get(k) for k in ("width", "height") if isinstance(el.get(k), int)}
    return tag("canvas", el.attrs("mb-canvas", **size), el.children)


# --------------------------------------------------------------------------- lists

@renders("List", "MenuList", system=True)
def list_(el: Element) -> str:
    name = "ol" if el.get("component") == "ol" else "ul"
    return tag(name, el.attrs("mb-list"), el.children)


@renders("ListItem", "ListItemButton", "MenuItem", system=True)
def list_item(el: Element) -> str:
    if el.type == "MenuItem" and el.inherit.get("select"):
        value = el.get("value")
        return tag("option", {"value": to_text(value) if value is not None else None,
                              "selected": el.inherit.get("select_value") not in (None, "") and
                              to_text(value) == to_text(el.inherit.get("select_value")),
                              "disabled": el.flag("disabled")}, el.content("label", "text"))
    inner = el.content("primary", "label", "text")
    secondary = el.text("secondaryAction")
    href = safe_url(el.get("href"))
    cls = "mb-" + ("menu-item" if el.type == "MenuItem" else "list-item")
    interactive = el.type != "ListItem" or el.flag("button")
    current = "true" if el.flag("selected") else None
    if href is not None:
        inner = tag("a", {"class": cls + "__action", "href": href, "aria-current": current}, inner)
    elif interactive:
        inner = tag("button", {"class": cls + "__action", "type": "button", "disabled": el.flag("disabled"),
                               "aria-current": current}, inner)
    role = "menuitem" if el.type == "MenuItem" and el.parent in ("Menu", "MenuList") else None
    in_list = el.parent in ("List", "MenuList", "Menu", "ul", "ol", "TreeView")
    own_mark = current if href is None and not interactive else None
    cls += " mb-selected" if current else ""
    return tag("li" if in_list else "div", el.attrs(cls, role=role, **{"aria-current": own_mark}), inner + secondary)


@renders("ListItemText")
def list_item_text(el: Element) -> str:
    primary = el.text("primary") or el.children
    secondary = el.text("secondary")
    out = tag("span", {"class": "mb-list-item-text__primary"}, primary)
    if secondary:
        out += tag("span", {"class": "mb-list-item-text__secondary"}, secondary)
    return tag("span", el.attrs("mb-list-item-text"), out)


@renders("ListItemIcon", "ListSubheader")
def list_item_icon(el: Element) -> str:
    if el.type == "ListSubheader":
        return tag("li", el.attrs("mb-list-subheader", role="presentation"), el.children)
    return tag("span", el.attrs("mb-list-item-icon", **{"aria-hidden": "true"}), el.children)


# --------------------------------------------------------------------------- tables

def _table_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    return {**inherit, "table_head": True}


@renders("TableContainer", system=True)
def table_container(el: Element) -> str:
    return tag("div", el.attrs("mb-table-container"), el.children)


@renders("Table", "table")
def table(el: Element) -> str:
    return tag("table", el.attrs(variant_classes(el, "mb-table", "size")), el.children)


@renders("TableHead", "thead", provide=_table_provide)
def table_head(el: Element) -> str:
    return tag("thead", el.attrs("mb-table-head"), el.children)


@renders("TableBody", "TableFooter", "tbody", "tfoot")
def table_body(el: Element) -> str:
    name = "tfoot" if el.type in ("TableFooter", "tfoot") else "tbody"
    return tag(name, el.attrs("mb-" + name), el.children)


@renders("TableRow", "tr")
def table_row(el: Element) -> str:
    return tag("tr", el.attrs("mb-table-row", **{"aria-selected": "true" if el.flag("selected") else None}),
               el.children)


@renders("TableCell", "td", "th")
def table_cell(el: Element) -> str:
    head = el.inherit.get("table_head") or el.type == "th" or el.get("variant") == "head"
    align = el.get("align")
    sx = {"textAlign": align} if align in ("left", "right", "center", "justify") else None
    span = {k.lower(): el.get(k) for k in ("colSpan", "rowSpan") if isinstance(el.get(k), int)}
    attrs = el.attrs("mb-table-cell", sx, scope="col" if head else None, **span)
    return tag("th" if head else "td", attrs, el.content("value", "label", "text"))


# --------------------------------------------------------------------------- small data display

@renders("Chip", "StatusBadge")
def chip(el: Element) -> str:
    cls = variant_classes(el, "mb-chip", "variant", "color", "size")
    inner = (el.text("avatar") + _icon_html(el, "icon") + tag("span", {"class": "mb-chip__label"},
             el.content("label", "text", "status")))
    href = safe_url(el.get("href"))
    if href is not None:
        return tag("a", el.attrs(cls, href=href), inner)
    return tag("span", el.attrs(cls), inner)


@renders("Badge")
def badge(el: Element) -> str:
    content = el.get("badgeContent", el.get("content", el.get("count")))
    invisible = el.flag("invisible") or (content in (0, "0") and not el.flag("showZero"))
    dot = el.get("variant") == "dot"
    mark = ""
    if not invisible and (dot or (content is not None and to_text(content) != "")):
        limit = el.get("max", 99)
        shown = f"{limit}+" if isinstance(content, int) and isinstance(limit, int) and content > limit \
            else to_text(content)
        mark = tag("span", {"class": variant_classes(el, "mb-badge__content", "color")}, "" if dot else text(shown))
    return tag("span", el.attrs("mb-badge"), el.children + mark)


@renders("Divider", "Separator", "hr")
def divider(el: Element) -> str:
    vertical = el.get("orientation") == "vertical"
    if el.parts:
        return tag("div", el.attrs("mb-divider mb-divider--text", role="separator"), el.children)
    return tag("hr", el.attrs("mb-divider" + (" mb-divider--vertical" if vertical else ""),
                              **({"aria-orientation": "vertical"} if vertical else {})))


@renders("Tooltip")
def tooltip(el: Element) -> str:
    return tag("span", el.attrs("mb-tooltip", title=to_text(el.get("title")) or None), el.children)
