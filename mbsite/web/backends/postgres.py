"""PostgreSQL as the functions use it: SQLAlchemy's asyncio engine on psycopg, `read()` and `write()` taking plain
SQL strings with `:name` parameters (or `text()` clauses)."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import TextClause, text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

from ...db.engine import async_url
from ..cache import SESSION_CACHE_S, TTLCache
from .base import Schema


@lru_cache(maxsize=1024)
def _text(sql: str) -> TextClause:
    return text(sql)


class PgConn:
    """An AsyncConnection that also takes plain SQL strings (compiled once into cached `text()` clauses)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, stmt: Any, params: Any = None) -> Any:
        return await self._conn.execute(_text(stmt) if isinstance(stmt, str) else stmt, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _PgContext:
    def __init__(self, cm: Any) -> None:
        self._cm = cm

    async def __aenter__(self) -> PgConn:
        return PgConn(await self._cm.__aenter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._cm.__aexit__(*exc)


class PgDatabase(Schema):
    """PostgreSQL: one async engine (psycopg) for reads and writes."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.session_cache = TTLCache(SESSION_CACHE_S)
        # (SQLAlchemy's asyncio layer loads its ORM: only a PostgreSQL site's functions pay for it.)
        from sqlalchemy.ext.asyncio import create_async_engine

        self.engine = create_async_engine(async_url(url), pool_size=10, max_overflow=10, pool_pre_ping=True)

    def read(self) -> Any:
        return _PgContext(self.engine.connect())

    def write(self) -> Any:
        return _PgContext(self.engine.begin())

    async def dispose(self) -> None:
        await self.engine.dispose()


__all__ = ["PgConn", "PgDatabase"]
