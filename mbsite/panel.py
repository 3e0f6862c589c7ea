"""A tenant's rows (page configs, packages, users, entity schemas, audit log) → the admin panel's pages.

The panel is built like every other page: routes of kind `panel` under /admin/, for admins (level 3) and above,
drawn by the theme's `panel/*.html` templates. Each page records the tables it lists (`keys.table`), so a write
through the management API — which lands in the change feed — re-renders exactly the panel pages that show it.
Its forms post to the management API as plain HTML forms (web/forms.py turns them into API calls and answers
with a redirect back here and a message the gate shows).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlalchemy import text

from . import keys
from .context import Recorder
from .db.rows import (
    PACKAGE_SELECT,
    PAGE_SELECT,
    TENANT_SELECT,
    USER_SELECT,
    package_row,
    page_doc,
    row_etag,
    tenant_doc,
    user_doc,
)
from .errors import MbsiteError
from .graph import paths_digest
from .levels import ROLE_LEVELS
from .routes import PANEL_PREFIX, PANELS, Route
from .templates import template_error

if TYPE_CHECKING:
    from .site import SiteModel

ROUTES_TABLE = "panel/_routes.html"  # the list of every route (`panel.routes_table`)
AUDIT_ROWS = 200   # newest audit entries a built audit page lists (the API pages through all of them)


def panel_context(model: "SiteModel", route: Route, level: int, rec: Recorder, memo: dict[str, Any] | None
                  ) -> dict[str, Any]:
    """What the panel page `route` shows, read from the database; its tables become the page's inputs."""
    panel = next(p for p in PANELS if p.name == route.params.get("panel"))
    tenant = route.tenant
    for name in panel.tables:
        rec.inputs.add(keys.table("*", name[2:]) if name.startswith("*/") else keys.table(tenant, name))
    rec.read_level()  # the forms offer what the viewer's level allows (roles up to their own)
    context: dict[str, Any] = {
        "name": panel.name, "tenant": tenant, "api": f"/api/v1/{tenant}",
        "sections": [{"name": p.name, "title": p.title, "path": f"{PANEL_PREFIX}/{p.name}"} for p in PANELS
                     if p.level <= level],
        "roles": [r for r, lvl in sorted(ROLE_LEVELS.items(), key=lambda kv: kv[1]) if lvl <= level],
        "levels": list(range(0, 6)),
    }
    with model.store.engine.connect() as conn:
        if panel.name == "pages":
            context["rows"] = _page_rows(conn, tenant)
            table = model.tables[tenant]
            rec.inputs.add(keys.paths(tenant))
            rec.digests[keys.paths(tenant)] = paths_digest(table)
            context["routes"], context["routes_table"] = _every_route(model, table, rec, memo)
            context["components"] = _components(model, tenant, conn)
        elif panel.name == "packages":
            context["rows"], context["available"] = _package_rows(model, conn, tenant)
        elif panel.name == "users":
            context["rows"] = [{**u, "editable": u["level"] <= level} for u in _user_rows(conn, tenant)]
        elif panel.name == "schemas":
            context["entities"] = _schemas(model, conn, tenant, rec, memo)
        elif panel.name == "settings":
            context["tenant_row"] = _tenant_rows(conn, tenant)[0]
        elif panel.name == "tenants":
            context["rows"] = _tenant_rows(conn, None)
        else:
            context["rows"] = _audit_rows(conn, tenant)
    return context


def _every_route(model: "SiteModel", table: Any, rec: Recorder, memo: dict[str, Any] | None
                 ) -> tuple[list[dict[str, Any]], Markup]:
    """Every route of the tenant as the panel lists it, and that list drawn by `panel/_routes.html`: the same at
    every level, and as long as the site, so it is drawn once for the levels of one build (`memo`)."""
    model.theme.record(ROUTES_TABLE, rec)  # (drawn here, not included by the page's template)
    found = memo.get("every route") if memo is not None else None
    if found is None:
        routes = [{"path": r.path, "kind": r.kind, "title": r.title, "level": r.min_level, "source": r.source,
                   "row": r.row_id} for r in sorted(table.routes.values(), key=lambda r: r.path)]
        try:
            drawn = model.theme.template(ROUTES_TABLE).render(routes=routes)
        except MbsiteError:
            raise
        except Exception as exc:  # noqa: BLE001 - a template runtime error names the template file and line
            raise template_error(exc, model.theme, ROUTES_TABLE) from exc
        found = (routes, Markup(drawn))
        if memo is not None:
            memo["every route"] = found
    return found


