"""/api/v1/_tenants (supergod), /api/v1/{tenant}/_settings (god) and /api/v1/{tenant}/_schemas (admin)."""
from __future__ import annotations

import pytest
from web_support import PASSWORD, Api

pytestmark = pytest.mark.anyio


async def _bearer(api: Api, tenant: str, username: str) -> dict[str, str]:
    r = await api.client.post("/api/auth/login?token=1", json={"tenant": tenant, "username": username,
                                                               "password": PASSWORD})
    api.client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_tenants_lifecycle(api: Api) -> None:
    sg = await _bearer(api, "acme", "supergod")
    r = await api.client.post("/api/v1/_tenants", headers=sg, json={"slug": "../evil"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/slug"
    r = await api.client.post("/api/v1/_tenants", headers=sg, json={"slug": "initech", "domains": ["acme.test"]})
    assert r.status_code == 409 and "acme" in r.json()["detail"]
    r = await api.client.post("/api/v1/_tenants", headers=sg,
                              json={"slug": "initech", "name": "Initech", "domains": ["Initech.TEST"]})
    assert r.status_code == 201, r.text
    assert r.json()["domains"] == ["initech.test"]
    # the new tenant is usable at once: its first admin can be created
    r = await api.client.post("/api/v1/initech/_users", headers=sg,
                              json={"username": "boss", "role": "admin", "password": "initech-pw"})
    assert r.status_code == 201, r.text
    assert "initech" in (await api.client.get("/api/v1/openapi.json")).text
    tag = (await api.client.get("/api/v1/_tenants/initech", headers=sg)).headers["etag"]
    r = await api.client.patch("/api/v1/_tenants/initech", headers={**sg, "If-Match": tag}, json={"name": "Initech Inc"})
    assert r.status_code == 200 and r.json()["name"] == "Initech Inc"
    assert (await api.client.delete("/api/v1/_tenants/initech", headers={**sg, "If-Match": tag})).status_code == 412
    assert (await api.client.delete("/api/v1/_tenants/acme", headers=sg)).status_code == 409  # one's own
    assert (await api.client.delete("/api/v1/_tenants/initech", headers=sg)).status_code == 204
    assert (await api.client.get("/api/v1/_tenants/initech", headers=sg)).status_code == 404
    async with api.app.state.mb.db.read() as conn:
        assert (await conn.execute("SELECT count(*) FROM users WHERE tenant = 'initech'")).scalar() == 0
    slugs = [t["slug"] for t in (await api.client.get("/api/v1/_tenants", headers=sg)).json()["data"]]
    assert slugs == ["acme", "globex"]


async def test_settings_are_gods(api: Api) -> None:
    admin = await _bearer(api, "acme", "admin")
    god = await _bearer(api, "acme", "god")
    assert (await api.client.get("/api/v1/acme/_settings", headers=admin)).status_code == 403
    r = await api.client.patch("/api/v1/acme/_settings", headers=god,
                               json={"domains": ["acme.test", "www.acme.test"], "settings": {"theme": "dark"}})
    assert r.status_code == 200 and r.json()["settings"] == {"theme": "dark"}
    assert api.app.state.mb.directory.tenant_for_host("www.acme.test") == "acme"
    r = await api.client.patch("/api/v1/acme/_settings", headers=god, json={"domains": ["globex.test"]})
    assert r.status_code == 409
    r = await api.client.patch("/api/v1/acme/_settings", headers=god, json={"domains": ["bad host/"]})
    assert r.status_code == 422
    assert (await api.client.get("/api/v1/globex/_settings", headers=god)).status_code == 404


async def test_schemas_as_the_validator_sees_them(api: Api) -> None:
    admin = await _bearer(api, "acme", "admin")
    data = (await api.client.get("/api/v1/acme/_schemas", headers=admin)).json()["data"]
    note = next(d for d in data if d["name"] == "Note")
    schema = note["schema"]
    assert schema["required"] == ["title"] and schema["additionalProperties"] is False
    assert schema["properties"]["title"]["maxLength"] == 80
    assert schema["properties"]["status"]["enum"] == ["draft", "published", "archived", None]  # nullable
    assert "tenantId" in schema["x-mbsite"]["serverFields"] and "secret" in schema["x-mbsite"]["hidden"]
    one = await api.client.get("/api/v1/acme/_schemas/notes/note", headers=admin)
    assert one.status_code == 200 and one.json() == schema
    assert (await api.client.get("/api/v1/acme/_schemas/shop/product", headers=admin)).status_code == 404
