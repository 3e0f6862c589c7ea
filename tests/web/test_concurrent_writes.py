"""Concurrent writers of one record: clients that sent no precondition never see the server's own version check;
If-Match keeps its meaning."""
from __future__ import annotations

import asyncio

import pytest
from web_support import Api

pytestmark = pytest.mark.anyio
URL = "/api/v1/acme/notes/note/n1"


async def test_concurrent_patches_without_if_match_all_apply(api: Api) -> None:
    await api.login("acme", "moderator")
    before = await api.client.get(URL)
    start = int(before.headers["etag"].strip('"v'))
    writers = 24
    results = await asyncio.gather(*[api.client.patch(URL, json={"rank": i}, headers=api.h())
                                     for i in range(writers)])
    assert sorted({r.status_code for r in results}) == [200], [r.text for r in results if r.status_code != 200]
    after = await api.client.get(URL)
    assert after.headers["etag"] == f'"v{start + writers}"'  # every write applied, none lost
    assert after.json()["rank"] in range(writers)


async def test_if_match_still_fails_on_a_stale_version(api: Api) -> None:
    await api.login("acme", "moderator")
    stale = (await api.client.get(URL)).headers["etag"]
    assert (await api.client.patch(URL, json={"rank": 1}, headers={**api.h(), "If-Match": stale})).status_code == 200
    r = await api.client.patch(URL, json={"rank": 2}, headers={**api.h(), "If-Match": stale})
    assert r.status_code == 412 and r.headers["etag"] != stale


async def test_a_lost_race_is_retried_not_reported(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the row lock writers race on the version check; as many writers as attempts all get through."""
    from mbsite.web import crud

    monkeypatch.setitem(crud._ROW_FOR_UPDATE, "postgresql", crud._ROW)
    await api.login("acme", "moderator")
    start = int((await api.client.get(URL)).headers["etag"].strip('"v'))
    results = await asyncio.gather(*[api.client.patch(URL, json={"rank": i}, headers=api.h())
                                     for i in range(crud.UPDATE_ATTEMPTS)])
    assert [r.status_code for r in results] == [200] * crud.UPDATE_ATTEMPTS
    assert (await api.client.get(URL)).headers["etag"] == f'"v{start + crud.UPDATE_ATTEMPTS}"'
