"""/api/v1/{tenant}/_packages: install, configure, order, enable/disable and uninstall packages per tenant."""
from __future__ import annotations

import json

import pytest
from web_support import Api

pytestmark = pytest.mark.anyio


def _package(site, pid: str, deps: dict | None = None, schema: dict | None = None) -> None:
    folder = site / "packages" / pid
    folder.mkdir(parents=True)
    meta = {"packageId": pid, "name": pid.title(), "version": "2.1.0", "description": "test", "minLevel": 0,
            "dependencies": deps or {}}
    if schema is not None:
        meta["configSchema"] = schema
    (folder / "package.json").write_text(json.dumps(meta))


@pytest.fixture
def packaged(api: Api) -> Api:
    site = api.app.state.mb.config.site_dir
    _package(site, "base_kit")
    _package(site, "fancy", deps={"base_kit": "*"},
             schema={"type": "object", "properties": {"colour": {"enum": ["red", "blue"]}},
                     "additionalProperties": False})
    return api


async def test_install_configure_uninstall(packaged: Api) -> None:
    api = packaged
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(), json={"package": "fancy"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "dependency"
    assert "base_kit" in r.json()["errors"][0]["message"]
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(), json={"package": "base_kit", "sortOrder": 3})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == "2.1.0" and r.json()["enabled"] is True and r.json()["sortOrder"] == 3
    assert (await api.client.post("/api/v1/acme/_packages", headers=api.h(),
                                  json={"package": "base_kit"})).status_code == 409
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(),
                              json={"package": "fancy", "config": {"colour": "green"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/config/colour"
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(),
                              json={"package": "fancy", "config": {"colour": "red"}})
    assert r.status_code == 201, r.text
    # base_kit is needed by fancy while fancy is enabled
    r = await api.client.patch("/api/v1/acme/_packages/base_kit", headers=api.h(), json={"enabled": False})
    assert r.status_code == 409 and "fancy" in r.json()["detail"]
    assert (await api.client.delete("/api/v1/acme/_packages/base_kit", headers=api.h())).status_code == 409
    got = await api.client.get("/api/v1/acme/_packages/fancy")
    r = await api.client.patch("/api/v1/acme/_packages/fancy", headers={**api.h(), "If-Match": got.headers["etag"]},
                               json={"enabled": False, "config": {"colour": "blue"}, "version": "2.0.0"})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["config"] == {"colour": "blue"}
    stale = await api.client.patch("/api/v1/acme/_packages/fancy",
                                   headers={**api.h(), "If-Match": got.headers["etag"]}, json={"sortOrder": 1})
    assert stale.status_code == 412
    assert (await api.client.delete("/api/v1/acme/_packages/base_kit", headers=api.h())).status_code == 204
    r = await api.client.patch("/api/v1/acme/_packages/fancy", headers=api.h(), json={"enabled": True})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "dependency"
    listed = (await api.client.get("/api/v1/acme/_packages")).json()["data"]
    assert {p["package"] for p in listed} == {"vault", "fancy"}
    available = (await api.client.get("/api/v1/acme/_packages", params={"available": "true"})).json()["data"]
    assert "base_kit" in {p["package"] for p in available}
    csv = await api.client.get("/api/v1/acme/_packages", params={"format": "csv"})
    assert csv.text.splitlines()[0] == "package,name,enabled,version,availableVersion,sortOrder,dependencies,installedAt"
    actions = [e["action"] for e in (await api.client.get("/api/v1/acme/_audit")).json()["data"]]
    assert actions[:2] == ["uninstall", "update"] and actions.count("install") == 2


async def test_unknown_package_and_unknown_fields(packaged: Api) -> None:
    api = packaged
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(), json={"package": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/package"
    r = await api.client.post("/api/v1/acme/_packages", headers=api.h(), json={"package": "base_kit", "enabeld": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/enabeld"
    assert (await api.client.get("/api/v1/acme/_packages/nope")).status_code == 404


async def test_install_opens_the_packages_entities(packaged: Api) -> None:
    """Installing shop opens its Product entity at once, uninstalling closes it (the write refreshes the tenant
    directory instead of leaving it to its few seconds)."""
    api = packaged
    await api.login("acme", "admin")
    assert (await api.client.get("/api/v1/acme/shop/product")).status_code == 404
    assert (await api.client.post("/api/v1/acme/_packages", headers=api.h(), json={"package": "shop"})).status_code == 201
    assert (await api.client.get("/api/v1/acme/shop/product")).status_code == 200
    assert (await api.client.delete("/api/v1/acme/_packages/shop", headers=api.h())).status_code == 204
    assert (await api.client.get("/api/v1/acme/shop/product")).status_code == 404
