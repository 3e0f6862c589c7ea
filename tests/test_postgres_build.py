"""The demo site built on PostgreSQL: same output as on SQLite, and the watch loop woken by LISTEN/NOTIFY."""
from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
from support import output_tree as tree

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.watch import Watcher

PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")
REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_database():
    if not PG_URL:
        pytest.skip("MBSITE_TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    import psycopg

    name = "mbsite_t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")




def test_postgres_build_matches_sqlite_and_watch_wakes_on_notify(pg_database: str, tmp_path: Path) -> None:
    import psycopg

    pg_site, lite_site = tmp_path / "pg", tmp_path / "lite"
    for site in (pg_site, lite_site):
        shutil.copytree(REPO / "content", site / "content")
    pg_config = load_config(pg_site).with_options(database_url=pg_database)
    for config in (pg_config, load_config(lite_site)):
        builder = Builder(config)
        assert builder.run().ok
        builder.close()
    assert tree(pg_site / "build", row_versions=False) == tree(lite_site / "build", row_versions=False)

    watcher = Watcher(pg_config, BufferReporter())
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("UPDATE entity_records SET data = jsonb_set(data::jsonb, '{name}', '\"Notified Name\"') "
                         "WHERE tenant = 'acme' AND package = 'shop' AND id = (SELECT id FROM entity_records "
                         "WHERE tenant = 'acme' AND package = 'shop' AND data->>'status' = 'active' ORDER BY id LIMIT 1)")
        page = pg_site / "build/acme/public/products/index.html"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and b"Notified Name" not in page.read_bytes():
            time.sleep(0.05)
        assert b"Notified Name" in page.read_bytes()
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
