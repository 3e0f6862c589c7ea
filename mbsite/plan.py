"""Sources, the stored graph and a batch of changes → a Plan: the routes to render (and why) and those to drop.

One place decides staleness for every caller: the cold plan of a build (every route against the stored graph), the
warm plan of a long-lived builder (`mbsite watch`, `serve`: a batch of files, change-feed events, timers and
revalidations looked up in an index from input key to outputs, so its cost grows with the affected outputs, not
with the site), and `mbsite why`. Both plans label a changed input the same way (`reason_for`) and match
revalidations the same way (`revalidation_hits`). Anything the warm plan cannot decide precisely falls back to
rendering more (never less); a change it cannot classify means a cold plan."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, select

from . import keys
from .context import Recorder
from .db.feed import ChangeEvent, last_seq, read_changes
from .db.models import Revalidation, now_ms
from .errors import Location, MbsiteError, Problem
from .graph import OutputRow, dirty_keys, get_state, tenant_digests
from .languages import folder_languages
from .markdown import split_front_matter
from .pages import route_records
from .paths import link_problem, link_roots
from .records import matches
from .routes import Route, build_route_table
from .site import SiteModel, tenant_tokens, type_templates
from .sources import (
    MarkdownSource,
    is_content_markdown,
    load_tenants,
    markdown_order,
    markdown_url,
    sha256_bytes,
)
from .titles import Titles

LEVEL_MAX = 5


@dataclass
class Plan:
    """What one build will do: the routes to render (with why), the routes to drop, and the bookkeeping."""

    todo: list[Route]
    why: dict[tuple[str, str], str]
    removed: list[tuple[str, str]]
    full: bool
    high: int
    revalidation_ids: list[int]
    restyle: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=dict)  # asset URL moves
    damaged_tenants: set[str] = field(default_factory=set)  # tenant-level files missing or changed on disk
    dirty: set[str] = field(default_factory=set)  # input keys the change-feed events of this plan invalidate


@dataclass
class Pending:
    """What the database says is waiting: the stored cursor and build generation, the change-feed events after the
    cursor (up to `high`), and the queued on-demand revalidations."""

    cursor: int
    generation: str
    high: int
    events: list[ChangeEvent]
    revalidations: Sequence[Any]


def read_pending(conn: Connection) -> Pending:
    cursor = int(get_state(conn, "cursor", "0") or 0)
    return Pending(cursor, get_state(conn, "generation", "") or "", last_seq(conn), read_changes(conn, cursor),
                   conn.execute(select(Revalidation.id, Revalidation.tenant, Revalidation.path,
                                       Revalidation.tag)).all())


@dataclass
class Memory:
    """What a long-lived builder holds between runs: the model, the stored graph, the index from input key to
    outputs (built on the first warm run that needs it), the current digests, and the pages whose render failed."""

    model: SiteModel
    graph: dict[tuple[str, str], list[OutputRow]]
    index: dict[str, set[tuple[str, str]]]
    digests: dict[str, str]
    failed: set[tuple[str, str]]


def reason_for(key: str) -> str:
    """The reason a page is rendered again when its input `key` changed."""
    if key.startswith(("row:", "query:", "table:")):
        return "data"
    if key.startswith(("file:", "asset:", "image:")):
        return "file"
    if key.startswith("route:"):
        return "route"
    return "navigation"  # nav:, routes:, tags:, tokens: what the route table and the chrome show


def revalidation_hits(rev: Any, key: tuple[str, str], rows: Sequence[OutputRow]) -> bool:
    """Whether the queued revalidation `rev` (tenant or None, path or None, tag or None) names this page."""
    if rev.tenant not in (None, key[0]):
        return False
    return bool((rev.path and rev.path.rstrip("/") == key[1].rstrip("/")) or
                (rev.tag and any(rev.tag in r.tags for r in rows)))


def current_digests(model: SiteModel, *, packages: bool = True, theme: bool = True,
                    tenants: Sequence[str] | None = None) -> dict[str, str]:
    """The digests of the inputs a page can record: package and template files, theme asset URLs, and each
    tenant's navigation, listings, tag pages, tokens, Markdown files and routes (all tenants unless `tenants`)."""
    d: dict[str, str] = {}
    if packages:
        for pkg in model.packages:
            for key, digest in pkg.files.items():
                d[keys.file(key)] = digest
    if theme:
        for key, digest in model.theme.template_files.values():
            d[keys.file(key)] = digest
        for name, asset in model.theme.assets.items():
            d[keys.asset(name)] = asset.url
        langs = {lang for table in model.tables.values() for lang in table.languages}
        langs.update(r.lang for table in model.tables.values() for r in table.routes.values())
        for lang in langs:
            d[keys.catalog(lang)] = model.theme.catalogs.digest(lang)
    for slug in model.tables if tenants is None else tenants:
        d.update(tenant_digests(model.tables[slug], model.tokens_url(slug), LEVEL_MAX + 1))
    return d


