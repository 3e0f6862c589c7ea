"""/api/v1/{tenant}/_packages[/{package}] → installed packages: list, install, read, update, uninstall.

A package is installed only if the site has it and every package it depends on is installed and enabled for
the tenant; one that others depend on cannot be disabled or uninstalled while they are enabled. The config
is validated against the package's own JSON Schema when it declares one (`configSchema` in package.json, or a
`config.schema.json` file beside it). The installed_packages triggers put each change in the change feed,
so the pages a package gives or styles are rebuilt.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from ..db.rows import PACKAGE_SELECT, package_row
from ..levels import clamp_level
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
    package_set,
    raise_errors,
    row_etag,
    unknown_keys,
)
from .problems import ApiError

WRITABLE = ("enabled", "version", "config", "sortOrder")
COLUMNS = ("package", "name", "enabled", "version", "availableVersion", "sortOrder", "dependencies", "installedAt")


def config_schema(pkg: Any) -> dict[str, Any] | None:
    """The package's schema for its per-tenant config, if it declares one."""
    declared = pkg.metadata.get("configSchema")
    if isinstance(declared, dict):
        return declared
    path = pkg.root / "config.schema.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    return None


def _doc(m: Manager, row: Any) -> dict[str, Any]:
    """The row (db/rows.package_row) and what the package's manifest says of it."""
    pkg = package_set(m.web).get(row.package)
    stored = package_row(row)
    return {"package": row.package, "name": pkg.name if pkg else row.package, "enabled": stored["enabled"],
            "version": stored["version"], "availableVersion": pkg.version if pkg else None,
            "config": stored["config"], "sortOrder": stored["sortOrder"],
            "dependencies": list(pkg.dependencies) if pkg else [], "installedAt": row.installed_at,
            "available": pkg is not None}


def _check(m: Manager, pkg_id: str, body: dict[str, Any]) -> dict[str, Any]:
    errors = unknown_keys(body, WRITABLE, ("package", "name", "availableVersion", "dependencies", "installedAt",
                                           "available"))
    out: dict[str, Any] = {}
    if "enabled" in body:
        if isinstance(body["enabled"], bool):
            out["enabled"] = body["enabled"]
        else:
            errors.append(error("/enabled", "type", "must be a boolean"))
    if "version" in body:
        if isinstance(body["version"], str) and len(body["version"]) <= 32:
            out["version"] = body["version"]
        else:
            errors.append(error("/version", "type", "must be a string of at most 32 characters"))
    if "sortOrder" in body:
        value = body["sortOrder"]
        if isinstance(value, int) and not isinstance(value, bool) and -(2 ** 31) <= value < 2 ** 31:
            out["sortOrder"] = value
        else:
            errors.append(error("/sortOrder", "type", "must be an integer"))
    if "config" in body:
        value = body["config"]
        if value is None:
            value = {}
        if not isinstance(value, dict):
            errors.append(error("/config", "type", "must be an object"))
        else:
            errors += _config_errors(m, pkg_id, value)
            out["config"] = value
    raise_errors(errors)
    return out


