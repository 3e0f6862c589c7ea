"""The authorization matrix: role × own/other tenant × operation, for a public entity and a cross-tenant one."""
from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest
from sqlalchemy import text
from web_support import Api, make_api

from mbsite.config import Config

pytestmark = pytest.mark.anyio
ROLES = ("anonymous", "user", "moderator", "admin", "god", "supergod")
OPS = ("list", "read", "create", "update", "delete")
LEVEL = {r: i for i, r in enumerate(ROLES)}

# Note: read public; create user+; update owner or moderator+; delete owner or admin+ (n1/g1 have no owner).
# Ledger (crossTenant): read admin+; create god+; update and delete supergod; god+ may act in other tenants.
ENTITIES = {"note": ("notes/note", "n1", "g1", {"title": "x"}, {"title": "y"}),
            "ledger": ("vault/ledger", "l1", "l2", {"amount": 1}, {"amount": 2})}
NEEDS = {"note": {"list": 0, "read": 0, "create": 1, "update": 2, "delete": 3},
         "ledger": {"list": 3, "read": 3, "create": 4, "update": 5, "delete": 5}}
OK = {"list": 200, "read": 200, "create": 201, "update": 200, "delete": 204}


def expected(entity: str, role: str, other: bool, op: str) -> int:
    level = LEVEL[role]
    if other and role != "anonymous" and not (entity == "ledger" and level >= 4):
        return 404  # tenant isolation: existence does not leak
    if level >= NEEDS[entity][op]:
        return OK[op]
    return 401 if role == "anonymous" else 403


CASES = [pytest.param(e, r, t, op, id=f"{e}-{r}-{t}-{op}")
         for e in ENTITIES for r in ROLES for t in ("own", "other") for op in OPS]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def matrix(template_site: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Api, dict]]:
    """One app for the whole matrix; each role signs in once and calls with its Bearer token."""
    root = tmp_path_factory.mktemp("matrix") / "site"
    shutil.copytree(template_site, root)
    config = Config(site_dir=root, rate_limits={"read": "100000/minute", "write": "100000/minute"})
    async for api in make_api(config):
        tokens = {}
        for role in ROLES[1:]:
            r = await api.client.post("/api/auth/login?token=1", json={"tenant": "acme", "username": role,
                                                                       "password": "mbsite-demo"})
            tokens[role] = r.json()["token"]
            api.client.cookies.clear()  # or the next login would rotate (end) this session
        yield api, tokens


async def _fresh(api: Api, tenant: str, entity: str, data: dict) -> str:
    """A new ownerless row to update or delete, written straight to the database."""
    rid = f"m{next(_ids)}"
    pkg, name = ("notes", "note") if entity == "note" else ("vault", "ledger")  # stored snake_case
    async with api.app.state.mb.db.write() as conn:
        await conn.execute(text("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, "
                                "updated_at) VALUES (:t, :p, :e, :id, :d, 1, 0, 0)"),
                           {"t": tenant, "p": pkg, "e": name, "id": rid, "d": json.dumps({**data, "id": rid})})
    return rid


_ids = itertools.count()


@pytest.mark.parametrize("entity,role,tenant,op", CASES)
async def test_matrix(matrix: tuple[Api, dict], entity: str, role: str, tenant: str, op: str) -> None:
    api, tokens = matrix
    path, own_id, other_id, create, patch = ENTITIES[entity]
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    t, rid = ("globex", other_id) if tenant == "other" else ("acme", own_id)
    if op in ("update", "delete"):
        rid = await _fresh(api, t, entity, create)
    base = f"/api/v1/{t}/{path}"
    if op == "list":
        r = await api.client.get(base, headers=headers)
    elif op == "read":
        r = await api.client.get(f"{base}/{rid}", headers=headers)
    elif op == "create":
        r = await api.client.post(base, json=create, headers=headers)
    elif op == "update":
        r = await api.client.patch(f"{base}/{rid}", json=patch, headers=headers)
    else:
        r = await api.client.delete(f"{base}/{rid}", headers=headers)
    want = expected(entity, role, tenant == "other", op)
    assert r.status_code == want, r.text
    if want == 200 and op == "list":
        assert all(d["id"] != (own_id if tenant == "other" else other_id) for d in r.json()["data"])
    if want == 404:
        assert "Globex" not in r.text and r.json()["detail"] == "not found"


