"""Database URLs → engines with the schema, triggers and migrations in place."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text

from ..errors import ConfigError
from .feed import install_triggers
from .models import Base

SCHEMA_VERSION = 1
DEFAULT_DB_NAME = "mbsite.sqlite3"


def default_url(site_dir: Path) -> str:
    return f"sqlite:///{(site_dir / '.mbsite' / DEFAULT_DB_NAME).as_posix()}"


def resolve_url(site_dir: Path, url: str | None) -> str:
    """The database URL to use: explicit option > MBSITE_DATABASE_URL > the embedded SQLite file."""
    url = url or os.environ.get("MBSITE_DATABASE_URL") or default_url(site_dir)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def async_url(url: str) -> str:
    """The asyncio driver URL for the same database."""
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return url.replace("sqlite:", "sqlite+aiosqlite:", 1)
    if url.startswith("postgresql+psycopg://"):
        return url  # psycopg 3 is both sync and async
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_engine(url: str) -> Engine:
    """Create an engine; SQLite files get their folder, WAL mode and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def schema_version(engine: Engine) -> int:
    if not inspect(engine).has_table("build_state"):
        return 0
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM build_state WHERE key = 'schema_version'")).scalar()
    return int(value) if value is not None else 0


# Ordered upgrade steps: version N → N+1. Each is run once, inside a transaction, by `mbsite db upgrade`
# (and automatically by any command that opens the database).
MIGRATIONS: dict[int, list[str]] = {}


def ensure_schema(engine: Engine) -> bool:
    """Create tables and triggers, run pending migrations; True when the database was new."""
    current = schema_version(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise concurrent first runs (several workers starting at once).
            conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
        Base.metadata.create_all(conn)
        install_triggers(conn)
        for version in range(max(current, 1), SCHEMA_VERSION):
            for stmt in MIGRATIONS.get(version, []):
                conn.exec_driver_sql(stmt)
        conn.execute(text("DELETE FROM build_state WHERE key = 'schema_version'"))
        conn.execute(
            text("INSERT INTO build_state (key, value) VALUES ('schema_version', :v)"), {"v": str(SCHEMA_VERSION)}
        )
    return current == 0
