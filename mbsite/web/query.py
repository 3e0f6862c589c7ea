"""List query parameters (filters, sort, limit/offset, cursor, fields) → parameterised SQL on entity_records.

Field names are checked against the entity before they reach SQL; values are always bound parameters.
SQLite reads fields with json_extract (native SQL values); PostgreSQL compares jsonb to jsonb, so numbers
compare as numbers and strings as strings on both.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import orjson

from ..entities import Entity
from .problems import ApiError

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "startsWith", "endsWith",
             "isNull", "isNotNull")
RESERVED = frozenset({"limit", "offset", "cursor", "sort", "fields", "filter", "count", "format"})
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
_CMP = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[Filter, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()     # (field, descending)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    cursor: tuple[Any, ...] | None = None
    fields: tuple[str, ...] | None = None
    count: bool = False


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer", code="INVALID_PARAMETER") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}", code="INVALID_PARAMETER")
    return value


def _coerce(entity: Entity, name: str, raw: Any) -> Any:
    """A query-string value → the field's type (JSON values from `filter=` are kept as they are)."""
    if not isinstance(raw, str):
        return raw
    f = entity.field(name)
    kind = f.kind if f else "string"
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        raise ApiError(400, f"{name}: {raw!r} is not a number", code="INVALID_FILTER") from None
    if kind == "boolean":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ApiError(400, f"{name}: {raw!r} is not a boolean", code="INVALID_FILTER")
    return raw


def _check_field(entity: Entity, name: str, what: str) -> None:
    if name != "id" and (entity.field(name) is None or name in entity.hidden):
        raise ApiError(400, f"unknown {what} field {name!r}", code="INVALID_FIELD")


def _filter(entity: Entity, name: str, op: str, value: Any) -> Filter:
    _check_field(entity, name, "filter")
    if op not in OPERATORS:
        raise ApiError(400, f"unknown filter operator {op!r} (one of {', '.join(OPERATORS)})", code="INVALID_FILTER")
    if op in ("isNull", "isNotNull"):
        return Filter(name, op)
    if op in ("in", "notIn"):
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise ApiError(400, f"{name}[{op}] needs a non-empty list", code="INVALID_FILTER")
        return Filter(name, op, tuple(_coerce(entity, name, v) for v in items))
    if op in ("contains", "startsWith", "endsWith"):
        if not isinstance(value, str):
            raise ApiError(400, f"{name}[{op}] needs a string", code="INVALID_FILTER")
        return Filter(name, op, value)
    if isinstance(value, (dict, list)):
        raise ApiError(400, f"{name}[{op}] needs a scalar", code="INVALID_FILTER")
    return Filter(name, op, _coerce(entity, name, value))


def parse_list_query(entity: Entity, params: Mapping[str, str], items: list[tuple[str, str]]) -> ListQuery:
    """Query string → ListQuery; 400 with a stable code on anything unknown or malformed."""
    filters: list[Filter] = []
    for key, value in items:
        if key in RESERVED:
            continue
        if key.endswith("]") and "[" in key:
            name, op = key[:-1].split("[", 1)
            filters.append(_filter(entity, name, op, value))
        else:
            filters.append(_filter(entity, key, "eq", value))
    if params.get("filter"):
        try:
            spec = orjson.loads(params["filter"])
        except orjson.JSONDecodeError:
            raise ApiError(400, "filter must be a JSON object", code="INVALID_FILTER") from None
        if not isinstance(spec, dict):
            raise ApiError(400, "filter must be a JSON object", code="INVALID_FILTER")
        for name, cond in spec.items():
            if isinstance(cond, dict):
                filters.extend(_filter(entity, name, op, v) for op, v in cond.items())
            else:
                filters.append(_filter(entity, name, "eq", cond))
    sort: list[tuple[str, bool]] = []
    for part in (params.get("sort") or "").split(","):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        name = part.lstrip("-+")
        _check_field(entity, name, "sort")
        sort.append((name, desc))
    fields = None
    if params.get("fields"):
        fields = tuple(f.strip() for f in params["fields"].split(",") if f.strip())
        for name in fields:
            _check_field(entity, name, "selected")
    cursor = decode_cursor(params["cursor"]) if params.get("cursor") else None
    count = (params.get("count") or "").lower() in ("1", "true", "yes")
    return ListQuery(tuple(filters), tuple(sort), int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
                     int_param(params, "offset", 0, 0, 10_000_000), cursor, fields, count)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[Any, ...]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise ApiError(400, "invalid cursor", code="INVALID_CURSOR") from None
    if not isinstance(values, list):
        raise ApiError(400, "invalid cursor", code="INVALID_CURSOR")
    return tuple(values)


