"""POST /api/revalidate {tenant, path | tag} with the shared Bearer secret → a revalidations row → 202."""
from __future__ import annotations

import hmac

import orjson
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from .problems import ApiError, json_response


async def revalidate(request: Request) -> Response:
    web = request.app.state.mb
    secret = web.config.revalidate_secret
    if not secret:
        raise ApiError(404, "on-demand revalidation is not configured")
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    # Constant-time comparison: the secret must not leak through response timing.
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise ApiError(401, "wrong or missing revalidate secret", headers={"WWW-Authenticate": "Bearer"})
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "send application/json")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid JSON body", code="INVALID_JSON") from None
    errors = []
    if not isinstance(body, dict):
        body = {}
        errors.append({"field": "", "code": "type", "message": "must be an object"})
    tenant, path, tag = body.get("tenant"), body.get("path"), body.get("tag")
    if tenant is not None and not isinstance(tenant, str):
        errors.append({"field": "/tenant", "code": "type", "message": "must be a string"})
    if path is not None and not (isinstance(path, str) and path.startswith("/") and len(path) <= 255):
        errors.append({"field": "/path", "code": "format", "message": "must be a path starting with /"})
    if tag is not None and not (isinstance(tag, str) and 0 < len(tag) <= 255):
        errors.append({"field": "/tag", "code": "type", "message": "must be a non-empty string"})
    if path is None and tag is None and not errors:
        errors.append({"field": "/path", "code": "required", "message": "give a path or a tag"})
    if errors:
        raise ApiError(422, "invalid revalidation request", errors=errors)
    async with web.db.write() as conn:
        if tenant is not None:
            known = (await conn.execute(text("SELECT 1 FROM tenants WHERE slug = :t"), {"t": tenant})).first()
            if known is None:
                raise ApiError(404, "no such tenant")
        await conn.execute(text("INSERT INTO revalidations (tenant, path, tag, requested_at) VALUES (:t, :p, :g, :at)"),
                           {"t": tenant, "p": path, "g": tag, "at": now_ms()})
    return json_response({"accepted": True, "tenant": tenant, "path": path, "tag": tag}, status=202)


routes = [Route("/api/revalidate", revalidate, methods=["POST"])]
