"""The management operations of the OpenAPI document: _pages, _packages, _users, _settings, _schemas, _tenants."""
from __future__ import annotations

from typing import Any

PROBLEM: dict[str, Any] = {"$ref": "#/components/schemas/Problem"}
READ_PROBLEMS = (400, 401, 403, 404, 429)
WRITE_PROBLEMS = (400, 401, 403, 404, 409, 412, 413, 415, 422, 429)
ETAG: dict[str, Any] = {"ETag": {"schema": {"type": "string"}}}
IF_MATCH: dict[str, Any] = {"name": "If-Match", "in": "header", "schema": {"type": "string"},
            "description": "the ETag read; another version is 412"}
FORMAT: dict[str, Any] = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]},
          "description": "csv: the list as text/csv (also `Accept: text/csv`)"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
JSON_OBJECT: dict[str, Any] = {"type": ["object", "null"]}
STR: dict[str, Any] = {"type": "string"}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}

PAGE_INPUT: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "string", "pattern": r"^[A-Za-z0-9_.:~-]{1,64}$"},
    "path": {"type": "string", "maxLength": 255, "description": "page path; checked by the one path rule"},
    "title": {"type": "string", "maxLength": 255}, "description": NULLABLE_STR, "icon": NULLABLE_STR,
    "package": NULLABLE_STR, "component": NULLABLE_STR, "componentTree": JSON_OBJECT,
    "level": {"type": "integer", "minimum": 0, "maximum": 5}, "requiresAuth": {"type": "boolean"},
    "published": {"type": "boolean"}, "sortOrder": {"type": "integer"}, "params": JSON_OBJECT, "meta": JSON_OBJECT,
    "revalidate": {"type": ["integer", "null"], "minimum": 0}, "tags": {"type": ["array", "null"], "items": STR}}}
PAGE: dict[str, Any] = {"type": "object", "required": ["id", "path", "previewUrl"],
        "properties": {**PAGE_INPUT["properties"], "previewUrl": STR, "publicUrl": STR,
                       "createdAt": {"type": "integer"}, "updatedAt": {"type": "integer"}}}
PACKAGE_INPUT: dict[str, Any] = {"type": "object", "properties": {
    "package": STR, "enabled": {"type": "boolean"}, "version": {"type": "string", "maxLength": 32},
    "config": JSON_OBJECT, "sortOrder": {"type": "integer"}}}
PACKAGE: dict[str, Any] = {"type": "object", "required": ["package", "enabled"], "properties": {
    **PACKAGE_INPUT["properties"], "name": STR, "availableVersion": NULLABLE_STR,
    "dependencies": {"type": "array", "items": STR}, "available": {"type": "boolean"}}}
ROLE: dict[str, Any] = {"type": "string", "enum": ["user", "moderator", "admin", "god", "supergod"]}
USER: dict[str, Any] = {"type": "object", "required": ["id", "username", "role", "level", "disabled"], "properties": {
    "id": STR, "username": STR, "email": NULLABLE_STR, "role": STR, "level": {"type": "integer"},
    "disabled": {"type": "boolean"}, "createdAt": {"type": "integer"}}}
RESET: dict[str, Any] = {"type": "object", "required": ["token", "expiresAt"], "properties": {
    "token": STR, "expiresAt": {"type": "integer"}, "redeem": STR}}
TENANT_INPUT: dict[str, Any] = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "domains": {"type": "array", "items": STR},
    "settings": ANY_OBJECT}}
TENANT: dict[str, Any] = {"type": "object", "required": ["slug", "name", "domains", "settings"], "properties": {
    "slug": STR, **TENANT_INPUT["properties"], "createdAt": {"type": "integer"}}}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}}
            for c in codes}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, **_json(schema)}


def _list(tag: str, summary: str, item: dict[str, Any], csv: bool = True) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {
        "type": "object", "required": ["data"], "properties": {"data": {"type": "array", "items": item}}}}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"tags": [tag], "summary": summary, "parameters": [FORMAT] if csv else [],
            "responses": {"200": {"description": "the list", "content": content}, **_problems(*READ_PROBLEMS)}}


def _read(tag: str, summary: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"tags": [tag], "summary": summary,
            "responses": {"200": {"description": "the row", "headers": ETAG, **_json(schema)},
                          "304": {"description": "not modified"}, **_problems(*READ_PROBLEMS)}}


