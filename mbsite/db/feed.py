"""Change-feed triggers (SQLite and PostgreSQL) and reading the feed after a cursor."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import Connection, text

from .models import FEED_TABLES

NOTIFY_CHANNEL = "mbsite_changes"
_SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"


def _sqlite_key(alias: str, cols: tuple[str, ...]) -> str:
    return " || '/' || ".join(f"{alias}.{c}" for c in cols)


def sqlite_trigger_ddl() -> list[str]:
    """DDL for AFTER INSERT/UPDATE/DELETE triggers on every feed table."""
    ddl: list[str] = []
    for table, (tenant_col, key_cols) in FEED_TABLES.items():
        for op, alias in (("insert", "NEW"), ("delete", "OLD")):
            tenant = f"{alias}.{tenant_col}" if tenant_col else "NULL"
            ddl.append(
                f"CREATE TRIGGER IF NOT EXISTS mb_feed_{table}_{op} AFTER {op.upper()} ON {table} BEGIN "
                f"INSERT INTO changes (tenant, tbl, row_key, op, at) VALUES "
                f"({tenant}, '{table}', {_sqlite_key(alias, key_cols)}, '{op}', {_SQLITE_NOW_MS}); END"
            )
        new_t = f"NEW.{tenant_col}" if tenant_col else "NULL"
        old_t = f"OLD.{tenant_col}" if tenant_col else "NULL"
        moved = " OR ".join(
            [f"OLD.{c} IS NOT NEW.{c}" for c in key_cols] + ([f"OLD.{tenant_col} IS NOT NEW.{tenant_col}"] if tenant_col else [])
        )
        # An update that moves a row (new key or tenant) is a delete of the old key plus an insert of the new one.
        ddl.append(
            f"CREATE TRIGGER IF NOT EXISTS mb_feed_{table}_update AFTER UPDATE ON {table} BEGIN "
            f"INSERT INTO changes (tenant, tbl, row_key, op, at) SELECT {old_t}, '{table}', {_sqlite_key('OLD', key_cols)}, "
            f"'delete', {_SQLITE_NOW_MS} WHERE {moved}; "
            f"INSERT INTO changes (tenant, tbl, row_key, op, at) VALUES "
            f"({new_t}, '{table}', {_sqlite_key('NEW', key_cols)}, 'update', {_SQLITE_NOW_MS}); END"
        )
    return ddl


_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mb_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  tenant_col text := TG_ARGV[0];
  key_cols text[] := TG_ARGV[1:];
  new_doc jsonb; old_doc jsonb; new_key text; old_key text; seq bigint;
  now_ms bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
BEGIN
  IF TG_OP <> 'DELETE' THEN
    new_doc := to_jsonb(NEW);
    SELECT string_agg(new_doc->>c, '/' ORDER BY o) INTO new_key FROM unnest(key_cols) WITH ORDINALITY AS k(c, o);
  END IF;
  IF TG_OP <> 'INSERT' THEN
    old_doc := to_jsonb(OLD);
    SELECT string_agg(old_doc->>c, '/' ORDER BY o) INTO old_key FROM unnest(key_cols) WITH ORDINALITY AS k(c, o);
  END IF;
  IF TG_OP = 'UPDATE' AND (old_key IS DISTINCT FROM new_key
      OR (tenant_col <> '' AND old_doc->>tenant_col IS DISTINCT FROM new_doc->>tenant_col)) THEN
    INSERT INTO changes (tenant, tbl, row_key, op, at)
      VALUES (CASE WHEN tenant_col = '' THEN NULL ELSE old_doc->>tenant_col END, TG_TABLE_NAME, old_key, 'delete', now_ms);
  END IF;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (tenant, tbl, row_key, op, at)
      VALUES (CASE WHEN tenant_col = '' THEN NULL ELSE old_doc->>tenant_col END, TG_TABLE_NAME, old_key, 'delete', now_ms)
      RETURNING changes.seq INTO seq;
  ELSE
    INSERT INTO changes (tenant, tbl, row_key, op, at)
      VALUES (CASE WHEN tenant_col = '' THEN NULL ELSE new_doc->>tenant_col END, TG_TABLE_NAME, new_key, lower(TG_OP), now_ms)
      RETURNING changes.seq INTO seq;
  END IF;
  PERFORM pg_notify('{NOTIFY_CHANNEL}', seq::text);
  RETURN NULL;
END $$;
"""


def postgres_trigger_ddl() -> list[str]:
    ddl = [_PG_FUNCTION]
    for table, (tenant_col, key_cols) in FEED_TABLES.items():
        args = ", ".join(f"'{a}'" for a in (tenant_col, *key_cols))
        ddl.append(f"DROP TRIGGER IF EXISTS mb_feed_{table} ON {table}")
        ddl.append(
            f"CREATE TRIGGER mb_feed_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION mb_feed({args})"
        )
    return ddl


def install_triggers(conn: Connection) -> None:
    """Create (or replace) the feed triggers for the connection's dialect."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        statements: Iterable[str] = sqlite_trigger_ddl()
    elif dialect == "postgresql":
        statements = postgres_trigger_ddl()
    else:  # pragma: no cover - guarded by engine.open_engine
        raise NotImplementedError(f"change-feed triggers for {dialect}")
    for stmt in statements:
        conn.exec_driver_sql(stmt)


@dataclass(frozen=True)
class ChangeEvent:
    seq: int
    tenant: str | None
    table: str
    key: str
    op: str
    at: int


def read_changes(conn: Connection, after: int, limit: int | None = None) -> list[ChangeEvent]:
    sql = "SELECT seq, tenant, tbl, row_key, op, at FROM changes WHERE seq > :after ORDER BY seq"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [ChangeEvent(*row) for row in conn.execute(text(sql), {"after": after})]


def last_seq(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM changes")).scalar_one())