@pytest.fixture
async def sqlite_api(template_site: Path, tmp_path: Path) -> AsyncIterator[Api]:
    root = tmp_path / "site"
    shutil.copytree(template_site, root)
    async for api in make_api(Config(site_dir=root)):
        yield api


async def test_owner_rules(sqlite_api: Api) -> None:
    """Owner-only rights: a user edits and deletes their own notes, not another user's."""
    api = sqlite_api
    await api.login("acme", "user")
    mine = (await api.client.post("/api/v1/acme/notes/note", json={"title": "mine"}, headers=api.h())).json()
    assert mine["authorId"] == "acme-user"
    r = await api.client.post("/api/v1/acme/notes/note", json={"title": "forged", "authorId": "acme-admin"},
                              headers=api.h())
    assert r.status_code == 201  # create is granted by level here, so an explicit author is kept
    forged = r.json()
    assert (await api.client.patch(f"/api/v1/acme/notes/note/{forged['id']}", json={"title": "z"},
                                   headers=api.h())).status_code == 403
    r = await api.client.patch(f"/api/v1/acme/notes/note/{mine['id']}", json={"authorId": "acme-god"},
                               headers=api.h())
    assert r.status_code == 403  # may not give the row away
    assert (await api.client.patch(f"/api/v1/acme/notes/note/{mine['id']}", json={"title": "z"},
                                   headers=api.h())).status_code == 200
    assert (await api.client.delete(f"/api/v1/acme/notes/note/{mine['id']}", headers=api.h())).status_code == 204


