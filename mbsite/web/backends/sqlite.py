"""SQLite as the functions use it: `read()` and `write()` on plain `sqlite3` connections in WAL mode.

A short read takes microseconds, less than a hop to a driver thread costs, so it runs right on the event loop, on
a query-only connection of the loop's thread. A read that turns out long (a scan for an unselective filter, a
count, a sort on a JSON field) is stopped by SQLite's progress handler once it has used its budget of VM steps and
run again in a worker thread on a pooled connection, so the loop is never blocked for more than about a
millisecond. Writes take one connection under an asyncio lock (they queue without blocking the loop), start with
BEGIN IMMEDIATE and, when another process holds the write lock, retry with an async back-off instead of sleeping
inside SQLite. The writer does not checkpoint the WAL itself; a worker thread does, at most once a second after
writes, so no request waits for that fsync. Rows have attribute access, as SQLAlchemy's do.
"""
from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import namedtuple
from functools import lru_cache
from typing import Any, Iterator

from sqlalchemy import TextClause

from ..cache import SESSION_CACHE_S, TTLCache
from .base import Schema

BUSY_RETRY_S = 10.0          # how long a write waits for another process's write lock
# A SELECT may run this many SQLite VM instructions on the event loop before it moves to a thread: about
# 1 ms (a scan of 10,000 JSON documents takes ~60,000). Counted, not timed, so a busy machine that
# preempts the loop does not push short queries off it.
PROGRESS_STEP = 1000
LOOP_BUDGET_STEPS = 10
CHECKPOINT_EVERY_S = 1.0     # at most one WAL checkpoint per second, and only after writes


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


_SQLITE = _Dialect("sqlite")


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names, rename=True)  # type: ignore[misc]


class Rows:
    """The rows of one statement, fetched at once (the subset of SQLAlchemy's Result the functions use)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> "Rows":
        return Rows([r[0] for r in self._rows], self.rowcount)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def _sql(stmt: Any) -> str:
    return stmt.text if isinstance(stmt, TextClause) else stmt  # type: ignore[no-any-return]


def _run(conn: sqlite3.Connection, sql: str, params: Any) -> Rows:
    cur = conn.execute(sql, params or ())
    desc = cur.description
    if desc is None:
        return Rows([], cur.rowcount)
    rows = cur.fetchall()
    if rows:
        cls = _row_class(tuple(d[0] for d in desc))
        new = tuple.__new__
        rows = [new(cls, r) for r in rows]
    return Rows(rows, cur.rowcount)


class _Budget:
    """The progress handler of a loop-side connection: interrupts a SELECT past its budget."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = 1 << 62

    def __call__(self) -> bool:
        self.left -= 1
        return self.left < 0


class SqliteConn:
    """A sqlite3 connection behind the async `execute` the endpoints call.

    SELECTs run on the loop within a budget of VM steps; one that overruns is run again in a thread (on a pooled
    connection for reads; on this one for the writer, which nobody else uses while its lock is held).
    Interrupting a SELECT leaves the surrounding transaction intact. On the writer only statements that
    start with SELECT are budgeted: an interrupted write would roll back the whole transaction (readers
    are query-only, so every statement there is a read).
    """

    dialect = _SQLITE

    def __init__(self, db: "SqliteDatabase", raw: sqlite3.Connection, writer: bool = False) -> None:
        self.db = db
        self.raw = raw
        self.writer = writer
        self.budget = _Budget()
        raw.set_progress_handler(self.budget, PROGRESS_STEP)

    async def execute(self, stmt: Any, params: Any = None) -> Rows:
        sql = _sql(stmt)
        if self.writer and sql.lstrip()[:6].upper() != "SELECT":
            return _run(self.raw, sql, params)
        self.budget.left = LOOP_BUDGET_STEPS
        try:
            return _run(self.raw, sql, params)
        except sqlite3.OperationalError as exc:
            if str(exc) != "interrupted":
                raise
        finally:
            self.budget.left = 1 << 62
        if self.writer:
            return await asyncio.to_thread(_run, self.raw, sql, params)
        raw = self.db.pooled()
        try:
            return await asyncio.to_thread(_run, raw, sql, params)
        finally:
            self.db.release(raw)

    async def rollback(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("ROLLBACK")

    async def commit(self) -> None:
        if self.raw.in_transaction:
            self.raw.execute("COMMIT")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc)
    return "locked" in msg or "busy" in msg


