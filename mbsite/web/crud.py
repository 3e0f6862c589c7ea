"""/api/v1/{tenant}/{package}/{entity}[/{id}] → list, create (one or bulk), read, patch/put, delete (one or bulk).

Lists are also CSV (`?format=csv`, `Accept: text/csv`), and a `text/csv` POST imports rows all or nothing
(csvio.py reads and writes the CSV; the rows go through the same validation and writes as JSON ones).

The hot path is Core SQL on entity_records with orjson; every write also lands in audit_log (same
transaction), in the change feed (database triggers) and, after commit, in the tenant's webhooks.
"""
from __future__ import annotations

import os
import time
from typing import Any, AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from ..entities import Entity, snake_case
from ..paths import record_id_problem
from . import audit
from .authz import Scope, owner_of
from .csvio import CSV_TYPE, csv_response, decode_rows, wants_csv
from .problems import ApiError, json_response
from .query import SqlBuilder, encode_cursor, full_sort, parse_list_query
from .sessions import csrf_ok, principal_for
from .validation import validate_body

MAX_BULK = 500
CSV_BATCH = 500   # rows per read of a CSV export
UPDATE_ATTEMPTS = 5  # read-merge-write rounds before a client without If-Match is told to try again
JSON_TYPES = ("application/json", "application/merge-patch+json")
# Statements are plain strings, built once: both database adapters take them as they are.
_KEY = "tenant = :t AND package = :p AND entity = :e AND id = :id"
_ROW = f"SELECT data, version, created_by FROM entity_records WHERE {_KEY}"
# SQLite runs one write transaction at a time; PostgreSQL locks the row until the writer commits.
_ROW_FOR_UPDATE = {"sqlite": _ROW, "postgresql": f"{_ROW} FOR UPDATE"}
_INSERT = {dialect: "INSERT INTO entity_records (tenant, package, entity, id, data, version, created_by, created_at, "
           f"updated_at) VALUES (:t, :p, :e, :id, {d}, 1, :by, :now, :now)"
           for dialect, d in (("sqlite", ":d"), ("postgresql", "CAST(:d AS jsonb)"))}
_UPDATE = {dialect: f"UPDATE entity_records SET data = {d}, version = version + 1, updated_at = :now "
           f"WHERE {_KEY} AND version = :v"
           for dialect, d in (("sqlite", ":d"), ("postgresql", "CAST(:d AS jsonb)"))}
_DELETE = f"DELETE FROM entity_records WHERE {_KEY}"
_UNIQUE = "SELECT 1 FROM entity_records WHERE tenant = :t AND package = :p AND entity = :e AND id <> :id AND {} LIMIT 1"
_UNIQUE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"
_FK = "SELECT 1 FROM entity_records WHERE tenant = :t AND entity = :e AND id = :v LIMIT 1"
# Core tables a foreign key may point at (everything else is an entity record).
_CORE_FK = {"User": ("users", "id", "tenant"), "Tenant": ("tenants", "slug", "slug"),
            "PageConfig": ("page_configs", "id", "tenant")}


def new_id() -> str:
    """Time-ordered ids (ms timestamp + random), so the default id order is creation order."""
    return f"{int(time.time() * 1000):011x}{os.urandom(6).hex()}"


def id_error(rid: object, field: str) -> dict[str, str] | None:
    """The validation error of a client-supplied record id (ids become path segments of pages), or None."""
    if not isinstance(rid, str):
        return {"field": field, "code": "type", "message": "an id is a string"}
    reason = record_id_problem(rid)
    return None if reason is None else {"field": field, "code": "pattern", "message": reason}


def _path_id(request: Request) -> str:
    rid: str = request.path_params["id"]
    error = id_error(rid, "id")
    if error is not None:
        raise ApiError(400, f"path parameter id: {error['message']}", code="INVALID_PARAMETER", errors=[error])
    return rid


def etag(version: int) -> str:
    return f'"v{version}"'


async def _scope(request: Request, op: str) -> Scope:
    web = request.app.state.mb
    p = request.path_params
    principal = await principal_for(request, web.config, web.db)
    if not csrf_ok(request, principal):
        raise ApiError(403, "missing or wrong X-CSRF-Token", code="CSRF")
    if web.directory.stale:
        async with web.db.read() as conn:
            await web.directory.refresh(conn)
    return web.authz.scope(principal, p["tenant"], p["package"], p["entity"], op)


