"""The fixed (non-entity) operations of the OpenAPI document: auth, media, revalidate, audit log."""
from __future__ import annotations

from typing import Any

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problems(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "problem", "content": {"application/problem+json": {"schema": PROBLEM}}}
            for c in codes}


def _form_problems(*codes: int) -> dict[str, Any]:
    """Problems of an endpoint that HTML forms post to: JSON clients get problem+json, forms a short page."""
    out = _problems(*codes)
    for entry in out.values():
        entry["content"]["text/html"] = {"schema": {"type": "string"}}
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


ME = {"type": "object", "required": ["tenant", "username", "role", "level"], "properties": {
    "tenant": {"type": "string"}, "username": {"type": "string"}, "role": {"type": "string"},
    "level": {"type": "integer", "minimum": 0, "maximum": 5}, "csrfToken": {"type": ["string", "null"]},
    "token": {"type": "string"}}}
ASSET = {"type": "object", "required": ["id", "contentType", "size", "url"], "properties": {
    "id": {"type": "string"}, "tenant": {"type": "string"}, "sha256": {"type": "string"},
    "filename": {"type": "string"},
    "contentType": {"type": "string"}, "size": {"type": "integer"}, "width": {"type": ["integer", "null"]},
    "height": {"type": ["integer", "null"]}, "createdBy": {"type": ["string", "null"]},
    "createdAt": {"type": "integer"}, "url": {"type": "string"}}}
CREDENTIALS = {"type": "object", "required": ["tenant", "username", "password"], "properties": {
    "tenant": {"type": "string"}, "username": {"type": "string"}, "password": {"type": "string"},
    "next": {"type": "string", "description": "forms: the local page to go to afterwards"}}}


def fixed_paths(tenant_param: dict[str, Any]) -> dict[str, Any]:
    media_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/api/auth/login": {"post": {
            "tags": ["auth"], "summary": "Sign in (JSON or form); sets the session cookie",
            "description": "A form sign-in needs `Sec-Fetch-Site: same-origin` or an `Origin` equal to the Host "
                           "(login CSRF); a request that says it comes from another site is 403.",
            "parameters": [{"name": "token", "in": "query", "schema": {"type": "string", "enum": ["1"]},
                            "description": "also return the session token for Bearer use"}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": CREDENTIALS},
                "application/x-www-form-urlencoded": {"schema": CREDENTIALS}}},
            "responses": {"200": {"description": "signed in", **_json(ME)},
                          "303": {"description": "signed in from an HTML form: on to `next` (a local path) or /"},
                          **_form_problems(400, 401, 403, 413, 415, 422, 429)}}},
        "/api/auth/logout": {"post": {"tags": ["auth"], "summary": "Sign out (JSON clients send X-CSRF-Token; an "
                                      "HTML form must come from the same origin)",
                                      "responses": {"204": {"description": "signed out"},
                                                    "303": {"description": "signed out from an HTML form"},
                                                    **_problems(403, 429)}}},
        "/api/auth/me": {"get": {"tags": ["auth"], "summary": "The signed-in user",
                                 "responses": {"200": {"description": "the user", **_json(ME)},
                                               **_problems(401, 429)}}},
        "/api/media/{tenant}": {
            "parameters": [tenant_param],
            "get": {"tags": ["media"], "summary": "List the tenant's media (members)",
                    "responses": {"200": {"description": "assets", **_json(
                        {"type": "object", "properties": {"data": {"type": "array", "items": ASSET}}})},
                        **_problems(401, 403, 404, 429)}},
            "post": {"tags": ["media"], "summary": "Upload (multipart, part `file`; png, jpeg, gif, webp, pdf)",
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "required": ["file"],
                         "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                     "responses": {"201": {"description": "stored", **_json(ASSET)},
                                   "200": {"description": "already stored", **_json(ASSET)},
                                   **_problems(400, 401, 403, 404, 413, 415, 422, 429)}}},
        "/api/media/{tenant}/{id}": {
            "parameters": [tenant_param, media_id],
            "get": {"tags": ["media"], "summary": "The bytes (immutable; Range supported)",
                    "responses": {"200": {"description": "the file", "content": {"*/*": {}}},
                                  "206": {"description": "a range", "content": {"*/*": {}}},
                                  **_problems(404, 416, 429)}},
            "delete": {"tags": ["media"], "summary": "Delete (uploader or admin)",
                       "responses": {"204": {"description": "deleted"}, **_problems(401, 403, 404, 429)}}},
        "/api/revalidate": {"post": {
            "tags": ["build"], "summary": "Queue an on-demand regeneration (Bearer revalidate secret)",
            "requestBody": {"required": True, **_json({"type": "object", "properties": {
                "tenant": {"type": "string"}, "path": {"type": "string"}, "tag": {"type": "string"}}})},
            "responses": {"202": {"description": "queued", **_json({"type": "object"})},
                          **_problems(400, 401, 404, 413, 415, 422, 429)}}},
        "/api/v1/{tenant}/_audit": {
            "parameters": [tenant_param],
            "get": {"tags": ["audit"], "summary": "The tenant's audit log, newest first (admins)",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                               "maximum": 500}},
                                   {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                                   {"name": "target", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "entries", **_json({"type": "object"})},
                                  **_problems(400, 401, 403, 404, 429)}}},
    }
