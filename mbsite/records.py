"""Entity queries declared by pages (params.data, front matter data) → lists of record documents."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Engine, text

from .entities import snake_case
from .errors import DataError, Location


@dataclass(frozen=True)
class Query:
    """A declared query: {package, entity, filter, sort, limit}."""

    tenant: str
    package: str
    entity: str
    filter: str = "{}"          # JSON text, so the query is hashable
    sort: str = ""
    limit: int | None = None

    @classmethod
    def parse(cls, tenant: str, spec: Any, where: Location) -> "Query":
        if isinstance(spec, str):  # "shop.product"
            spec = {"entity": spec}
        if not isinstance(spec, dict):
            raise DataError("a data query must be a mapping {package, entity, filter, sort, limit}", where)
        entity = str(spec.get("entity") or "")
        package = str(spec.get("package") or "")
        if "." in entity and not package:
            package, entity = entity.split(".", 1)
        if not package or not entity:
            raise DataError("a data query needs 'package' and 'entity'", where)
        entity = snake_case(entity)  # records are stored under the entity's snake_case name (Product → product)
        flt = spec.get("filter") or {}
        if not isinstance(flt, dict):
            raise DataError("query 'filter' must be a mapping of field → value", where)
        limit = spec.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise DataError("query 'limit' must be a non-negative integer", where)
        return cls(tenant, package, entity, json.dumps(flt, sort_keys=True, default=str), str(spec.get("sort") or ""),
                   limit)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))


def _document(data: str) -> Any:
    """A stored record's JSON (orjson, several times faster; the json module for what orjson refuses, such as
    NaN or integers beyond 64 bits)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class RecordStore:
    """Reads entity records once per (tenant, package, entity) and answers declared queries from memory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tables: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._by_field: dict[tuple[str, str, str, str], dict[Any, list[dict[str, Any]]]] = {}

    def all(self, tenant: str, package: str, entity: str) -> list[dict[str, Any]]:
        key = (tenant, package, entity)
        if key not in self._tables:
            with self.engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT id, data, created_at, updated_at FROM entity_records "
                    "WHERE tenant = :t AND package = :p AND entity = :e ORDER BY created_at, id"),
                    {"t": tenant, "p": package, "e": entity}).all()
            docs = []
            for rid, data, created, updated in rows:
                doc = _document(data) if isinstance(data, str) else dict(data or {})
                doc.setdefault("id", rid)
                doc.setdefault("createdAt", created)
                doc.setdefault("updatedAt", updated)
                docs.append(doc)
            self._tables[key] = docs
        return self._tables[key]

    def forget(self, tenant: str, package: str, entity: str) -> list[dict[str, Any]]:
        """Drop the cached records of one entity (they changed); returns what was cached."""
        for key in [k for k in self._by_field if k[:3] == (tenant, package, entity)]:
            del self._by_field[key]
        return self._tables.pop((tenant, package, entity), [])

    def _candidates(self, q: Query, field: str, value: Any) -> list[dict[str, Any]]:
        """Records whose `field` equals a scalar `value`, through a lazily built index (filters are mostly eq)."""
        key = (q.tenant, q.package, q.entity, field)
        index = self._by_field.get(key)
        if index is None:
            index = {}
            for d in self.all(q.tenant, q.package, q.entity):
                v = d.get(field)
                try:
                    index.setdefault(v, []).append(d)
                except TypeError:  # unhashable values (lists, objects) never equal a scalar filter value
                    pass
            self._by_field[key] = index
        return index.get(value, [])

    def run(self, q: Query) -> list[dict[str, Any]]:
        flt = _parse_filter(q.filter)
        scalar = next(((k, v) for k, v in flt.items() if isinstance(v, (str, int, float, bool)) or v is None), None)
        if scalar is not None:
            docs = self._candidates(q, scalar[0], scalar[1])
        else:
            docs = self.all(q.tenant, q.package, q.entity)
        if flt:
            docs = [d for d in docs if all(matches(d.get(k), v) for k, v in flt.items())]
        for field in reversed([f for f in q.sort.split(",") if f.strip()]):
            field = field.strip()
            desc = field.startswith("-")
            name = field.lstrip("-+")
            docs = sorted(docs, key=lambda d: _sort_key(d.get(name)), reverse=desc)
        if q.limit is not None:
            docs = docs[: q.limit]
        return docs


@lru_cache(maxsize=4096)
def _parse_filter_cached(text: str) -> tuple[tuple[str, Any], ...]:
    return tuple(json.loads(text).items())


def _parse_filter(text: str) -> dict[str, Any]:
    return dict(_parse_filter_cached(text))


def matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return value in wanted
    return bool(value == wanted)
