"""A batch of changes (files, change-feed events, timers, revalidations) → the outputs to render again.

The warm path of a Builder that already holds its sources and graph in memory: it reloads only what the
batch touched and looks the changed inputs up in the index (input key → outputs), so its cost grows with the
number of affected outputs, not with the size of the site. Anything it cannot decide precisely falls back
to re-rendering more (never less); a change it cannot classify returns None, which means a cold plan."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .db.feed import ChangeEvent
from .db.models import now_ms
from .errors import Location, MbsiteError, Problem
from .paths import link_problem, link_roots
from .graph import dirty_keys, tenant_digests
from .records import _matches
from .routes import Route, build_route_table
from .sources import (MarkdownSource, content_url, is_content_markdown, load_tenants, markdown_order, sha256_bytes,
                      split_front_matter)

if TYPE_CHECKING:
    from .builder import Builder, Plan

LEVEL_MAX = 5


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(r.resolve()) for r in roots)


def _reload_markdown(builder: "Builder", paths: list[Path], problems: list[Problem]) -> None:
    sources = builder.model.sources  # type: ignore[union-attr]
    content = builder.config.content_dir.resolve()
    by_rel = {m.relpath: m for m in sources.markdown}
    roots = link_roots(builder.config)
    for path in paths:
        rel = path.relative_to(content)
        relpath = (Path(builder.config.content_dir.name) / rel).as_posix()
        by_rel.pop(relpath, None)
        if not path.is_file() or not is_content_markdown(rel.as_posix()):
            continue
        refused = link_problem(builder.config.content_dir / rel, roots)
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
        by_rel[relpath] = MarkdownSource(relpath, content_url(rel), sha256_bytes(data), front, body, line)
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
        if not flt or any(all(_matches(d.get(k), v) for k, v in flt.items()) for d in docs):
            return True
    return False


def plan_warm(builder: "Builder", paths: set[str], events: list[ChangeEvent], revalidations: Sequence[Any],
              high: int, problems: list[Problem]) -> "Plan | None":
    from .builder import Plan, _type_templates, tenant_tokens

    model = builder.model
    assert model is not None
    cfg = builder.config
    sources = model.sources
    changed: set[str] = set(dirty_keys(events))
    rebuild: set[str] = set()
    reload_packages = reload_theme = False
    markdown: list[Path] = []
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
        # Anything else (entity schemas, seed files, notes beside the site) does not change pages.

    previous: set[str] = set()  # input keys of the sources being reloaded (to notice files that vanished)
    if reload_packages:
        previous |= {"file:" + k for pkg in model.packages for k in pkg.files}
    if reload_theme:
        previous |= {"file:" + k for k, _ in model.theme.template_files.values()}
        previous |= {"asset:" + n for n in model.theme.assets}
    if reload_packages:
        from .packages import load_packages

        model.packages = load_packages(cfg.package_dirs(), strict=cfg.strict, root=cfg.site_dir,
                                       links=link_roots(cfg))
        problems.extend(model.packages.problems)
        rebuild |= set(model.tables)
    if reload_theme:
        from .templates import load_theme

        model.theme = load_theme(cfg)
    if reload_packages or reload_theme:
        from .components import ComponentRenderer

        model.renderer = ComponentRenderer(model.packages, type_template=_type_templates(model.theme))
        model._chrome.clear()
    if markdown:
        _reload_markdown(builder, markdown, problems)
        rebuild |= set(model.tables)

    touched_tables = {ev.table for ev in events}
    if touched_tables & {"tenants", "installed_packages", "page_configs"}:
        sources.tenants = load_tenants(builder.engine)
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
        changed.discard(f"query:{tenant}:{package}.{entity}")

    tenants_by_slug = {t.slug: t for t in sources.tenants}
    new_routes: list[tuple[str, str]] = []
    removed: list[tuple[str, str]] = []
    for slug in sorted(rebuild):
        old_table = model.tables.get(slug)
        tenant_data = tenants_by_slug.get(slug)
        if tenant_data is None:
            model.tables.pop(slug, None)
            removed += [k for k in builder.graph if k[0] == slug]
            continue
        table = build_route_table(tenant_data, sources, model.packages, model.store)
        problems.extend(table.problems)
        model.tables[slug] = table
        model.tokens[slug] = tenant_tokens(model.packages, tenant_data)
        model._chrome = {k: v for k, v in model._chrome.items() if k[0] != slug}
        old_paths = set(old_table.routes) if old_table else set()
        new_routes += [(slug, p) for p in table.routes if p not in old_paths or (slug, p) not in builder.graph]
        removed += [(slug, p) for p in old_paths - set(table.routes) if (slug, p) in builder.graph]

    fresh: dict[str, str] = {}
    if reload_packages:
        for pkg in model.packages:
            for key, digest in pkg.files.items():
                fresh["file:" + key] = digest
    if reload_theme:
        for key, digest in model.theme.template_files.values():
            fresh["file:" + key] = digest
        for name, asset in model.theme.assets.items():
            fresh["asset:" + name] = asset.url
    for slug in rebuild & set(model.tables):
        fresh.update(tenant_digests(model.tables[slug], model.tokens_url(slug), LEVEL_MAX + 1))
    moved_assets: dict[str, tuple[str, str]] = {}  # asset key → (old URL, new URL)
    for key, value in fresh.items():
        old_value = builder.digests.get(key)
        if old_value != value:
            changed.add(key)
            if key.startswith("asset:") and old_value:
                moved_assets[key] = (old_value, value)
        builder.digests[key] = value
    for path in markdown:  # a Markdown file that is gone
        rel = (Path(cfg.content_dir.name) / path.relative_to(content)).as_posix()
        if not path.exists():
            previous.add("file:" + rel)
    for key in previous - set(fresh):
        changed.add(key)
        builder.digests.pop(key, None)

    why: dict[tuple[str, str], str] = {}
    if any("/templates/components/" in k for k in changed):
        # A theme override of a component type can appear in any page, header or footer: render everything.
        changed |= {f"route:{k[0]}:{k[1]}" for k in builder.graph}
    for route_key in new_routes:
        why[route_key] = "new"
    for route_key in builder.failed:  # the last render failed: try again whatever changed
        why.setdefault(route_key, "retry")
    for key in changed:
        if key in moved_assets:
            continue  # decided below: pages whose only change is an asset's URL get the new URL, not a render
        reason = "data" if key.startswith(("row:", "query:")) else "file" if key.startswith(("file:", "asset:")) \
            else "route" if key.startswith("route:") else "navigation"
        for rk in builder.index.get(key, ()):
            why.setdefault(rk, reason)
    for (tenant, package, entity), (docs, ids) in precise.items():
        for rk in builder.index.get(f"query:{tenant}:{package}.{entity}", ()):
            if rk in why:
                continue
            route = model.tables[rk[0]].routes.get(rk[1]) if rk[0] in model.tables else None
            if route is None or _route_touched(route, tenant, package, entity, docs, ids):
                why[rk] = "data"
    now = now_ms()
    for rk, rows in builder.graph.items():
        if any(r.revalidate_at is not None and r.revalidate_at <= now for r in rows):
            why.setdefault(rk, "timer")
    for rev in revalidations:
        for rk, rows in builder.graph.items():
            if rev.tenant not in (None, rk[0]):
                continue
            if (rev.path and rev.path.rstrip("/") == rk[1].rstrip("/")) or (
                    rev.tag and any(rev.tag in r.tags for r in rows)):
                why.setdefault(rk, "on-demand")
    removed_set = set(removed)
    # A stylesheet edit changes only the content-hashed URL in the pages that link it. Rendering such a page again
    # would give its stored HTML with the old URL replaced by the new one — in attribute position only (`="URL"`,
    # a form that escaped text can never contain) — so that replacement is what the page gets.
    restyle: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key, (old_url, new_url) in moved_assets.items():
        for rk in builder.index.get(key, ()):
            if rk not in why and rk not in removed_set and rk in builder.graph:
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
                [r[0] for r in revalidations], restyle)