def image_digests(model: SiteModel, image_keys: set[str]) -> dict[str, str]:
    """The current digest of each recorded image input (its file's content hash, or images.MISSING)."""
    from .images import source_digest

    prefix = len(keys.image(""))
    return {key: source_digest(model.config, key[prefix:]) for key in sorted(image_keys)}


def stale_reason(model: SiteModel, route: Route, rows: Sequence[OutputRow] | None, digests: dict[str, str],
                 dirty: set[str], now: int, revalidations: Sequence[Any]) -> str | None:
    """Why the stored outputs `rows` of `route` are stale (None: they are current)."""
    if not rows:
        return "new"
    fp = digests.get(keys.route(route.tenant, route.path))
    for row in rows:
        if row.digests.get("route") != fp:
            return "route"
    key = (route.tenant, route.path)
    if any(revalidation_hits(rev, key, rows) for rev in revalidations):
        return "on-demand"
    current: Recorder | None = None
    for row in rows:
        if row.revalidate_at is not None and row.revalidate_at <= now:
            return "timer"
        for inp in row.inputs:
            if inp in dirty:
                if inp.startswith("query:") and inp in row.digests:
                    # Rerun the page's queries: only a different result makes the page stale.
                    if current is None:
                        current = Recorder()
                        route_records(model, route, current)
                    if current.digests.get(inp) == row.digests[inp]:
                        continue
                return "data"
            stored = row.digests.get(inp)
            if stored is not None and not inp.startswith("query:") and digests.get(inp) != stored:
                return reason_for(inp)
    return None


def plan_cold(model: SiteModel, old: dict[tuple[str, str], list[OutputRow]], pending: Pending, *, full: bool,
              damaged: dict[tuple[str, str], str] | None = None) -> tuple["Plan", dict[str, str]]:
    """Every route of the model against the stored graph `old` (everything when `full`); `damaged`: pages whose
    published files are missing or changed (the writer's side). Returns the plan and the current digests."""
    digests = current_digests(model)
    digests.update(image_digests(model, {inp for rows in old.values() for row in rows for inp in row.inputs
                                         if inp.startswith("image:")}))
    dirty = dirty_keys(pending.events)
    now = now_ms()
    todo: list[Route] = []
    why: dict[tuple[str, str], str] = {}
    damaged = damaged or {}
    for slug, table in model.tables.items():
        for path, route in table.routes.items():
            reason = "full" if full else damaged.get((slug, path)) or stale_reason(
                model, route, old.get((slug, path)), digests, dirty, now, pending.revalidations)
            if reason:
                todo.append(route)
                why[(slug, path)] = reason
    removed = [k for k in old if k[0] not in model.tables or k[1] not in model.tables[k[0]].routes]
    return Plan(todo, why, removed, full, pending.high, [r[0] for r in pending.revalidations], dirty=dirty), digests


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(r.resolve()) for r in roots)


def _reload_markdown(model: SiteModel, paths: list[Path], problems: list[Problem]) -> None:
    config = model.config
    sources = model.sources
    content = config.content_dir.resolve()
    by_rel = {m.relpath: m for m in sources.markdown}
    roots = link_roots(config)
    for path in paths:
        rel = path.relative_to(content)
        relpath = (Path(config.content_dir.name) / rel).as_posix()
        by_rel.pop(relpath, None)
        if not path.is_file() or not is_content_markdown(rel.as_posix()):
            continue
        refused = link_problem(config.content_dir / rel, roots)
        if refused is not None:
            problems.append(Problem("error", refused, Location(file=relpath), "symlink"))
            continue
        data = path.read_bytes()
        try:
            front, body, line = split_front_matter(data.decode("utf-8"), relpath)
        except MbsiteError as exc:
            problems.append(Problem.from_error(exc))
            continue
        except UnicodeDecodeError:
            continue
        url, lang = markdown_url(rel.as_posix(), folder_languages(config))
        by_rel[relpath] = MarkdownSource(relpath, url, sha256_bytes(data), front, body, line, lang)
    sources.markdown = [by_rel[k] for k in sorted(by_rel, key=markdown_order)]


def _route_touched(route: Route, tenant: str, package: str, entity: str, docs: list[dict[str, Any]],
                   ids: set[str]) -> bool:
    """Could a change of these documents alter what this route shows? (filter match before or after)"""
    if route.record is not None and route.record[:2] == (package, entity) and route.record[2] in ids:
        return True
    for _name, q in route.queries:
        if (q.tenant, q.package, q.entity) != (tenant, package, entity):
            continue
        flt = json.loads(q.filter)
        if not flt or any(all(matches(d.get(k), v) for k, v in flt.items()) for d in docs):
            return True
    return False


