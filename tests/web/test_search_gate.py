"""The gate answers `/pagefind/…` from the search bundle of the viewer's level: the public one for anonymous viewers,
the highest level's bundle not above theirs for a session (a level without a bundle of its own gets the one below),
never a higher level's; a session of another tenant is nobody; paths that climb out get nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from web_support import Api

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("search_on")]


def _write_bundles(out: Path) -> None:
    def put(rel: str, body: str) -> None:
        p = out / "acme" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    put("public/index.html", "home")
    put("public/404.html", "missing")
    put("public/pagefind/pagefind-entry.json", "entry-0")
    put("public/pagefind/fragment/a.pf_fragment", "fragment-0")
    put("private/pagefind/2/pagefind-entry.json", "entry-2")
    put("private/pagefind/2/fragment/a.pf_fragment", "fragment-2")
    put("private/pagefind/4/pagefind-entry.json", "entry-4")
    put("private/pagefind/4/fragment/a.pf_fragment", "fragment-4")
    put("private/pagefind/5/fragment/a.pf_fragment", "LEAK-no-entry")  # a bundle being written: not a bundle yet
    (out / "acme" / "routes.json").write_text('{"tenant": "acme", "pages": {"/": {"level": 0, "variants": [0]}}}')


@pytest.mark.parametrize("who,level", [
    (None, 0), ("user", 0), ("moderator", 2), ("admin", 2), ("god", 4), ("supergod", 4),
], ids=lambda v: str(v))
async def test_each_level_gets_its_bundle(api: Api, who: str | None, level: int) -> None:
    _write_bundles(api.app.state.mb.config.out)
    if who:
        await api.login("acme", who)
    for name in ("pagefind-entry.json", "fragment/a.pf_fragment"):
        r = await api.client.get(f"/acme/pagefind/{name}")
        assert r.status_code == 200
        assert r.text.endswith(f"-{level}"), (who, name, r.text)
        assert r.headers["vary"] == "Cookie"  # a shared cache must not hand one viewer's bundle to another
        if who:
            assert r.headers["cache-control"] == "private, no-store"


async def test_another_tenants_session_gets_the_public_bundle(api: Api) -> None:
    _write_bundles(api.app.state.mb.config.out)
    await api.login("globex", "supergod")
    r = await api.client.get("/acme/pagefind/pagefind-entry.json")
    assert r.text == "entry-0"


@pytest.mark.parametrize("path", [
    "/acme/pagefind/../private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind/%2e%2e/%2e%2e/private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind/missing.js",
], ids=["dots", "encoded-dots", "missing"])
async def test_nothing_else_is_served(api: Api, path: str) -> None:
    _write_bundles(api.app.state.mb.config.out)
    r = await api.client.get(path)
    assert "entry-4" not in r.text and "entry-2" not in r.text
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert r.text == "entry-0"  # (a client that resolves the dots itself asks for the public bundle)
