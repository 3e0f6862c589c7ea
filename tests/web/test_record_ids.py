"""Record ids from clients follow the project's one path rule (`mbsite.paths.record_id_problem`): an id that
could not be a path segment is a problem naming the field, never silently replaced by a generated one."""
from __future__ import annotations

import pytest
from web_support import Api

pytestmark = pytest.mark.anyio
BASE = "/api/v1/acme/notes/comment"
BAD_IDS = ["..", ".", "a/b", "a\\b", "x\x00y", "tab\there", "é", "x" * 65, "", 42]


@pytest.mark.parametrize("rid", BAD_IDS, ids=repr)
async def test_a_bad_id_in_a_body_is_a_422_naming_it(api: Api, rid: object) -> None:
    await api.login("acme", "user")
    r = await api.client.post(BASE, json={"id": rid, "noteId": "n1", "text": "hi"}, headers=api.h())
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["/id"]
    r = await api.client.post(BASE, json=[{"id": "ok-1", "noteId": "n1", "text": "a"},
                                          {"id": rid, "noteId": "n1", "text": "b"}], headers=api.h())
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["/1/id"]
    assert (await api.client.get(f"{BASE}/ok-1")).status_code == 404  # all or nothing


async def test_good_ids_are_kept_and_missing_ones_generated(api: Api) -> None:
    await api.login("acme", "user")
    for rid in ("c1", "a.b:c~d_e-f", "x" * 64):
        r = await api.client.post(BASE, json={"id": rid, "noteId": "n1", "text": "hi"}, headers=api.h())
        assert r.status_code == 201 and r.json()["id"] == rid
    r = await api.client.post(BASE, json={"noteId": "n1", "text": "hi"}, headers=api.h())
    assert r.status_code == 201 and r.json()["id"]


@pytest.mark.parametrize("path_id", ["%2E%2E", "%2E", "a%5Cb", "%09", "x" * 65], ids=repr)
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_a_bad_id_in_the_path_is_a_400_naming_it(api: Api, method: str, path_id: str) -> None:
    await api.login("acme", "admin")
    r = await api.client.request(method, f"{BASE}/{path_id}", json={"text": "x"}, headers=api.h())
    assert r.status_code == 400 and r.json()["code"] == "INVALID_PARAMETER"
    assert [e["field"] for e in r.json()["errors"]] == ["id"]


async def test_a_bad_id_in_a_bulk_delete_is_named(api: Api) -> None:
    await api.login("acme", "admin")
    r = await api.client.request("DELETE", BASE, json={"ids": ["n1", ".."]}, headers=api.h())
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["/ids/1"]


async def test_an_id_is_ignored_when_the_entity_generates_it(api: Api) -> None:
    """Note declares `id: {generated: true}`: the server picks every id, as it does for other generated fields."""
    await api.login("acme", "user")
    notes = "/api/v1/acme/notes/note"
    r = await api.client.post(notes, json={"id": "mine", "title": "t"}, headers=api.h())
    assert r.status_code == 201 and r.json()["id"] != "mine"
    assert r.headers["location"].endswith("/" + r.json()["id"])
    assert (await api.client.get(f"{notes}/mine")).status_code == 404
    # A document read back and sent again is a new record, not a conflict with the one it came from.
    again = await api.client.post(notes, json=r.json(), headers=api.h())
    assert again.status_code == 201 and again.json()["id"] != r.json()["id"]
    bulk = await api.client.post(notes, json=[{"id": "..", "title": "a"}, {"id": "n1", "title": "b"}], headers=api.h())
    assert bulk.status_code == 201 and not {d["id"] for d in bulk.json()["data"]} & {"..", "n1"}


async def test_openapi_offers_an_id_on_create_only_where_a_client_may_choose_it(api: Api) -> None:
    schemas = (await api.client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    inputs = {name: s for name, s in schemas.items() if name.endswith("Input")}
    comment = next(s for n, s in inputs.items() if "Comment" in n)
    note = next(s for n, s in inputs.items() if "Note" in n)
    assert "id" in comment["properties"] and "id" not in note["properties"]
