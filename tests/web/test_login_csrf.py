"""Sign-in forms from other sites are refused (login CSRF), and `next` only ever leads to a path of this origin."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from web_support import PASSWORD, Api

from mbsite.web.redirects import sign_in_target

pytestmark = pytest.mark.anyio
FORM = {"tenant": "acme", "username": "user", "password": PASSWORD}


async def _sessions(api: Api) -> int:
    async with api.app.state.mb.db.read() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM sessions"))).scalar_one())


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    {"sec-fetch-site": "same-site", "origin": "http://globex.localhost"},
    {"sec-fetch-site": "cross-site"},
    {},
], ids=["other-origin", "opaque-origin", "fetch-cross-site", "fetch-same-site", "fetch-only", "no-evidence"])
async def test_form_sign_in_from_elsewhere_is_refused(api: Api, headers: dict[str, str]) -> None:
    r = await api.client.post("/api/auth/login", data=FORM, headers=headers)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "mb_session" not in r.headers.get("set-cookie", "") and await _sessions(api) == 0
    r = await api.client.post("/api/auth/login", data=FORM, headers={**headers, "accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "CSRF"


@pytest.mark.parametrize("headers", [
    {"sec-fetch-site": "same-origin", "origin": "http://localhost"},
    {"origin": "http://localhost"},
    {"sec-fetch-site": "same-origin"},
], ids=["fetch-and-origin", "origin", "fetch"])
async def test_form_sign_in_from_this_origin(api: Api, headers: dict[str, str]) -> None:
    r = await api.client.post("/api/auth/login", data={**FORM, "next": "/members"}, headers=headers)
    assert r.status_code == 303 and r.headers["location"] == "/members" and await _sessions(api) == 1


async def test_json_sign_in_needs_no_browser_headers_but_refuses_other_sites(api: Api) -> None:
    """A cross-site page cannot send JSON without a CORS preflight the functions never grant, so API clients
    (scripts, apps) sign in without Origin; a request that says it comes from another site is refused all the same."""
    assert (await api.client.post("/api/auth/login", json=FORM)).status_code == 200
    r = await api.client.post("/api/auth/login", json=FORM, headers={"origin": "https://evil.example"})
    assert r.status_code == 403
    r = await api.client.post("/api/auth/login", json=FORM, headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403


@pytest.mark.parametrize("value", [
    "/%09/evil.example", "/\t/evil.example", "/\r\nSet-Cookie: a=b", "/%0d%0aSet-Cookie:%20a=b", "/%2509/evil.example",
    "//evil.example", "/\\evil.example", "/%5Cevil.example", "/%2F/evil.example", "/a//b", "https://evil.example/",
    "javascript:alert(1)", " /x", "", "x", "/api/v1/acme", "/\x00", "/%00", "/%7f",
], ids=repr)
def test_sign_in_target_refuses(value: str) -> None:
    assert sign_in_target(value, "/home/") == "/home/"


@pytest.mark.parametrize("value,expected", [
    ("/", "/"), ("/blog/x", "/blog/x"), ("/acme/admin?tab=1#top", "/acme/admin?tab=1#top"),
    ("/caf%C3%A9", "/caf%C3%A9"), ("/café", "/caf%C3%A9"), ("/a%20b", "/a%20b"), ("/a b", "/a%20b"),
], ids=repr)
def test_sign_in_target_keeps_local_paths(value: str, expected: str) -> None:
    assert sign_in_target(value) == expected


@pytest.mark.parametrize("next_value", ["/%09/evil.example", "/%0d%0aX:%20y", "/\\evil.example"], ids=repr)
async def test_form_next_never_leaves_the_origin(api: Api, next_value: str) -> None:
    r = await api.client.post("/api/auth/login", data={**FORM, "next": next_value},
                              headers={"sec-fetch-site": "same-origin"})
    assert r.status_code == 303 and r.headers["location"] == "/"
