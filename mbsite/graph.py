"""The dependency graph: stored outputs with their inputs, and the current digest of every input kind."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson
from sqlalchemy import Connection, delete, insert, select, text

from . import keys
from .db.feed import ChangeEvent
from .db.models import BuildState
from .errors import ConfigError
from .languages import group_digest
from .routes import Route, RouteTable


def digest_of(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                       default=str)).hexdigest()[:32]


def route_fingerprint(route: Route) -> str:
    """Everything about a route that its page can show, minus the Markdown body (recorded as a file). Worked out
    once per route (a route is immutable): the plan asks, then the render of its page, in a worker that inherited
    the route with its fingerprint."""
    found: str | None = route.__dict__.get("_fingerprint")
    if found is None:
        md = route.markdown
        found = digest_of([route.kind, route.path, route.title, route.level, route.requires_auth, route.package,
                           route.component, route.tree, route.props, [(n, q.__dict__) for n, q in route.queries],
                           route.record, route.params, md.relpath if md else None, route.description, route.date,
                           route.tags, route.revalidate, route.template, route.source, route.aliases, route.lang,
                           route.translation_key])
        object.__setattr__(route, "_fingerprint", found)  # (not a field: equality and hashing leave it aside)
    return found


def listing_digest(table: RouteTable, blog_only: bool = False, lang: str | None = None) -> str:
    """What listings show of a tenant's pages of one language (every Markdown and gallery page; or the blog's
    posts only): their titles, dates, tags and levels. (A post's summary and reading time come from its file,
    which each listing page records for the posts it shows.)"""
    key = ("listing-digest", blog_only, lang)
    if key not in table.memo:
        posts = sorted((r.path, r.title, r.date, r.tags, r.min_level, r.description, r.package, r.kind)
                       for r in table.routes.values() if r.kind in ("markdown", "gallery")
                       and (lang is None or r.lang == lang)
                       and (not blog_only or table.post_root(r) is not None))
        table.memo[key] = digest_of(posts)
    return str(table.memo[key])


def paths_digest(table: RouteTable) -> str:
    """Every route of the tenant as the admin panel lists it: path, kind, title, level and source."""
    if "paths-digest" not in table.memo:
        table.memo["paths-digest"] = digest_of(sorted((r.path, r.kind, r.title, r.min_level, r.source)
                                                      for r in table.routes.values()))
    return str(table.memo["paths-digest"])


def tag_pages_digest(table: RouteTable) -> str:
    """Which tag pages the tenant has, and from which level (a page links a tag only when its page exists for
    every viewer of the page)."""
    found = table.memo.get("tag pages digest")  # asked by every page with tags; the memo resets with the routes
    if found is None:
        found = table.memo["tag pages digest"] = digest_of([(p, table.routes[p].min_level) for p in table.tag_pages()])
    return str(found)


def neighbors_digest(table: RouteTable, path: str) -> str:
    """What a blog post shows of its older and newer neighbours (their paths and titles)."""
    older, newer = table.blog_neighbors(path)
    return digest_of([(r.path, r.title) if r is not None else None for r in (older, newer)])


def nav_digest(table: RouteTable, level: int) -> str:
    """What the navigation at one level is (the input `nav:<tenant>:<level>` of the chrome): its entries, or, when
    the menu differs by language, each language's entries."""
    key = ("nav-digest", level)
    if key not in table.memo:
        langs = table.page_languages()
        navs = [table.nav(level, lang) for lang in langs]
        same = all(nav == navs[0] for nav in navs[1:])
        table.memo[key] = digest_of(navs[0]) if same else digest_of([[lang, nav] for lang, nav in zip(langs, navs, strict=True)])
    return str(table.memo[key])


def tenant_digests(table: RouteTable, tokens_url: str, levels: int = 6) -> dict[str, str]:
    """Current digests of the per-tenant inputs: navigation per level, listings, tokens, routes, Markdown."""
    slug = table.tenant.slug
    d = {keys.nav(slug, level): nav_digest(table, level) for level in range(levels)}
    for lang in {table.lang, *table.languages, *(r.lang for r in table.routes.values())}:
        d[keys.routes(slug, lang)] = listing_digest(table, lang=lang)
        d[keys.posts(slug, lang)] = listing_digest(table, blog_only=True, lang=lang)
    d[keys.tags(slug)] = tag_pages_digest(table)
    d[keys.paths(slug)] = paths_digest(table)
    d[keys.tokens(slug)] = tokens_url
    for root in table.roots:
        d[keys.feed(slug, root)] = str(root in table.blogs())
    for route in table.routes.values():
        if route.markdown is not None:
            d[keys.file(route.markdown.relpath)] = route.markdown.digest
            if table.post_root(route) is not None:
                d[keys.nearby(slug, route.path)] = neighbors_digest(table, route.path)
        d[keys.route(slug, route.path)] = route_fingerprint(route)
        d[keys.translations(slug, route.translation_key)] = group_digest(table, route.translation_key)
    return d


