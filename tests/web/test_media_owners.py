"""Each upload is its own asset, owned by its uploader with its own filename; equal bytes are stored once and
removed only when no asset uses them any more."""
from __future__ import annotations

import asyncio

import pytest
from test_auth_gate import _png
from web_support import Api

pytestmark = pytest.mark.anyio


async def _upload(api: Api, who: str, name: str, data: bytes) -> dict:
    await api.login("acme", who)
    r = await api.client.post("/api/media/acme", files={"file": (name, data, "image/png")}, headers=api.h())
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_equal_bytes_from_two_users_are_two_assets(api: Api) -> None:
    data = _png(4, 4)
    first = await _upload(api, "user", "first.png", data)
    second = await _upload(api, "moderator", "second.png", data)
    assert first["id"] != second["id"]
    assert (first["filename"], first["createdBy"]) == ("first.png", "acme-user")
    assert (second["filename"], second["createdBy"]) == ("second.png", "acme-moderator")
    folder = api.app.state.mb.config.media_dir / "acme"
    assert [p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")] == [data]  # stored once
    r = await api.client.get(second["url"])
    assert r.status_code == 200 and r.content == data and 'filename="second.png"' in r.headers["content-disposition"]
    # the second uploader deletes their own upload; the first one's is untouched
    assert (await api.client.delete(second["url"], headers=api.h())).status_code == 204
    assert (await api.client.get(second["url"])).status_code == 404
    r = await api.client.get(first["url"])
    assert r.status_code == 200 and r.content == data and 'filename="first.png"' in r.headers["content-disposition"]
    # ... and may not delete the first one's
    assert (await api.client.delete(first["url"], headers=api.h())).status_code == 403
    await api.login("acme", "user")
    assert (await api.client.delete(first["url"], headers=api.h())).status_code == 204
    assert [p for p in folder.iterdir() if not p.name.startswith(".")] == []  # the last user of the bytes is gone


async def test_the_first_uploader_deleting_keeps_the_second_ones_bytes(api: Api) -> None:
    data = _png(5, 3)
    first = await _upload(api, "user", "a.png", data)
    second = await _upload(api, "moderator", "b.png", data)
    await api.login("acme", "user")
    assert (await api.client.delete(first["url"], headers=api.h())).status_code == 204
    r = await api.client.get(second["url"])
    assert r.status_code == 200 and r.content == data
    listed = (await api.client.get("/api/media/acme")).json()["data"]
    assert [(a["id"], a["filename"]) for a in listed] == [(second["id"], "b.png")]


async def test_concurrent_upload_and_delete_of_equal_bytes_lose_nothing(api: Api) -> None:
    data = _png(6, 2)
    await api.login("acme", "admin")
    for _ in range(5):
        old = (await api.client.post("/api/media/acme", files={"file": ("x.png", data, "image/png")},
                                     headers=api.h())).json()
        deleted, uploaded = await asyncio.gather(
            api.client.delete(old["url"], headers=api.h()),
            api.client.post("/api/media/acme", files={"file": ("y.png", data, "image/png")}, headers=api.h()))
        assert deleted.status_code == 204 and uploaded.status_code == 201
        r = await api.client.get(uploaded.json()["url"])
        assert r.status_code == 200 and r.content == data