def _config_errors(m: Manager, pkg_id: str, value: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if "minLevel" in value and clamp_level(value["minLevel"], -1) < 0:
        errors.append(error("/config/minLevel", "type", "must be a level (0..5) or a role name"))
    pkg = package_set(m.web).get(pkg_id)
    schema = config_schema(pkg) if pkg is not None else None
    if schema is None:
        return errors
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

    try:
        validator = Draft202012Validator(schema)
        found = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except SchemaError:
        return errors  # a broken schema is the package's problem (mbsite check reports it), not the caller's
    for e in found:
        pointer = "".join(f"/{p}" for p in e.absolute_path)
        errors.append(error(f"/config{pointer}", str(e.validator), e.message))
    return errors


async def _installed(conn: Any, tenant: str) -> dict[str, Any]:
    rows = (await conn.execute(f"{PACKAGE_SELECT} WHERE tenant = :t ORDER BY sort_order, id", {"t": tenant})).all()
    return {r.package: r for r in rows}


def _missing_dependencies(m: Manager, pkg_id: str, installed: dict[str, Any]) -> list[str]:
    pkg = package_set(m.web).get(pkg_id)
    deps = pkg.dependencies if pkg is not None else ()
    return [d for d in deps if d not in installed or not installed[d].enabled]


def _dependents(m: Manager, pkg_id: str, installed: dict[str, Any]) -> list[str]:
    packages = package_set(m.web)
    return sorted(name for name, row in installed.items() if name != pkg_id and row.enabled
                  and (p := packages.get(name)) is not None and pkg_id in p.dependencies)


async def _changed(m: Manager) -> None:
    """Installed packages decide which entities a tenant serves: the directory must not wait its few seconds."""
    async with m.web.db.read() as conn:
        await m.web.directory.refresh(conn, force=True)


def _pkg_param(request: Request) -> str:
    return str(request.path_params["package"])


async def list_packages(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        installed = await _installed(conn, m.tenant)
    rows = [_doc(m, r) for r in installed.values()]
    if request.query_params.get("available") in ("1", "true"):
        rows += [{"package": p.id, "name": p.name, "enabled": False, "version": None, "availableVersion": p.version,
                  "config": None, "sortOrder": None, "dependencies": list(p.dependencies), "installedAt": None,
                  "available": True} for p in package_set(m.web) if p.id not in installed]
    return listing(request, rows, COLUMNS, f"{m.tenant}-packages")


async def install(request: Request) -> Response:
    m = await manager(request)
    body = await json_object(request)
    pkg_id = body.get("package")
    if not isinstance(pkg_id, str) or not pkg_id:
        raise ApiError(422, "name the package to install", errors=[error("/package", "required", "is required")])
    pkg = package_set(m.web).get(pkg_id)
    if pkg is None:
        raise ApiError(422, f"the site has no package {pkg_id!r}",
                       errors=[error("/package", "unknown", f"the site has no package {pkg_id!r}")])
    fields = {"enabled": True, "version": pkg.version, "config": {}, "sortOrder": 0, **_check(m, pkg_id, body)}
    async with m.web.db.write() as conn:
        installed = await _installed(conn, m.tenant)
        if pkg_id in installed:
            raise ApiError(409, f"{pkg_id} is already installed", code="CONFLICT")
        missing = _missing_dependencies(m, pkg_id, installed) if fields["enabled"] else []
        if missing:
            raise_errors([error("/package", "dependency", f"install and enable first: {', '.join(missing)}")])
        await conn.execute(
            "INSERT INTO installed_packages (tenant, package, enabled, version, config, sort_order, installed_at) "
            f"VALUES (:t, :p, :enabled, :version, {json_bind(m.web.db.dialect, 'config')}, :sort, :now)",
            {"t": m.tenant, "p": pkg_id, "enabled": fields["enabled"], "version": fields["version"],
             "config": dumps(fields["config"]), "sort": fields["sortOrder"], "now": now_ms()})
        row = (await _installed(conn, m.tenant))[pkg_id]
        doc = _doc(m, row)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="install", target=f"_packages/{pkg_id}",
                           after=doc)
    await _changed(m)
    return one(request, doc, 201, location=f"{request.url.path.rstrip('/')}/{pkg_id}", tag=row_etag(package_row(row)))


async def get_package(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        row = (await _installed(conn, m.tenant)).get(_pkg_param(request))
    if row is None:
        raise ApiError(404, "package not installed for this tenant")
    return one(request, _doc(m, row), tag=row_etag(package_row(row)))


async def update_package(request: Request) -> Response:
    m = await manager(request)
    pkg_id = _pkg_param(request)
    body = await json_object(request)
    changes = _check(m, pkg_id, body)
    async with m.web.db.write() as conn:
        installed = await _installed(conn, m.tenant)
        row = installed.get(pkg_id)
        if row is None:
            raise ApiError(404, "package not installed for this tenant")
        old = _doc(m, row)
        check_if_match(request, row_etag(package_row(row)))
        if changes.get("enabled") is False and row.enabled:
            dependents = _dependents(m, pkg_id, installed)
            if dependents:
                raise ApiError(409, f"enabled packages depend on {pkg_id}: {', '.join(dependents)}", code="DEPENDENCY")
        if changes.get("enabled") is True and not row.enabled:
            missing = _missing_dependencies(m, pkg_id, installed)
            if missing:
                raise_errors([error("/enabled", "dependency", f"install and enable first: {', '.join(missing)}")])
        new = {**old, **changes}
        await conn.execute(
            f"UPDATE installed_packages SET enabled = :enabled, version = :version, "
            f"config = {json_bind(m.web.db.dialect, 'config')}, sort_order = :sort WHERE tenant = :t AND package = :p",
            {"t": m.tenant, "p": pkg_id, "enabled": new["enabled"], "version": new["version"],
             "config": dumps(new["config"]), "sort": new["sortOrder"]})
        row = (await _installed(conn, m.tenant))[pkg_id]
        doc = _doc(m, row)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="update", target=f"_packages/{pkg_id}",
                           before=old, after=doc)
    await _changed(m)
    return one(request, doc, tag=row_etag(package_row(row)))


async def uninstall(request: Request) -> Response:
    m = await manager(request)
    pkg_id = _pkg_param(request)
    async with m.web.db.write() as conn:
        installed = await _installed(conn, m.tenant)
        row = installed.get(pkg_id)
        if row is None:
            raise ApiError(404, "package not installed for this tenant")
        old = _doc(m, row)
        check_if_match(request, row_etag(package_row(row)))
        dependents = _dependents(m, pkg_id, installed)
        if dependents:
            raise ApiError(409, f"enabled packages depend on {pkg_id}: {', '.join(dependents)}", code="DEPENDENCY")
        await conn.execute("DELETE FROM installed_packages WHERE tenant = :t AND package = :p",
                           {"t": m.tenant, "p": pkg_id})
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="uninstall", target=f"_packages/{pkg_id}",
                           before=old)
    await _changed(m)
    return Response(status_code=204)


async def collection(request: Request) -> Response:
    return await (install if request.method == "POST" else list_packages)(request)


async def item(request: Request) -> Response:
    if request.method == "PATCH":
        return await update_package(request)
    if request.method == "DELETE":
        return await uninstall(request)
    return await get_package(request)


routes = [
    Route("/{tenant}/_packages", collection, methods=["GET", "POST"]),
    Route("/{tenant}/_packages/{package}", item, methods=["GET", "PATCH", "DELETE"]),
]
