"""Tenants, their settings and their entity schemas: /api/v1/_tenants[/{slug}] (supergod),
/api/v1/{tenant}/_settings (god) and /api/v1/{tenant}/_schemas[/{package}/{entity}] (admin).

A tenant slug passes `mbsite.paths.tenant_problem` (it is the first folder of every output path); a domain
serves one tenant only. The tenants triggers put each change in the change feed, so a renamed tenant or a new
theme setting rebuilds its pages; a deleted tenant takes its rows with it (foreign keys cascade).
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from ..db.rows import TENANT_SELECT, json_value, tenant_doc
from ..entities import Entity
from ..levels import GOD
from ..paths import tenant_problem
from . import audit
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
    raise_errors,
    row_etag,
    supergod,
    unknown_keys,
)
from .openapi import object_schema
from .problems import ApiError, json_response

_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$")
COLUMNS = ("slug", "name", "domains", "createdAt")


async def _read(conn: Any, slug: str) -> dict[str, Any]:
    row = (await conn.execute(f"{TENANT_SELECT} WHERE slug = :s", {"s": slug})).first()
    if row is None:
        raise ApiError(404, "no such tenant")
    return tenant_doc(row)


def _check(body: dict[str, Any], ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    errors = unknown_keys(body, ("name", "domains", "settings"), ("slug", "createdAt", *ignored))
    out: dict[str, Any] = {}
    if "name" in body:
        if isinstance(body["name"], str) and 0 < len(body["name"]) <= 255:
            out["name"] = body["name"]
        else:
            errors.append(error("/name", "type", "must be a string of 1 to 255 characters"))
    if "domains" in body:
        domains = body["domains"]
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            errors.append(error("/domains", "type", "must be a list of host names"))
        else:
            out["domains"] = []
            for i, d in enumerate(domains):
                host = d.strip().lower()
                if not _DOMAIN.match(host):
                    errors.append(error(f"/domains/{i}", "format", f"{d!r} is not a host name"))
                elif host not in out["domains"]:
                    out["domains"].append(host)
    if "settings" in body:
        if isinstance(body["settings"], dict):
            out["settings"] = body["settings"]
        else:
            errors.append(error("/settings", "type", "must be an object"))
    raise_errors(errors)
    return out


async def _domains_free(conn: Any, slug: str, domains: list[str]) -> None:
    rows = (await conn.execute(f"{TENANT_SELECT} WHERE slug <> :s", {"s": slug})).all()
    for row in rows:
        taken = set(json_value(row.domains) or []) & set(domains)
        if taken:
            raise ApiError(409, f"tenant {row.slug} already serves {', '.join(sorted(taken))}", code="CONFLICT",
                           errors=[error("/domains", "unique", f"served by tenant {row.slug}")])


async def _write(m: Manager, conn: Any, slug: str, new: dict[str, Any]) -> None:
    d = m.web.db.dialect
    await conn.execute(f"UPDATE tenants SET name = :n, domains = {json_bind(d, 'dm', binary=True)}, "
                       f"settings = {json_bind(d, 'st')} WHERE slug = :s",
                       {"n": new["name"], "dm": dumps(new["domains"]), "st": dumps(new["settings"]), "s": slug})


async def _refresh(m: Manager) -> None:
    """Tenants and domains route every request: reload the directory now, and the OpenAPI tenant list."""
    async with m.web.db.read() as conn:
        await m.web.directory.refresh(conn, force=True)
    m.web.openapi_cache.clear()


async def _update(request: Request, m: Manager, slug: str, changes: dict[str, Any]) -> Response:
    async with m.web.db.write() as conn:
        old = await _read(conn, slug)
        check_if_match(request, row_etag(old))
        new = {**old, **changes}
        if "domains" in changes:
            await _domains_free(conn, slug, new["domains"])
        await _write(m, conn, slug, new)
        stored = await _read(conn, slug)
        await audit.record(conn, tenant=slug, actor=m.actor, action="update", target=f"_tenants/{slug}",
                           before=old, after=stored)
    await _refresh(m)
    return one(request, stored)


# -- /api/v1/{tenant}/_settings (god and above) --------------------------------------------------------------

async def settings(request: Request) -> Response:
    m = await manager(request, GOD)
    slug = str(m.tenant)
    if request.method == "PATCH":
        return await _update(request, m, slug, _check(await json_object(request)))
    async with m.web.db.read() as conn:
        return one(request, await _read(conn, slug))


# -- /api/v1/_tenants (supergod) -----------------------------------------------------------------------------

async def tenants(request: Request) -> Response:
    m = await supergod(request)
    if request.method == "POST":
        return await _create(request, m)
    async with m.web.db.read() as conn:
        rows = (await conn.execute(f"{TENANT_SELECT} ORDER BY slug")).all()
    return listing(request, [tenant_doc(r) for r in rows], COLUMNS, "tenants")


async def _create(request: Request, m: Manager) -> Response:
    body = await json_object(request)
    slug = body.get("slug")
    problem = tenant_problem(slug) if isinstance(slug, str) else "a slug is a string"
    fields = _check(body)
    if problem is not None:
        raise_errors([error("/slug", "pattern", problem)])
    new = {"name": slug, "domains": [], "settings": {}, **fields}
    d = m.web.db.dialect
    async with m.web.db.write() as conn:
        if (await conn.execute(text("SELECT 1 FROM tenants WHERE slug = :s"), {"s": slug})).first() is not None:
            raise ApiError(409, f"tenant {slug!r} exists", code="CONFLICT")
        await _domains_free(conn, str(slug), new["domains"])
        await conn.execute(f"INSERT INTO tenants (slug, name, domains, settings, created_at) VALUES (:s, :n, "
                           f"{json_bind(d, 'dm', binary=True)}, {json_bind(d, 'st')}, :now)",
                           {"s": slug, "n": new["name"], "dm": dumps(new["domains"]), "st": dumps(new["settings"]),
                            "now": now_ms()})
        stored = await _read(conn, str(slug))
        await audit.record(conn, tenant=str(slug), actor=m.actor, action="create", target=f"_tenants/{slug}",
                           after=stored)
    await _refresh(m)
    return one(request, stored, 201, location=f"{request.url.path.rstrip('/')}/{slug}")


async def tenant(request: Request) -> Response:
    m = await supergod(request)
    slug = request.path_params["slug"]
    if request.method == "PATCH":
        return await _update(request, m, slug, _check(await json_object(request)))
    if request.method == "DELETE":
        if slug == m.principal.tenant:
            raise ApiError(409, "you may not delete the tenant you are signed in to", code="CONFLICT")
        async with m.web.db.write() as conn:
            old = await _read(conn, slug)
            check_if_match(request, row_etag(old))
            await conn.execute(text("DELETE FROM tenants WHERE slug = :s"), {"s": slug})
            await audit.record(conn, tenant=slug, actor=m.actor, action="delete", target=f"_tenants/{slug}",
                               before=old)
        await _refresh(m)
        return Response(status_code=204)
    async with m.web.db.read() as conn:
        return one(request, await _read(conn, slug))


# -- /api/v1/{tenant}/_schemas (admin and above) -------------------------------------------------------------

def entity_schema(e: Entity) -> dict[str, Any]:
    """An entity as the validator sees it: the JSON Schema of a create body, plus what the server adds."""
    schema = object_schema(e.writable, strict=True)
    server = [f.name for f in e.fields if f not in e.writable]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": e.name,
            **({"description": e.description} if e.description else {}), **schema,
            "x-mbsite": {"package": e.package, "entity": e.slug, "serverFields": server, "hidden": sorted(e.hidden),
                         "unique": [f.name for f in e.fields if f.unique],
                         "acl": {op: ({"level": a.level} if a.level is not None else {})
                                 | ({"owner": a.owner_field} if a.owner_field else {})
                                 | ({"systemOnly": True} if a.system_only else {}) for op, a in e.acl.items()}}}


def _visible_entities(m: Manager) -> list[Entity]:
    registry = m.web.registry
    return [e for e in registry if (m.tenant, e.package) in m.web.directory.installed or registry.is_site_declared(e)]


async def schemas(request: Request) -> Response:
    m = await manager(request)
    data = [{"package": e.package, "name": e.name, "entity": e.slug,
             "path": f"/api/v1/{m.tenant}/{e.package}/{e.slug}", "schema": entity_schema(e)}
            for e in sorted(_visible_entities(m), key=lambda x: (x.package, x.name))]
    return json_response({"data": data}, headers={"Cache-Control": "private, no-store"})


async def schema(request: Request) -> Response:
    m = await manager(request)
    p = request.path_params
    entity = m.web.registry.get(p["package"], p["entity"])
    if entity is None or entity not in _visible_entities(m):
        raise ApiError(404, "no such entity")
    return one(request, entity_schema(entity))


routes = [
    Route("/_tenants", tenants, methods=["GET", "POST"]),
    Route("/_tenants/{slug}", tenant, methods=["GET", "PATCH", "DELETE"]),
    Route("/{tenant}/_settings", settings, methods=["GET", "PATCH"]),
    Route("/{tenant}/_schemas", schemas, methods=["GET"]),
    Route("/{tenant}/_schemas/{package}/{entity}", schema, methods=["GET"]),
]
