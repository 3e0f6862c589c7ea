"""Entity registry + tenants → the OpenAPI 3.1 document (/api/v1/openapi.json) and a local HTML reference (/api/v1/docs)."""
from __future__ import annotations

import html
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..entities import Entity, Field
from .query import MAX_LIMIT, OPERATORS
from .toolpages import STYLESHEET_URL, shell, stylesheet

PROBLEM = {"$ref": "#/components/schemas/Problem"}
_KIND_TYPES = {"string": "string", "email": "string", "url": "string", "integer": "integer", "number": "number",
               "boolean": "boolean", "object": "object", "array": "array"}


def field_schema(f: Field, *, strict: bool) -> dict[str, Any]:
    """JSON Schema of one field; `strict` for request bodies, lenient (nullable, open) for responses."""
    s: dict[str, Any] = {}
    if f.enum is not None:
        s["enum"] = list(f.enum) + ([None] if not strict or f.nullable else [])
    elif f.kind == "datetime":
        s["anyOf"] = [{"type": "string", "format": "date-time"}, {"type": "integer"}]
    elif f.kind in _KIND_TYPES:
        t = _KIND_TYPES[f.kind]
        s["type"] = [t, "null"] if (f.nullable or not strict) else t
    if strict:
        if f.kind == "email":
            s["format"] = "email"
        if f.kind == "url":
            s["format"] = "uri"
            s["pattern"] = "^https?://"
        if f.min_length is not None:
            s["minItems" if f.kind == "array" else "minLength"] = f.min_length
        if f.max_length is not None:
            s["maxItems" if f.kind == "array" else "maxLength"] = f.max_length
        if f.pattern:
            s["pattern"] = f.pattern
        if f.minimum is not None:
            s["minimum"] = f.minimum
        if f.maximum is not None:
            s["maximum"] = f.maximum
        if f.kind == "object" and f.fields:
            s.update(object_schema(f.fields, strict=True))
            s["type"] = ["object", "null"] if f.nullable else "object"
        if f.kind == "array" and f.items is not None:
            s["items"] = field_schema(f.items, strict=True)
    if f.description:
        s["description"] = f.description
    return s


def object_schema(fields: tuple[Field, ...], *, strict: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "object", "properties": {f.name: field_schema(f, strict=strict) for f in fields}}
    if strict:
        s["additionalProperties"] = False
        required = [f.name for f in fields if f.required and not f.has_default]
        if required:
            s["required"] = required
    return s


def _name(e: Entity) -> str:
    return f"{e.package}_{e.name}"


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    out = dict(ok)
    for code in (400, 401, 403, 404, 429, *codes):
        out[str(code)] = {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}}
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def entity_paths(e: Entity, tenant_param: dict[str, Any]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{_name(e)}"}
    inp = {"$ref": f"#/components/schemas/{_name(e)}Input"}
    idp = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_.:~-]{1,64}$"}}
    etag = {"ETag": {"schema": {"type": "string"}}}
    list_params = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "nextCursor of the previous page"},
        {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": "fields, `-` for descending: a,-b"},
        {"name": "fields", "in": "query", "schema": {"type": "string"}, "description": "comma-separated field selection"},
        {"name": "count", "in": "query", "schema": {"type": "boolean"}, "description": "include page.total"},
        {"name": "filter", "in": "query", "schema": {"type": "string"},
         "description": "JSON object {field: value | {op: value}}; ops: " + ", ".join(OPERATORS)},
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]},
         "description": "csv: every matching row as text/csv (also `Accept: text/csv`); limit/offset apply only "
                        "when given"},
    ]
    page = {"type": "object", "required": ["data", "page"], "properties": {
        "data": {"type": "array", "items": ref},
        "page": {"type": "object", "properties": {"limit": {"type": "integer"}, "offset": {"type": "integer"},
                                                  "nextCursor": {"type": ["string", "null"]},
                                                  "total": {"type": "integer"}}}}}
    base = f"/api/v1/{{tenant}}/{e.package}/{e.slug}"
    tag = [f"{e.package}.{e.name}"]
    return {
        base: {
            "parameters": [tenant_param],
            "get": {"tags": tag, "summary": f"List {e.name}", "parameters": list_params,
                    "responses": _responses({"200": {"description": "a page (or the CSV)", "content": {
                        "application/json": {"schema": page}, "text/csv": {"schema": {"type": "string"}}}}})},
            "post": {"tags": tag, "summary": f"Create {e.name} (an array creates in bulk)",
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": {"oneOf": [inp, {"type": "array", "items": inp,
                                                                          "minItems": 1, "maxItems": 500}]}},
                         "text/csv": {"schema": {"type": "string"}, "description": "a header line of field names, "
                                      "then one record per line: all rows are imported, or none (422 with row numbers)"}}},
                     "responses": _responses({"201": {"description": "created", **_json(
                         {"anyOf": [ref, {"type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": ref}}}]})}},
                         409, 413, 415, 422)},
            "delete": {"tags": tag, "summary": f"Delete several {e.name} (all or nothing)",
                       "requestBody": {"required": True, **_json({"type": "object", "required": ["ids"], "properties": {
                           "ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 500}}})},
                       "responses": _responses({"200": {"description": "deleted", **_json(
                           {"type": "object", "properties": {"deleted": {"type": "integer"}}})}}, 413, 415, 422)},
        },
        base + "/{id}": {
            "parameters": [tenant_param, idp],
            "get": {"tags": tag, "summary": f"Read one {e.name}",
                    "responses": _responses({"200": {"description": "the record", "headers": etag, **_json(ref)},
                                             "304": {"description": "not modified"}})},
            "patch": {"tags": tag, "summary": "Partial update (If-Match honoured)",
                      "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}}],
                      "requestBody": {"required": True, **_json({"$ref": f"#/components/schemas/{_name(e)}Patch"})},
                      "responses": _responses({"200": {"description": "updated", "headers": etag, **_json(ref)}},
                                              412, 413, 415, 422)},
            "put": {"tags": tag, "summary": "Full update (If-Match honoured)",
                    "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}}],
                    "requestBody": {"required": True, **_json(inp)},
                    "responses": _responses({"200": {"description": "updated", "headers": etag, **_json(ref)}},
                                            412, 413, 415, 422)},
            "delete": {"tags": tag, "summary": f"Delete one {e.name}",
                       "responses": _responses({"204": {"description": "deleted"}}, 412)},
        },
    }


PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "code", "detail"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "code": {"type": "string"}, "detail": {"type": "string"}, "instance": {"type": "string"},
                   "errors": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"],
                                                          "properties": {"field": {"type": "string"},
                                                                         "code": {"type": "string"},
                                                                         "message": {"type": "string"}}}}},
}