class _Read:
    __slots__ = ("_db", "_conn")

    def __init__(self, db: "SqliteDatabase") -> None:
        self._db = db

    async def __aenter__(self) -> SqliteConn:
        self._conn = self._db.loop_reader()
        return self._conn

    async def __aexit__(self, *exc: Any) -> None:
        return None


class _Write:
    __slots__ = ("_db", "_conn")

    def __init__(self, db: "SqliteDatabase") -> None:
        self._db = db

    async def __aenter__(self) -> SqliteConn:
        db = self._db
        await db.lock.acquire()
        try:
            conn = db.writer()
            raw = conn.raw
            deadline = time.monotonic() + BUSY_RETRY_S
            delay = 0.001
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    # Another process (the build loop, a CLI command) writes: wait without blocking the loop.
                    if not _is_busy(exc) or time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
        except BaseException:
            db.lock.release()
            raise
        self._conn = conn
        return conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self._db
        raw = self._conn.raw
        try:
            if raw.in_transaction:
                raw.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
        finally:
            db.lock.release()
        if exc_type is None:
            db.wrote()


class SqliteDatabase(Schema):
    """SQLite as the functions see it (see the module docstring)."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.url = url
        self.session_cache = TTLCache(SESSION_CACHE_S)
        self.path = url.split("///", 1)[1] if "///" in url else ":memory:"
        self.lock = asyncio.Lock()
        self._readers: dict[int, SqliteConn] = {}
        self._pool: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._writer: SqliteConn | None = None
        self._guard = threading.Lock()
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._dirty = False

    def _connect(self, *, query_only: bool, busy_ms: int) -> sqlite3.Connection:
        # Autocommit at the driver level: transactions are started explicitly (BEGIN IMMEDIATE for writes).
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=256)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", f"busy_timeout={busy_ms}"):
            raw.execute(f"PRAGMA {pragma}")
        if query_only:
            raw.execute("PRAGMA query_only=ON")
        with self._guard:
            self._all.append(raw)
        return raw

    def loop_reader(self) -> SqliteConn:
        """The query-only connection of the calling thread (the event loop's), opened on first use."""
        key = threading.get_ident()
        conn = self._readers.get(key)
        if conn is None:
            # Readers never wait on writers in WAL mode; a short busy timeout covers WAL-index recovery.
            conn = self._readers[key] = SqliteConn(self, self._connect(query_only=True, busy_ms=200))
        return conn

    def pooled(self) -> sqlite3.Connection:
        with self._guard:
            if self._pool:
                return self._pool.pop()
        return self._connect(query_only=True, busy_ms=10_000)

    def release(self, raw: sqlite3.Connection) -> None:
        with self._guard:
            self._pool.append(raw)

    def writer(self) -> SqliteConn:
        if self._writer is None:
            raw = self._connect(query_only=False, busy_ms=0)
            raw.execute("PRAGMA wal_autocheckpoint=0")
            self._writer = SqliteConn(self, raw, writer=True)
        return self._writer

    def wrote(self) -> None:
        self._dirty = True
        if self._checkpoint_task is None or self._checkpoint_task.done():
            self._checkpoint_task = asyncio.get_running_loop().create_task(self._checkpoint_later())

    async def _checkpoint_later(self) -> None:
        await asyncio.sleep(CHECKPOINT_EVERY_S)
        if self._dirty:
            self._dirty = False
            raw = self.pooled()
            try:
                # PASSIVE: copies what it can without waiting for readers or blocking writers.
                await asyncio.to_thread(raw.execute, "PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # the next one will catch up; SQLite checkpoints on close as well
            finally:
                self.release(raw)

    def read(self) -> Any:
        """`async with db.read() as conn:` autocommit reads (each statement sees the latest commit)."""
        return _Read(self)

    def write(self) -> Any:
        """`async with db.write() as conn:` one transaction, committed on success, rolled back on error."""
        return _Write(self)

    async def dispose(self) -> None:
        task = self._checkpoint_task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        with self._guard:
            conns, self._all, self._pool = self._all, [], []
        self._readers.clear()
        self._writer = None
        for raw in conns:
            raw.close()


__all__ = ["Rows", "SqliteConn", "SqliteDatabase"]