@dataclass
class OutputRow:
    tenant: str
    path: str
    level: int
    file: str
    html_hash: str
    inputs: list[str]
    digests: dict[str, str]
    reason: str = ""
    rendered_at: int = 0
    revalidate_at: int | None = None
    tags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "path": self.path, "level": self.level, "file": self.file,
                "html_hash": self.html_hash, "inputs": self.inputs, "digests": self.digests, "reason": self.reason,
                "rendered_at": self.rendered_at, "revalidate_at": self.revalidate_at, "tags": self.tags}


def load_outputs(conn: Connection) -> dict[tuple[str, str], list[OutputRow]]:
    out: dict[tuple[str, str], list[OutputRow]] = {}
    # Read the JSON columns as text and decode with orjson: this is most of a no-op build's database time.
    rows = conn.execute(text(
        "SELECT tenant, path, level, file, html_hash, CAST(inputs AS TEXT), CAST(digests AS TEXT), reason, "
        "rendered_at, revalidate_at, CAST(tags AS TEXT) FROM build_outputs"))
    loads = orjson.loads
    for r in rows:
        out.setdefault((r[0], r[1]), []).append(
            OutputRow(r[0], r[1], r[2], r[3], r[4], loads(r[5]) if r[5] else [], loads(r[6]) if r[6] else {},
                      r[7] or "", r[8], r[9], loads(r[10]) if r[10] and r[10] != "null" else []))
    for rows_ in out.values():
        rows_.sort(key=lambda o: o.level)
    return out


def save_outputs(conn: Connection, replaced: Iterable[tuple[str, str]], rows: list[OutputRow], *,
                 every: bool = False) -> None:
    """Replace the stored rows of the `replaced` pages by `rows` (`every`: the replaced pages are all the stored
    ones, as after a full build, so the table is emptied in one statement). Both statements are prepared once and
    run for every key and row (executemany) straight through the driver, with the JSON columns encoded by orjson:
    SQLAlchemy's per-row parameter processing and JSON type were most of the time of storing a large build."""
    mark = _placeholder(conn.dialect.paramstyle)
    keys = list(replaced)
    if every:
        conn.exec_driver_sql("DELETE FROM build_outputs")
    elif keys:
        conn.exec_driver_sql(f"DELETE FROM build_outputs WHERE tenant = {mark} AND path = {mark}", keys)
    if rows:
        json_in = f"CAST({mark} AS JSONB)" if conn.dialect.name == "postgresql" else mark
        values = ", ".join(json_in if c in _JSON_COLUMNS else mark for c in _COLUMNS)
        dumps = orjson.dumps
        conn.exec_driver_sql(f"INSERT INTO build_outputs ({', '.join(_COLUMNS)}) VALUES ({values})", [
            (r.tenant, r.path, r.level, r.file, r.html_hash, dumps(r.inputs).decode(), dumps(r.digests).decode(),
             r.reason, r.rendered_at, r.revalidate_at, dumps(r.tags).decode()) for r in rows])


def _placeholder(paramstyle: str) -> str:
    """The driver's positional parameter marker (sqlite3: qmark; psycopg: format / pyformat)."""
    if paramstyle == "qmark":
        return "?"
    if paramstyle in ("format", "pyformat"):
        return "%s"
    raise ConfigError(f"database driver with parameter style {paramstyle!r} is not supported: "
                      "use sqlite:/// or postgresql:// (psycopg)")


_COLUMNS = ("tenant", "path", "level", "file", "html_hash", "inputs", "digests", "reason", "rendered_at",
            "revalidate_at", "tags")
_JSON_COLUMNS = {"inputs", "digests", "tags"}


def get_state(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(BuildState.value).where(BuildState.key == key)).scalar()
    return value if value is not None else default


def set_state(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(BuildState).where(BuildState.key == key))
    conn.execute(insert(BuildState).values(key=key, value=value))


def dirty_keys(events: Iterable[ChangeEvent]) -> set[str]:
    """Change-feed events → the input keys they invalidate."""
    found: set[str] = set()
    for ev in events:
        found.add(keys.table("*", ev.table))
        if ev.tenant:
            found.add(keys.table(ev.tenant, ev.table))
        if ev.table == "entity_records" and ev.tenant:
            parts = ev.key.split("/")
            if len(parts) >= 2:
                found.add(keys.query(ev.tenant, parts[0], parts[1]))
        elif ev.table == "page_configs":
            found.add(keys.row("page_configs", ev.key))
        elif ev.table in ("installed_packages", "tenants") and ev.tenant:
            found.add(keys.row(ev.table, ev.tenant))
        elif ev.table == "package_data" and ev.tenant:
            found.add(keys.row("package_data", f"{ev.tenant}/{ev.key}"))
    return found


def clear_graph(conn: Connection) -> None:
    conn.execute(text("DELETE FROM build_outputs"))