async def _body(request: Request) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise ApiError(415, "send application/json (or text/csv to import rows)",
                       headers={"Accept-Patch": "application/merge-patch+json"})
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid JSON body", code="INVALID_JSON") from None


def _visible(entity: Entity, data: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    hidden = entity.hidden
    if fields is not None:
        keep = set(fields) | {"id"}
        return {k: v for k, v in data.items() if k in keep and k not in hidden}
    return {k: v for k, v in data.items() if k not in hidden} if hidden else data


def _stamp(entity: Entity, doc: dict[str, Any], tenant: str, *, created: bool) -> None:
    """Fill the server-managed fields the entity declares (tenant id, timestamps)."""
    now = now_ms()
    for f in entity.fields:
        if f.name in ("tenantId", "tenant_id"):
            doc[f.name] = tenant
        elif f.name in ("updatedAt", "updated_at") or (created and f.name in ("createdAt", "created_at")):
            doc[f.name] = now if f.kind in ("integer", "number", "json") else \
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000))


def _loads(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else dict(value)


def _dump(db: Any, doc: dict[str, Any]) -> str:
    return orjson.dumps(doc).decode()


async def _check_relations(conn: Any, db: Any, scope: Scope, doc: dict[str, Any], rid: str,
                           errors: list[dict[str, Any]], changed: set[str] | None = None) -> None:
    """unique and foreign-key rules, checked against the tenant's rows inside the write transaction.

    A taken single `unique` field is a field error (422, appended to `errors`); a taken key of a unique index
    over several fields raises a 409 naming them."""
    entity = scope.entity
    single = [f for f in entity.fields if f.unique and not f.primary and doc.get(f.name) is not None
              and (changed is None or f.name in changed)]
    keys = [cols for cols in entity.unique_together
            if (changed is None or changed.intersection(cols)) and all(_scalar(doc.get(c)) for c in cols)]
    if (single or keys) and db.dialect == "postgresql":
        # Read committed lets two transactions both find a key free and both insert it: writers of an entity
        # with unique rules take its lock (released at commit) so the check and the insert are one step.
        await conn.execute(_UNIQUE_LOCK, {"k": f"{scope.tenant}/{entity.package}/{entity.slug}"})
    where = {"t": scope.tenant, "p": entity.package, "e": entity.slug, "id": rid}
    for f in single:
        b = SqlBuilder(db.dialect)
        cond = f"{b.expr(f.name)} = {b.bind(doc[f.name])}"
        if (await conn.execute(_UNIQUE.format(cond), {**b.params, **where})).first():
            errors.append({"field": f"/{f.name}", "code": "unique", "message": "is already taken"})
    for cols in keys:
        b = SqlBuilder(db.dialect)
        cond = " AND ".join(f"{b.expr(c)} = {b.bind(doc[c])}" for c in cols)
        if (await conn.execute(_UNIQUE.format(cond), {**b.params, **where})).first():
            shown = ", ".join(f"{c}={doc[c]!r}" for c in cols)
            raise ApiError(409, f"a record with this {' + '.join(cols)} exists ({shown})", code="CONFLICT",
                           errors=[{"field": f"/{c}", "code": "unique",
                                    "message": f"{' + '.join(cols)} must be unique"} for c in cols])
    for f in entity.fields:
        if f.foreign_key is None or f.primary or (changed is not None and f.name not in changed):
            continue
        value = doc.get(f.name)
        if value is not None and not await _fk_exists(conn, scope, f.foreign_key.entity, f.foreign_key.field, value):
            errors.append({"field": f"/{f.name}", "code": "foreignKey",
                           "message": f"no {f.foreign_key.entity} with {f.foreign_key.field} {value!r}"})


def _scalar(value: Any) -> bool:
    """A value a unique key can compare (null never collides, as in SQL)."""
    return value is not None and not isinstance(value, (dict, list))


async def _fk_exists(conn: Any, scope: Scope, target: str, field: str, value: Any) -> bool:
    if target in _CORE_FK:
        table, key, tenant_col = _CORE_FK[target]
        if field not in ("id", "slug"):
            return True  # references to other columns of core tables are not checked
        row = await conn.execute(f"SELECT 1 FROM {table} WHERE {key} = :v AND {tenant_col} = :t",
                                 {"v": str(value), "t": scope.tenant})
        return row.first() is not None
    if field != "id":
        return True
    row = await conn.execute(_FK, {"t": scope.tenant, "e": snake_case(target), "v": str(value)})
    return row.first() is not None


def _raise_errors(errors: list[dict[str, Any]]) -> None:
    if errors:
        raise ApiError(422, f"{len(errors)} field(s) failed validation", errors=errors)


def _target(scope: Scope, rid: str) -> str:
    return f"{scope.entity.package}/{scope.entity.slug}/{rid}"


def _owner_sql(b: SqlBuilder, scope: Scope, field: str) -> str:
    """The condition "the row's `field` is the caller's id" (createdBy falls back to the row's created_by)."""
    uid = scope.principal.user_id
    if field == "createdBy" and scope.entity.field("createdBy") is None:
        return f"created_by = {b.bind_text(uid or '')}"
    return f"{b.expr(field)} = {b.bind(uid)}"


async def list_records(request: Request) -> Response:
    web = request.app.state.mb
    scope = await _scope(request, "read")
    entity = scope.entity
    q = parse_list_query(entity, request.query_params, list(request.query_params.multi_items()))
    b = SqlBuilder(web.db.dialect)
    b.where.append("tenant = :t AND package = :p AND entity = :e")
    b.params.update({"t": scope.tenant, "p": entity.package, "e": entity.slug})
    if scope.owner_field:
        b.where.append(_owner_sql(b, scope, scope.owner_field))
    if scope.rows:
        b.where.append("(" + " OR ".join(
            "(" + " AND ".join([*([_owner_sql(b, scope, c.owner_field)] if c.owner_field else []),
                               *(f"{b.expr(k)} = {b.bind(v)}" for k, v in c.equals)] or ["1 = 1"]) + ")"
            for c in scope.rows) + ")")
    for flt in q.filters:
        b.add_filter(flt)
    count_where, count_params = " AND ".join(b.where), dict(b.params)
    sort = full_sort(q)
    if wants_csv(request):
        return _csv_list(request, web, entity, q, b, sort)
    if q.cursor is not None:
        b.add_keyset(sort, q.cursor)
    b.params["lim"], b.params["off"] = q.limit + 1, 0 if q.cursor is not None else q.offset
    sql = (f"SELECT CAST(data AS TEXT) FROM entity_records WHERE {' AND '.join(b.where)} "
           f"ORDER BY {b.order_by(sort)} LIMIT :lim OFFSET :off")
    async with web.db.read() as conn:
        rows = (await conn.execute(sql, b.params)).all()
        total = (await conn.execute(f"SELECT count(*) FROM entity_records WHERE {count_where}",
                                    count_params)).scalar_one() if q.count else None
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = None
    if more and rows:
        last = _loads(rows[-1][0])
        next_cursor = encode_cursor([last.get(name) for name, _ in sort])
    meta = orjson.dumps({"limit": q.limit, "offset": q.offset, "nextCursor": next_cursor,
                         **({"total": total} if total is not None else {})})
    if not entity.hidden and q.fields is None:
        # Nothing to strip: splice the stored JSON documents into the response without re-encoding them.
        items = b",".join(r[0].encode() if isinstance(r[0], str) else r[0] for r in rows)
    else:
        items = b",".join(orjson.dumps(_visible(entity, _loads(r[0]), q.fields)) for r in rows)
    return Response(b'{"data":[' + items + b'],"page":' + meta + b"}", media_type="application/json")


def _csv_list(request: Request, web: Any, entity: Entity, q: Any, base: SqlBuilder,
              sort: list[tuple[str, bool]]) -> Response:
    """The filtered, sorted list as CSV: every matching row (or `limit` of them when the query names one),
    read in keyset pages of CSV_BATCH so a large export never holds the table in memory."""
    columns = ["id", *[n for n in (q.fields or [f.name for f in entity.fields if f.name not in entity.hidden])
                       if n != "id"]]
    limit = q.limit if request.query_params.get("limit") else None

    async def rows() -> AsyncIterator[dict[str, Any]]:
        cursor, offset, sent = q.cursor, (q.offset if q.cursor is None else 0), 0
        while limit is None or sent < limit:
            b = SqlBuilder(base.dialect, list(base.where), dict(base.params))
            if cursor is not None:
                b.add_keyset(sort, cursor)
            size = CSV_BATCH if limit is None else min(CSV_BATCH, limit - sent)
            b.params["lim"], b.params["off"] = size, offset
            offset = 0
            async with web.db.read() as conn:
                batch = (await conn.execute(f"SELECT CAST(data AS TEXT) FROM entity_records WHERE "
                                            f"{' AND '.join(b.where)} ORDER BY {b.order_by(sort)} "
                                            "LIMIT :lim OFFSET :off", b.params)).all()
            for r in batch:
                yield _visible(entity, _loads(r[0]), q.fields)
            sent += len(batch)
            if len(batch) < size:
                return
            last = _loads(batch[-1][0])
            cursor = tuple(last.get(name) for name, _ in sort)

    return csv_response(columns, rows(), filename=f"{entity.package}-{entity.slug}.csv")


async def get_record(request: Request) -> Response:
    web = request.app.state.mb
    scope = await _scope(request, "read")
    entity = scope.entity
    async with web.db.read() as conn:
        row = (await conn.execute(_ROW, {"t": scope.tenant, "p": entity.package, "e": entity.slug,
                                         "id": _path_id(request)})).first()
    if row is None:
        raise ApiError(404, "no such record")
    fields = request.query_params.get("fields")
    raw = row.data
    if scope.limited or entity.hidden or fields or not isinstance(raw, str):
        data = _loads(raw)
        web.authz.check_row(scope, data, row.created_by)
        selected = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None
        body = orjson.dumps(_visible(entity, data, selected))
    else:
        body = raw.encode()  # nothing to check or strip: the stored document is the response
    tag = etag(row.version)
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})


