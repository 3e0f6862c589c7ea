"""/api/v1/{tenant}/_pages[/{id}] → page-config rows: list, read, create, update (PATCH), delete.

A page path passes the project's one path rule (`mbsite.paths.route_path`) before it is stored, and a path
another source already gives the tenant — another row, a page of an enabled package, a Markdown file, a
package's defaultRoute — is a 409 naming that source. Every write is audited and, through the page_configs
triggers, lands in the change feed, so the next incremental build renders, changes or removes the page.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from ..db.rows import PAGE_SELECT, page_doc
from ..errors import MbsiteError
from ..levels import SUPERGOD
from ..paths import record_id_problem, route_path
from . import audit
from .crud import new_id
from .manage import (
    Manager,
    check_if_match,
    dumps,
    error,
    json_bind,
    json_object,
    listing,
    manager,
    one,
    package_set,
    raise_errors,
    row_etag,
    unknown_keys,
)
from .problems import ApiError

# API name → (column, kind). Kinds: str (with max length), text, int, level, bool, object, tree, tags.
FIELDS: dict[str, tuple[str, str, int]] = {
    "path": ("path", "str", 255), "title": ("title", "str", 255), "description": ("description", "text", 0),
    "icon": ("icon", "str", 64), "package": ("package", "str", 64), "component": ("component", "str", 128),
    "componentTree": ("component_tree", "tree", 0), "level": ("level", "level", 0),
    "requiresAuth": ("requires_auth", "bool", 0), "published": ("published", "bool", 0),
    "sortOrder": ("sort_order", "int", 0), "params": ("params", "object", 0), "meta": ("meta", "object", 0),
    "revalidate": ("revalidate", "int", 0), "tags": ("tags", "tags", 0),
}
NOT_NULL = frozenset({"path", "title", "level", "requiresAuth", "published", "sortOrder"})
SERVER = ("id", "createdAt", "updatedAt", "previewUrl", "publicUrl")
DEFAULTS: dict[str, Any] = {"title": "", "level": 0, "requiresAuth": False, "published": True, "sortOrder": 0}
COLUMNS = ("id", "path", "title", "description", "icon", "package", "component", "level", "requiresAuth",
           "published", "sortOrder", "revalidate", "tags", "updatedAt", "previewUrl")


def _with_urls(m: Manager, doc: dict[str, Any]) -> dict[str, Any]:
    """The page's preview address under `mbsite serve` (/<tenant>/…) and, with a domain, its public URL."""
    out = {**doc, "previewUrl": f"/{m.tenant}{doc['path']}" if doc["path"] != "/" else f"/{m.tenant}/"}
    domains = m.web.directory.tenants.get(m.tenant) or []
    if domains:
        out["publicUrl"] = f"https://{domains[0]}{doc['path']}"
    return out