def _create(tag: str, summary: str, body: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {"tags": [tag], "summary": summary, "requestBody": _body(body),
            "responses": {"201": {"description": "created", "headers": ETAG, **_json(schema)},
                          **_problems(*WRITE_PROBLEMS)}}


def _patch(tag: str, summary: str, body: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {"tags": [tag], "summary": summary, "parameters": [IF_MATCH], "requestBody": _body(body),
            "responses": {"200": {"description": "updated", "headers": ETAG, **_json(schema)},
                          **_problems(*WRITE_PROBLEMS)}}


def _delete(tag: str, summary: str) -> dict[str, Any]:
    return {"tags": [tag], "summary": summary, "parameters": [IF_MATCH],
            "responses": {"204": {"description": "deleted"}, **_problems(*WRITE_PROBLEMS)}}


def manage_paths(tenant_param: dict[str, Any]) -> dict[str, Any]:
    def path_param(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}

    t = [tenant_param]
    return {
        "/api/v1/{tenant}/_pages": {
            "parameters": t,
            "get": _list("manage", "Page configs of the tenant (admins)", PAGE),
            "post": _create("manage", "Create a page config (409 names the source that has the path)", PAGE_INPUT,
                            PAGE)},
        "/api/v1/{tenant}/_pages/{id}": {
            "parameters": [*t, path_param("id")],
            "get": _read("manage", "One page config", PAGE),
            "patch": _patch("manage", "Change a page config", PAGE_INPUT, PAGE),
            "delete": _delete("manage", "Delete a page config")},
        "/api/v1/{tenant}/_packages": {
            "parameters": t,
            "get": {**_list("manage", "Installed packages (available=true adds the site's other packages)", PACKAGE),
                    "parameters": [FORMAT, {"name": "available", "in": "query",
                                            "schema": {"type": "string", "enum": ["true", "false"]}}]},
            "post": _create("manage", "Install a package (its dependencies must be installed and enabled)",
                            {**PACKAGE_INPUT, "required": ["package"]}, PACKAGE)},
        "/api/v1/{tenant}/_packages/{package}": {
            "parameters": [*t, path_param("package")],
            "get": _read("manage", "One installed package", PACKAGE),
            "patch": _patch("manage", "Enable/disable, version, config, sort order", PACKAGE_INPUT, PACKAGE),
            "delete": _delete("manage", "Uninstall (409 while enabled packages depend on it)")},
        "/api/v1/{tenant}/_users": {
            "parameters": t,
            "get": _list("manage", "Users of the tenant", USER),
            "post": _create("manage", "Create a user (no role above your own; without a password, a one-time "
                            "setup token is returned)", {"type": "object", "required": ["username"], "properties": {
                                "username": STR, "email": NULLABLE_STR, "role": ROLE, "password": STR}},
                            {**USER, "properties": {**USER["properties"], "passwordReset": RESET}})},
        "/api/v1/{tenant}/_users/{id}": {
            "parameters": [*t, path_param("id")],
            "get": _read("manage", "One user", USER),
            "patch": _patch("manage", "Change role (never above your own, never your own), email, disabled",
                            {"type": "object", "properties": {"role": ROLE, "email": NULLABLE_STR,
                                                              "disabled": {"type": "boolean"}}}, USER)},
        "/api/v1/{tenant}/_users/{id}/reset-password": {
            "parameters": [*t, path_param("id")],
            "post": {"tags": ["manage"], "summary": "A one-time password-reset token for the user",
                     "responses": {"201": {"description": "the token (shown once)", **_json(RESET)},
                                   **_problems(*WRITE_PROBLEMS)}}},
        "/api/v1/{tenant}/_settings": {
            "parameters": t,
            "get": _read("manage", "The tenant's name, domains and settings (gods)", TENANT),
            "patch": _patch("manage", "Change name, domains, settings (gods)", TENANT_INPUT, TENANT)},
        "/api/v1/{tenant}/_schemas": {
            "parameters": t,
            "get": _list("manage", "Entity definitions as JSON Schema, as the validator sees them", ANY_OBJECT,
                         csv=False)},
        "/api/v1/{tenant}/_schemas/{package}/{entity}": {
            "parameters": [*t, path_param("package"), path_param("entity")],
            "get": _read("manage", "One entity's JSON Schema", ANY_OBJECT)},
        "/api/v1/_tenants": {
            "get": _list("tenants", "Every tenant (supergods)", TENANT),
            "post": _create("tenants", "Create a tenant (supergods)",
                            {**TENANT_INPUT, "required": ["slug"], "properties": {
                                "slug": STR, **TENANT_INPUT["properties"]}}, TENANT)},
        "/api/v1/_tenants/{slug}": {
            "parameters": [path_param("slug")],
            "get": _read("tenants", "One tenant", TENANT),
            "patch": _patch("tenants", "Change a tenant", TENANT_INPUT, TENANT),
            "delete": _delete("tenants", "Delete a tenant and everything it holds (not your own)")},
        "/api/auth/reset": {
            "post": {"tags": ["auth"], "summary": "Spend a one-time reset token: set the password, end all sessions",
                     "requestBody": _body({"type": "object", "required": ["token", "password"], "properties": {
                         "token": STR, "password": {"type": "string", "minLength": 8}}}),
                     "responses": {"204": {"description": "password set"},
                                   **_problems(400, 403, 413, 415, 422, 429)}}},
    }
