"""Helpers of the functions tests: the fixture site files and an API client that signs in."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, AsyncIterator

import httpx

from mbsite.config import Config
from mbsite.web import build_state, create_app

ROLES = ("user", "moderator", "admin", "god", "supergod")
PASSWORD = "mbsite-demo"
PG_URL = os.environ.get("MBSITE_TEST_POSTGRES_URL")

ENTITY_YAML = """\
entity: Note
package: notes
description: A note
fields:
  id: { type: cuid, primary: true, generated: true }
  tenantId: { type: uuid, required: true }
  title: { type: string, required: true, min_length: 1, max_length: 80 }
  body: { type: text, nullable: true }
  slug: { type: string, pattern: "^[a-z0-9-]+$", unique: true }
  rank: { type: integer, min: 0, max: 1000, default: 0 }
  score: { type: number, nullable: true }
  status: { type: enum, values: [draft, published, archived], default: draft }
  email: { type: email, nullable: true }
  link: { type: url, nullable: true }
  tags: { type: array, items: { type: string, maxLength: 20 }, nullable: true }
  meta: { type: json, fields: { color: { type: string, required: true } }, nullable: true }
  secret: { type: string, sensitive: true, nullable: true }
  authorId: { type: uuid, nullable: true }
  createdAt: { type: bigint }
acl:
  read: { public: true }
  create: { user: true }
  update: { self: true, row_level: "authorId = $user.id", moderator: true }
  delete: { self: true, row_level: "authorId = $user.id", admin: true }
---
name: Comment
displayName: Comment
package: notes
fields:
  id: { type: string, primaryKey: true }
  noteId: { type: string, required: true, foreignKey: { entity: Note, field: id } }
  text: { type: string, required: true, maxLength: 500 }
acl:
  create: [user]
  read: [user]
  update: [admin]
  delete: [admin]
---
entity: Ledger
package: vault
fields:
  id: { type: cuid, primary: true, generated: true }
  amount: { type: number, required: true }
crossTenant: true
acl:
  read: { role: [admin, god, supergod] }
  create: { role: [god, supergod] }
  update: { role: [supergod] }
  delete: { role: [supergod] }
"""

SEED_YAML = """\
entity: Tenant
records:
  - {{ slug: acme, name: Acme, domains: [acme.test] }}
  - {{ slug: globex, name: Globex, domains: [globex.test] }}
---
entity: User
records:
{users}
---
entity: InstalledPackage
records:
  - {{ tenant: acme, package: vault }}
  - {{ tenant: globex, package: vault }}
---
entity: Record
records:
  - {{ tenant: acme, package: notes, entity: Note, id: n1, data: {{ title: Acme hello, rank: 1, status: published, slug: hello }} }}
  - {{ tenant: globex, package: notes, entity: Note, id: g1, data: {{ title: Globex secret plan, rank: 2, secret: s3 }} }}
  - {{ tenant: acme, package: vault, entity: Ledger, id: l1, data: {{ amount: 10 }} }}
  - {{ tenant: globex, package: vault, entity: Ledger, id: l2, data: {{ amount: 20 }} }}
"""


def user_id(tenant: str, role: str) -> str:
    return f"{tenant}-{role}"


def write_site(root: Path) -> None:
    (root / "schemas" / "entities").mkdir(parents=True, exist_ok=True)
    (root / "schemas" / "entities" / "notes.yaml").write_text(ENTITY_YAML)
    (root / "content" / "seed").mkdir(parents=True, exist_ok=True)
    users = "\n".join(f"  - {{ id: {user_id(t, r)}, tenant: {t}, username: {r}, role: {r}, password: {PASSWORD} }}"
                      for t in ("acme", "globex") for r in ROLES)
    (root / "content" / "seed" / "demo.yaml").write_text(SEED_YAML.format(users=users))


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


