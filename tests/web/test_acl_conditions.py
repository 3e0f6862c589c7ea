"""An entity whose permissions are lists of conditions (upstream's video format) through the CRUD API: any
condition grants; conditions on fields limit the rows (lists filtered, others' rows 404 to read, 403 to write)."""
from __future__ import annotations

from typing import AsyncIterator

import pytest
from web_support import Api, make_api, user_id

from mbsite.config import Config

pytestmark = pytest.mark.anyio

CLIP_YAML = """\
entity: Clip
package: tube
fields:
  id: { type: String, primaryKey: true }
  tenantId: { type: String, required: true }
  title: { type: String, required: true }
  uploaderId: { type: String, required: true }
  published: { type: Boolean, default: false }
acl:
  read:
    - authenticated: true
      published: true
    - authenticated: true
      uploaderId: "{{ currentUserId }}"
  create:
    - authenticated: true
      role: user
  update:
    - authenticated: true
      uploaderId: "{{ currentUserId }}"
  delete:
    - authenticated: true
      uploaderId: "{{ currentUserId }}"
    - role: admin
"""
URL = "/api/v1/acme/tube/clip"


@pytest.fixture
async def tube(site: Config) -> AsyncIterator[Api]:
    (site.site_dir / "schemas" / "entities" / "tube.yaml").write_text(CLIP_YAML)
    async for a in make_api(site):
        yield a


async def _create(api: Api, role: str, **doc: object) -> dict[str, object]:
    await api.login("acme", role)
    r = await api.client.post(URL, json={"title": role, **doc}, headers=api.h())
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_conditions_grant_and_limit_rows(tube: Api) -> None:
    own = await _create(tube, "user")
    assert own["uploaderId"] == user_id("acme", "user")  # the owner field is filled in
    shown = await _create(tube, "moderator", published=True)
    hidden = await _create(tube, "moderator")
    await tube.login("acme", "user")
    listed = {r["id"] for r in (await tube.client.get(URL)).json()["data"]}
    assert listed == {own["id"], shown["id"]}
    assert (await tube.client.get(f"{URL}/{hidden['id']}")).status_code == 404
    assert (await tube.client.get(f"{URL}/{shown['id']}")).status_code == 200
    assert (await tube.client.patch(f"{URL}/{shown['id']}", json={"title": "x"}, headers=tube.h())).status_code == 403
    assert (await tube.client.patch(f"{URL}/{own['id']}", json={"title": "x"}, headers=tube.h())).status_code == 200
    r = await tube.client.patch(f"{URL}/{own['id']}", json={"uploaderId": "someone"}, headers=tube.h())
    assert r.status_code == 403
    assert (await tube.client.delete(f"{URL}/{shown['id']}", headers=tube.h())).status_code == 403
    await tube.login("acme", "admin")
    assert (await tube.client.delete(f"{URL}/{hidden['id']}", headers=tube.h())).status_code == 204


async def test_supergod_is_not_shut_out(tube: Api) -> None:
    await _create(tube, "supergod", published=True)
    await tube.login("acme", "supergod")
    r = await tube.client.get(URL)
    assert r.status_code == 200 and len(r.json()["data"]) == 1


async def test_anonymous_callers_must_sign_in(tube: Api) -> None:
    assert (await tube.client.get(URL)).status_code == 401


async def test_a_create_rule_without_an_owner_condition_takes_any_uploader(tube: Api) -> None:
    await tube.login("acme", "user")
    r = await tube.client.post(URL, json={"title": "t", "uploaderId": "someone"}, headers=tube.h())
    assert r.status_code == 201  # create's condition names no owner: any uploader may be set
