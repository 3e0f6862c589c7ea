"""/api/v1/{tenant}/_pages: page configs through the management API."""
from __future__ import annotations

import pytest
from web_support import Api

pytestmark = pytest.mark.anyio
TREE = {"type": "Box", "children": [{"type": "Text", "props": {"children": "hi"}}]}


async def test_create_read_update_delete(api: Api) -> None:
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(),
                              json={"path": "about//team/", "title": "Team", "componentTree": TREE, "level": 1})
    assert r.status_code == 201, r.text
    page = r.json()
    assert page["path"] == "/about/team" and page["previewUrl"] == "/acme/about/team"
    assert page["publicUrl"] == "https://acme.test/about/team"
    assert r.headers["location"].endswith(f"/_pages/{page['id']}")
    tag = r.headers["etag"]
    got = await api.client.get(f"/api/v1/acme/_pages/{page['id']}")
    assert got.status_code == 200 and got.headers["etag"] == tag and got.json() == page
    assert (await api.client.get(f"/api/v1/acme/_pages/{page['id']}",
                                 headers={"If-None-Match": tag})).status_code == 304
    r = await api.client.patch(f"/api/v1/acme/_pages/{page['id']}", headers={**api.h(), "If-Match": tag},
                               json={"title": "The team"})
    assert r.status_code == 200 and r.json()["title"] == "The team" and r.headers["etag"] != tag
    stale = await api.client.patch(f"/api/v1/acme/_pages/{page['id']}", headers={**api.h(), "If-Match": tag},
                                   json={"title": "lost"})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    listed = (await api.client.get("/api/v1/acme/_pages")).json()["data"]
    assert [p["id"] for p in listed] == [page["id"]]
    assert (await api.client.delete(f"/api/v1/acme/_pages/{page['id']}", headers=api.h())).status_code == 204
    assert (await api.client.get(f"/api/v1/acme/_pages/{page['id']}")).status_code == 404
    audit = (await api.client.get("/api/v1/acme/_audit", params={"target": f"_pages/{page['id']}"})).json()["data"]
    assert [e["action"] for e in audit] == ["delete", "update", "create"]
    assert audit[0]["actor"] == "acme-admin" and audit[1]["before"]["title"] == "Team"


@pytest.mark.parametrize("path", ["/a/../b", "/./x", "/a\\b", "/bad\x01seg", "/" + "x" * 201],
                         ids=["dotdot", "dot", "backslash", "control", "long"])
async def test_bad_paths_are_refused_by_the_path_rule(api: Api, path: str) -> None:
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": path, "componentTree": TREE})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "/path"


async def test_validation_names_every_field(api: Api) -> None:
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(),
                              json={"path": "/x", "level": 9, "published": "yes", "colour": 1, "componentTree": TREE})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"/level", "/published", "/colour"}
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/componentTree"
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(),
                              json={"path": "/x", "package": "no_such_package", "component": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "/package"


async def test_route_conflicts_name_the_other_source(api: Api) -> None:
    await api.login("acme", "admin")
    first = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/dup", "componentTree": TREE})
    assert first.status_code == 201
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/dup/", "componentTree": TREE})
    assert r.status_code == 409 and first.json()["id"] in r.json()["detail"]
    # the same path in another tenant is no conflict
    await api.login("globex", "admin")
    assert (await api.client.post("/api/v1/globex/_pages", headers=api.h(),
                                  json={"path": "/dup", "componentTree": TREE})).status_code == 201


async def test_markdown_and_package_pages_conflict(api: Api) -> None:
    site = api.app.state.mb.config.site_dir
    (site / "content" / "story.md").write_text("---\ntitle: Story\n---\nOnce.\n")
    (site / "content" / "hidden.md").write_text("---\ntitle: Hidden\ntenants: [globex]\n---\nNo.\n")
    await api.login("acme", "admin")
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/story", "componentTree": TREE})
    assert r.status_code == 409 and "content/story.md" in r.json()["detail"]
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/hidden", "componentTree": TREE})
    assert r.status_code == 201  # that file is globex's only
    async with api.app.state.mb.db.write() as conn:
        await conn.execute("INSERT INTO installed_packages (tenant, package, enabled, version, sort_order, installed_at) "
                           "VALUES ('acme', 'mb_level3', true, '', 0, 0)")
    api.app.state.mb.directory._at = 0.0  # as if the directory's few seconds had passed
    r = await api.client.post("/api/v1/acme/_pages", headers=api.h(), json={"path": "/admin", "componentTree": TREE})
    assert r.status_code == 409 and "package mb_level3" in r.json()["detail"], r.text
    r = await api.client.patch(f"/api/v1/acme/_pages/{(await api.client.get('/api/v1/acme/_pages')).json()['data'][0]['id']}",
                               headers=api.h(), json={"path": "/admin"})
    assert r.status_code == 409


async def test_list_as_csv(api: Api) -> None:
    await api.login("acme", "admin")
    await api.client.post("/api/v1/acme/_pages", headers=api.h(),
                          json={"path": "/c", "title": "=HYPERLINK(\"x\")", "componentTree": TREE})
    r = await api.client.get("/api/v1/acme/_pages", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("id,path,title")
    assert "'=HYPERLINK" in lines[1]
    assert (await api.client.get("/api/v1/acme/_pages", headers={"Accept": "text/csv"})).text == r.text