async def _insert(conn: Any, web: Any, scope: Scope, body: Any, pointer: str,
                  errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    # A client may choose the id unless the entity generates it (then it is ignored, as other generated fields
    # are); a chosen id that breaks the path rule is an error, never swapped for a generated one.
    if scope.entity.generates_id:
        body = {k: v for k, v in body.items() if k != "id"}
    bad_id = id_error(body["id"], pointer + "/id") if body.get("id") is not None else None
    if bad_id is not None:
        errors.append(bad_id)
    body = dict(body)
    web.authz.fill_owners(scope, body)
    try:
        doc = validate_body(scope.entity, body, partial=False)
    except ApiError as exc:
        errors.extend({**e, "field": pointer + e["field"]} for e in exc.errors or [])
        return None
    if bad_id is not None:
        return None
    rid = body["id"] if body.get("id") is not None else new_id()
    web.authz.claim_owner(scope, doc)
    _stamp(scope.entity, doc, scope.tenant, created=True)
    doc = {"id": rid, **doc}
    local: list[dict[str, Any]] = []
    try:
        await _check_relations(conn, web.db, scope, doc, rid, local)
    except ApiError as exc:
        if pointer and exc.errors:
            exc.errors = [{**e, "field": pointer + e["field"]} for e in exc.errors]
        raise
    errors.extend({**e, "field": pointer + e["field"]} for e in local)
    if local:
        return None
    now = now_ms()
    params = {"t": scope.tenant, "p": scope.entity.package, "e": scope.entity.slug, "id": rid,
              "d": _dump(web.db, doc), "by": scope.principal.user_id, "now": now}
    exists = (await conn.execute(_ROW, params)).first()
    if exists is not None:
        raise ApiError(409, f"a record with id {rid!r} exists", code="CONFLICT")
    await conn.execute(_INSERT[web.db.dialect], params)
    await audit.record(conn, tenant=scope.tenant, actor=scope.principal.user_id, action="create",
                       target=_target(scope, rid), after=_visible(scope.entity, doc))
    return doc


async def import_csv(request: Request, web: Any, scope: Scope) -> Response:
    """POST with `Content-Type: text/csv`: every row is created, or none is; the 422 lists each row's errors
    with its `row` (1 = the first line after the header) and `field`."""
    docs, errors = decode_rows(scope.entity, await request.body())
    created: list[dict[str, Any]] = []
    async with web.db.write() as conn:
        for doc in docs:
            row = doc.pop("__row", None)
            if row is None or any(e.get("row") == row for e in errors):
                continue
            local: list[dict[str, Any]] = []
            try:
                new = await _insert(conn, web, scope, doc, "", local)
            except ApiError as exc:
                if exc.status != 409:
                    raise
                local.extend([{**e, "code": "conflict", "message": exc.detail} for e in exc.errors or []]
                             or [{"field": "/id", "code": "conflict", "message": exc.detail}])
                new = None
            errors.extend({"row": row, **e} for e in local)
            if new is not None:
                created.append(new)
        if errors:
            await conn.rollback()  # all or nothing
            errors.sort(key=lambda e: (e["row"], e["field"]))
            raise ApiError(422, f"{len({e['row'] for e in errors})} row(s) failed validation; nothing was imported",
                           errors=errors)
    for doc in created:
        web.webhooks.emit(scope.tenant, "record.created", {"target": _target(scope, doc["id"]),
                                                           "record": _visible(scope.entity, doc)})
    return json_response({"data": [_visible(scope.entity, d) for d in created], "imported": len(created)},
                         status=201)


async def create_record(request: Request) -> Response:
    web = request.app.state.mb
    scope = await _scope(request, "create")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == CSV_TYPE:
        return await import_csv(request, web, scope)
    body = await _body(request)
    bulk = isinstance(body, list)
    if bulk and not 0 < len(body) <= MAX_BULK:
        raise ApiError(422, f"a bulk create takes 1..{MAX_BULK} records", errors=[])
    errors: list[dict[str, Any]] = []
    created: list[dict[str, Any]] = []
    async with web.db.write() as conn:
        for i, item in enumerate(body if bulk else [body]):
            if not isinstance(item, dict):
                errors.append({"field": f"/{i}" if bulk else "", "code": "type", "message": "must be an object"})
                continue
            doc = await _insert(conn, web, scope, item, f"/{i}" if bulk else "", errors)
            if doc is not None:
                created.append(doc)
        if errors:
            await conn.rollback()  # all or nothing
            _raise_errors(errors)
    for doc in created:
        web.webhooks.emit(scope.tenant, "record.created", {"target": _target(scope, doc["id"]),
                                                           "record": _visible(scope.entity, doc)})
    if bulk:
        return json_response({"data": [_visible(scope.entity, d) for d in created]}, status=201)
    doc = created[0]
    return json_response(_visible(scope.entity, doc), status=201,
                         headers={"Location": f"{request.url.path.rstrip('/')}/{doc['id']}", "ETag": etag(1)})


class _Raced(Exception):
    """The row changed between reading it and writing it: another writer committed in between."""


async def update_record(request: Request) -> Response:
    """PATCH/PUT. The row is read, merged and written back only if its version is still the one read (the
    server's own check against lost updates); on PostgreSQL it is also locked for the transaction, so
    concurrent writers of one record queue instead of racing. A client that sent no If-Match never sees that
    check: a lost race is retried (UPDATE_ATTEMPTS times), and only If-Match turns a changed version into 412."""
    web = request.app.state.mb
    scope = await _scope(request, "update")
    rid = _path_id(request)
    body = await _body(request)
    partial = request.method == "PATCH"
    doc = validate_body(scope.entity, body, partial=partial)
    match = request.headers.get("if-match")
    for attempt in range(UPDATE_ATTEMPTS):
        try:
            async with web.db.write() as conn:
                new, version = await _update_once(conn, web, scope, rid, doc, partial, match)
            break
        except _Raced:
            if match is not None:
                raise ApiError(412, "the record changed while updating it") from None
            if attempt == UPDATE_ATTEMPTS - 1:
                raise ApiError(409, "the record is being changed by others; try again",
                               headers={"Retry-After": "1"}) from None
    web.webhooks.emit(scope.tenant, "record.updated", {"target": _target(scope, rid),
                                                       "record": _visible(scope.entity, new)})
    return json_response(_visible(scope.entity, new), headers={"ETag": etag(version)})


async def _update_once(conn: Any, web: Any, scope: Scope, rid: str, doc: dict[str, Any], partial: bool,
                       match: str | None) -> tuple[dict[str, Any], int]:
    """One read-merge-write in one transaction; the new document and its version, or _Raced."""
    key = {"t": scope.tenant, "p": scope.entity.package, "e": scope.entity.slug, "id": rid}
    row = (await conn.execute(_ROW_FOR_UPDATE[web.db.dialect], key)).first()
    if row is None:
        raise ApiError(404, "no such record")
    old = _loads(row.data)
    web.authz.check_row(scope, old, row.created_by)
    if match is not None and match.strip() != "*" and etag(row.version) not in [m.strip() for m in match.split(",")]:
        raise ApiError(412, "the record changed since you read it (ETag mismatch)",
                       headers={"ETag": etag(row.version)})
    if partial:
        new = {**old, **doc}
    else:
        # A replacement keeps what the server manages: ids, tenant, creation time and the row's owner.
        owners = {f for a in scope.entity.acl.values() for f in (a.owner_field, *(c.owner_field for c in a.conditions))
                  if f}
        kept = {f.name: old[f.name] for f in scope.entity.fields if f.name in old and (
            f.generated or f.primary or f.name in ("tenantId", "createdAt", "created_at") or f.name in owners)}
        new = {**kept, **doc}
    new["id"] = rid
    if scope.owner_field and owner_of(scope.owner_field, new, row.created_by) != scope.principal.user_id:
        raise ApiError(403, f"{scope.owner_field} must stay your own id")
    if scope.rows and not scope.admits(new, row.created_by):
        raise ApiError(403, f"the record must stay one you may {scope.op}")
    _stamp(scope.entity, new, scope.tenant, created=False)
    errors: list[dict[str, Any]] = []
    await _check_relations(conn, web.db, scope, new, rid, errors,
                           changed={k for k in new if new.get(k) != old.get(k)})
    _raise_errors(errors)
    result = await conn.execute(_UPDATE[web.db.dialect], {**key, "d": _dump(web.db, new), "now": now_ms(), "v": row.version})
    if result.rowcount != 1:
        raise _Raced()
    await audit.record(conn, tenant=scope.tenant, actor=scope.principal.user_id, action="update",
                       target=_target(scope, rid), before=_visible(scope.entity, old),
                       after=_visible(scope.entity, new))
    return new, row.version + 1


async def _delete_one(conn: Any, web: Any, scope: Scope, rid: str, if_match: str | None) -> dict[str, Any]:
    key = {"t": scope.tenant, "p": scope.entity.package, "e": scope.entity.slug, "id": rid}
    row = (await conn.execute(_ROW, key)).first()
    if row is None:
        raise ApiError(404, f"no record {rid!r}")
    old = _loads(row.data)
    web.authz.check_row(scope, old, row.created_by)
    if if_match is not None and if_match.strip() != "*" and etag(row.version) not in if_match.split(","):
        raise ApiError(412, "the record changed since you read it (ETag mismatch)")
    await conn.execute(_DELETE, key)
    await audit.record(conn, tenant=scope.tenant, actor=scope.principal.user_id, action="delete",
                       target=_target(scope, rid), before=_visible(scope.entity, old))
    return old


async def delete_record(request: Request) -> Response:
    web = request.app.state.mb
    scope = await _scope(request, "delete")
    rid = _path_id(request)
    async with web.db.write() as conn:
        await _delete_one(conn, web, scope, rid, request.headers.get("if-match"))
    web.webhooks.emit(scope.tenant, "record.deleted", {"target": _target(scope, rid)})
    return Response(status_code=204)


async def bulk_delete(request: Request) -> Response:
    """DELETE on the collection with {"ids": [...]}: all or nothing."""
    web = request.app.state.mb
    scope = await _scope(request, "delete")
    body = await _body(request)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 0 < len(ids) <= MAX_BULK or not all(isinstance(i, str) for i in ids):
        raise ApiError(422, f'send {{"ids": [...]}} with 1..{MAX_BULK} ids',
                       errors=[{"field": "/ids", "code": "type", "message": "must be a list of ids"}])
    _raise_errors([e for i, rid in enumerate(ids) if (e := id_error(rid, f"/ids/{i}")) is not None])
    async with web.db.write() as conn:
        for rid in dict.fromkeys(ids):
            await _delete_one(conn, web, scope, rid, None)
    for rid in dict.fromkeys(ids):
        web.webhooks.emit(scope.tenant, "record.deleted", {"target": _target(scope, rid)})
    return json_response({"deleted": len(dict.fromkeys(ids))})


async def collection(request: Request) -> Response:
    if request.method == "POST":
        return await create_record(request)
    if request.method == "DELETE":
        return await bulk_delete(request)
    return await list_records(request)


async def item(request: Request) -> Response:
    if request.method in ("PATCH", "PUT"):
        return await update_record(request)
    if request.method == "DELETE":
        return await delete_record(request)
    return await get_record(request)


# One Route per path so that a 405 names every allowed method.
routes = [
    Route("/{tenant}/_audit", audit.list_entries, methods=["GET"]),
    Route("/{tenant}/{package}/{entity}", collection, methods=["GET", "POST", "DELETE"]),
    Route("/{tenant}/{package}/{entity}/{id}", item, methods=["GET", "PATCH", "PUT", "DELETE"]),
]
