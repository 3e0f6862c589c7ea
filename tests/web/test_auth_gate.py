"""Auth and sessions (cookie flags, CSRF, rotation, brute force), the gate, revalidate and media."""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import text
from web_support import Api, make_api

from mbsite.config import Config

pytestmark = pytest.mark.anyio
SAME = {"sec-fetch-site": "same-origin"}  # what a browser sends with a form of this very site


async def test_login_me_logout(api: Api) -> None:
    r = await api.login("acme", "admin")
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain-HTTP localhost
    me = (await api.client.get("/api/auth/me")).json()
    assert me["tenant"] == "acme" and me["role"] == "admin" and me["level"] == 3
    async with api.app.state.mb.db.read() as conn:
        row = (await conn.execute(text("SELECT token_hash, ip_address, user_agent FROM sessions"))).first()
    assert row.token_hash != api.client.cookies.get("mb_session") and len(row.token_hash) == 64
    # writes with the cookie need the CSRF token
    assert (await api.client.post("/api/auth/logout")).status_code == 403
    assert (await api.client.post("/api/auth/logout", headers=api.h())).status_code == 204
    assert (await api.client.get("/api/auth/me")).status_code == 401


async def test_login_rotates_and_form_login(api: Api) -> None:
    await api.login("acme", "user")
    first = api.client.cookies.get("mb_session")
    # A browser form (the static login page) is sent on to `next`, a local path only.
    r = await api.client.post("/api/auth/login", data={"tenant": "acme", "username": "admin",
                                                       "password": "mbsite-demo", "next": "/admin"}, headers=SAME)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert api.client.cookies.get("mb_session") != first
    async with api.app.state.mb.db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM sessions"))).scalar_one() == 1


@pytest.mark.parametrize("next_value, expected", [("/blog/x", "/blog/x"), ("//evil.example/", "/"),
                                                  ("https://evil.example/", "/"), ("/api/v1/x", "/")],
                         ids=["local", "scheme-relative", "absolute", "api"])
async def test_form_login_redirects_only_to_local_pages(api: Api, next_value: str, expected: str) -> None:
    r = await api.client.post("/api/auth/login", data={"tenant": "acme", "username": "user",
                                                       "password": "mbsite-demo", "next": next_value}, headers=SAME)
    assert r.status_code == 303 and r.headers["location"] == expected


async def test_form_login_failure_is_a_page_and_json_clients_keep_json(api: Api) -> None:
    bad = {"tenant": "acme", "username": "user", "password": "<b>nope</b>"}
    r = await api.client.post("/api/auth/login", data=bad, headers=SAME)
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "<b>" not in r.text
    r = await api.client.post("/api/auth/login", data=bad, headers={**SAME, "accept": "application/json"})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


