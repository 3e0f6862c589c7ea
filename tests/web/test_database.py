"""The SQLite access of the functions: loop reads with a step budget, serialized writes, the session cache."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import AsyncIterator

import pytest
from web_support import make_api

from mbsite.config import Config
from mbsite.web import cache as cache_module
from mbsite.web.backends import SqliteDatabase
from mbsite.web.backends import sqlite as database
from mbsite.web.cache import TTLCache

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_site(template_site: Path, tmp_path: Path) -> Config:
    root = tmp_path / "site"
    shutil.copytree(template_site, root)
    return Config(site_dir=root, database_url=f"sqlite:///{root / '.mbsite' / 'mbsite.sqlite3'}")


@pytest.fixture
async def db(sqlite_site: Config) -> AsyncIterator[SqliteDatabase]:
    d = SqliteDatabase(sqlite_site.database_url or "")
    yield d
    await d.dispose()


async def test_long_select_moves_to_a_thread(db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = asyncio.to_thread

    async def spy(fn, *args):  # type: ignore[no-untyped-def]
        calls.append(args[1] if len(args) > 1 else "")
        return await real(fn, *args)

    monkeypatch.setattr(database.asyncio, "to_thread", spy)
    long = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT sum(i) FROM n"
    async with db.read() as conn:
        assert (await conn.execute("SELECT count(*) AS n FROM tenants")).first().n == 2
        assert calls == []  # short: ran on the loop
        assert (await conn.execute(long)).scalar_one() == 200000 * 200001 // 2
        assert calls == [long]  # interrupted past its budget, run again in a thread, same answer
        assert (await conn.execute("SELECT slug FROM tenants ORDER BY slug")).scalars().all() == ["acme", "globex"]
    long_select = "SELECT count(*) FROM (" + long.replace(" SELECT sum(i) FROM n", " SELECT i FROM n") + ")"
    async with db.write() as conn:  # inside a write transaction the rerun keeps the transaction
        await conn.execute("INSERT INTO revalidations (tenant, path, tag, requested_at) VALUES ('acme', '/x', NULL, 1)")
        assert (await conn.execute(long_select)).scalar_one() == 200000
        assert calls[-1] == long_select
    async with db.read() as conn:
        assert (await conn.execute("SELECT count(*) FROM revalidations WHERE path = '/x'")).scalar_one() == 1


async def test_write_rolls_back_on_error_and_reads_stay_query_only(db: SqliteDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("INSERT INTO revalidations (tenant, path, requested_at) VALUES ('acme', '/y', 1)")
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert (await conn.execute("SELECT count(*) FROM revalidations WHERE path = '/y'")).scalar_one() == 0
        with pytest.raises(sqlite3.OperationalError):
            await conn.execute("DELETE FROM revalidations")


async def test_write_waits_for_another_process_without_blocking_the_loop(db: SqliteDatabase) -> None:
    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for 0.3 s
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.get_running_loop().create_task(ticker())
    started = time.monotonic()
    async with db.write() as conn:
        await conn.execute("INSERT INTO revalidations (tenant, path, requested_at) VALUES ('acme', '/z', 1)")
    waited = time.monotonic() - started
    task.cancel()
    other.close()
    assert waited >= 0.25 and ticks >= 10  # it waited, and the loop kept running meanwhile


async def test_writes_queue_in_order(db: SqliteDatabase) -> None:
    async def one(i: int) -> None:
        async with db.write() as conn:
            await conn.execute("INSERT INTO revalidations (tenant, path, requested_at) VALUES ('acme', :p, 1)",
                               {"p": f"/q{i}"})
            await asyncio.sleep(0)  # yield inside the transaction: others must wait for the lock
            await conn.execute("INSERT INTO revalidations (tenant, path, requested_at) VALUES ('acme', :p, 2)",
                               {"p": f"/q{i}"})

    await asyncio.gather(*(one(i) for i in range(20)))
    async with db.read() as conn:
        assert (await conn.execute("SELECT count(*) FROM revalidations WHERE path LIKE '/q%'")).scalar_one() == 40


def test_ttl_cache_expires_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: now[0])
    cache = TTLCache(2.0, max_size=3)
    cache.put("a", 1)
    assert cache.get("a") == 1
    now[0] += 2.0
    assert cache.get("a") is None
    for k in "bcde":
        cache.put(k, k)
    assert len(cache._items) <= 3
    assert [cache.get(k) for k in "cde"] == ["c", "d", "e"]  # the oldest went, not everything


async def test_session_cache_follows_logout_and_deletion(sqlite_site: Config) -> None:
    async for api in make_api(sqlite_site):
        r = await api.client.post("/api/auth/login?token=1", json={"tenant": "acme", "username": "admin",
                                                                   "password": "mbsite-demo"})
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await api.client.get("/api/auth/me", headers=bearer)).status_code == 200
        db = api.app.state.mb.db
        # Deleted behind the app's back (another process): still honoured from the cache until it ages out.
        async with db.write() as conn:
            await conn.execute("DELETE FROM sessions")
        assert (await api.client.get("/api/auth/me", headers=bearer)).status_code == 200
        db.session_cache.clear()
        assert (await api.client.get("/api/auth/me", headers=bearer)).status_code == 401
        # Logout drops the cached session at once.
        r = await api.client.post("/api/auth/login?token=1", json={"tenant": "acme", "username": "admin",
                                                                   "password": "mbsite-demo"})
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await api.client.get("/api/auth/me", headers=bearer)).status_code == 200
        api.client.cookies.clear()
        assert (await api.client.post("/api/auth/logout", headers=bearer)).status_code == 204
        assert (await api.client.get("/api/auth/me", headers=bearer)).status_code == 401


async def test_writes_are_checkpointed_off_the_request(db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_EVERY_S", 0.0)
    async with db.write() as conn:
        await conn.execute("INSERT INTO revalidations (tenant, path, requested_at) VALUES ('acme', '/cp', 1)")
    assert db._checkpoint_task is not None
    await db._checkpoint_task
    # The main file alone (no -wal beside it) already holds the row: the WAL was copied into it.
    copy = tmp_path / "main-only.sqlite3"
    shutil.copyfile(db.path, copy)
    con = sqlite3.connect(copy)
    try:
        assert con.execute("SELECT count(*) FROM revalidations WHERE path = '/cp'").fetchone()[0] == 1
    finally:
        con.close()