@dataclass
class SqlBuilder:
    """Accumulates WHERE clauses and bound parameters for one dialect."""

    dialect: str
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        if self.dialect == "postgresql":
            self.params[name] = orjson.dumps(value).decode()
            return f"CAST(:{name} AS jsonb)"
        self.params[name] = value
        return f":{name}"

    def bind_text(self, value: str) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def expr(self, name: str) -> str:
        """The SQL expression of a field (id is a column; the rest live in the JSON document)."""
        if name == "id":
            return "id"
        if self.dialect == "postgresql":
            # JSON null and a missing key are the same to filters and sorting (as json_extract makes them).
            return f"NULLIF(data->'{name}', 'null'::jsonb)"
        return f"json_extract(data, '$.{name}')"

    def text_expr(self, name: str) -> str:
        if name == "id":
            return "id"
        return f"(data->>'{name}')" if self.dialect == "postgresql" else f"json_extract(data, '$.{name}')"

    def value(self, name: str, v: Any) -> str:
        # The id column is text: bind it as text on both dialects.
        return self.bind_text(str(v)) if name == "id" else self.bind(v)

    def add_filter(self, f: Filter) -> None:
        e = self.expr(f.field)
        if f.op == "isNull":
            self.where.append(f"{e} IS NULL")
        elif f.op == "isNotNull":
            self.where.append(f"{e} IS NOT NULL")
        elif f.op in ("in", "notIn"):
            items = ", ".join(self.value(f.field, v) for v in f.value)
            self.where.append(f"{e} {'IN' if f.op == 'in' else 'NOT IN'} ({items})" if f.op == "in"
                              else f"({e} IS NULL OR {e} NOT IN ({items}))")
        elif f.op in ("contains", "startsWith", "endsWith"):
            t = self.text_expr(f.field)
            p = self.bind_text(f.value)
            if f.op == "contains":
                fn = "strpos" if self.dialect == "postgresql" else "instr"
                self.where.append(f"{fn}({t}, {p}) > 0")
            elif f.op == "startsWith":
                self.where.append(f"substr({t}, 1, length({p})) = {p}")
            else:
                self.where.append(f"length({t}) >= length({p}) AND substr({t}, length({t}) - length({p}) + 1) = {p}")
        elif f.op == "ne":
            self.where.append(f"({e} IS NULL OR {e} <> {self.value(f.field, f.value)})")
        else:
            if f.value is None:
                self.add_filter(Filter(f.field, "isNull"))
                return
            self.where.append(f"{e} {_CMP[f.op]} {self.value(f.field, f.value)}")

    def add_keyset(self, sort: list[tuple[str, bool]], cursor: tuple[Any, ...]) -> None:
        """Rows strictly after the cursor in the order `sort` (nulls last ascending, first descending)."""
        if len(cursor) != len(sort):
            raise ApiError(400, "cursor does not match the sort order", code="INVALID_CURSOR")
        ors: list[str] = []
        equal: list[str] = []
        for (name, desc), v in zip(sort, cursor, strict=False):
            e = self.expr(name)
            null = f"{e} IS NULL"
            if v is None:
                after = None if not desc else f"NOT {null}"
                same = null
            else:
                p = self.value(name, v)
                after = f"(NOT {null} AND {e} {'<' if desc else '>'} {p})"
                if not desc:
                    after = f"({after} OR {null})"
                same = f"{e} = {p}"
            if after is not None:
                ors.append("(" + " AND ".join([*equal, after]) + ")")
            equal.append(same)
        self.where.append("(" + (" OR ".join(ors) or "1 = 0") + ")")

    def order_by(self, sort: list[tuple[str, bool]]) -> str:
        parts = []
        for name, desc in sort:
            e = self.expr(name)
            if name == "id":
                # Never null; a bare column lets the primary key (tenant, package, entity, id) give the order.
                parts.append(f"id {'DESC' if desc else 'ASC'}")
                continue
            null = f"({e} IS NULL)"
            # Put nulls last ascending / first descending on both dialects so cursors agree with the order.
            parts.append(f"{null} {'DESC' if desc else 'ASC'}, {e} {'DESC' if desc else 'ASC'}")
        return ", ".join(parts)


def full_sort(q: ListQuery) -> list[tuple[str, bool]]:
    """The requested sort plus `id` as tie-breaker (default: id ascending), so every order is total."""
    sort = list(q.sort)
    if not any(name == "id" for name, _ in sort):
        sort.append(("id", False))
    return sort


def field_index_ddl(dialect: str, name: str) -> str:
    """An expression index for filters and sorts on one JSON field; its expression is exactly `expr`'s."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not an indexable field name: {name!r}")
    expr = f"(NULLIF(data->'{name}', 'null'::jsonb))" if dialect == "postgresql" else f"json_extract(data, '$.{name}')"
    ix = f"ix_er_f_{name.lower()}"
    if len(ix) > 60:  # PostgreSQL names stop at 63 bytes
        ix = ix[:50] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"CREATE INDEX IF NOT EXISTS {ix} ON entity_records (tenant, package, entity, {expr})"
