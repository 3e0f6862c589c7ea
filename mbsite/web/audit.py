"""Writes → audit_log rows (who, when, what, before/after), and the admin endpoint that reads them.

Entries are inserted in the same transaction as the write they describe, so there is no write without
its entry. Hidden fields (sensitive / never_expose) are stripped before they are logged.
"""
from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from ..db.models import now_ms
from .problems import json_response
from .query import int_param
from .sessions import principal_for

_INSERT = text("INSERT INTO audit_log (tenant, actor, action, target, before, after, at) "
               "VALUES (:tenant, :actor, :action, :target, :before, :after, :at)")
_INSERT_PG = text("INSERT INTO audit_log (tenant, actor, action, target, before, after, at) "
                  "VALUES (:tenant, :actor, :action, :target, CAST(:before AS jsonb), CAST(:after AS jsonb), :at)")


def _doc(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def record(conn: Any, *, tenant: str, actor: str | None, action: str, target: str,
                 before: Any = None, after: Any = None) -> None:
    """Append one entry (call inside the write's transaction)."""
    stmt = _INSERT_PG if conn.dialect.name == "postgresql" else _INSERT
    await conn.execute(stmt, {"tenant": tenant, "actor": actor, "action": action, "target": target,
                              "before": _doc(before), "after": _doc(after), "at": now_ms()})


def _loads(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


async def list_entries(request: Request) -> Response:
    """GET /api/v1/{tenant}/_audit: newest first; admins (level ≥ 3) of the tenant only."""
    web = request.app.state.mb
    tenant = request.path_params["tenant"]
    principal = await principal_for(request, web.config, web.db)
    async with web.db.read() as conn:
        await web.directory.refresh(conn)
        web.authz.admin_of(principal, tenant)
        params: dict[str, Any] = {"t": tenant, "lim": int_param(request.query_params, "limit", 50, 1, 500),
                                  "off": int_param(request.query_params, "offset", 0, 0, 10_000_000)}
        where = "tenant = :t"
        if request.query_params.get("target"):
            where += " AND target = :target"
            params["target"] = request.query_params["target"]
        rows = (await conn.execute(text(
            f"SELECT id, actor, action, target, before, after, at FROM audit_log WHERE {where} "
            "ORDER BY id DESC LIMIT :lim OFFSET :off"), params)).all()
    data = [{"id": r.id, "actor": r.actor, "action": r.action, "target": r.target,
             "before": _loads(r.before), "after": _loads(r.after), "at": r.at} for r in rows]
    return json_response({"data": data}, headers={"Cache-Control": "private, no-store"})