def _page_rows(conn: Any, tenant: str) -> list[dict[str, Any]]:
    """The tenant's page configs, each with the version tag its forms send (If-Match: db/rows.py)."""
    rows = conn.execute(text(f"{PAGE_SELECT} WHERE tenant = :t ORDER BY sort_order, path, id"), {"t": tenant}).all()
    out = []
    for r in rows:
        doc = page_doc(r)
        out.append({"id": r.id, "path": r.path, "title": doc["title"], "linkable": not any(c in r.path for c in ":["),
                    "level": doc["level"], "requiresAuth": doc["requiresAuth"], "published": doc["published"],
                    "sortOrder": doc["sortOrder"],
                    "source": f"{r.package}:{r.component}" if r.package else "inline component tree",
                    "nav": bool((doc["params"] if isinstance(doc["params"], dict) else {}).get("nav")),
                    "etag": row_etag(doc)})
    return out


def _components(model: "SiteModel", tenant: str, conn: Any) -> list[str]:
    """`package:component` choices for a new page: components of the packages enabled for the tenant."""
    enabled = [r.package for r in conn.execute(text(
        "SELECT package FROM installed_packages WHERE tenant = :t AND enabled ORDER BY sort_order, package"),
        {"t": tenant})]
    out = []
    for pkg_id in enabled:
        pkg = model.packages.get(pkg_id)
        if pkg is not None:
            out += [f"{pkg_id}:{c.id}" for c in sorted(pkg.components, key=lambda c: c.id)]
    return out


def _package_rows(model: "SiteModel", conn: Any, tenant: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = conn.execute(text(f"{PACKAGE_SELECT} WHERE tenant = :t ORDER BY sort_order, package"), {"t": tenant}).all()
    installed = []
    for r in rows:
        pkg = model.packages.get(r.package)
        stored = package_row(r)
        installed.append({"package": r.package, "name": getattr(pkg, "name", "") or r.package,
                          "enabled": stored["enabled"], "version": stored["version"], "sortOrder": stored["sortOrder"],
                          "config": json.dumps(stored["config"], indent=2, sort_keys=True),
                          "missing": pkg is None, "etag": row_etag(stored)})
    have = {r.package for r in rows}
    available = [{"package": p.id, "name": p.name or p.id, "version": getattr(p, "version", "") or ""}
                 for p in sorted(model.packages, key=lambda p: p.id) if p.id not in have]
    return installed, available


def _user_rows(conn: Any, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(f"{USER_SELECT} WHERE u.tenant = :t ORDER BY u.username"), {"t": tenant}).all()
    out = []
    for r in rows:
        doc = user_doc(r)
        out.append({"id": r.id, "username": r.username, "email": r.email or "", "role": r.role,
                    "level": doc["level"], "disabled": doc["disabled"], "etag": row_etag(doc)})
    return out


def _audit_rows(conn: Any, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT a.id, a.action, a.target, a.at, u.username FROM audit_log a LEFT JOIN users u ON u.id = a.actor "
        "WHERE a.tenant = :t ORDER BY a.id DESC LIMIT :n"), {"t": tenant, "n": AUDIT_ROWS}).all()
    return [{"id": r.id, "action": r.action, "target": r.target, "actor": r.username or "system",
             "at": r.at} for r in rows]  # epoch ms: the template's `date` filter shows it in the tenant's zone


def _schemas(model: "SiteModel", conn: Any, tenant: str, rec: Recorder, memo: dict[str, Any] | None
             ) -> list[dict[str, Any]]:
    """The entities the tenant serves (its installed packages' and the site's own), field by field; the entity
    files are the page's inputs."""
    from .entities import load_registry

    registry = memo.get("registry") if memo is not None else None
    if registry is None:
        registry = load_registry(model.config, problems=[])
        if memo is not None:
            memo["registry"] = registry
    installed = {r.package for r in conn.execute(text("SELECT package FROM installed_packages WHERE tenant = :t"),
                                                {"t": tenant})}
    out = []
    for e in sorted(registry, key=lambda x: (x.package, x.name)):
        if e.package not in installed and not registry.is_site_declared(e):
            continue
        if e.source:  # a watched edit of the entity file renders the page again
            rec.inputs.add(keys.file(e.source))
        out.append({"package": e.package, "name": e.name, "slug": e.slug, "description": e.description,
                    "api": f"/api/v1/{tenant}/{e.package}/{e.slug}",
                    "fields": [{"name": f.name, "kind": f.kind, "required": f.required,
                                "unique": bool(getattr(f, "unique", False))} for f in e.fields],
                    "acl": {op: a.level for op, a in sorted(e.acl.items())}})
    return out


def _tenant_rows(conn: Any, slug: str | None) -> list[dict[str, Any]]:
    """One tenant's row (`slug`), or every tenant's, as the settings forms show them."""
    sql = TENANT_SELECT + (" WHERE slug = :s" if slug else "") + " ORDER BY slug"
    rows = conn.execute(text(sql), {"s": slug} if slug else {}).all()
    out = []
    for r in rows:
        doc = tenant_doc(r)
        out.append({"slug": r.slug, "name": r.name or "", "domains": ", ".join(doc["domains"]),
                    "settings": json.dumps(doc["settings"], indent=2, sort_keys=True), "etag": row_etag(doc)})
    return out
