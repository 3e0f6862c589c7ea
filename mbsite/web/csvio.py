"""Rows ↔ CSV: lists streamed as text/csv (formula-injection safe), and CSV uploads → typed documents per row.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, so a
string cell starting with one of them is written with a leading `'` (OWASP's advice): the spreadsheet shows
the text instead of running it. Numbers are written as numbers. Reading is the other way round: each cell
is typed by the entity field of its column, and an empty cell is an absent field.
"""
from __future__ import annotations

import csv
import io
from typing import Any, AsyncIterator, Iterable, Sequence

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse

from ..entities import Entity, Field
from .problems import ApiError

CSV_TYPE = "text/csv"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 10_000


def wants_csv(request: Request) -> bool:
    """`?format=csv`, or an Accept header that asks for CSV and not for JSON."""
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in ("csv", "json"):
            raise ApiError(400, "format is csv or json", code="INVALID_PARAMETER")
        return fmt == "csv"
    accept = request.headers.get("accept", "").lower()
    return CSV_TYPE in accept and "application/json" not in accept


def neutralise(text: str) -> str:
    """A string cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (dict, list)):
        return neutralise(orjson.dumps(value).decode())
    return neutralise(str(value))


class _Line:
    """A write-only file whose contents are taken after each row (csv.writer writes one line per call)."""

    def __init__(self) -> None:
        self.buf = io.StringIO()

    def take(self) -> str:
        out = self.buf.getvalue()
        self.buf.seek(0)
        self.buf.truncate()
        return out


def csv_response(columns: Sequence[str], rows: Iterable[dict[str, Any]] | AsyncIterator[dict[str, Any]],
                 filename: str = "export.csv") -> StreamingResponse:
    """Stream `rows` (a list, or an async generator reading pages of them) as a CSV download."""
    async def body() -> AsyncIterator[bytes]:
        line = _Line()
        writer = csv.writer(line.buf, lineterminator="\r\n")
        writer.writerow([neutralise(c) for c in columns])
        yield line.take().encode()
        if hasattr(rows, "__aiter__"):
            async for row in rows:  # type: ignore[union-attr]
                writer.writerow([cell(row.get(c)) for c in columns])
                yield line.take().encode()
        else:
            for row in rows:  # type: ignore[union-attr]
                writer.writerow([cell(row.get(c)) for c in columns])
                yield line.take().encode()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


def _typed(f: Field | None, raw: str, row: int, name: str, errors: list[dict[str, Any]]) -> Any:
    """One cell → the field's JSON value; an error naming row and field when it is not one."""
    kind = f.kind if f is not None else "string"
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
    except ValueError:
        errors.append({"row": row, "field": f"/{name}", "code": "type", "message": f"{raw!r} is not a number"})
        return None
    if kind == "boolean":
        low = raw.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        errors.append({"row": row, "field": f"/{name}", "code": "type", "message": f"{raw!r} is not a boolean"})
        return None
    if kind in ("object", "array", "json"):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            if kind == "json":
                return raw
            errors.append({"row": row, "field": f"/{name}", "code": "type", "message": "is not JSON"})
            return None
    return raw


def decode_rows(entity: Entity, raw: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A CSV upload (header line of field names) → (documents, errors); rows are numbered from 1 after the
    header, and every error names its `row` and `field`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "the CSV is not UTF-8", code="INVALID_CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ApiError(422, "the CSV is empty", errors=[{"row": 0, "field": "", "code": "required",
                                                         "message": "a header line of field names is required"}]) \
            from None
    except csv.Error as exc:
        raise ApiError(400, f"unreadable CSV: {exc}", code="INVALID_CSV") from None
    names = [h.strip() for h in header]
    errors: list[dict[str, Any]] = []
    known = {f.name for f in entity.fields} | {"id"}
    for i, name in enumerate(names):
        if name not in known:
            errors.append({"row": 0, "field": f"/{name}", "code": "unknown", "message": "is not a field of this entity"})
        elif names.index(name) != i:
            errors.append({"row": 0, "field": f"/{name}", "code": "duplicate", "message": "column appears twice"})
    if errors:
        raise ApiError(422, "the CSV header names unknown or repeated fields", errors=errors)
    docs: list[dict[str, Any]] = []
    try:
        for number, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue  # blank lines (a trailing newline, spreadsheet padding)
            if number > MAX_ROWS:
                raise ApiError(413, f"a CSV import takes at most {MAX_ROWS} rows")
            if len(values) != len(names):
                errors.append({"row": number, "field": "", "code": "columns",
                               "message": f"has {len(values)} cells for {len(names)} columns"})
                docs.append({})
                continue
            doc: dict[str, Any] = {"__row": number}
            for name, value in zip(names, values, strict=False):
                if value == "":
                    continue
                doc[name] = _typed(entity.field(name), value, number, name, errors)
            docs.append(doc)
    except csv.Error as exc:
        raise ApiError(400, f"unreadable CSV: {exc}", code="INVALID_CSV") from None
    return docs, errors