def build_document(entities: list[Entity], tenants: list[str], title: str) -> dict[str, Any]:
    tenant_param = {"name": "tenant", "in": "path", "required": True,
                    "schema": {"type": "string", **({"enum": tenants} if tenants else {})}}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    for e in sorted(entities, key=lambda x: (x.package, x.name)):
        visible = tuple(f for f in e.fields if f.name not in e.hidden)
        read = object_schema(visible, strict=False)
        read["properties"]["id"] = {"type": "string"}
        read["required"] = ["id"]
        schemas[_name(e)] = read
        create = object_schema(e.writable, strict=True)
        if not e.generates_id:  # a client may choose the id of a new record (else the server ignores it)
            create["properties"] = {"id": {"type": "string", "pattern": r"^[A-Za-z0-9_.:~-]{1,64}$"},
                                    **create["properties"]}
        schemas[_name(e) + "Input"] = create
        patch = object_schema(e.writable, strict=True)
        patch.pop("required", None)
        schemas[_name(e) + "Patch"] = patch
        paths.update(entity_paths(e, tenant_param))
    from .openapi_extra import fixed_paths  # auth, media, revalidate, audit
    from .openapi_manage import manage_paths  # pages, packages, users, settings, schemas, tenants

    paths.update(fixed_paths(tenant_param))
    paths.update(manage_paths(tenant_param))
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} API", "version": "1",
                 "description": "Schema-driven CRUD over the site's entities. Errors are application/problem+json."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "mb_session"},
            "bearer": {"type": "http", "scheme": "bearer", "description": "the session token from login?token=1"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                     "description": "required with the cookie on writes"}}},
        "security": [{}, {"bearer": []}, {"session": [], "csrf": []}],
    }


async def document(request: Request) -> Response:
    web = request.app.state.mb
    cached = web.openapi_cache.get("json")
    if cached is None:
        if web.directory.stale:
            async with web.db.read() as conn:
                await web.directory.refresh(conn)
        doc = build_document(list(web.registry), sorted(web.directory.tenants), web.config.title)
        doc["components"]["securitySchemes"]["session"]["name"] = web.config.session_cookie
        cached = web.openapi_cache["json"] = orjson.dumps(doc)
    return Response(cached, media_type="application/json")


async def reference(request: Request) -> Response:
    """A readable page of the same document in the default theme's look (no scripts or fonts from elsewhere)."""
    await document(request)
    doc = orjson.loads(request.app.state.mb.openapi_cache["json"])
    rows = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            rows.append(f'<tr><td><span class="method method-{method}">{method.upper()}</span></td>'
                        f"<td><code>{html.escape(path)}</code></td><td>{html.escape(op.get('summary', ''))}</td>"
                        f"<td class=\"tool-meta\">{', '.join(sorted(op.get('responses', {})))}</td></tr>")
    schemas = "".join(f"<details id='{html.escape(n)}'><summary><code>{html.escape(n)}</code></summary>"
                      f"<pre>{html.escape(orjson.dumps(s, option=orjson.OPT_INDENT_2).decode())}</pre></details>"
                      for n, s in doc["components"]["schemas"].items())
    title = doc["info"]["title"]
    body = (f"<h1>{html.escape(title)}</h1><p class=\"lead\">{html.escape(doc['info']['description'])} "
            "Machine-readable: <a href='/api/v1/openapi.json'>openapi.json</a>.</p>"
            '<h2>Operations</h2><table class="tool-table"><thead><tr><th>Method</th><th>Path</th><th>What</th>'
            f"<th>Answers</th></tr></thead><tbody>{''.join(rows)}</tbody></table><h2>Schemas</h2>{schemas}")
    nav = [("/api/v1/docs", "API reference"), ("/api/v1/openapi.json", "openapi.json")]
    return HTMLResponse(shell(title, body, nav=nav, brand=request.app.state.mb.config.title, current="/api/v1/docs"))


routes = [
    Route("/api/v1/openapi.json", document, methods=["GET"]),
    Route("/api/v1/docs", reference, methods=["GET"]),
    Route(STYLESHEET_URL, stylesheet, methods=["GET"]),
]
