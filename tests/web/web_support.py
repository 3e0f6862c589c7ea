"""Helpers of the functions tests: the fixture site (tests/sites/web) and an API client that signs in."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
from support import copy_site

from mbsite.config import Config
from mbsite.web import build_state, create_app

PASSWORD = "mbsite-demo"  # every user's password in the fixture site's seed
PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")


def user_id(tenant: str, role: str) -> str:
    """The id of a tenant's user of a role in the fixture site's seed."""
    return f"{tenant}-{role}"


def write_site(root: Path) -> None:
    """The fixture site of the functions tests (tests/sites/web: the notes, comments and ledger entities, two
    tenants with one user per role each, the password PASSWORD) at `root`."""
    copy_site("web", root)


def _pg_url_for_schema(schema: str) -> str:
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


class Api:
    """An httpx client on the app plus helpers to sign in."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        self.client = client
        self.app = app
        self.csrf: str | None = None

    async def login(self, tenant: str, username: str, password: str = PASSWORD) -> httpx.Response:
        r = await self.client.post("/api/auth/login", json={"tenant": tenant, "username": username,
                                                            "password": password})
        if r.status_code == 200:
            self.csrf = r.json()["csrfToken"]
        return r

    def h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf} if self.csrf else {}


async def make_api(config: Config, **state_kw: Any) -> AsyncIterator[Api]:
    state = build_state(config, **state_kw)
    app = create_app(config, state=state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield Api(client, app)


