"""Packages, sources, theme and rows → the SiteModel every render reads (and the database it comes from)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import Engine

from . import keys
from .chrome_reads import ChromeTrace
from .compose import Chrome
from .config import Config
from .context import PageScope, Recorder
from .db.engine import ensure_schema, open_engine, resolve_url
from .db.seed import load_seed
from .errors import Location, Problem
from .graph import nav_digest
from .levels import LEVELS, role_name
from .pages import BodyCache, chrome_fragment, chrome_fragment_trace, level_chrome_values, nav_key
from .paths import link_roots, tenant_problem
from .records import RecordStore
from .routes import Route, RouteTable, build_route_table
from .sources import TenantData, load_sources
from .templates import Theme, load_theme
from .titles import Titles

if TYPE_CHECKING:
    from .components import ComponentRenderer
    from .images import Images
    from .jsonload import SchemaResults
    from .packages import PackageSet
    from .prerender import Scan

_HEADER_RE = re.compile(r"(^|_)header$")
_FOOTER_RE = re.compile(r"(^|_)footer$")


@dataclass
class SiteModel:
    """Everything a render reads, loaded once per build and shared (copy-on-write) with worker processes."""

    config: "Config"
    packages: "PackageSet"
    renderer: "ComponentRenderer"
    theme: Theme
    tables: dict[str, RouteTable]
    store: RecordStore
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (tenant, path) → name → rows
    tokens: dict[str, str] = field(default_factory=dict)                           # tenant → tokens CSS
    sources: Any = None                                                            # the Sources the tables came from
    bodies: BodyCache = field(default_factory=BodyCache)                           # Markdown bodies to reuse
    schemas: "SchemaResults | None" = None                                         # package validation results

    def tokens_url(self, tenant: str) -> str:
        """Content-hashed URL of the tenant's design-token stylesheet ("" when there is none)."""
        css = self.tokens.get(tenant, "")
        return tokens_url_of(css) if css else ""
    _chrome: dict[tuple[str, int, str], tuple[str, str, str, Recorder, list[Problem]]] = field(default_factory=dict)

    _chrome_css: dict[tuple[str, int, str], str] = field(default_factory=dict)
    _fragments: dict[tuple[str, int, str], Chrome] = field(default_factory=dict)
    _traces: dict[tuple[str, int, str], ChromeTrace] = field(default_factory=dict)
    _chrome_values: dict[tuple[str, int, str | None, str | None], dict[str, Any]] = field(default_factory=dict)
    _composed: dict[tuple[str, str, int, str], dict[str, Any] | None] = field(default_factory=dict)
    _images: "Images | None" = None

    @property
    def images(self) -> "Images":
        """The site's image cache (images.py), made on first use."""
        if self._images is None:
            from .images import Images

            self._images = Images.of(self.config)
        return self._images

    def forget_chrome(self, tenant: str | None = None) -> None:
        """Drop the rendered chrome of one tenant (its routes or packages changed), or of all (None), and derive
        again the chrome's rules in the tenant stylesheet (`chrome_css`)."""
        if tenant is None:
            self._chrome.clear()
            self._fragments.clear()
            self._traces.clear()
            self._chrome_values.clear()
            self._composed.clear()
        else:
            self._chrome = {k: v for k, v in self._chrome.items() if k[0] != tenant}
            self._fragments = {k: v for k, v in self._fragments.items() if k[0] != tenant}
            self._traces = {k: v for k, v in self._traces.items() if k[0] != tenant}
            self._chrome_values = {k: v for k, v in self._chrome_values.items() if k[0] != tenant}
            self._composed = {k: v for k, v in self._composed.items() if k[0] != tenant}
        for slug, table in self.tables.items():
            if tenant is None or slug == tenant:
                self.tokens[slug] = tenant_tokens(self.packages, table.tenant) + self.chrome_css(table.tenant)

    def fragment(self, tenant: str, level: int, key: str) -> Chrome:
        """A tenant's chrome fragment for a level and key (pages.chrome_fragment), rendered once."""
        found = self._fragments.get((tenant, level, key))
        if found is None:
            found = self._fragments[(tenant, level, key)] = chrome_fragment(self, tenant, level, key)
        return found

    def chrome_values(self, tenant: str, level: int, lang: str | None, chrome_lang: str | None) -> dict[str, Any]:
        """The level's chrome variables (pages.level_chrome_values), made once per level and languages."""
        key = (tenant, level, lang, chrome_lang)
        found = self._chrome_values.get(key)
        if found is None:
            found = self._chrome_values[key] = level_chrome_values(self, tenant, level, lang, chrome_lang)
        return found

    def composed_levels(self, tenant: str, path: str, base: int, template: str) -> dict[str, Any] | None:
        """For a page that meets the chrome contract: the levels above its base that the gate composes (a level whose
        fragment equals the one below is served by that one) with each level's fragment key, or None if none.
        Worked out once per page while the tenant's routes and chrome stay (`forget_chrome` drops it)."""
        memo_key = (tenant, path, base, template)
        if memo_key in self._composed:
            return self._composed[memo_key]
        table = self.tables[tenant]
        keys = {base: f"{template}\t{nav_key(table, base, path)}"}
        previous = self.fragment(tenant, base, keys[base])
        for level in range(base + 1, max(LEVELS) + 1):
            key = f"{template}\t{nav_key(table, level, path)}"
            fragment = self.fragment(tenant, level, key)
            if fragment != previous:
                keys[level] = key
                previous = fragment
        found = None if len(keys) == 1 else {"base": base, "keys": {str(level): key for level, key in keys.items()}}
        self._composed[memo_key] = found
        return found

    def fragment_trace(self, tenant: str, level: int, key: str) -> ChromeTrace:
        """What the fragment's chrome read of its page (pages.chrome_fragment_trace), traced once."""
        found = self._traces.get((tenant, level, key))
        if found is None:
            found = self._traces[(tenant, level, key)] = chrome_fragment_trace(
                self, tenant, level, key, self.fragment(tenant, level, key))
        return found

    def scope(self, route: Route, level: int, records: dict[str, Any]) -> PageScope:
        tenant = self.tables[route.tenant].tenant
        return PageScope(
            tenant={"slug": tenant.slug, "name": tenant.name}, path=route.path, level=level, role=role_name(level),
            user={"username": role_name(level), "role": role_name(level), "level": level} if level > 0 else None,
            params=dict(route.params) if route.kind != "component" or route.record else {},
            records=records, page={"title": route.title, "description": route.description,
                                    "lang": route.lang or self.tables[route.tenant].lang},
            site={"title": tenant.name, "nav": self.tables[route.tenant].nav(level, route.lang or None)},
            timezone=self.tables[route.tenant].zone, lang=route.lang or self.tables[route.tenant].lang,
        )

    # -- chrome: header, footer, navigation (cached per tenant, level and language) ----------------------------
    def chrome(self, tenant: TenantData, level: int, lang: str | None = None) -> tuple[str, str, str, Recorder,
                                                                                         list[Problem]]:
        """The header and footer components of a level for pages in `lang` (default: the tenant's language), the
        navigation they show, what they read and their problems. The navigation input is the level's in every
        language (graph.nav_digest): one key per level, whatever the page's language."""
        table = self.tables[tenant.slug]
        key = (tenant.slug, level, lang or table.lang)
        if key not in self._chrome:
            rec, problems = Recorder(), []
            rec.row("installed_packages", tenant.slug)
            rec.row("tenants", tenant.slug)
            nav = table.nav(level, key[2])
            rec.inputs.add(keys.nav(tenant.slug, level))
            rec.digests[keys.nav(tenant.slug, level)] = nav_digest(table, level)
            scope_route = Route(tenant.slug, "/", "component", tenant.name, "chrome", lang=key[2])
            parts, css = [], []
            for slot, pattern in (("header", _HEADER_RE), ("footer", _FOOTER_RE)):
                ref = self._slot(tenant, slot, pattern)
                if ref is None:
                    parts.append("")
                    continue
                result = self.renderer.render_component(
                    ref[0], ref[1], {}, scope=self.scope(scope_route, level, {}), recorder=rec,
                    id_prefix=f"mb-{slot[0]}")
                problems.extend(result.warnings)
                parts.append(result.html)
                css.append(result.css)
            self._chrome[key] = (parts[0], parts[1], repr(nav), rec, problems)
            self._chrome_css[key] = "".join(css)
        return self._chrome[key]

    def chrome_css(self, tenant: TenantData) -> str:
        """The rules of the header and footer of every level, for the tenant stylesheet.

        HTML allows <style> only in <head>, and the head is shared by every level (only the chrome blocks differ),
        so it cannot hold one level's rules. Class names are hashes of their declarations: the union of all levels
        is the same whichever level views the page, and a page never needs a rule it does not use."""
        rules: dict[str, None] = {}
        for level in LEVELS:
            for lang in self.tables[tenant.slug].page_languages():
                self.chrome(tenant, level, lang)
                for rule in self._chrome_css[(tenant.slug, level, lang)].splitlines():
                    rules.setdefault(rule)
        return "".join(f"{rule}\n" for rule in rules)

    def _slot(self, tenant: TenantData, slot: str, pattern: re.Pattern[str]) -> tuple[str, str] | None:
        layout = tenant.settings.get("layout") if isinstance(tenant.settings.get("layout"), dict) else {}
        wanted = layout.get(slot) if layout else None
        if isinstance(wanted, str):
            if wanted in ("", "none"):
                return None
            pkg, _, comp = wanted.partition(":")
            return (pkg, comp) if pkg in self.packages else None
        for pkg_id in tenant.enabled_packages():
            found = self.packages.get(pkg_id)
            if found is not None and pattern.search(pkg_id):
                home = found.home_component()
                if home is not None:
                    return pkg_id, home.id
        return None

    def chrome_key(self, tenant: str, level: int, lang: str | None = None) -> tuple[Any, ...]:
        header, footer, nav, _, _ = self.chrome(self.tables[tenant].tenant, level, lang)
        return (header, footer, nav)


