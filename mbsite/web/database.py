"""A site's database URL → async engines for the functions (reads, and serialized writes on SQLite)."""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..config import Config
from ..db.engine import async_url, ensure_schema, open_engine, resolve_url


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level so that SQLAlchemy's "begin" event decides how transactions start.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


class Database:
    """One site's database as the functions see it: `read()` and `write()` connections.

    On SQLite a write transaction starts with BEGIN IMMEDIATE on a one-connection engine: writers queue in
    the pool instead of failing with SQLITE_BUSY when a deferred transaction tries to upgrade its lock.
    On PostgreSQL both are the same engine.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        aurl = async_url(url)
        if self.dialect == "sqlite":
            self.engine = create_async_engine(aurl, pool_size=8, max_overflow=8)
            self.write_engine = create_async_engine(aurl, pool_size=1, max_overflow=0, pool_timeout=60)
            for eng, begin in ((self.engine, "BEGIN"), (self.write_engine, "BEGIN IMMEDIATE")):
                event.listen(eng.sync_engine, "connect", _sqlite_connect)
                event.listen(eng.sync_engine, "begin", _begin_with(begin))
        else:
            self.engine = create_async_engine(aurl, pool_size=10, max_overflow=10, pool_pre_ping=True)
            self.write_engine = self.engine

    @classmethod
    def from_config(cls, config: Config) -> "Database":
        return cls(resolve_url(config.site_dir, config.database_url))

    async def prepare(self) -> None:
        """Create tables and change-feed triggers if missing (sync engine, off the event loop)."""
        def run() -> None:
            engine = open_engine(self.url)
            try:
                ensure_schema(engine)
            finally:
                engine.dispose()
        await asyncio.to_thread(run)

    def read(self) -> Any:
        """`async with db.read() as conn:` a connection for queries (autobegin, rolled back on exit)."""
        return self.engine.connect()

    def write(self) -> Any:
        """`async with db.write() as conn:` one transaction, committed on success."""
        return self.write_engine.begin()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()


def _begin_with(statement: str) -> Any:
    def begin(conn: Any) -> None:
        conn.exec_driver_sql(statement)
    return begin


__all__ = ["Database", "AsyncConnection", "AsyncEngine"]
