"""Unique indexes over several fields (`indexes: [{fields: [tenantId, slug], unique: true}]`) are enforced by the
CRUD API: a second record with the same values is a 409 naming the fields, also under concurrent creates."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
from web_support import Api, make_api

from mbsite.config import Config

pytestmark = pytest.mark.anyio

CATEGORY_YAML = """\
entity: Category
package: shelf
fields:
  id: { type: cuid, primary: true, generated: true }
  tenantId: { type: uuid, required: true }
  name: { type: string, required: true }
  slug: { type: string, required: true }
  parent: { type: string, nullable: true }
acl:
  read: { public: true }
  create: { user: true }
  update: { user: true }
  delete: { admin: true }
indexes:
  - fields: [tenantId, slug]
    unique: true
    name: tenant_slug
  - fields: [parent]
    name: by_parent
"""
URL = "/api/v1/{}/shelf/category"


@pytest.fixture
async def shelf(site: Config) -> AsyncIterator[Api]:
    (site.site_dir / "schemas" / "entities" / "shelf.yaml").write_text(CATEGORY_YAML)
    async for a in make_api(site):
        await a.login("acme", "user")
        yield a


async def test_a_second_record_with_the_same_key_is_a_409_naming_the_fields(shelf: Api) -> None:
    first = await shelf.client.post(URL.format("acme"), json={"name": "General", "slug": "general"}, headers=shelf.h())
    assert first.status_code == 201, first.text
    again = await shelf.client.post(URL.format("acme"), json={"name": "Other", "slug": "general"}, headers=shelf.h())
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    body = again.json()
    assert "tenantId" in body["detail"] and "slug" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["/tenantId", "/slug"]
    listed = await shelf.client.get(URL.format("acme"))
    assert [r["slug"] for r in listed.json()["data"]] == ["general"]


async def test_the_key_is_per_tenant_and_other_values_pass(shelf: Api) -> None:
    h = shelf.h()
    assert (await shelf.client.post(URL.format("acme"), json={"name": "G", "slug": "general"}, headers=h)).status_code == 201
    assert (await shelf.client.post(URL.format("acme"), json={"name": "N", "slug": "news"}, headers=h)).status_code == 201
    await shelf.login("globex", "user")
    r = await shelf.client.post(URL.format("globex"), json={"name": "G", "slug": "general"}, headers=shelf.h())
    assert r.status_code == 201, r.text


async def test_an_update_onto_a_taken_key_is_a_409(shelf: Api) -> None:
    h = shelf.h()
    await shelf.client.post(URL.format("acme"), json={"name": "G", "slug": "general"}, headers=h)
    news = (await shelf.client.post(URL.format("acme"), json={"name": "N", "slug": "news"}, headers=h)).json()
    r = await shelf.client.patch(f"{URL.format('acme')}/{news['id']}", json={"slug": "general"}, headers=h)
    assert r.status_code == 409, r.text
    # Changing another field of a record keeps its own key: not a conflict with itself.
    r = await shelf.client.patch(f"{URL.format('acme')}/{news['id']}", json={"name": "News"}, headers=h)
    assert r.status_code == 200, r.text


async def test_a_bulk_create_with_a_repeated_key_creates_nothing(shelf: Api) -> None:
    r = await shelf.client.post(URL.format("acme"), json=[{"name": "A", "slug": "same"}, {"name": "B", "slug": "same"}],
                                headers=shelf.h())
    assert r.status_code == 409, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["/1/tenantId", "/1/slug"]
    assert (await shelf.client.get(URL.format("acme"))).json()["data"] == []


async def test_a_csv_import_with_a_taken_key_names_the_row_and_fields(shelf: Api) -> None:
    await shelf.client.post(URL.format("acme"), json={"name": "G", "slug": "general"}, headers=shelf.h())
    r = await shelf.client.post(URL.format("acme"), content=b"name,slug\nX,x\nG2,general\n",
                                headers={**shelf.h(), "Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(2, "/tenantId"), (2, "/slug")}


async def test_concurrent_creates_of_one_key_let_exactly_one_through(shelf: Api) -> None:
    writers = 12
    results = await asyncio.gather(*[
        shelf.client.post(URL.format("acme"), json={"name": f"G{i}", "slug": "general"}, headers=shelf.h())
        for i in range(writers)])
    assert sorted(r.status_code for r in results) == [201] + [409] * (writers - 1), [r.text for r in results]
    assert len((await shelf.client.get(URL.format("acme"))).json()["data"]) == 1
