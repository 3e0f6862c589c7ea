"""CRUD on entity records: list/filter/sort/cursor, create, validation, ETag, delete, bulk (SQLite + PostgreSQL)."""
from __future__ import annotations

import pytest
from web_support import Api

pytestmark = pytest.mark.anyio
NOTES = "/api/v1/acme/notes/note"


async def test_public_list_and_read(api: Api) -> None:
    r = await api.client.get(NOTES)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["id"] for n in body["data"]] == ["n1"]
    r = await api.client.get(NOTES + "/n1")
    assert r.status_code == 200 and r.json()["title"] == "Acme hello"
    assert r.headers["etag"] == '"v1"'


async def test_entity_name_spellings(api: Api) -> None:
    for name in ("Note", "note", "NOTE"):
        assert (await api.client.get(f"/api/v1/acme/notes/{name}/n1")).status_code == 200


async def test_create_validate_update_delete(api: Api) -> None:
    assert (await api.login("acme", "user")).status_code == 200
    r = await api.client.post(NOTES, json={"title": "First", "slug": "first", "tags": ["a"]}, headers=api.h())
    assert r.status_code == 201, r.text
    note = r.json()
    assert r.headers["location"].endswith(f"/note/{note['id']}")
    assert note["tenantId"] == "acme" and note["rank"] == 0 and note["status"] == "draft"
    assert isinstance(note["createdAt"], int)
    # every field at fault is listed
    r = await api.client.post(NOTES, json={"rank": -1, "status": "nope", "email": "x", "link": "ftp:x",
                                           "slug": "Bad Slug", "tags": ["x" * 30], "meta": {}, "bogus": 1},
                              headers=api.h())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"]: e["code"] for e in r.json()["errors"]}
    assert fields == {"/title": "required", "/rank": "minimum", "/status": "enum", "/email": "format",
                      "/link": "format", "/slug": "pattern", "/tags/0": "maxLength", "/meta/color": "required",
                      "/bogus": "unknown"}
    # unique
    r = await api.client.post(NOTES, json={"title": "Dup", "slug": "first"}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "unique"
    url = f"{NOTES}/{note['id']}"
    r = await api.client.patch(url, json={"rank": 5}, headers={**api.h(), "If-Match": '"v9"'})
    assert r.status_code == 412
    r = await api.client.patch(url, json={"rank": 5}, headers={**api.h(), "If-Match": '"v1"'})
    assert r.status_code == 200 and r.json()["rank"] == 5 and r.headers["etag"] == '"v2"'
    r = await api.client.put(url, json={"title": "Replaced"}, headers=api.h())
    assert r.status_code == 200
    assert r.json()["title"] == "Replaced" and "slug" not in r.json() and r.json()["createdAt"] == note["createdAt"]
    assert (await api.client.delete(url, headers=api.h())).status_code == 204
    assert (await api.client.get(url)).status_code == 404


async def test_sensitive_fields_never_returned(api: Api) -> None:
    await api.login("globex", "admin")
    r = await api.client.get("/api/v1/globex/notes/note/g1")
    assert r.status_code == 200 and "secret" not in r.json()
    r = await api.client.get("/api/v1/globex/notes/note")
    assert all("secret" not in n for n in r.json()["data"])
    r = await api.client.get("/api/v1/globex/notes/note?secret=s3")
    assert r.status_code == 400


async def test_filters_sort_and_pagination(api: Api) -> None:
    await api.login("acme", "admin")
    items = [{"title": f"T{i:02d}", "rank": i % 5, "score": None if i % 3 == 0 else i / 2,
              "status": ["draft", "published"][i % 2], "slug": f"s-{i}"} for i in range(23)]
    r = await api.client.post(NOTES, json=items, headers=api.h())
    assert r.status_code == 201, r.text
    get = api.client.get
    rows = [*items, {"title": "Acme hello", "rank": 1, "status": "published"}]

    async def count(params: dict[str, str]) -> int:
        r = await get(NOTES, params={**params, "limit": "100"})
        assert r.status_code == 200, r.text
        return len(r.json()["data"])

    cases = [
        ({"rank": "3"}, lambda n: n["rank"] == 3),
        ({"rank[gte]": "4"}, lambda n: n["rank"] >= 4),
        ({"rank[in]": "0,1"}, lambda n: n["rank"] in (0, 1)),
        ({"rank[notIn]": "0,1,2"}, lambda n: n["rank"] not in (0, 1, 2)),
        ({"status[ne]": "draft"}, lambda n: n["status"] != "draft"),
        ({"title[startsWith]": "T1"}, lambda n: n["title"].startswith("T1")),
        ({"title[endsWith]": "hello"}, lambda n: n["title"].endswith("hello")),
        ({"title[contains]": "0"}, lambda n: "0" in n["title"]),
        ({"score[isNull]": "1"}, lambda n: n.get("score") is None),
        ({"score[isNotNull]": "1"}, lambda n: n.get("score") is not None),
        ({"score[gt]": "5.5"}, lambda n: n.get("score") is not None and n["score"] > 5.5),
        ({"filter": '{"rank": {"lt": 2}, "status": "draft"}'}, lambda n: n["rank"] < 2 and n["status"] == "draft"),
    ]
    for params, pred in cases:
        assert await count(params) == sum(1 for n in rows if pred(n)), params
    r = await get(NOTES, params={"sort": "-rank,title", "limit": "5", "count": "true", "fields": "title,rank"})
    page = r.json()
    assert page["page"]["total"] == 24
    assert [n["title"] for n in page["data"]] == ["T04", "T09", "T14", "T19", "T03"]
    assert set(page["data"][0]) == {"id", "title", "rank"}
    # cursor pagination visits every row exactly once, for several orders (with nulls)
    for sort in ("", "-rank,title", "score", "-score,id", "status,-title"):
        seen, cursor = [], None
        while True:
            params = {"limit": "7", **({"sort": sort} if sort else {}), **({"cursor": cursor} if cursor else {})}
            page = (await get(NOTES, params=params)).json()
            seen += [n["id"] for n in page["data"]]
            cursor = page["page"]["nextCursor"]
            if not cursor:
                break
        full = (await get(NOTES, params={"limit": "100", **({"sort": sort} if sort else {})})).json()["data"]
        assert seen == [n["id"] for n in full], sort
    for bad in ({"sort": "nope"}, {"rank[zz]": "1"}, {"limit": "0"}, {"cursor": "!!"}, {"filter": "[1]"},
                {"rank": "x"}):
        r = await get(NOTES, params=bad)
        assert r.status_code == 400, bad
        assert r.json()["code"]


async def test_bulk_is_all_or_nothing(api: Api) -> None:
    await api.login("acme", "admin")
    r = await api.client.post(NOTES, json=[{"title": "ok"}, {"rank": "x"}], headers=api.h())
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"/1/title", "/1/rank"}
    assert len((await api.client.get(NOTES)).json()["data"]) == 1
    r = await api.client.post(NOTES, json=[{"title": "a"}, {"title": "b"}], headers=api.h())
    ids = [n["id"] for n in r.json()["data"]]
    r = await api.client.request("DELETE", NOTES, json={"ids": ids + ["missing"]}, headers=api.h())
    assert r.status_code == 404
    assert len((await api.client.get(NOTES)).json()["data"]) == 3
    r = await api.client.request("DELETE", NOTES, json={"ids": ids}, headers=api.h())
    assert r.status_code == 200 and r.json() == {"deleted": 2}