def plan_warm(memory: Memory, engine: Engine, paths: set[str], events: list[ChangeEvent],
              revalidations: Sequence[Any], high: int, problems: list[Problem]) -> Plan | None:
    """The warm plan: reload only what the batch touched and look the changed inputs up in the index (input key →
    outputs). Updates `memory.model` and `memory.digests` to the reloaded sources. None when the batch holds a
    change it cannot classify (the caller then plans cold)."""
    model = memory.model
    cfg = model.config
    sources = model.sources
    changed: set[str] = set(dirty_keys(events))
    rebuild: set[str] = set()
    reload_packages = reload_theme = False
    markdown: list[Path] = []
    images: set[str] = set()  # image inputs of files that changed in the content folder
    package_dirs = [d.resolve() for d in cfg.package_dirs()]
    theme_dirs = [d.resolve() for d in cfg.theme_dirs()]
    content = cfg.content_dir.resolve()
    for raw in paths:
        raw_path = Path(raw)
        path = raw_path.parent.resolve() / raw_path.name  # (not the leaf: a symbolic link is judged as itself)
        if path.name == "mbsite.toml" and path.parent == cfg.site_dir.resolve():
            return None
        if _under(path, package_dirs):
            reload_packages = True
        elif _under(path, theme_dirs) or path.is_relative_to((cfg.site_dir / "themes").resolve()):
            reload_theme = True
        elif path.is_relative_to(content):
            if path.suffix == ".md":
                markdown.append(path)
            elif path.is_dir() or not path.exists():
                return None  # a folder moved or vanished: rescan everything
            else:  # any other file may be an image a page shows
                images.add(keys.image((Path(cfg.content_dir.name) / path.relative_to(content)).as_posix()))
        # Anything else (entity schemas, seed files, notes beside the site) does not change pages.

    previous: set[str] = set()  # input keys of the sources being reloaded (to notice files that vanished)
    if reload_packages:
        previous |= {keys.file(k) for pkg in model.packages for k in pkg.files}
    if reload_theme:
        previous |= {keys.file(k) for k, _ in model.theme.template_files.values()}
        previous |= {keys.asset(n) for n in model.theme.assets}
    if reload_packages:
        from .packages import load_packages

        model.packages = load_packages(cfg.package_dirs(), strict=cfg.strict, root=cfg.site_dir,
                                       links=link_roots(cfg), schemas=model.schemas)
        if model.schemas is not None:
            model.schemas.save()
        problems.extend(model.packages.problems)
        rebuild |= set(model.tables)
    if reload_theme:
        from .templates import load_theme

        signature = model.theme.catalogs.signature()
        model.theme = load_theme(cfg)
        if model.theme.catalogs.signature() != signature:  # the generated titles come from the catalogs (titles.py)
            rebuild |= set(model.tables)
    if reload_packages or reload_theme:
        from .components import ComponentRenderer

        model.renderer = ComponentRenderer(model.packages, type_template=type_templates(model.theme))
        model.forget_chrome()
    if markdown:
        _reload_markdown(model, markdown, problems)
        rebuild |= set(model.tables)

    touched_tables = {ev.table for ev in events}
    if touched_tables & {"tenants", "installed_packages", "page_configs"}:
        sources.tenants = load_tenants(engine)
        rebuild |= {ev.tenant for ev in events if ev.tenant and ev.table in ("tenants", "installed_packages",
                                                                           "page_configs")}
        known = {t.slug for t in sources.tenants}
        if known != set(model.tables):
            rebuild |= known ^ set(model.tables)

    # Entity records: compare what each changed record was and is against every query that reads its entity.
    precise: dict[tuple[str, str, str], tuple[list[dict[str, Any]], set[str]]] = {}
    for ev in events:
        if ev.table != "entity_records" or not ev.tenant:
            continue
        parts = ev.key.split("/", 2)
        if len(parts) == 3:
            entry = precise.setdefault((ev.tenant, parts[0], parts[1]), ([], set()))
            entry[1].add(parts[2])
    for (tenant, package, entity), (docs, ids) in precise.items():
        before = [d for d in model.store.forget(tenant, package, entity) if str(d.get("id")) in ids]
        after = [d for d in model.store.all(tenant, package, entity) if str(d.get("id")) in ids]
        docs.extend(before + after)
        table = model.tables.get(tenant)
        if table is not None and (package, entity) in table.queries_read:
            rebuild.add(tenant)
        changed.discard(keys.query(tenant, package, entity))

    tenants_by_slug = {t.slug: t for t in sources.tenants}
    new_routes: list[tuple[str, str]] = []
    removed: list[tuple[str, str]] = []
    for slug in sorted(rebuild):
        old_table = model.tables.get(slug)
        tenant_data = tenants_by_slug.get(slug)
        if tenant_data is None:
            model.tables.pop(slug, None)
            removed += [k for k in memory.graph if k[0] == slug]
            continue
        table = build_route_table(tenant_data, sources, model.packages, model.store, page_size=cfg.page_size,
                                  config=cfg, search=cfg.search, titles=Titles(model.theme.catalogs.text))
        problems.extend(table.problems)
        model.tables[slug] = table
        model.tokens[slug] = tenant_tokens(model.packages, tenant_data)
        model.forget_chrome(slug)
        old_paths = set(old_table.routes) if old_table else set()
        new_routes += [(slug, p) for p in table.routes if p not in old_paths or (slug, p) not in memory.graph]
        removed += [(slug, p) for p in old_paths - set(table.routes) if (slug, p) in memory.graph]

    fresh = current_digests(model, packages=reload_packages, theme=reload_theme,
                            tenants=sorted(rebuild & set(model.tables)))
    moved_assets: dict[str, tuple[str, str]] = {}  # asset key → (old URL, new URL)
    for key, value in fresh.items():
        old_value = memory.digests.get(key)
        if old_value != value:
            changed.add(key)
            if key.startswith("asset:") and old_value:
                moved_assets[key] = (old_value, value)
        memory.digests[key] = value
    for key, value in image_digests(model, images).items():
        if memory.digests.get(key) != value:
            changed.add(key)
        memory.digests[key] = value
    for path in markdown:  # a Markdown file that is gone
        rel = (Path(cfg.content_dir.name) / path.relative_to(content)).as_posix()
        if not path.exists():
            previous.add(keys.file(rel))
    for key in previous - set(fresh):
        changed.add(key)
        memory.digests.pop(key, None)

    why: dict[tuple[str, str], str] = {}
    if any("/templates/components/" in k for k in changed):
        # A theme override of a component type can appear in any page, header or footer: render everything.
        changed |= {keys.route(k[0], k[1]) for k in memory.graph}
    for route_key in new_routes:
        why[route_key] = "new"
    for route_key in memory.failed:  # the last render failed: try again whatever changed
        why.setdefault(route_key, "retry")
    # A page is labelled as the cold plan labels it (stale_reason): its definition first, then a revalidation, its
    # timer, and then the first of its changed inputs in the order they are stored (sorted).
    queries = {keys.query(*entity): (entity, found) for entity, found in precise.items()}
    # (pages whose only change is an asset's URL are decided below: they get the new URL, not a render)
    labelled = sorted((changed - set(moved_assets)) | set(queries))

    def label(key: str) -> None:
        if key not in queries:
            reason = reason_for(key)
            for rk in memory.index.get(key, ()):
                why.setdefault(rk, reason)
            return
        (tenant, package, entity), (docs, ids) = queries[key]
        for rk in memory.index.get(key, ()):
            if rk in why:
                continue
            route = model.tables[rk[0]].routes.get(rk[1]) if rk[0] in model.tables else None
            if route is None or _route_touched(route, tenant, package, entity, docs, ids):
                why[rk] = "data"

    for key in labelled:
        if key.startswith("route:"):
            label(key)
    for rev in revalidations:
        for rk, rows in memory.graph.items():
            if revalidation_hits(rev, rk, rows):
                why.setdefault(rk, "on-demand")
    now = now_ms()
    for rk, rows in memory.graph.items():
        if any(r.revalidate_at is not None and r.revalidate_at <= now for r in rows):
            why.setdefault(rk, "timer")
    for key in labelled:
        if not key.startswith("route:"):
            label(key)
    removed_set = set(removed)
    # A stylesheet edit changes only the content-hashed URL in the pages that link it. Rendering such a page again
    # would give its stored HTML with the old URL replaced by the new one — in attribute position only (`="URL"`,
    # a form that escaped text can never contain) — so that replacement is what the page gets.
    restyle: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key, (old_url, new_url) in moved_assets.items():
        for rk in memory.index.get(key, ()):
            if rk not in why and rk not in removed_set and rk in memory.graph:
                restyle.setdefault(rk, []).append((key, old_url, new_url))
    todo = []
    for rk in sorted(why):
        if rk in removed_set:
            continue
        table = model.tables.get(rk[0])
        route = table.routes.get(rk[1]) if table is not None else None
        if route is not None:
            todo.append(route)
    return Plan(todo, {rk: why[rk] for rk in why if rk not in removed_set}, sorted(removed_set), False, high,
                [r[0] for r in revalidations], restyle, dirty=dirty_keys(events))


__all__ = ["Memory", "Pending", "Plan", "current_digests", "image_digests", "plan_cold", "plan_warm", "read_pending",
           "reason_for", "revalidation_hits", "stale_reason"]
