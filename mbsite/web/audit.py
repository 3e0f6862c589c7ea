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
from .csvio import csv_response, wants_csv
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


CSV_COLUMNS = ("id", "at", "actor", "action", "target")


async def list_entries(request: Request) -> Response:
    """GET /api/v1/{tenant}/_audit: newest first; admins (level ≥ 3) of the tenant only. Filters: `action`,
    `actor` (a user name or id), `target` (exact) and `targetStartsWith`; `?format=csv` (or Accept: text/csv) for
    a spreadsheet of up to 100,000 entries."""
    web = request.app.state.mb
    tenant = request.path_params["tenant"]
    principal = await principal_for(request, web.config, web.db)
    csv = wants_csv(request)
    q = request.query_params
    async with web.db.read() as conn:
        await web.directory.refresh(conn)
        web.authz.admin_of(principal, tenant)
        params: dict[str, Any] = {"t": tenant,
                                  "lim": int_param(q, "limit", 10_000 if csv else 50, 1, 100_000 if csv else 500),
                                  "off": int_param(q, "offset", 0, 0, 10_000_000)}
        where = "a.tenant = :t"
        if q.get("target"):
            where += " AND a.target = :target"
            params["target"] = q["target"]
        if q.get("targetStartsWith"):
            where += " AND a.target LIKE :prefix ESCAPE '!'"
            params["prefix"] = q["targetStartsWith"].replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        if q.get("action"):
            where += " AND a.action = :action"
            params["action"] = q["action"]
        if q.get("actor"):
            where += " AND (a.actor = :actor OR u.username = :actor)"
            params["actor"] = q["actor"]
        rows = (await conn.execute(text(
            "SELECT a.id, a.actor, u.username, a.action, a.target, a.before, a.after, a.at FROM audit_log a "
            f"LEFT JOIN users u ON u.id = a.actor WHERE {where} ORDER BY a.id DESC LIMIT :lim OFFSET :off"),
            params)).all()
    if csv:
        return csv_response(CSV_COLUMNS, ({"id": r.id, "at": r.at, "actor": r.username or r.actor or "",
                                           "action": r.action, "target": r.target} for r in rows),
                            filename=f"{tenant}-audit.csv")
    data = [{"id": r.id, "actor": r.actor, "actorName": r.username, "action": r.action, "target": r.target,
             "before": _loads(r.before), "after": _loads(r.after), "at": r.at} for r in rows]
    return json_response({"data": data}, headers={"Cache-Control": "private, no-store"})
