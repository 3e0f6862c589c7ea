"""A tenant's `menu` setting + its route table → the navigation a level sees on a page of one language, and located
warnings (code `menu`) for the entries that can never show.

The setting is either a list of entries, one menu for every language, or a mapping from language tags to such
lists, a menu per language: a page's language takes its own list, else its base language's (`pt` for `pt-BR`),
else the tenant language's. An entry may name the languages it is for (`lang: de` or `lang: [de, fr]`, matching
regional tags too); it is left out of the navigation of pages in other languages. A tenant without a menu (or with
a mapping that gives none for a page's language and its own) gets the automatic navigation: the pages marked
`nav`, the same in every language.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Location, MbsiteError, Problem
from .languages import lang_problem
from .levels import clamp_level
from .paths import route_path

if TYPE_CHECKING:
    from .routes import RouteTable

MAX_DEPTH = 2  # a group's entries may be groups once more; deeper groups are drawn as plain entries


def menu_for(table: RouteTable, lang: str) -> list[Any] | None:
    """The configured entries for pages in `lang`, or None (the automatic navigation)."""
    menu = table.tenant.settings.get("menu")
    if isinstance(menu, list):
        return menu
    if isinstance(menu, dict):
        for code in (lang, lang.split("-", 1)[0], table.lang):
            found = menu.get(code)
            if isinstance(found, list) and lang_problem(code) is None:
                return found
    return None


def entry_languages(entry: dict[str, Any]) -> tuple[str, ...] | None:
    """The languages an entry is for (None: every language); () when its `lang` is not a tag or a list of tags."""
    value = entry.get("lang")
    if value is None:
        return None
    codes: list[Any] = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(str(c) for c in codes) if codes and all(lang_problem(c) is None for c in codes) else ()


def _for_language(entry: dict[str, Any], lang: str) -> bool:
    codes = entry_languages(entry)
    return codes is None or any(lang == c or lang.startswith(c + "-") for c in codes)


def navigation(table: RouteTable, level: int, lang: str) -> list[dict[str, Any]]:
    """The navigation entries a viewer at `level` sees on a page in `lang`: the configured menu for that language
    when there is one, else the pages marked `nav` (in sort order). An entry is {path, title, level, icon,
    external, children}; a group has children and no path."""
    entries = menu_for(table, lang)
    if entries is not None:
        return _entries(table, entries, level, lang, 0)
    items = [r for r in table.routes.values() if r.nav and r.min_level <= level]
    items.sort(key=lambda r: (r.sort_order, r.path))
    return [{"path": r.path, "title": r.title, "level": r.min_level, "icon": r.icon, "external": False,
             "children": []} for r in items]


def _entries(table: RouteTable, entries: list[Any], level: int, lang: str, depth: int) -> list[dict[str, Any]]:
    """The configured entries a viewer at `level` sees on a page in `lang`: an internal path only when its page
    exists for that level, an external link (http/https) as given, a group only when one of its entries is seen."""
    out: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str) or not _for_language(entry, lang):
            continue
        need = clamp_level(entry.get("level", 0)) if isinstance(entry.get("level", 0), int) else 5
        if level < need:
            continue
        children = entry.get("children")
        if isinstance(children, list) and depth < MAX_DEPTH:
            shown = _entries(table, children, level, lang, depth + 1)
            if shown:
                out.append({"path": "", "title": entry["title"], "level": need, "icon": entry.get("icon"),
                            "external": False, "children": shown})
            continue
        url, path = entry.get("url"), entry.get("path")
        if isinstance(url, str) and url.startswith(("https://", "http://")) and not any(c in url for c in '"<> '):
            out.append({"path": url, "title": entry["title"], "level": need, "icon": entry.get("icon"),
                        "external": True, "children": []})
        elif isinstance(path, str):
            try:
                canonical = route_path(path)
            except MbsiteError:
                continue
            route = table.routes.get(canonical)
            if route is not None and route.min_level <= level:
                out.append({"path": canonical, "title": entry["title"], "level": max(need, route.min_level),
                            "icon": entry.get("icon", route.icon), "external": False, "children": []})
    return out


def check_menu(table: RouteTable) -> None:
    """Warn (naming the tenant setting and the entry's JSON pointer) about a menu, or entries of it, that can never
    show: not a list (or a mapping of language tags to lists), a language no page is in, an entry without a title,
    a path of no page, a link that is not http(s), a `lang` or `level` that is not one."""
    menu = table.tenant.settings.get("menu")
    where = Location(file=f"tenants:{table.tenant.slug}", pointer="/settings/menu")
    if menu is None:
        return
    if isinstance(menu, list):
        _check_entries(table, menu, "/menu")
        return
    if not isinstance(menu, dict):
        table.problems.append(Problem("warning", "the menu setting must be a list of entries, or a mapping of "
                                      "language tags to lists of entries", where, "menu"))
        return
    languages = set(table.page_languages())
    for code, entries in menu.items():
        pointer = f"/menu/{_escape(str(code))}"
        at = Location(file=where.file, pointer=f"/settings{pointer}")
        problem = lang_problem(code)
        if problem is not None:
            table.problems.append(Problem("warning", f"menu language: {problem}; that menu is not used", at, "menu"))
        elif not isinstance(entries, list):
            table.problems.append(Problem("warning", f"the menu of {code!r} must be a list of entries", at, "menu"))
        else:
            if not any(lang == code or lang.startswith(code + "-") for lang in languages):
                table.problems.append(Problem("warning", f"no page of tenant {table.tenant.slug} is in {code!r} "
                                              f"(languages: {', '.join(sorted(languages))}); that menu is never shown",
                                              at, "menu"))
            _check_entries(table, entries, pointer)


def _check_entries(table: RouteTable, entries: list[Any], pointer: str) -> None:
    where = Location(file=f"tenants:{table.tenant.slug}", pointer=f"/settings{pointer}")
    for i, entry in enumerate(entries):
        at = Location(file=where.file, pointer=f"{where.pointer}/{i}")
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
            table.problems.append(Problem("warning", "a menu entry needs a title", at, "menu"))
            continue
        title = entry["title"]
        if entry_languages(entry) == ():
            table.problems.append(Problem("warning", f"menu entry {title!r}: 'lang' must be a language tag or a list "
                                          f"of them, got {entry.get('lang')!r}; left out", at, "menu"))
        if not isinstance(entry.get("level", 0), int):
            table.problems.append(Problem("warning", f"menu entry {title!r}: 'level' must be a whole number 0…5, got "
                                          f"{entry['level']!r}; shown to level 5 only", at, "menu"))
        if isinstance(entry.get("children"), list):
            _check_entries(table, entry["children"], f"{pointer}/{i}/children")
        elif isinstance(entry.get("url"), str):
            if not entry["url"].startswith(("https://", "http://")):
                table.problems.append(Problem("warning", f"menu link {entry['url']!r} is not an http(s) URL", at,
                                              "menu"))
        elif not isinstance(entry.get("path"), str) or entry["path"].rstrip("/") and \
                "/" + entry["path"].strip("/") not in table.routes:
            table.problems.append(Problem("warning", f"menu entry {title!r} names no page ({entry.get('path')!r})",
                                          at, "menu"))


def _escape(key: str) -> str:
    """A mapping key as one JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


__all__ = ["MAX_DEPTH", "check_menu", "entry_languages", "menu_for", "navigation"]