async def test_sign_out_form_needs_same_origin_not_a_token(api: Api) -> None:
    await api.login("acme", "user")
    cross = await api.client.post("/api/auth/logout", data={"x": "1"}, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    same = await api.client.post("/api/auth/logout", data={"x": "1"}, headers={"sec-fetch-site": "same-origin"})
    assert same.status_code == 303 and same.headers["location"] == "/"


@pytest.mark.parametrize("body,status", [
    ({"tenant": "acme", "username": "admin", "password": "wrong"}, 401),
    ({"tenant": "globex", "username": "nobody", "password": "x"}, 401),
    ({"tenant": "acme", "username": "admin"}, 422),
], ids=["wrong-password", "unknown-user", "missing-field"])
async def test_login_failures(api: Api, body: dict, status: int) -> None:
    r = await api.client.post("/api/auth/login", json=body)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"


async def test_brute_force_locks_account(site: Config) -> None:
    async for api in make_api(Config(**{**site.__dict__, "rate_limits": {"login_account": "3/minute"}})):
        for _ in range(3):
            assert (await api.login("acme", "god", "bad")).status_code == 401
        r = await api.login("acme", "god")
        assert r.status_code == 429 and "retry-after" in r.headers
        assert (await api.login("acme", "admin")).status_code == 200  # other accounts unaffected


async def test_rate_limit_headers_and_429(site: Config) -> None:
    async for api in make_api(Config(**{**site.__dict__, "rate_limits": {"read": "3/minute"}})):
        for i in range(3):
            r = await api.client.get("/api/v1/acme/notes/note")
            assert r.headers["ratelimit-remaining"] == str(2 - i)
        r = await api.client.get("/api/v1/acme/notes/note")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert r.json()["code"] == "RATE_LIMIT_EXCEEDED"


async def test_revalidate(site: Config) -> None:
    async for api in make_api(site):
        assert (await api.client.post("/api/revalidate", json={"tenant": "acme", "path": "/"})).status_code == 404
    async for api in make_api(Config(**{**site.__dict__, "revalidate_secret": "s3cret"})):
        r = await api.client.post("/api/revalidate", json={"tenant": "acme", "path": "/"},
                                  headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await api.client.post("/api/revalidate", json={"tenant": "acme", "tag": "blog"},
                                  headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 202
        async with api.app.state.mb.db.read() as conn:
            assert (await conn.execute(text("SELECT tenant, tag FROM revalidations"))).all() == [("acme", "blog")]


def _png(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * w for _ in range(h))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_media(api: Api) -> None:
    files = {"file": ("../../evil.png", _png(3, 2), "image/png")}
    assert (await api.client.post("/api/media/acme", files=files)).status_code == 401
    await api.login("acme", "user")
    r = await api.client.post("/api/media/acme", files=files, headers=api.h())
    assert r.status_code == 201, r.text
    asset = r.json()
    assert (asset["width"], asset["height"], asset["contentType"]) == (3, 2, "image/png")
    assert asset["filename"] == "evil.png"
    stored = api.app.state.mb.config.media_dir / "acme" / asset["sha256"]
    assert asset["id"].startswith(asset["sha256"] + "-")
    assert stored.read_bytes() == _png(3, 2)
    r = await api.client.get(asset["url"])
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    r = await api.client.get(asset["url"], headers={"Range": "bytes=0-7"})
    assert r.status_code == 206 and r.content == b"\x89PNG\r\n\x1a\n"
    bad = {"file": ("x.png", b"<svg onload=alert(1)>", "image/png")}
    assert (await api.client.post("/api/media/acme", files=bad, headers=api.h())).status_code == 415
    big = {"file": ("big.pdf", b"%PDF-" + b"0" * 300_000, "application/pdf")}
    assert (await api.client.post("/api/media/acme", files=big, headers=api.h())).status_code == 413
    assert (await api.client.get("/api/media/acme/..%2f..%2fetc")).status_code == 404
    assert (await api.client.get("/api/media/globex")).status_code == 404  # other tenant
    assert len((await api.client.get("/api/media/acme")).json()["data"]) == 1
    async with api.app.state.mb.db.read() as conn:
        ops = (await conn.execute(text("SELECT op FROM changes WHERE tbl = 'media_assets'"))).scalars().all()
    assert ops == ["insert"]
    await api.login("acme", "moderator")
    assert (await api.client.delete(asset["url"], headers=api.h())).status_code == 403
    await api.login("acme", "admin")
    assert (await api.client.delete(asset["url"], headers=api.h())).status_code == 204
    assert not stored.exists()


def _write_output(out: Path) -> None:
    def page(rel: str, body: str) -> None:
        p = out / "acme" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    page("public/index.html", "home")
    page("public/404.html", "missing")
    page("public/access-denied/index.html", "denied")
    page("public/blog/x/index.html", "post")
    page("public/assets/site.css", "css")
    page("public/admin/index.html", "LEAK-public-admin")
    page("private/3/admin/index.html", "admin-3")
    page("private/5/admin/index.html", "admin-5")
    page("private/1/members/index.html", "members-1")
    page("public/news/index.html", "news-0")
    page("private/2/news/index.html", "news-2")
    (out / "acme" / "routes.json").write_text(json.dumps({
        "tenant": "acme", "login": "/login", "access_denied": "/access-denied", "pages": {
            "/": {"level": 0, "requires_auth": False, "variants": [0]},
            "/admin": {"level": 3, "requires_auth": True, "variants": [3, 5]},
            "/members": {"level": 0, "requires_auth": True, "variants": [1]},
            "/news": {"level": 0, "requires_auth": False, "variants": [0, 2]},
            "/ghost": {"level": 0, "requires_auth": False, "variants": [4]},
        }}))


@pytest.mark.parametrize("who,path,status,body", [
    (None, "/", 200, "home"),
    (None, "/blog/x/", 200, "post"),
    (None, "/assets/site.css", 200, "css"),
    (None, "/admin", 302, None),
    (None, "/members", 302, None),
    (None, "/news", 200, "news-0"),
    (None, "/nope", 404, "missing"),
    (None, "/../../etc/passwd", 404, None),
    (None, "/%2e%2e/%2e%2e/routes.json", 404, None),
    (None, "/ghost", 404, "missing"),
    ("user", "/admin", 403, "denied"),
    ("user", "/members", 200, "members-1"),
    ("user", "/news", 200, "news-0"),
    ("moderator", "/news", 200, "news-2"),
    ("admin", "/admin", 200, "admin-3"),
    ("god", "/admin", 200, "admin-3"),
    ("supergod", "/admin", 200, "admin-5"),
    ("supergod", "/ghost", 404, "missing"),  # listed but not written: never another file
], ids=lambda v: str(v))
async def test_gate(api: Api, who: str | None, path: str, status: int, body: str | None) -> None:
    _write_output(api.app.state.mb.config.out)
    if who:
        await api.login("acme", who)
    r = await api.client.get("/acme" + path, follow_redirects=False)
    assert r.status_code == status, r.text
    if body is not None:
        assert r.text == body
    if status == 302:
        assert r.headers["location"] == f"/acme/login?next=/acme{path}"
    if body and body.startswith(("admin", "members", "news-2")):
        assert r.headers["cache-control"] == "private, no-store"
    if path == "/":
        assert "must-revalidate" in r.headers["cache-control"]
    if status == 200 and r.headers["content-type"].startswith("text/html"):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in \
            csp.split("script-src", 1)[1].split(";", 1)[0]


async def test_gate_by_host_and_other_tenant_session(api: Api) -> None:
    _write_output(api.app.state.mb.config.out)
    assert (await api.client.get("/", headers={"Host": "acme.test"})).text == "home"
    await api.login("globex", "supergod")  # a globex session is nobody on acme
    r = await api.client.get("/admin", headers={"Host": "acme.test"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login?next=/admin"


async def test_gate_fails_closed_on_broken_routes(api: Api) -> None:
    _write_output(api.app.state.mb.config.out)
    (api.app.state.mb.config.out / "acme" / "routes.json").write_text("{broken")
    await api.login("acme", "supergod")
    r = await api.client.get("/acme/admin")
    assert r.status_code == 500 and "admin-" not in r.text