@lru_cache(maxsize=64)
def tokens_url_of(css: str) -> str:
    """Hashing the stylesheet once per build, not twice per rendered page."""
    return f"/assets/tokens.{hashlib.sha256(css.encode()).hexdigest()[:10]}.css"


def open_site_db(config: Config) -> tuple[Engine, bool]:
    """Open the site's database, creating the schema and loading the YAML seed when it is new."""
    engine = open_engine(resolve_url(config.site_dir, config.database_url))
    new = ensure_schema(engine)
    if new:
        load_seed(engine, config.content_dir, config.site_dir)
    return engine, new


def load_model(config: Config, engine: Engine, problems: list[Problem], scanned: "Scan | None" = None,
               schemas: "SchemaResults | None" = None, scan: "Callable[[], Scan | None] | None" = None) -> SiteModel:
    """Packages, sources, theme and route tables; `scanned`: the content scan, when the helper made it, or `scan`,
    which waits for it (asked only once the packages and the theme are loaded, so those overlap the helper's scan);
    `schemas`: validation results the caller already holds (default: those kept in the state folder)."""
    from .components import ComponentRenderer
    from .markdown import check_engine
    from .packages import load_packages

    check_engine(config.markdown_engine)  # an unknown engine is one clear error, not one per page
    from .jsonload import SchemaResults

    if schemas is None:
        schemas = SchemaResults(config.state_dir / "schema-results.json")
    packages = load_packages(config.package_dirs(), strict=config.strict, root=config.site_dir,
                             links=link_roots(config), schemas=schemas)
    schemas.save()
    problems.extend(packages.problems)
    theme = load_theme(config)
    if scanned is None and scan is not None:
        scanned = scan()
    sources = load_sources(config, engine, scanned)
    problems.extend(sources.problems)
    store = RecordStore(engine)
    tables = {}
    bad = [t for t in sources.tenants if tenant_problem(t.slug)]
    for tenant in bad:  # the slug is the first folder of every output path: such a tenant is not built
        problems.append(Problem("error", f"{tenant_problem(tenant.slug)}; tenant not built",
                                Location(file=f"tenants:{tenant.slug!r}"), "path"))
    if bad:
        sources.tenants = [t for t in sources.tenants if not tenant_problem(t.slug)]
    for tenant in sources.tenants:
        table = build_route_table(tenant, sources, packages, store, page_size=config.page_size, config=config,
                                  search=config.search, titles=Titles(theme.catalogs.text))
        problems.extend(table.problems)
        tables[tenant.slug] = table
    renderer = ComponentRenderer(packages, type_template=type_templates(theme))
    model = SiteModel(config, packages, renderer, theme, tables, store, sources=sources, schemas=schemas)
    model.forget_chrome()  # the tenant stylesheets: tokens and the chrome's rules
    return model


def tenant_tokens(packages: Any, tenant: Any) -> str:
    from .components import tokens_css

    return tokens_css([p for p in (packages.get(i) for i in tenant.enabled_packages()) if p is not None])


def type_templates(theme: Any) -> Any:
    def lookup(type_name: str) -> Any:
        name = f"components/{type_name}.html"
        return theme.template(name) if theme.has(name) else None
    return lookup


__all__ = ["SiteModel", "load_model", "open_site_db", "tenant_tokens", "tokens_url_of", "type_templates"]
