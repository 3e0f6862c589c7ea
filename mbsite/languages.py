"""Config + tenant settings + routes → each page's language, where its translations are, and what the language
switcher and the `hreflang` alternates of a page list.

A site names its languages (`site.languages`, the first being the default unless `site.default_language` says
otherwise); a tenant's `lang` setting is the language of its pages that say nothing; a page says its language by
living under `content/<lang>/` (served under `/<lang>/`) or with `lang:` in its front matter. Translations of one
page share a translation key: their path without the language folder, or the `translationKey:` of the front matter.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import keys

if TYPE_CHECKING:
    from .catalogs import Catalogs
    from .config import Config
    from .context import Recorder
    from .routes import Route, RouteTable

# BCP 47 as sites use it: a 2–3 letter language, then optional script/region/variant subtags (`pt-BR`, `zh-Hant`).
_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")


def lang_problem(code: Any) -> str | None:
    """Why `code` is not a language tag such as 'en', 'de' or 'pt-BR' (None when it is one)."""
    if not isinstance(code, str) or not _TAG.match(code):
        return f"expected a language tag such as 'en', 'de' or 'pt-BR', got {code!r}"
    return None


def site_languages(config: Config) -> tuple[str, ...]:
    """The site's languages, the default one first."""
    rest = [lang for lang in config.languages if lang != config.default_language]
    return (config.default_language, *rest)


def folder_languages(config: Config) -> frozenset[str]:
    """The languages whose pages live in `content/<lang>/` and are served under `/<lang>/` (all but the default)."""
    return frozenset(site_languages(config)[1:])


def tenant_language(settings: dict[str, Any], config: Config) -> tuple[str, str | None]:
    """A tenant's language (its `lang` setting, else the site's default) and why the setting was refused, if so."""
    value = settings.get("lang")
    if value is None:
        return config.default_language, None
    problem = lang_problem(value)
    return (config.default_language, problem) if problem else (str(value), None)


def strip_language(url: str, lang: str) -> str:
    """The path of a page of `content/<lang>/` without its language folder: /de/about → /about, /de → /."""
    rest = url[len(lang) + 1:] if url == f"/{lang}" or url.startswith(f"/{lang}/") else url
    return rest or "/"


@lru_cache(maxsize=128)
def language_name(code: str) -> str:
    """A language's own name ('Deutsch' for de), from Babel's locale data; the code when Babel does not know it."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return code
    return (name[:1].upper() + name[1:]) if name else code


def translation_group(table: RouteTable, key: str) -> list[Route]:
    """The pages of the tenant that share a translation key, in language order (computed once per table)."""
    index = table.memo.get("translations")
    if index is None:
        index = {}
        for route in table.routes.values():
            if route.translation_key:
                index.setdefault(route.translation_key, []).append(route)
        order = {lang: i for i, lang in enumerate(table.languages)}
        for group in index.values():
            group.sort(key=lambda r: (order.get(r.lang, len(order)), r.lang, r.path))
        table.memo["translations"] = index
    return list(index.get(key, ()))


def visible_translations(table: RouteTable, route: Route) -> list[Route]:
    """The translations of a page (itself included) that every viewer of the page may see: a translation that
    needs a higher level than the page is never linked from it (so a public page names no members' page)."""
    return [r for r in translation_group(table, route.translation_key) if r.min_level <= route.min_level]


def switcher(table: RouteTable, route: Route) -> list[dict[str, Any]]:
    """The language switcher of a page: for each language of the tenant, its translation of the page, else that
    language's home page (the translation of "/"), when the page's viewers may see it; [] for one language."""
    if len(table.languages) < 2:
        return []
    mine = {r.lang: r for r in visible_translations(table, route)}
    homes = {r.lang: r for r in translation_group(table, "/") if r.min_level <= route.min_level}
    out = []
    for lang in table.languages:
        target = mine.get(lang) or homes.get(lang)
        if target is None:
            continue
        out.append({"lang": lang, "name": language_name(lang), "path": target.path, "current": target is route,
                    "translation": lang in mine})
    return out if len(out) > 1 else []


def group_digest(table: RouteTable, key: str) -> str:
    """What a page shows of its translation group: each translation's language, path and level. A page alone in
    its group has nothing to show of it (what it shows of itself is its route's own fingerprint): a constant,
    which saves hashing one group per page of a site in one language."""
    group = translation_group(table, key)
    if len(group) <= 1:
        return "alone" if group else "none"
    return hashlib.sha256(repr([(r.lang, r.path, r.min_level) for r in group]).encode()).hexdigest()[:32]


def page_language(table: RouteTable, route: Route, base: str, rec: Recorder, catalogs: Catalogs,
                  url_of: Any) -> dict[str, Any]:
    """What a page's template gets of its language — `lang`, `lang_root`, `translations` (the switcher),
    `alternates` (hreflang), `feed` (its language's blog feed) — with what they read recorded: the translation
    groups of the page and of the home page, the theme's catalogs of the language, whether its blog exists."""
    slug = table.tenant.slug
    for key in {route.translation_key, "/"} if len(table.languages) > 1 else {route.translation_key}:
        rec.inputs.add(keys.translations(slug, key))
        rec.digests[keys.translations(slug, key)] = group_digest(table, key)
    rec.inputs.add(keys.catalog(route.lang))
    rec.digests[keys.catalog(route.lang)] = catalogs.digest(route.lang)
    root = table.lang_root(route) or ""
    has_blog = root in table.blogs()
    rec.inputs.add(keys.feed(slug, root))
    rec.digests[keys.feed(slug, root)] = str(has_blog)
    return {"lang": route.lang, "lang_root": root, "translations": switcher(table, route),
            "alternates": alternates(table, route, base, url_of), "feed": f"{root}/feed.xml" if has_blog else None}


def alternates(table: RouteTable, route: Route, base_url: str, url_of: Any) -> list[dict[str, str]]:
    """`<link rel="alternate" hreflang>` entries of a page with translations: one per translation (itself
    included) and `x-default` for the tenant's language; absolute URLs, so none without a base URL."""
    found = visible_translations(table, route)
    if not base_url or len(found) < 2:
        return []
    out = [{"hreflang": r.lang, "href": base_url + url_of(r.path)} for r in found]
    default = next((r for r in found if r.lang == table.lang), None)
    if default is not None:
        out.append({"hreflang": "x-default", "href": base_url + url_of(default.path)})
    return out


__all__ = ["alternates", "folder_languages", "group_digest", "lang_problem", "language_name", "page_language",
           "site_languages", "strip_language", "switcher", "tenant_language", "translation_group",
           "visible_translations"]
