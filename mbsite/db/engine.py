"""Database URLs → engines with the schema, triggers and migrations in place.

A database that cannot be opened is a DatabaseError naming the URL (password masked) and the driver's reason.
mbsite creates the folder of its own default SQLite file (SITE/.mbsite/) and no other: a SQLite URL given
explicitly whose folder does not exist is refused, since a typo would otherwise build into a new, empty database.
A new database is marked as waiting for its seed until the seed has loaded (`seed_pending` below).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..errors import ConfigError, DatabaseError
from .feed import install_triggers
from .models import Base

SCHEMA_VERSION = 1
DEFAULT_DB_NAME = "mbsite.sqlite3"
STATE_DIR = ".mbsite"
SEED_PENDING = "seed_pending"   # build_state key: present from the schema's creation until its seed loaded
CONNECT_TIMEOUT_S = 10          # an unreachable PostgreSQL host fails in seconds, not after the TCP timeout


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


def safe_url(url: str | URL) -> str:
    """A database URL fit to print: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unparsable database URL)"


def database_error(exc: DBAPIError, url: str | URL, doing: str = "cannot open") -> DatabaseError:
    """A driver error as a DatabaseError: what failed, the URL without its password, the driver's own words."""
    reason = "; ".join(line.strip() for line in str(exc.orig or exc).splitlines() if line.strip())
    return DatabaseError(f"{doing} database {safe_url(url)}: {reason}")


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_engine(url: str) -> Engine:
    """Create an engine; SQLite files get WAL mode and foreign keys (and mbsite's own state folder, if missing)."""
    if url.startswith("sqlite"):
        _sqlite_folder(url)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        args: dict[str, Any] = {}
        if "connect_timeout" not in make_url(url).query:
            args["connect_timeout"] = CONNECT_TIMEOUT_S
        return create_engine(url, pool_pre_ping=True, connect_args=args)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def _sqlite_folder(url: str) -> None:
    """The SQLite file's folder must exist; only mbsite's own state folder (`<site>/.mbsite`) is made here."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL: {exc}") from None
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:") or parsed.query.get("uri"):
        return
    folder = Path(path).parent
    if folder.is_dir():
        return
    if folder.name == STATE_DIR and folder.parent.is_dir():
        folder.mkdir(exist_ok=True)
        return
    raise ConfigError(f"the folder of the SQLite database {path} does not exist ({safe_url(url)}); "
                      "create it first, or give another database URL")


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
    """Create tables and triggers, run pending migrations; True when the database still waits for its seed (it is
    new, or its first seed failed: the seed is all or nothing, so the next run loads it again)."""
    try:
        return _ensure_schema(engine)
    except DBAPIError as exc:  # unreachable server, bad credentials, unreadable file, a locked database
        raise database_error(exc, engine.url) from None


def _ensure_schema(engine: Engine) -> bool:
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
        if current == 0:  # created just now: its seed is due (db.seed.load_seed removes the mark in its transaction)
            conn.execute(text("DELETE FROM build_state WHERE key = :k"), {"k": SEED_PENDING})
            conn.execute(text("INSERT INTO build_state (key, value) VALUES (:k, '1')"), {"k": SEED_PENDING})
            return True
        pending = conn.execute(text("SELECT 1 FROM build_state WHERE key = :k"), {"k": SEED_PENDING}).scalar()
    return pending is not None
