"""Registry entries for disclosure, navigation and feedback: dialogs, tabs, accordions, alerts,
breadcrumbs, pagination, progress, skeletons, menus and trees — all usable without JavaScript.

Tabs render as a list of in-page links plus labelled panels: every panel stays reachable (by link
or by scrolling) when scripts are off, and the selected tab is marked with aria-selected.
"""
from __future__ import annotations

import re
from typing import Any

from ..expressions import UNDEFINED, to_number, to_text, truthy
from .html import tag, text
from .registry import Element, renders, variant_classes
from .urls import safe_url


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", to_text(value)).strip("-") or "0"


# --------------------------------------------------------------------------- dialog & disclosure

@renders("Dialog", "Modal", "Drawer")
def dialog(el: Element) -> str:
    is_open = el.flag("open")
    title = el.text("title")
    inner = (tag("h2", {"class": "mb-dialogtitle"}, title) if title else "") + el.children
    if el.type == "Drawer":
        return tag("aside", el.attrs("mb-drawer", title=None, hidden=not is_open and el.get("variant") not in
                                     ("permanent", "persistent")), inner)
    # A closed <dialog> is hidden by the browser; an open one is shown in place (non-modal).
    return tag("dialog", el.attrs(variant_classes(el, "mb-dialog", "maxWidth"), title=None, open=is_open), inner)


@renders("DialogContent", "AccordionDetails")
def dialog_content(el: Element) -> str:
    return tag("div", el.attrs("mb-" + el.type.lower()), el.children)


@renders("Accordion")
def accordion(el: Element) -> str:
    opened = el.get("expanded", el.get("defaultExpanded"))
    return tag("details", el.attrs("mb-accordion", open=truthy(opened)), el.children)


@renders("AccordionSummary")
def accordion_summary(el: Element) -> str:
    return tag("summary", el.attrs("mb-accordion-summary"), el.children + el.text("expandIcon"))


# --------------------------------------------------------------------------- tabs

def _tabs_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    value = props.get("value", props.get("defaultValue"))
    if _unset(value) and "tabs_value" in inherit:
        return {**inherit, "tab_counter": [0]}  # a TabsList inside Tabs: the outer value still rules
    return {**inherit, "tabs_value": None if _unset(value) else value, "tab_counter": [0], "panel_counter": [0]}


def _unset(value: Any) -> bool:
    return value is None or value is UNDEFINED or value == ""


@renders("Tabs", "TabList", "TabsList", provide=_tabs_provide)
def tabs(el: Element) -> str:
    label = to_text(el.get("aria-label") or el.get("label")) or None
    return tag("div", el.attrs(variant_classes(el, "mb-tabs", "variant"), role="tablist",
                               **{"aria-label": label}), el.children)


@renders("Tab", "TabsTrigger")
def tab(el: Element) -> str:
    counter = el.inherit.get("tab_counter")
    index = counter[0] if counter else 0
    if counter:
        counter[0] += 1
    value = el.get("value", index)
    selected = el.inherit.get("tabs_value")
    # No value given (or one that is still undefined): the first tab is the selected one, as its panel shows.
    is_selected = to_text(selected) == to_text(value) if selected is not None else index == 0
    href = safe_url(el.get("href")) or f"#mb-tab-{_slug(value)}"
    inner = el.text("icon") + el.content("label", "text")
    return tag("a", el.attrs("mb-tab", href=href, role="tab", **{"aria-selected": "true" if is_selected else "false"}),
               inner)


@renders("TabPanel", "TabsContent")
def tab_panel(el: Element) -> str:
    index = el.get("index")
    counter = el.inherit.get("panel_counter")
    position = counter[0] if counter else 0
    if counter:
        counter[0] += 1
    if index is not None:
        # MUI: `value` is the selected index, `index` this panel's; no selection yet means the first tab.
        current = el.get("value")
        hidden = to_text(index) != to_text(0 if _unset(current) else current)
        panel = index
    else:
        # Radix/shadcn: `value` names this panel; the enclosing Tabs' value (or its first panel) is shown.
        panel = el.get("value", position)
        selected = el.inherit.get("tabs_value")
        hidden = to_text(selected) != to_text(panel) if selected is not None else position != 0
    return tag("section", el.attrs("mb-tab-panel" + (" mb-tab-panel--inactive" if hidden else ""),
                                   id=f"mb-tab-{_slug(panel)}", role="tabpanel"), el.children)


# --------------------------------------------------------------------------- feedback

@renders("Alert", "Snackbar")
def alert(el: Element) -> str:
    severity = el.get("severity", el.get("variant", "info"))
    sev = severity if isinstance(severity, str) and re.match(r"^[a-z]+$", severity) else "info"
    inner = el.text("title") and tag("strong", {"class": "mb-alert__title"}, el.text("title"))
    inner = (inner or "") + el.content("message", "text") + el.text("action")
    return tag("div", el.attrs(f"mb-alert mb-alert--{sev}", role="alert", title=None), inner)


