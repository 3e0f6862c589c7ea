"""/api/v1/{tenant}/_users and /api/auth/reset: roles never above your own, never your own, disabling ends
sessions at once, one-time reset tokens."""
from __future__ import annotations

import pytest
from web_support import PASSWORD, Api

pytestmark = pytest.mark.anyio


async def _bearer(api: Api, tenant: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await api.client.post("/api/auth/login?token=1", json={"tenant": tenant, "username": username,
                                                               "password": password})
    assert r.status_code == 200, r.text
    api.client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_create_list_and_roles_up_to_your_own(api: Api) -> None:
    admin = await _bearer(api, "acme", "admin")
    r = await api.client.post("/api/v1/acme/_users", headers=admin,
                              json={"username": "newbie", "email": "n@acme.test", "password": "long-enough"})
    assert r.status_code == 201, r.text
    newbie = r.json()
    assert newbie["role"] == "user" and newbie["disabled"] is False and "passwordReset" not in newbie
    assert (await api.client.post("/api/v1/acme/_users", headers=admin,
                                  json={"username": "NEWBIE"})).status_code == 409
    # a peer's role is fine, a role above your own is not
    r = await api.client.patch(f"/api/v1/acme/_users/{newbie['id']}", headers=admin, json={"role": "admin"})
    assert r.status_code == 200 and r.json()["level"] == 3
    r = await api.client.patch(f"/api/v1/acme/_users/{newbie['id']}", headers=admin, json={"role": "god"})
    assert r.status_code == 403
    assert (await api.client.post("/api/v1/acme/_users", headers=admin,
                                  json={"username": "boss", "role": "supergod"})).status_code == 403
    # nor may an admin touch a user above them
    r = await api.client.patch("/api/v1/acme/_users/acme-god", headers=admin, json={"role": "user"})
    assert r.status_code == 403
    assert (await api.client.post("/api/v1/acme/_users/acme-god/reset-password", headers=admin)).status_code == 403
    users = (await api.client.get("/api/v1/acme/_users", headers=admin)).json()["data"]
    assert {u["username"] for u in users} >= {"newbie", "admin", "supergod"}
    assert all(u["id"].startswith("acme-") or u["username"] == "newbie" for u in users)  # no globex user
    csv = await api.client.get("/api/v1/acme/_users?format=csv", headers=admin)
    assert csv.text.splitlines()[0] == "id,username,email,role,level,disabled,createdAt"


async def test_never_your_own_role(api: Api) -> None:
    god = await _bearer(api, "acme", "god")
    r = await api.client.patch("/api/v1/acme/_users/acme-god", headers=god, json={"role": "supergod"})
    assert r.status_code == 403
    r = await api.client.patch("/api/v1/acme/_users/acme-god", headers=god, json={"role": "user"})
    assert r.status_code == 403
    r = await api.client.patch("/api/v1/acme/_users/acme-god", headers=god, json={"disabled": True})
    assert r.status_code == 403
    assert (await api.client.get("/api/auth/me", headers=god)).json()["role"] == "god"


async def test_role_change_applies_to_the_next_request(api: Api) -> None:
    mod = await _bearer(api, "acme", "moderator")
    assert (await api.client.get("/api/v1/acme/_pages", headers=mod)).status_code == 403
    admin = await _bearer(api, "acme", "admin")
    assert (await api.client.patch("/api/v1/acme/_users/acme-moderator", headers=admin,
                                   json={"role": "admin"})).status_code == 200
    assert (await api.client.get("/api/v1/acme/_pages", headers=mod)).status_code == 200


async def test_disabling_ends_sessions_at_once(api: Api) -> None:
    user = await _bearer(api, "acme", "user")
    assert (await api.client.get("/api/auth/me", headers=user)).status_code == 200  # cached now
    admin = await _bearer(api, "acme", "admin")
    r = await api.client.patch("/api/v1/acme/_users/acme-user", headers=admin, json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await api.client.get("/api/auth/me", headers=user)).status_code == 401
    async with api.app.state.mb.db.read() as conn:
        assert (await conn.execute("SELECT count(*) FROM sessions WHERE user_id = 'acme-user'")).scalar() == 0
    r = await api.client.post("/api/auth/login", json={"tenant": "acme", "username": "user", "password": PASSWORD})
    assert r.status_code == 401
    assert (await api.client.post("/api/v1/acme/_users/acme-user/reset-password", headers=admin)).status_code == 409
    assert (await api.client.patch("/api/v1/acme/_users/acme-user", headers=admin,
                                   json={"disabled": False})).status_code == 200
    await _bearer(api, "acme", "user")  # signs in again


async def test_reset_token_is_one_time_and_ends_sessions(api: Api) -> None:
    user = await _bearer(api, "acme", "user")
    admin = await _bearer(api, "acme", "admin")
    r = await api.client.post("/api/v1/acme/_users/acme-user/reset-password", headers=admin)
    assert r.status_code == 201
    token = r.json()["token"]
    short = await api.client.post("/api/auth/reset", json={"token": token, "password": "short"})
    assert short.status_code == 422
    assert (await api.client.post("/api/auth/reset", json={"token": token,
                                                           "password": "a new password"})).status_code == 204
    assert (await api.client.get("/api/auth/me", headers=user)).status_code == 401  # old sessions ended
    again = await api.client.post("/api/auth/reset", json={"token": token, "password": "another password"})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_TOKEN"
    r = await api.client.post("/api/auth/login", json={"tenant": "acme", "username": "user", "password": PASSWORD})
    assert r.status_code == 401
    await _bearer(api, "acme", "user", "a new password")
    async with api.app.state.mb.db.read() as conn:
        stored = (await conn.execute("SELECT password_hash FROM credentials WHERE user_id = 'acme-user'")).scalar()
        tokens = (await conn.execute("SELECT count(*) FROM password_resets")).scalar()
    assert stored.startswith("$argon2id$") and tokens == 0


async def test_created_without_password_gets_a_setup_token(api: Api) -> None:
    admin = await _bearer(api, "acme", "admin")
    r = await api.client.post("/api/v1/acme/_users", headers=admin, json={"username": "invited", "role": "moderator"})
    assert r.status_code == 201
    token = r.json()["passwordReset"]["token"]
    assert (await api.client.post("/api/auth/reset", json={"token": token, "password": "chosen-by-me"})).status_code == 204
    assert (await api.client.post("/api/auth/login", json={"tenant": "acme", "username": "invited",
                                                           "password": "chosen-by-me"})).json()["level"] == 2


async def test_other_tenants_users_are_not_found(api: Api) -> None:
    admin = await _bearer(api, "acme", "admin")
    assert (await api.client.get("/api/v1/globex/_users", headers=admin)).status_code == 404
    assert (await api.client.patch("/api/v1/globex/_users/globex-user", headers=admin,
                                   json={"disabled": True})).status_code == 404
    # and an id of another tenant through one's own tenant is not found either
    assert (await api.client.patch("/api/v1/acme/_users/globex-user", headers=admin,
                                   json={"disabled": True})).status_code == 404
    supergod = await _bearer(api, "acme", "supergod")
    assert (await api.client.get("/api/v1/globex/_users/globex-admin", headers=supergod)).status_code == 200


async def test_a_session_racing_the_disable_signs_nobody_in(api: Api) -> None:
    """A session created while the account was being disabled (a sign-in racing the PATCH) is refused too."""
    from mbsite.web.sessions import hash_token

    admin = await _bearer(api, "acme", "admin")
    assert (await api.client.patch("/api/v1/acme/_users/acme-user", headers=admin,
                                   json={"disabled": True})).status_code == 200
    async with api.app.state.mb.db.write() as conn:
        await conn.execute("INSERT INTO sessions (id, token_hash, user_id, tenant, csrf_token, created_at, expires_at, "
                           "last_activity) VALUES ('raced', :h, 'acme-user', 'acme', '', 0, 99999999999999, 0)",
                           {"h": hash_token("raced-token")})
    assert (await api.client.get("/api/auth/me", headers={"Authorization": "Bearer raced-token"})).status_code == 401
