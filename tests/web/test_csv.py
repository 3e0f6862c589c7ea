"""CSV: entity lists streamed as CSV with the JSON list's filters, sort and fields (formula-injection safe), and
CSV imports that are all or nothing with per-row errors."""
from __future__ import annotations

import csv
import io

import pytest
from web_support import Api

from mbsite.web.csvio import neutralise

pytestmark = pytest.mark.anyio
NOTES = "/api/v1/acme/notes/note"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"],
                         ids=["eq", "plus", "minus", "at", "tab", "cr", "dde"])
def test_formula_cells_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value


async def test_export_matches_the_json_list(api: Api) -> None:
    await api.login("acme", "admin")
    titles = ["=HYPERLINK(\"http://evil\")", "+1 plus", "@at", "plain, with \"quotes\"\nand a line", "-minus"]
    for i, t in enumerate(titles):
        r = await api.client.post(NOTES, headers=api.h(), json={"title": t, "rank": i + 10, "secret": "s3cr3t",
                                                                "tags": ["a"], "status": "published"})
        assert r.status_code == 201, r.text
    query = {"rank[gte]": "11", "sort": "-rank", "fields": "title,rank,tags"}
    as_json = (await api.client.get(NOTES, params=query)).json()["data"]
    r = await api.client.get(NOTES, params={**query, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _rows(r.text)
    assert list(rows[0]) == ["id", "title", "rank", "tags"]
    assert [row["id"] for row in rows] == [d["id"] for d in as_json]
    assert [row["rank"] for row in rows] == [str(d["rank"]) for d in as_json]
    by_title = {row["title"].lstrip("'"): row["title"] for row in rows}
    assert by_title["+1 plus"] == "'+1 plus" and by_title["@at"] == "'@at" and by_title["-minus"] == "'-minus"
    assert by_title["plain, with \"quotes\"\nand a line"] == "plain, with \"quotes\"\nand a line"
    assert rows[0]["tags"] == '["a"]'
    every = _rows((await api.client.get(NOTES, headers={"Accept": "text/csv"})).text)
    assert "secret" not in every[0] and "s3cr3t" not in str(every)
    assert any(row["title"] == "'=HYPERLINK(\"http://evil\")" for row in every)


async def test_export_streams_past_one_batch(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mbsite.web.crud.CSV_BATCH", 2)
    await api.login("acme", "admin")
    r = await api.client.post(NOTES, headers=api.h(), json=[{"title": f"t{i}", "rank": i % 3} for i in range(7)])
    assert r.status_code == 201
    rows = _rows((await api.client.get(NOTES, params={"format": "csv", "sort": "rank,-title"})).text)
    assert len(rows) == 8  # seven new notes and the seeded one
    keys = [(int(r["rank"]), r["title"]) for r in rows]
    assert keys == sorted(keys, key=lambda k: (k[0], [-ord(c) for c in k[1]]))
    limited = _rows((await api.client.get(NOTES, params={"format": "csv", "limit": "3", "offset": "1"})).text)
    assert len(limited) == 3


async def test_import_all_rows(api: Api) -> None:
    await api.login("acme", "admin")
    body = "title,rank,status,tags,slug\nFirst,1,published,\"[\"\"x\"\"]\",first\nSecond,,draft,,\n"
    r = await api.client.post(NOTES, headers={**api.h(), "Content-Type": "text/csv"}, content=body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert r.json()["imported"] == 2 and data[0]["tags"] == ["x"] and data[1]["rank"] == 0  # default applied
    titles = {d["title"] for d in (await api.client.get(NOTES, params={"limit": 100})).json()["data"]}
    assert {"First", "Second"} <= titles


async def test_import_is_all_or_nothing_with_row_errors(api: Api) -> None:
    await api.login("acme", "admin")
    body = ("title,rank,status,slug\n"
            "Fine,1,published,fine\n"
            ",2,draft,\n"                 # row 2: title required
            "Bad rank,many,draft,\n"      # row 3: not a number
            "Taken,3,draft,hello\n")      # row 4: slug of the seeded note (unique)
    r = await api.client.post(NOTES, headers={**api.h(), "Content-Type": "text/csv; charset=utf-8"}, content=body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(2, "/title"), (3, "/rank"), (4, "/slug")]
    titles = {d["title"] for d in (await api.client.get(NOTES, params={"limit": 100})).json()["data"]}
    assert "Fine" not in titles
    r = await api.client.post(NOTES, headers={**api.h(), "Content-Type": "text/csv"}, content="title,colour\nx,red\n")
    assert r.status_code == 422 and r.json()["errors"][0] == {"row": 0, "field": "/colour", "code": "unknown",
                                                               "message": "is not a field of this entity"}


async def test_import_needs_the_create_right(api: Api) -> None:
    r = await api.client.post(NOTES, headers={"Content-Type": "text/csv"}, content="title\nx\n")
    assert r.status_code == 401
    await api.login("acme", "user")
    r = await api.client.post("/api/v1/globex/notes/note", headers={**api.h(), "Content-Type": "text/csv"},
                              content="title\nx\n")
    assert r.status_code == 404
