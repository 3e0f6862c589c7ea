"""A request body + an Entity → the document to store, or a 422 listing every field at fault.

Only checks that need no database live here; `unique` and foreign keys are checked by crud.py inside
the write transaction (they need the tenant's rows).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..entities import SERVER_FIELDS, Entity, Field
from .problems import ApiError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
MAX_DEPTH = 8


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None  # an upstream pattern Python cannot compile is not enforced


def _err(errors: list[dict[str, Any]], path: str, code: str, message: str) -> None:
    errors.append({"field": path, "code": code, "message": message})


def check_value(f: Field, value: Any, path: str, errors: list[dict[str, Any]], depth: int = 0) -> None:
    """Append an error for each rule `value` breaks (value is not None here)."""
    kind = f.kind
    if kind in ("string", "email", "url", "enum") and not isinstance(value, str) and f.enum is None:
        _err(errors, path, "type", "must be a string")
        return
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        _err(errors, path, "type", "must be an integer")
        return
    if kind == "number" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        _err(errors, path, "type", "must be a number")
        return
    if kind == "boolean" and not isinstance(value, bool):
        _err(errors, path, "type", "must be a boolean")
        return
    if kind == "datetime" and not (isinstance(value, str) and _DATETIME.match(value)) and \
            not (isinstance(value, int) and not isinstance(value, bool)):
        _err(errors, path, "type", "must be an ISO 8601 date-time or epoch milliseconds")
        return
    if kind == "object" and not isinstance(value, dict):
        _err(errors, path, "type", "must be an object")
        return
    if kind == "array" and not isinstance(value, list):
        _err(errors, path, "type", "must be an array")
        return
    if f.enum is not None and value not in f.enum:
        _err(errors, path, "enum", "must be one of: " + ", ".join(map(str, f.enum)))
    if isinstance(value, str):
        if f.min_length is not None and len(value) < f.min_length:
            _err(errors, path, "minLength", f"must be at least {f.min_length} characters")
        if f.max_length is not None and len(value) > f.max_length:
            _err(errors, path, "maxLength", f"must be at most {f.max_length} characters")
        if f.pattern and (rx := _regex(f.pattern)) is not None and not rx.search(value):
            _err(errors, path, "pattern", f"must match {f.pattern}")
        if kind == "email" and not _EMAIL.match(value):
            _err(errors, path, "format", "must be an email address")
        if kind == "url" and not _URL.match(value):
            _err(errors, path, "format", "must be an http(s) URL")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if f.minimum is not None and value < f.minimum:
            _err(errors, path, "minimum", f"must be ≥ {f.minimum:g}")
        if f.maximum is not None and value > f.maximum:
            _err(errors, path, "maximum", f"must be ≤ {f.maximum:g}")
    if isinstance(value, list):
        if f.min_length is not None and len(value) < f.min_length:
            _err(errors, path, "minItems", f"must have at least {f.min_length} items")
        if f.max_length is not None and len(value) > f.max_length:
            _err(errors, path, "maxItems", f"must have at most {f.max_length} items")
        if f.items is not None and depth < MAX_DEPTH:
            for i, item in enumerate(value):
                if item is None:
                    if not f.items.nullable:
                        _err(errors, f"{path}/{i}", "required", "must not be null")
                else:
                    check_value(f.items, item, f"{path}/{i}", errors, depth + 1)
    if isinstance(value, dict) and f.fields and depth < MAX_DEPTH:
        check_document(f.fields, value, path, errors, partial=False, depth=depth + 1)


def check_document(fields: tuple[Field, ...], doc: dict[str, Any], prefix: str, errors: list[dict[str, Any]],
                   *, partial: bool, depth: int = 0) -> None:
    known = {f.name: f for f in fields}
    for key in doc:
        if key not in known:
            _err(errors, f"{prefix}/{key}", "unknown", "is not a field of this entity")
    for f in fields:
        path = f"{prefix}/{f.name}"
        if f.name not in doc:
            if f.required and not partial and not f.has_default:
                _err(errors, path, "required", "is required")
            continue
        value = doc[f.name]
        if value is None:
            if f.required or not f.nullable:
                _err(errors, path, "required", "must not be null")
            continue
        check_value(f, value, path, errors, depth)


def validate_body(entity: Entity, body: Any, *, partial: bool) -> dict[str, Any]:
    """Check a create/replace (partial=False) or patch (partial=True) body; raise a 422 with every error."""
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object", errors=[{"field": "", "code": "type",
                                                                        "message": "must be an object"}])
    errors: list[dict[str, Any]] = []
    server_set = [f for f in entity.fields if f.generated or f.primary or f.name in SERVER_FIELDS]
    doc = {k: v for k, v in body.items() if k != "id"}
    for f in server_set:
        # Server-managed fields (ids, tenant, timestamps) are ignored rather than rejected, so a client can
        # send back a document it read.
        doc.pop(f.name, None)
    check_document(entity.writable, doc, "", errors, partial=partial)
    if errors:
        raise ApiError(422, f"{len(errors)} field(s) failed validation", errors=errors)
    if not partial:
        for f in entity.writable:
            if f.name not in doc and f.has_default:
                doc[f.name] = f.default
    return doc
