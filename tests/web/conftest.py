"""Fixtures of the functions tests: a seeded fixture site on SQLite (or a fresh PostgreSQL schema) and an API client."""
from __future__ import annotations

import functools
import shutil
import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest
from sqlalchemy import text
from web_support import PASSWORD, PG_URL, Api, _pg_url_for_schema, make_api, write_site

from mbsite.config import Config
from mbsite.db.engine import ensure_schema, open_engine
from mbsite.db.seed import load_seed


@pytest.fixture(scope="session")
def template_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded once per session (argon2 hashing is slow); tests copy it."""
    root = tmp_path_factory.mktemp("site-template")
    write_site(root)
    engine = open_engine(f"sqlite:///{root / '.mbsite' / 'mbsite.sqlite3'}")
    ensure_schema(engine)
    load_seed(engine, root / "content")
    engine.dispose()
    return root


@functools.lru_cache(maxsize=1)
def _demo_hash() -> str:
    from mbsite.passwords import hash_password

    return hash_password(PASSWORD)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, template_site: Path, tmp_path: Path) -> Config:
    """A fresh copy of the fixture site, on SQLite or on a fresh PostgreSQL schema."""
    root = tmp_path / "site"
    shutil.copytree(template_site, root)
    if request.param == "sqlite":
        return Config(site_dir=root, database_url=f"sqlite:///{root / '.mbsite' / 'mbsite.sqlite3'}",
                      media_max_bytes=200_000, body_max_bytes=100_000)
    if not PG_URL:
        pytest.skip("set MBSITE_TEST_POSTGRES_URL to run the PostgreSQL suite")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = open_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = _pg_url_for_schema(schema).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = open_engine(url)
    ensure_schema(engine)
    with pytest.MonkeyPatch.context() as mp:
        # One argon2 hash for every seeded user: hashing is the slow part of seeding.
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: _demo_hash())
        load_seed(engine, root / "content")
    engine.dispose()

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    request.addfinalizer(drop)
    return Config(site_dir=root, database_url=url, media_max_bytes=200_000, body_max_bytes=100_000)


@pytest.fixture
async def api(site: Config) -> AsyncIterator[Api]:
    async for a in make_api(site):
        yield a


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