def _percent(value: Any) -> float | None:
    number = to_number(value)
    if number != number:
        return None
    return max(0.0, min(100.0, float(number)))


@renders("LinearProgress", "CircularProgress", "Progress")
def progress(el: Element) -> str:
    value = _percent(el.get("value")) if el.get("value") is not None else None
    determinate = value is not None and el.get("variant") != "indeterminate"
    label = to_text(el.get("aria-label") or el.get("label")) or "Loading"
    kind = "circular" if el.type == "CircularProgress" else "linear"
    if kind == "circular":
        # A <progress> cannot be drawn round: a ring (spinning while indeterminate) with the progressbar role.
        cls = variant_classes(el, "mb-progress mb-progress--circular", "color")
        sx = None
        if determinate and value is not None:
            cls += " mb-progress--determinate"
            sx = {"background": f"conic-gradient(currentColor {value:g}%, var(--mb-action-selected) 0)"}
        return tag("span", el.attrs(cls, sx, role="progressbar", **{
            "aria-label": label, "aria-valuemin": "0" if determinate else None, "aria-valuemax": "100" if determinate
            else None, "aria-valuenow": str(int(value)) if determinate and value is not None else None}))
    attrs = el.attrs(variant_classes(el, f"mb-progress mb-progress--{kind}", "color"), max=100, value=int(value) if determinate and value is not None else None,
                     **{"aria-label": label})
    return tag("progress", attrs, text(f"{int(value)}%" if determinate and value is not None else label))


@renders("Skeleton")
def skeleton(el: Element) -> str:
    sx = {k: el.get(k) for k in ("width", "height") if el.get(k) is not None}
    return tag("span", el.attrs(variant_classes(el, "mb-skeleton", "variant"), sx, **{"aria-hidden": "true"}),
               el.children)


# --------------------------------------------------------------------------- navigation

@renders("Breadcrumbs")
def breadcrumbs(el: Element) -> str:
    items = el.get("items")
    parts = list(el.parts)
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                href = safe_url(item.get("href"))
                label = text(to_text(item.get("label")))
                parts.append(tag("a", {"href": href}, label) if href else tag("span", {}, label))
    last = len(parts) - 1
    lis = "".join(tag("li", {"aria-current": "page" if i == last else None}, p) for i, p in enumerate(parts))
    label = to_text(el.get("aria-label")) or "Breadcrumb"
    return tag("nav", el.attrs("mb-breadcrumbs", **{"aria-label": label}), tag("ol", {}, lis))


def _page_href(el: Element, page: int) -> str:
    base = el.get("baseHref") or el.get("href")
    base = safe_url(base) if isinstance(base, str) else None
    if base:
        return f"{base}{'&' if '?' in base else '?'}page={page}"
    return f"?page={page}"


@renders("Pagination", "TablePagination")
def pagination(el: Element) -> str:
    if el.type == "TablePagination":
        count, per = to_number(el.get("count", 0)), to_number(el.get("rowsPerPage", 10)) or 10
        pages = int(-(-count // per)) if count == count and per == per and per > 0 and count > 0 else 1
        page = int(to_number(el.get("page", 0)) or 0) + 1  # TablePagination pages are 0-based
    else:
        total = to_number(el.get("count", 1))
        pages = int(total) if total == total and total > 0 else 1
        page = int(to_number(el.get("page", 1)) or 1)
    pages = min(pages, 500)
    items = []
    for n in _page_window(page, pages):
        if n is None:
            items.append(tag("li", {"class": "mb-pagination__gap"}, "…"))
        else:
            items.append(tag("li", {}, tag("a", {"href": _page_href(el, n), "aria-current": "page" if n == page else None},
                                           str(n))))
    return tag("nav", el.attrs("mb-pagination", **{"aria-label": "Pagination"}), tag("ul", {}, "".join(items)))


def _page_window(page: int, pages: int) -> list[int | None]:
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and isinstance(out[-1], int) and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


@renders("Menu", "Popover")
def menu(el: Element) -> str:
    shown = el.flag("open")
    return tag("ul", el.attrs("mb-menu", role="menu", hidden=not shown), el.children)


@renders("TreeView", "SimpleTreeView", "RichTreeView")
def tree_view(el: Element) -> str:
    return tag("ul", el.attrs("mb-tree", role="tree"), el.children)


@renders("TreeItem")
def tree_item(el: Element) -> str:
    label = tag("span", {"class": "mb-tree__label"}, el.text("label"))
    group = tag("ul", {"role": "group"}, el.children) if el.parts else ""
    return tag("li", el.attrs("mb-tree__item", role="treeitem"), label + group)