async def test_csrf_required_for_cookie_writes(sqlite_api: Api) -> None:
    api = sqlite_api
    login = await api.client.post("/api/auth/login?token=1", json={"tenant": "acme", "username": "admin",
                                                                   "password": "mbsite-demo"})
    r = await api.client.post("/api/v1/acme/notes/note", json={"title": "x"})
    assert r.status_code == 403 and r.json()["code"] == "CSRF"
    # a Bearer token is not ambient, so it needs no CSRF token
    api.client.cookies.clear()
    r = await api.client.post("/api/v1/acme/notes/note", json={"title": "x"},
                              headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert r.status_code == 201


# The management API: every endpoint × role × own/other tenant. Levels: pages, packages, users and schemas
# need admin (3), settings god (4), tenants supergod (5); another tenant is 404 for everyone below supergod
# (who manages tenants themselves); anonymous callers are always 401.
TREE = {"type": "Text", "props": {"children": "x"}}
MANAGE = {
    # name: (needed level, method, path under /api/v1 ({t}: tenant, {fresh}: a new row), body, ok status)
    "pages-list": (3, "GET", "/{t}/_pages", None, 200),
    "pages-read": (3, "GET", "/{t}/_pages/{fresh}", None, 200),
    "pages-create": (3, "POST", "/{t}/_pages", {"path": "/m/{n}", "componentTree": TREE}, 201),
    "pages-update": (3, "PATCH", "/{t}/_pages/{fresh}", {"title": "changed"}, 200),
    "pages-delete": (3, "DELETE", "/{t}/_pages/{fresh}", None, 204),
    "packages-list": (3, "GET", "/{t}/_packages", None, 200),
    "packages-read": (3, "GET", "/{t}/_packages/vault", None, 200),
    "packages-install": (3, "POST", "/{t}/_packages", {"package": "mb_nav"}, 201),
    "packages-update": (3, "PATCH", "/{t}/_packages/vault", {"sortOrder": 1}, 200),
    "packages-uninstall": (3, "DELETE", "/{t}/_packages/mb_footer", None, 204),
    "users-list": (3, "GET", "/{t}/_users", None, 200),
    "users-read": (3, "GET", "/{t}/_users/{t}-user", None, 200),
    "users-create": (3, "POST", "/{t}/_users", {"username": "made{n}"}, 201),
    "users-update": (3, "PATCH", "/{t}/_users/{t}-moderator", {"email": "m@example.test"}, 200),
    "users-reset": (3, "POST", "/{t}/_users/{t}-user/reset-password", None, 201),
    "schemas-list": (3, "GET", "/{t}/_schemas", None, 200),
    "schemas-read": (3, "GET", "/{t}/_schemas/notes/note", None, 200),
    "settings-read": (4, "GET", "/{t}/_settings", None, 200),
    "settings-update": (4, "PATCH", "/{t}/_settings", {"settings": {"checked": True}}, 200),
    "tenants-list": (5, "GET", "/_tenants", None, 200),
    "tenants-create": (5, "POST", "/_tenants", {"slug": "made{n}"}, 201),
    "tenants-read": (5, "GET", "/_tenants/globex", None, 200),
    "tenants-update": (5, "PATCH", "/_tenants/globex", {"settings": {"checked": True}}, 200),
    "tenants-delete": (5, "DELETE", "/_tenants/{fresh}", None, 204),
}
MANAGE_CASES = [pytest.param(name, role, t, id=f"{name}-{role}-{t}") for name in MANAGE for role in ROLES
                for t in (("own", "other") if MANAGE[name][2].startswith("/{t}") else ("own",))]


def manage_expected(name: str, role: str, other: bool) -> int:
    need, ok = MANAGE[name][0], MANAGE[name][4]
    if role == "anonymous":
        return 401
    if other and LEVEL[role] < 5:
        return 404  # tenant isolation: existence does not leak
    return ok if LEVEL[role] >= need else 403


async def _prepare(api: Api, name: str, tenant: str, n: int) -> str:
    """Rows the operation needs, written straight to the database; returns the {fresh} id."""
    fresh = f"m{n}"
    async with api.app.state.mb.db.write() as conn:
        if name.startswith("pages-") and name not in ("pages-list", "pages-create"):
            await conn.execute("INSERT INTO page_configs (id, tenant, path, title, level, requires_auth, published, "
                               "sort_order, created_at, updated_at) VALUES (:id, :t, :p, 'x', 0, false, true, 0, 0, 0)",
                               {"id": fresh, "t": tenant, "p": f"/fresh/{n}"})
        if name == "packages-install":
            await conn.execute("DELETE FROM installed_packages WHERE tenant = :t AND package = 'mb_nav'", {"t": tenant})
        if name == "packages-uninstall":
            await conn.execute("DELETE FROM installed_packages WHERE tenant = :t AND package = 'mb_footer'", {"t": tenant})
            await conn.execute("INSERT INTO installed_packages (tenant, package, enabled, version, sort_order, "
                               "installed_at) VALUES (:t, 'mb_footer', true, '', 0, 0)", {"t": tenant})
        if name == "tenants-delete":
            await conn.execute("INSERT INTO tenants (slug, name, domains, settings, created_at) "
                               "VALUES (:s, 'x', '[]', '{}', 0)", {"s": fresh})
    api.app.state.mb.directory._at = 0.0  # the rows above were written behind the directory's back
    return fresh


@pytest.mark.parametrize("name,role,tenant", MANAGE_CASES)
async def test_manage_matrix(matrix: tuple[Api, dict], name: str, role: str, tenant: str) -> None:
    api, tokens = matrix
    _, method, template, body, _ = MANAGE[name]
    t = "globex" if tenant == "other" else "acme"
    n = next(_ids)
    fresh = await _prepare(api, name, t, n)
    path = "/api/v1" + template.replace("{t}", t).replace("{fresh}", fresh)
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    payload = json.loads(json.dumps(body).replace("{n}", str(n))) if body is not None else None
    r = await api.client.request(method, path, headers=headers, json=payload)
    want = manage_expected(name, role, tenant == "other")
    assert r.status_code == want, r.text
    if want == 404:
        assert "Globex" not in r.text and r.json()["detail"] == "not found"
    if want >= 400:
        assert r.headers["content-type"] == "application/problem+json"
