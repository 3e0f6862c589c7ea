"""Schema, change-feed triggers (SQLite and PostgreSQL) and seed idempotence."""
from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert, text, update

from mbsite.db.engine import ensure_schema, open_engine, resolve_url
from mbsite.db.feed import last_seq, read_changes
from mbsite.db.models import EntityRecord, PageConfig, Tenant
from mbsite.db.seed import load_seed
from mbsite.errors import DataError

PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")

SEED = """
entity: Tenant
records:
  - {slug: t1, name: One}
---
entity: User
records:
  - {tenant: t1, username: alice, role: admin, password: pw}
---
entity: PageConfig
records:
  - {tenant: t1, path: /x, title: X, level: 6}
---
entity: Record
records:
  - {tenant: t1, package: shop, entity: product, id: p1, data: {name: Pen}}
"""


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine():
    if not PG_URL:
        pytest.skip("MBSITE_TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    schema = "t_" + uuid.uuid4().hex[:10]
    admin = open_engine(resolve_url(Path("."), PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    from sqlalchemy import create_engine

    engine = create_engine(resolve_url(Path("."), PG_URL), connect_args={"options": f"-csearch_path={schema}"})
    ensure_schema(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _exercise(engine) -> list[tuple[str | None, str, str, str]]:
    with engine.begin() as conn:
        conn.execute(insert(Tenant).values(slug="acme", name="Acme"))
    with engine.begin() as conn:
        conn.execute(insert(PageConfig).values(id="p1", tenant="acme", path="/a", title="A"))
        conn.execute(insert(EntityRecord).values(tenant="acme", package="shop", entity="product", id="r1",
                                                 data={"n": 1}))
    with engine.begin() as conn:
        conn.execute(update(EntityRecord).where(EntityRecord.id == "r1").values(data={"n": 2}))
    with engine.begin() as conn:  # a raw SQL writer is captured too
        conn.execute(text("UPDATE page_configs SET title = 'B' WHERE id = 'p1'"))
        conn.execute(text("DELETE FROM entity_records WHERE id = 'r1'"))
    with engine.connect() as conn:
        return [(e.tenant, e.table, e.key, e.op) for e in read_changes(conn, 0)]


EXPECTED = [
    ("acme", "tenants", "acme", "insert"),
    ("acme", "page_configs", "p1", "insert"),
    ("acme", "entity_records", "shop/product/r1", "insert"),
    ("acme", "entity_records", "shop/product/r1", "update"),
    ("acme", "page_configs", "p1", "update"),
    ("acme", "entity_records", "shop/product/r1", "delete"),
]


def test_sqlite_triggers_fill_the_change_feed(sqlite_engine) -> None:
    assert _exercise(sqlite_engine) == EXPECTED


def test_sqlite_feed_captures_writes_from_the_sqlite3_module(sqlite_engine, tmp_path: Path) -> None:
    _exercise(sqlite_engine)
    with sqlite_engine.connect() as conn:
        before = last_seq(conn)
    con = sqlite3.connect(tmp_path / "db.sqlite3")
    con.execute("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, updated_at) "
                "VALUES ('acme', 'shop', 'product', 'r9', '{}', 1, 0, 0)")
    con.commit()
    con.close()
    with sqlite_engine.connect() as conn:
        events = read_changes(conn, before)
    assert [(e.table, e.key, e.op) for e in events] == [("entity_records", "shop/product/r9", "insert")]


def test_moving_a_row_records_the_old_key_as_deleted(sqlite_engine) -> None:
    _exercise(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (slug, name, domains, settings, created_at) VALUES ('b','B','[]','{}',0)"))
        start = last_seq(conn)
        conn.execute(text("UPDATE page_configs SET tenant = 'b' WHERE id = 'p1'"))
        events = read_changes(conn, start)
    assert [(e.tenant, e.op) for e in events] == [("acme", "delete"), ("b", "update")]


@pytest.mark.postgres
def test_postgres_triggers_fill_the_change_feed(pg_engine) -> None:
    assert _exercise(pg_engine) == EXPECTED


@pytest.mark.postgres
def test_postgres_notifies_listeners(pg_engine) -> None:
    import psycopg

    schema = pg_engine.dialect.default_schema_name
    with psycopg.connect(PG_URL, autocommit=True) as listener:
        listener.execute("LISTEN mbsite_changes")
        with pg_engine.begin() as conn:
            conn.execute(text("INSERT INTO tenants (slug, name, domains, settings, created_at) "
                              "VALUES ('n', 'N', '[]', '{}', 0)"))
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert schema
    assert notes and notes[0].channel == "mbsite_changes" and int(notes[0].payload) >= 1


def test_seed_is_idempotent_and_clamps_levels(sqlite_engine, tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "seed").mkdir(parents=True)
    (content / "seed" / "a.yaml").write_text(SEED)
    assert load_seed(sqlite_engine, content) == 4
    with sqlite_engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in
                  ("tenants", "users", "credentials", "page_configs", "entity_records")]
        level = conn.execute(text("SELECT level FROM page_configs")).scalar()
    assert counts == [1, 1, 1, 1, 1]
    assert level == 5
    load_seed(sqlite_engine, content)
    with sqlite_engine.connect() as conn:
        again = [conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in
                 ("tenants", "users", "credentials", "page_configs", "entity_records")]
    assert again == counts


@pytest.mark.parametrize("body, message, line", [
    ("entity: Tenant\nrecords:\n  - {name: x}\n", "missing required field 'slug'", 3),
    ("entity: Nope\nrecords: []\n", "unknown seed entity 'Nope'", 1),
    ("entity: User\nrecords:\n  - {tenant: t, username: u, role: wizard}\n", "unknown role 'wizard'", 3),
    ("entity: Tenant\nrecords: [\n", "invalid YAML", 3),
], ids=["missing-field", "unknown-entity", "bad-role", "bad-yaml"])
def test_seed_errors_name_file_and_line(sqlite_engine, tmp_path: Path, body: str, message: str, line: int) -> None:
    content = tmp_path / "content"
    (content / "seed").mkdir(parents=True)
    (content / "seed" / "bad.yaml").write_text(body)
    with pytest.raises(DataError) as info:
        load_seed(sqlite_engine, content, tmp_path)
    assert message in str(info.value)
    assert info.value.location.file == "content/seed/bad.yaml"
    assert info.value.location.line == line