def _check(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Body → the fields to store (API names, canonical path), or a 422 naming every field at fault."""
    errors = unknown_keys(body, FIELDS, SERVER)
    out: dict[str, Any] = {}
    for name, (_, kind, size) in FIELDS.items():
        if name not in body:
            continue
        value, ptr = body[name], f"/{name}"
        if value is None:
            if name not in NOT_NULL:
                out[name] = None
            else:
                errors.append(error(ptr, "required", "must not be null"))
            continue
        if kind in ("str", "text"):
            if not isinstance(value, str):
                errors.append(error(ptr, "type", "must be a string"))
            elif size and len(value) > size:
                errors.append(error(ptr, "maxLength", f"must be at most {size} characters"))
            else:
                out[name] = value
        elif kind in ("int", "level"):
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(error(ptr, "type", "must be an integer"))
            elif kind == "level" and not 0 <= value <= SUPERGOD:
                errors.append(error(ptr, "maximum", "a level is 0 (public) to 5 (supergod)"))
            elif not -(2 ** 31) <= value < 2 ** 31 or (name == "revalidate" and value < 0):
                errors.append(error(ptr, "minimum", "is out of range"))
            else:
                out[name] = value
        elif kind == "bool":
            if not isinstance(value, bool):
                errors.append(error(ptr, "type", "must be a boolean"))
            else:
                out[name] = value
        elif kind in ("object", "tree"):
            if not isinstance(value, dict):
                errors.append(error(ptr, "type", "must be an object"))
            else:
                out[name] = value
        elif kind == "tags":
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                errors.append(error(ptr, "type", "must be a list of strings"))
            else:
                out[name] = value
    if isinstance(out.get("path"), str):
        try:
            out["path"] = route_path(out["path"])
        except MbsiteError as exc:
            errors.append(error("/path", "path", str(exc)))
    if not partial and "path" not in body:
        errors.append(error("/path", "required", "is required"))
    raise_errors(errors)
    return out


def _check_source(m: Manager, doc: dict[str, Any]) -> None:
    """A page needs an inline componentTree, or a component of a package enabled for the tenant."""
    if doc.get("componentTree") is not None:
        return
    if not doc.get("component") or not doc.get("package"):
        raise_errors([error("/componentTree", "required", "give a componentTree, or a package and its component")])
    pkg = package_set(m.web).get(doc["package"])
    if pkg is None:
        raise_errors([error("/package", "unknown", f"no package {doc['package']!r}")])
    if (m.tenant, doc["package"]) not in m.web.directory.installed:
        raise_errors([error("/package", "notInstalled", f"package {doc['package']!r} is not installed and enabled "
                                                         "for this tenant")])
    if pkg.find_component(doc["component"]) is None:
        raise_errors([error("/component", "unknown", f"no component {doc['component']!r} in {doc['package']}")])


def _same(path: str, other: str) -> bool:
    try:
        return route_path(other) == path
    except MbsiteError:
        return False


def file_sources(m: Manager, path: str) -> str | None:
    """The source outside page_configs that gives the tenant a page at `path` (a page of an enabled package, a
    Markdown file, a package's defaultRoute), or None."""
    from ..languages import folder_languages
    from ..sources import markdown_files, markdown_url, scan_markdown

    packages = package_set(m.web)
    for (tenant, pkg_id), cfg in m.web.directory.installed.items():
        if tenant != m.tenant:
            continue
        pkg = packages.get(pkg_id)
        for page in pkg.pages if pkg is not None else ():
            if page.published and _same(path, page.path):
                return f"package {pkg_id} page ({page.source})"
        if isinstance(cfg.get("defaultRoute"), str) and _same(path, cfg["defaultRoute"]):
            return f"installed package {pkg_id} defaultRoute"
    config = m.web.config
    if config.content_dir.is_dir():
        folders = folder_languages(config)
        for rel in markdown_files(config.content_dir):
            if markdown_url(rel, folders)[0] != path:
                continue
            found = scan_markdown(config, [], [rel])
            if found and not found[0].front.draft and (found[0].front.tenants is None
                                                       or m.tenant in found[0].front.tenants):
                return f"Markdown file {found[0].relpath}"
    return None


async def _row_conflict(conn: Any, tenant: str, path: str, rid: str) -> str | None:
    rows = (await conn.execute("SELECT id, path FROM page_configs WHERE tenant = :t AND id <> :id",
                               {"t": tenant, "id": rid})).all()
    return next((f"page config {r.id}" for r in rows if _same(path, r.path)), None)


def _conflict(path: str, source: str) -> ApiError:
    return ApiError(409, f"{path} is already a page of this tenant: {source}", code="ROUTE_CONFLICT",
                    errors=[error("/path", "conflict", source)])


async def _read(conn: Any, tenant: str, rid: str) -> dict[str, Any]:
    row = (await conn.execute(f"{PAGE_SELECT} WHERE tenant = :t AND id = :id", {"t": tenant, "id": rid})).first()
    if row is None:
        raise ApiError(404, "no such page config")
    return page_doc(row)


def _params(doc: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = {}
    for name, (col, kind, _) in FIELDS.items():
        value = doc.get(name)
        p[col] = dumps(value) if kind in ("object", "tree", "tags") else value
    return p


def _binds(dialect: str) -> dict[str, str]:
    return {col: json_bind(dialect, col, binary=(kind == "tags")) if kind in ("object", "tree", "tags") else f":{col}"
            for col, kind, _ in FIELDS.values()}


def _path_id(request: Request) -> str:
    rid: str = request.path_params["id"]
    if record_id_problem(rid) is not None:
        raise ApiError(404, "no such page config")
    return rid


async def list_pages(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        rows = (await conn.execute(f"{PAGE_SELECT} WHERE tenant = :t ORDER BY sort_order, path, id",
                                   {"t": m.tenant})).all()
    return listing(request, [_with_urls(m, page_doc(r)) for r in rows], COLUMNS, f"{m.tenant}-pages")


async def create_page(request: Request) -> Response:
    m = await manager(request)
    body = await json_object(request)
    rid = body.get("id")
    if rid is not None and (not isinstance(rid, str) or record_id_problem(rid) is not None):
        raise_errors([error("/id", "pattern", (record_id_problem(rid) if isinstance(rid, str) else None)
                             or "must be a string")])
    rid = rid or new_id()
    doc = {**DEFAULTS, **_check(body, partial=False)}
    _check_source(m, doc)
    other = file_sources(m, doc["path"])
    if other is not None:
        raise _conflict(doc["path"], other)
    now = now_ms()
    async with m.web.db.write() as conn:
        if (await conn.execute("SELECT 1 FROM page_configs WHERE id = :id", {"id": rid})).first() is not None:
            raise ApiError(409, f"a page config with id {rid!r} exists", code="CONFLICT")
        other = await _row_conflict(conn, m.tenant, doc["path"], rid)
        if other is not None:
            raise _conflict(doc["path"], other)
        binds = _binds(m.web.db.dialect)
        cols = list(binds)
        await conn.execute(
            f"INSERT INTO page_configs (id, tenant, {', '.join(cols)}, created_at, updated_at) "
            f"VALUES (:id, :tenant, {', '.join(binds[c] for c in cols)}, :now, :now)",
            {"id": rid, "tenant": m.tenant, "now": now, **_params(doc)})
        stored = await _read(conn, m.tenant, rid)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="create", target=f"_pages/{rid}",
                           after=stored)
    return one(request, _with_urls(m, stored), 201, location=f"{request.url.path.rstrip('/')}/{rid}",
               tag=row_etag(stored))


async def get_page(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        doc = await _read(conn, m.tenant, _path_id(request))
    return one(request, _with_urls(m, doc), tag=row_etag(doc))


async def update_page(request: Request) -> Response:
    m = await manager(request)
    rid = _path_id(request)
    body = await json_object(request)
    changes = _check(body, partial=True)
    async with m.web.db.read() as conn:
        current = await _read(conn, m.tenant, rid)
    merged = {**current, **changes}
    if any(k in changes for k in ("componentTree", "package", "component")):
        _check_source(m, merged)
    if merged["path"] != current["path"]:
        other = file_sources(m, merged["path"])
        if other is not None:
            raise _conflict(merged["path"], other)
    async with m.web.db.write() as conn:
        old = await _read(conn, m.tenant, rid)
        check_if_match(request, row_etag(old))
        new = {**old, **changes}
        other = await _row_conflict(conn, m.tenant, new["path"], rid)
        if other is not None:
            raise _conflict(new["path"], other)
        binds = _binds(m.web.db.dialect)
        sets = ", ".join(f"{c} = {b}" for c, b in binds.items())
        await conn.execute(f"UPDATE page_configs SET {sets}, updated_at = :now WHERE tenant = :tenant AND id = :id",
                           {"id": rid, "tenant": m.tenant, "now": max(now_ms(), old["updatedAt"] + 1), **_params(new)})
        stored = await _read(conn, m.tenant, rid)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="update", target=f"_pages/{rid}",
                           before=old, after=stored)
    return one(request, _with_urls(m, stored), tag=row_etag(stored))


async def delete_page(request: Request) -> Response:
    m = await manager(request)
    rid = _path_id(request)
    async with m.web.db.write() as conn:
        old = await _read(conn, m.tenant, rid)
        check_if_match(request, row_etag(old))
        await conn.execute("DELETE FROM page_configs WHERE tenant = :t AND id = :id", {"t": m.tenant, "id": rid})
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="delete", target=f"_pages/{rid}", before=old)
    return Response(status_code=204)


async def collection(request: Request) -> Response:
    return await (create_page if request.method == "POST" else list_pages)(request)


async def item(request: Request) -> Response:
    if request.method == "PATCH":
        return await update_page(request)
    if request.method == "DELETE":
        return await delete_page(request)
    return await get_page(request)


routes = [
    Route("/{tenant}/_pages", collection, methods=["GET", "POST"]),
    Route("/{tenant}/_pages/{id}", item, methods=["GET", "PATCH", "DELETE"]),
]