async def test_foreign_keys(api: Api) -> None:
    await api.login("acme", "user")
    url = "/api/v1/acme/notes/comment"
    r = await api.client.post(url, json={"noteId": "g1", "text": "hi"}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "foreignKey"  # g1 is globex's
    r = await api.client.post(url, json={"noteId": "n1", "text": "hi", "id": "c1"}, headers=api.h())
    assert r.status_code == 201 and r.json()["id"] == "c1"
    r = await api.client.post(url, json={"noteId": "n1", "text": "again", "id": "c1"}, headers=api.h())
    assert r.status_code == 409


@pytest.mark.parametrize("method,path,kw,status", [
    ("GET", "/api/v1/nope/notes/note", {}, 404),
    ("GET", "/api/v1/acme/nope/note", {}, 404),
    ("GET", "/api/v1/acme/notes/nope", {}, 404),
    ("GET", "/api/v1/acme/notes/note/missing", {}, 404),
    ("PUT", "/api/v1/acme/notes/note", {}, 405),
    ("POST", "/api/v1/acme/notes/note", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415),
    ("POST", "/api/v1/acme/notes/note", {"content": b"{", "headers": {"content-type": "application/json"}}, 400),
    ("POST", "/api/v1/acme/notes/note", {"content": b"[" + b"1," * 60000 + b"1]",
                                         "headers": {"content-type": "application/json"}}, 413),
], ids=["tenant", "package", "entity", "record", "method", "media-type", "json", "too-large"])
async def test_errors_are_problems(api: Api, method: str, path: str, kw: dict, status: int) -> None:
    await api.login("acme", "admin")
    r = await api.client.request(method, path, **kw, headers={**kw.pop("headers", {}), **api.h()}) if False else \
        await api.client.request(method, path, content=kw.get("content"),
                                 headers={**kw.get("headers", {}), **api.h()})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["code"] and "Traceback" not in r.text
    if status == 405:
        assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST", "DELETE"}


async def test_writes_enter_feed_and_audit(api: Api) -> None:
    await api.login("acme", "admin")
    r = await api.client.post(NOTES, json={"title": "Fed", "secret": "pw"}, headers=api.h())
    rid = r.json()["id"]
    state = api.app.state.mb
    from sqlalchemy import text
    async with state.db.read() as conn:
        rows = (await conn.execute(text("SELECT tbl, row_key, op FROM changes WHERE tbl = 'entity_records' "
                                        "AND tenant = 'acme' ORDER BY seq DESC LIMIT 1"))).all()
    assert rows == [("entity_records", f"notes/note/{rid}", "insert")]
    r = await api.client.get("/api/v1/acme/_audit")
    assert r.status_code == 200
    entry = r.json()["data"][0]
    assert entry["action"] == "create" and entry["actor"] == "acme-admin" and entry["target"] == f"notes/note/{rid}"
    assert "secret" not in entry["after"]
