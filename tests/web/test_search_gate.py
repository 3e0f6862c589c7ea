"""The search bundles through the gate: `/pagefind/…` is the public bundle for every viewer (a static file, as a CDN
serves it); `/pagefind-members/…` answers a session from the members' bundle of the highest level not above its own
that has one, never a higher level's, and everyone else (anonymous, a session of another tenant, a level with no
bundle) as a missing file; paths that climb out get nothing."""
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


@pytest.mark.parametrize("who", [None, "user", "moderator", "god", "supergod"], ids=lambda v: str(v))
async def test_the_public_bundle_is_the_same_for_everyone(api: Api, who: str | None) -> None:
    _write_bundles(api.app.state.mb.config.out)
    if who:
        await api.login("acme", who)
    for name in ("pagefind-entry.json", "fragment/a.pf_fragment"):
        r = await api.client.get(f"/acme/pagefind/{name}")
        assert r.status_code == 200 and r.text.endswith("-0"), (who, name, r.text)
        # A static file: a CDN may serve and cache it for everyone.
        assert r.headers["cache-control"] == "public, max-age=0, must-revalidate"
        assert "vary" not in r.headers


@pytest.mark.parametrize("who,level", [("moderator", 2), ("admin", 2), ("god", 4), ("supergod", 4)],
                         ids=lambda v: str(v))
async def test_a_member_gets_the_members_bundle_of_their_level(api: Api, who: str, level: int) -> None:
    _write_bundles(api.app.state.mb.config.out)
    await api.login("acme", who)
    for name in ("pagefind-entry.json", "fragment/a.pf_fragment"):
        r = await api.client.get(f"/acme/pagefind-members/{name}")
        assert r.status_code == 200
        assert r.text.endswith(f"-{level}"), (who, name, r.text)  # never a higher level's (5 has no entry yet)
        assert r.headers["cache-control"] == "private, no-store" and r.headers["vary"] == "Cookie"


async def _assert_missing(api: Api, path: str) -> None:
    r = await api.client.get(path)
    assert r.status_code == 404 and r.text == "missing"  # what a file that does not exist gets
    assert r.headers["cache-control"] == "private, no-store" and r.headers["vary"] == "Cookie"


@pytest.mark.parametrize("name", ["pagefind-entry.json", "fragment/a.pf_fragment", "missing.js"])
async def test_anonymous_viewers_get_no_members_bundle(api: Api, name: str) -> None:
    _write_bundles(api.app.state.mb.config.out)
    await _assert_missing(api, f"/acme/pagefind-members/{name}")


async def test_another_tenants_session_and_a_level_without_a_bundle_get_none(api: Api) -> None:
    _write_bundles(api.app.state.mb.config.out)
    await api.login("globex", "supergod")
    await _assert_missing(api, "/acme/pagefind-members/pagefind-entry.json")
    await api.login("acme", "user")  # level 1: no members' bundle at or below it
    await _assert_missing(api, "/acme/pagefind-members/pagefind-entry.json")
    await api.login("acme", "moderator")
    await _assert_missing(api, "/acme/pagefind-members/missing.js")


@pytest.mark.parametrize("path", [
    "/acme/pagefind/../private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind/%2e%2e/%2e%2e/private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind-members/../pagefind-members/../private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind-members/%2e%2e/4/pagefind-entry.json",
    "/acme/pagefind-members/%2e%2e/%2e%2e/private/pagefind/4/pagefind-entry.json",
    "/acme/pagefind/missing.js",
], ids=["dots", "encoded-dots", "members-dots", "members-up-a-level", "members-encoded-dots", "missing"])
@pytest.mark.parametrize("who", [None, "moderator"], ids=lambda v: str(v))
async def test_nothing_else_is_served(api: Api, path: str, who: str | None) -> None:
    _write_bundles(api.app.state.mb.config.out)
    if who:
        await api.login("acme", who)
    r = await api.client.get(path)
    assert "entry-4" not in r.text
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        # (a client that resolves the dots itself asks for another file of the bundles it may see)
        assert r.text in ("entry-0", "entry-2" if who else "entry-0")
