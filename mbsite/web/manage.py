"""Management requests → an authorized manager of a tenant, checked JSON bodies, row ETags and lists (JSON or CSV).

What every management endpoint (`_pages`, `_packages`, `_users`, `_schemas`, `_settings`, `_tenants`) shares.
The endpoints themselves live in manage_pages.py, manage_packages.py, manage_users.py and manage_tenants.py;
`routes()` gathers them for the `/api/v1` mount, ahead of the entity routes their paths would also match.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..db.rows import row_etag
from ..levels import ADMIN
from .authz import Principal
from .csvio import csv_response, wants_csv
from .problems import ApiError, json_response
from .sessions import csrf_ok, principal_for

PACKAGES_TTL_S = 10.0   # package folders change on deploys, not per request: reload them at most this often


@dataclass(frozen=True)
class Manager:
    """The caller of a management endpoint, authorized for `tenant` ("" for `_tenants`, which has none)."""

    web: Any
    principal: Principal
    tenant: str

    @property
    def actor(self) -> str | None:
        return self.principal.user_id


async def _caller(request: Request) -> tuple[Any, Principal]:
    web = request.app.state.mb
    principal = await principal_for(request, web.config, web.db)
    if not csrf_ok(request, principal):
        raise ApiError(403, "missing or wrong X-CSRF-Token", code="CSRF")
    if web.directory.stale:
        async with web.db.read() as conn:
            await web.directory.refresh(conn)
    return web, principal


async def manager(request: Request, level: int = ADMIN) -> Manager:
    """The caller, allowed to manage the path's tenant at `level` (authz.Authorizer.manager_of), or an error."""
    web, principal = await _caller(request)
    tenant = request.path_params["tenant"]
    web.authz.manager_of(principal, tenant, level)
    return Manager(web, principal, tenant)


async def supergod(request: Request) -> Manager:
    web, principal = await _caller(request)
    web.authz.supergod(principal)
    return Manager(web, principal, "")


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body (415 for another type, 400 for bad JSON, 422 for a non-object)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "application/merge-patch+json"):
        raise ApiError(415, "send application/json", headers={"Accept-Patch": "application/merge-patch+json"})
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid JSON body", code="INVALID_JSON") from None
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object",
                       errors=[{"field": "", "code": "type", "message": "must be an object"}])
    return body


def unknown_keys(body: dict[str, Any], allowed: Iterable[str], ignored: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Errors for keys that are not fields (a typo must not be silently dropped)."""
    known = set(allowed) | set(ignored)
    return [error(f"/{key}", "unknown", "is not a field") for key in body if key not in known]


def error(field: str, code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


def raise_errors(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise ApiError(422, f"{len(errors)} field(s) failed validation", errors=errors)


def json_bind(dialect: str, name: str, binary: bool = False) -> str:
    """The placeholder of a JSON parameter: text on SQLite, cast to json/jsonb on PostgreSQL."""
    if dialect == "postgresql":
        return f"CAST(:{name} AS {'jsonb' if binary else 'json'})"
    return f":{name}"


def dumps(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def check_if_match(request: Request, current: str) -> None:
    """412 when If-Match names another version of the row than the current one."""
    match = request.headers.get("if-match")
    if match is None or match.strip() == "*":
        return
    if current not in [m.strip() for m in match.split(",")]:
        raise ApiError(412, "the row changed since you read it (ETag mismatch)", headers={"ETag": current})


def one(request: Request, doc: dict[str, Any], status: int = 200, location: str | None = None,
        tag: str | None = None) -> Response:
    """One row as JSON with its ETag, `tag` (db/rows.py), by default that of `doc` itself (304 for a matching
    If-None-Match on reads)."""
    tag = tag or row_etag(doc)
    if request.method == "GET" and request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    headers = {"ETag": tag, "Cache-Control": "private, no-store"}
    if location:
        headers["Location"] = location
    return json_response(doc, status=status, headers=headers)


def listing(request: Request, rows: Sequence[dict[str, Any]], columns: Sequence[str], name: str) -> Response:
    """A management list: `{"data": [...]}`, or CSV (`?format=csv`, `Accept: text/csv`) with `columns`."""
    if wants_csv(request):
        return csv_response(columns, (r for r in rows), filename=f"{name}.csv")
    return json_response({"data": list(rows)}, headers={"Cache-Control": "private, no-store"})


def package_set(web: Any) -> Any:
    """The site's packages (site folder first, then the built-ins), reloaded at most every PACKAGES_TTL_S."""
    cached = web.memo.get("packages")
    if cached is not None and time.monotonic() - cached[0] < PACKAGES_TTL_S:
        return cached[1]
    from ..jsonload import SchemaResults
    from ..packages import load_packages
    from ..paths import link_roots

    config = web.config
    schemas = web.memo.setdefault("schemas", SchemaResults())  # what was validated stays valid: reloads are cheap
    packages = load_packages(config.package_dirs(), root=config.site_dir, links=link_roots(config), schemas=schemas)
    web.memo["packages"] = (time.monotonic(), packages)
    return packages


def forget_packages(web: Any) -> None:
    web.memo.pop("packages", None)

