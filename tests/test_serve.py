"""`mbsite serve` at the ASGI level: pages through the gate with the live script, tenant prefixes, sign-in forms,
and the hub's verdicts (nothing / stylesheet swap / reload) after real incremental builds."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import pytest

from mbsite.builder import Builder
from mbsite.config import Config, builtin_root
from mbsite.errors import Location, TemplateError
from mbsite.preview import Preview, create_serve_app
from mbsite.preview.hub import LiveHub, PreviewWatcher, Published, Viewer, asset_shape, describe, inject
from mbsite.reporter import BufferReporter
from mbsite.watch import Batch

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "mbsite-demo"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo content with a theme override folder, built once per module (tests copy it)."""
    site = tmp_path_factory.mktemp("serve") / "site"
    shutil.copytree(REPO / "content", site / "content")
    static = site / "themes" / "default" / "static"
    static.mkdir(parents=True)
    shutil.copy(builtin_root() / "themes" / "default" / "static" / "style.css", static / "style.css")
    from mbsite.passwords import hash_password

    one = hash_password(PASSWORD)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: one)  # argon2 per seeded user is the slow part
        result = Builder(Config(site_dir=site)).run()
    assert result.ok, result.problems
    return site


@pytest.fixture
def site(built_site: Path, tmp_path: Path) -> Config:
    root = tmp_path / "site"
    shutil.copytree(built_site, root)
    return Config(site_dir=root)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(site: Config) -> AsyncIterator[httpx.AsyncClient]:
    app = create_serve_app(site)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            yield c


# -- pages, prefixes, landing and 404 ----------------------------------------------------------------------

@pytest.mark.anyio
async def test_pages_get_the_live_script_but_the_output_does_not(client: httpx.AsyncClient, site: Config) -> None:
    r = await client.get("/acme/about")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "data-mbsite=" in r.text and "/_mbsite/live.js" in r.text
    assert r.text.index("data-mbsite=") < r.text.index("</head>")
    on_disk = (site.out / "acme" / "public" / "about" / "index.html").read_bytes()
    assert b"mbsite-overlay" not in on_disk and b"_mbsite" not in on_disk
    assert hashlib.sha256(on_disk).hexdigest() in r.text  # the page is identified by the digest of its file
    assert r.cookies.get("mb_preview_tenant") == "acme"


@pytest.mark.anyio
async def test_a_composed_signed_in_page_gets_the_live_script_and_its_level(client: httpx.AsyncClient,
                                                                            site: Config) -> None:
    await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
    r = await client.get("/acme/about")  # one public file; the gate composes level 3 from it
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "data-mbsite=" in r.text and "/_mbsite/live.js" in r.text
    assert 'href="/admin"' in r.text  # the level-3 navigation, not the public one
    assert b'href="/admin"' not in (site.out / "acme" / "public" / "about" / "index.html").read_bytes()


@pytest.mark.anyio
async def test_landing_page_lists_tenants(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    for needle in ('href="/acme/"', 'href="/globex/"', "acme.localhost:8000", 'href="/acme/login"', "/acme/about"):
        assert needle in r.text


PRIVATE = {"/admin": "Administration", "/members": "Members area", "/god": "Tenant console",
           "/supergod": "Platform console", "/reports": "Quarterly report", "/_gallery": "Component gallery"}


@pytest.mark.anyio
async def test_landing_page_and_status_show_only_what_the_viewer_may_see(client: httpx.AsyncClient) -> None:
    for url in ("/", "/_mbsite/status"):
        r = await client.get(url)
        for path, title in PRIVATE.items():
            assert f"/acme{path}" not in r.text and title not in r.text, (url, path)
    r = await client.get("/acme/admni")  # the 404 banner suggests only pages the viewer may open
    assert r.status_code == 404 and 'href="/acme/about"' not in r.text and "/acme/admin" not in r.text
    await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
    r = await client.get("/")
    assert "/acme/admin" in r.text and "Administration" in r.text and "Members area" in r.text
    assert "/acme/god" not in r.text and "Platform console" not in r.text  # level 4 and 5
    assert "/globex/admin" not in r.text  # an acme session is nobody on globex
    assert "/acme/admin" in (await client.get("/acme/admni")).text


@pytest.mark.anyio
async def test_the_members_picture_is_served_to_members_only_and_never_cached_as_public(
        client: httpx.AsyncClient, site: Config) -> None:
    name = sorted(json.loads((site.out / "acme" / "routes.json").read_text())["images"])[0]  # the members area's
    assert (await client.get(f"/acme/assets/images/{name}")).status_code == 404
    await client.post("/api/auth/login", json={"tenant": "acme", "username": "user", "password": PASSWORD})
    r = await client.get(f"/acme/assets/images/{name}")
    assert r.status_code == 200
    assert r.content == (site.out / "acme" / "private" / "assets" / "images" / name).read_bytes()
    assert r.headers["cache-control"] == "private, no-store"  # (a hashed name, but not an immutable public file)
    page = await client.get("/acme/members")
    assert f"/assets/images/{name}" in page.text


@pytest.mark.anyio
async def test_preview_sends_the_security_headers_of_the_gate(client: httpx.AsyncClient, site: Config) -> None:
    from mbsite.web import create_app

    gate = create_app(site)
    async with gate.router.lifespan_context(gate):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://127.0.0.1") as deployed:
            expected = (await deployed.get("/acme/about")).headers
    assert expected["content-security-policy"] == site.content_security_policy
    for url in ("/acme/about", "/acme/nope", "/", "/nowhere", "/_mbsite/live.js", "/_mbsite/status"):
        r = await client.get(url)
        for name in ("x-content-type-options", "referrer-policy"):
            assert r.headers.get(name) == expected[name], (url, name)
        if r.headers.get("content-type", "").startswith("text/html"):
            assert r.headers.get("content-security-policy") == expected["content-security-policy"], url
    # the policy allows scripts from this origin only: the live script is a file, not an inline script
    page = (await client.get("/acme/about")).text
    assert '<script src="/_mbsite/live.js" data-mbsite=' in page
    assert all(tag.startswith("<script src=") for tag in re.findall(r"<script[^>]*>", page))
    js = await client.get("/_mbsite/live.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in js.text and "no-cache" in js.headers["cache-control"]


@pytest.mark.anyio
@pytest.mark.parametrize(("headers", "cookies", "location"), [
    ({"referer": "http://127.0.0.1:8000/acme/blog"}, {}, "/acme/products?x=1"),
    ({"referer": "http://127.0.0.1:8000/globex/"}, {"mb_preview_tenant": "acme"}, "/globex/products?x=1"),
    ({}, {"mb_preview_tenant": "globex"}, "/globex/products?x=1"),
], ids=["referer", "referer-beats-cookie", "cookie"])
async def test_root_relative_links_keep_the_tenant(client: httpx.AsyncClient, headers: dict[str, str],
                                                   cookies: dict[str, str], location: str) -> None:
    client.cookies.update(cookies)
    r = await client.get("/products?x=1", headers=headers)
    assert r.status_code == 302 and r.headers["location"] == location


@pytest.mark.anyio
async def test_home_link_from_a_tenant_page_and_the_landing_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"referer": "http://127.0.0.1:8000/acme/about"})
    assert r.status_code == 302 and r.headers["location"] == "/acme/"
    client.cookies.set("mb_preview_tenant", "acme")
    assert (await client.get("/")).status_code == 200  # typed in: the landing page, whatever the cookie says


@pytest.mark.anyio
async def test_assets_resolve_against_the_referring_tenant(client: httpx.AsyncClient, site: Config) -> None:
    css = next((site.out / "acme" / "public" / "assets").glob("style.*.css")).name
    r = await client.get(f"/assets/{css}", headers={"referer": "http://127.0.0.1:8000/acme/about"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")  # no redirect for assets
    assert "data-mbsite" not in r.text and "immutable" in r.headers["cache-control"]
    r = await client.get(f"/acme/assets/{css}")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    r = await client.get("/feed.xml", headers={"referer": "http://127.0.0.1:8000/acme/about"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"


@pytest.mark.anyio
async def test_host_based_tenant_needs_no_prefix(client: httpx.AsyncClient) -> None:
    r = await client.get("/about", headers={"host": "acme.localhost:8000"})
    assert r.status_code == 200 and "Acme" in r.text and '"prefix":""' in r.text.replace("&quot;", '"')


@pytest.mark.anyio
async def test_useful_404s(client: httpx.AsyncClient) -> None:
    r = await client.get("/acme/abuot")
    assert r.status_code == 404 and 'id="mbsite-missing"' in r.text and 'href="/acme/about"' in r.text
    assert "data-mbsite=" in r.text  # a missing page reloads once the page exists
    client.cookies.clear()  # no tenant previewed yet: nothing to resolve the path against
    r = await client.get("/nowhere/at/all")
    assert r.status_code == 404 and 'href="/acme/nowhere/at/all"' in r.text and 'href="/globex/' in r.text


@pytest.mark.anyio
async def test_the_preview_searches_the_public_index_and_the_signed_in_levels_members_index(
        client: httpx.AsyncClient, site: Config) -> None:
    search = {"referer": "http://127.0.0.1:8000/acme/search"}
    public = (site.out / "acme" / "public" / "pagefind" / "pagefind-entry.json").read_bytes()
    # /pagefind/… is the public index for everyone: served straight from public/, as a CDN would.
    r = await client.get("/pagefind/pagefind-entry.json", headers=search)
    assert r.status_code == 200 and r.content == public and "vary" not in r.headers
    # /pagefind-members/… depends on the session: it goes under the tenant's prefix, where the gate answers it.
    r = await client.get("/pagefind-members/pagefind-entry.json", headers=search)
    assert r.status_code == 302 and r.headers["location"] == "/acme/pagefind-members/pagefind-entry.json"
    members = site.out / "acme" / "private" / "pagefind"
    admin = (members / "3" / "pagefind-entry.json").read_bytes()  # (the demo's admin is at level 3)
    assert admin != public and (members / "4" / "pagefind-entry.json").read_bytes() != admin
    r = await client.get("/acme/pagefind-members/pagefind-entry.json")
    assert r.status_code == 404 and admin not in r.content and r.headers["vary"] == "Cookie"
    await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
    assert (await client.get("/acme/pagefind/pagefind-entry.json")).content == public
    r = await client.get("/acme/pagefind-members/pagefind-entry.json")
    assert r.status_code == 200 and r.content == admin and r.headers["vary"] == "Cookie"
    assert r.headers["cache-control"].startswith("private")


@pytest.mark.anyio
async def test_private_pages_redirect_to_the_prefixed_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/acme/admin")
    assert r.status_code == 302 and r.headers["location"] == "/acme/login?next=/acme/admin"


@pytest.mark.anyio
@pytest.mark.parametrize("who,level", [(None, 0), ("moderator", 2)], ids=["anonymous", "moderator"])
async def test_event_stream_hears_at_most_the_sessions_level(site: Config, who: str | None, level: int) -> None:
    """A page cannot claim a level its session does not have, to hear when private variants change."""
    import asyncio

    app = create_serve_app(site)
    hub: LiveHub = app.state.hub
    async with app.router.lifespan_context(app):
        headers = [(b"host", b"127.0.0.1:8000")]
        if who:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as c:
                r = await c.post("/api/auth/login", json={"tenant": "acme", "username": who, "password": PASSWORD})
                headers.append((b"cookie", f"mb_session={r.cookies['mb_session']}".encode()))
        scope = {"type": "http", "method": "GET", "path": "/_mbsite/events", "raw_path": b"/_mbsite/events",
                 "query_string": b"t=acme&p=/admin&l=5&h=x", "headers": headers, "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 8000), "scheme": "http", "root_path": "", "http_version": "1.1"}

        async def receive() -> dict[str, str]:
            await asyncio.sleep(30)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            return None

        task = asyncio.create_task(app(scope, receive, send))
        for _ in range(200):
            if hub.viewers:
                break
            await asyncio.sleep(0.01)
        levels = [v.level for v in list(hub._viewers)]
        hub.close()
        await asyncio.wait_for(task, 5)
    assert levels == [level]


# -- sign-in forms -----------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_form_login_lands_on_next_and_shows_the_level(client: httpx.AsyncClient) -> None:
    form = {"tenant": "acme", "username": "admin", "password": PASSWORD}
    r = await client.post("/api/auth/login", data=form, headers={
        "referer": "http://127.0.0.1:8000/acme/login?next=%2Facme%2Fadmin", "origin": "http://127.0.0.1:8000"})
    assert r.status_code == 303 and r.headers["location"] == "/acme/admin"
    assert "mb_session" in r.headers["set-cookie"]
    page = await client.get("/acme/admin")
    assert page.status_code == 200 and "Administration" in page.text and '"level":3' in page.text.replace("&quot;", '"')
    # sign out with the header's form: no CSRF header, same origin → back to the tenant's home
    out = await client.post("/api/auth/logout", content=b"", headers={
        "content-type": "application/x-www-form-urlencoded",  # what a browser sends for a form without fields
        "referer": "http://127.0.0.1:8000/acme/admin", "origin": "http://127.0.0.1:8000"})
    assert out.status_code == 303 and out.headers["location"] == "/acme/"
    assert (await client.get("/acme/admin")).status_code == 302


@pytest.mark.anyio
async def test_form_login_without_next_goes_home_and_errors_are_html(client: httpx.AsyncClient) -> None:
    ref = {"referer": "http://127.0.0.1:8000/globex/login", "origin": "http://127.0.0.1:8000"}
    bad = await client.post("/api/auth/login", data={"tenant": "globex", "username": "admin", "password": "nope"},
                            headers=ref)
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("text/html")
    assert "wrong tenant, username or password" in bad.text
    ok = await client.post("/api/auth/login", data={"tenant": "globex", "username": "user", "password": PASSWORD},
                           headers=ref)
    assert ok.status_code == 303 and ok.headers["location"] == "/globex/"


@pytest.mark.anyio
async def test_login_next_must_stay_on_this_site(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/login", data={"tenant": "acme", "username": "user", "password": PASSWORD},
                          headers={"referer": "http://127.0.0.1:8000/acme/login?next=//evil.example/x",
                                   "origin": "http://127.0.0.1:8000"})
    assert r.status_code == 303 and r.headers["location"] == "/acme/"


@pytest.mark.anyio
@pytest.mark.parametrize("next_query", ["%2F%09%2Fevil.example", "/%09/evil.example", "%2F%0D%0ASet-Cookie:%20a=b",
                                        "%2F%5Cevil.example", "%2F%2509%2Fevil.example"], ids=repr)
async def test_login_next_with_control_characters_goes_home(client: httpx.AsyncClient, next_query: str) -> None:
    r = await client.post("/api/auth/login", data={"tenant": "acme", "username": "user", "password": PASSWORD},
                          headers={"referer": f"http://127.0.0.1:8000/acme/login?next={next_query}",
                                   "origin": "http://127.0.0.1:8000"})
    assert r.status_code == 303 and r.headers["location"] == "/acme/"


@pytest.mark.anyio
async def test_cross_site_sign_in_form_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/login", data={"tenant": "acme", "username": "user", "password": PASSWORD},
                          headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "mb_session" not in r.headers.get("set-cookie", "")


@pytest.mark.anyio
async def test_json_api_is_untouched(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["level"] == 3
    assert (await client.get("/api/v1/acme/shop/product?limit=1")).status_code == 200
    assert (await client.post("/api/auth/logout")).status_code == 403  # API clients still need the CSRF header


# -- the hub: what a published batch means for an open page ----------------------------------------------

def _viewer(hub: LiveHub, tenant: str, page: str, level: int = 0) -> Viewer:
    file, data = hub.locate(tenant, page, level)
    assert file is not None
    digest = hashlib.sha256(data).hexdigest()
    return Viewer(tenant, page, level, digest, hub.remember(digest, data))


def test_markdown_edit_reloads_only_its_pages(site: Config) -> None:
    hub = LiveHub(site)
    about, products, admin = (_viewer(hub, "acme", "/about"), _viewer(hub, "acme", "/products"),
                              _viewer(hub, "acme", "/admin", 3))
    md = site.content_dir / "pages" / "about.md"
    md.write_text(md.read_text() + "\nA brand new paragraph.\n")
    Builder(site).run()
    assert hub.verdict(about) is not None and hub.verdict(about).startswith("event: reload")  # type: ignore[union-attr]
    assert hub.verdict(products) is None and hub.verdict(admin) is None


def test_stylesheet_edit_swaps_instead_of_reloading(site: Config) -> None:
    hub = LiveHub(site)
    about = _viewer(hub, "acme", "/about")
    admin = _viewer(hub, "acme", "/admin", 4)
    css = site.site_dir / "themes" / "default" / "static" / "style.css"
    css.write_text(css.read_text() + "\nbody { outline: 1px solid red; }\n")
    Builder(site).run()
    msg = hub.verdict(about)
    assert msg is not None and msg.startswith("event: css")
    new_href = next((site.out / "acme" / "public" / "assets").glob("style.*.css"), None)
    assert new_href is not None
    hashed = hashlib.sha256(css.read_bytes()).hexdigest()[:10]
    assert f"/assets/style.{hashed}.css" in msg and "/assets/tokens." in msg
    assert hub.verdict(about) is None  # the viewer now holds the new digest
    assert (hub.verdict(admin) or "").startswith("event: css")


def test_level_change_and_new_page_reload(site: Config) -> None:
    hub = LiveHub(site)
    missing = Viewer("acme", "/brand-new", 0, hashlib.sha256(
        (site.out / "acme" / "public" / "404.html").read_bytes()).hexdigest(), None)
    assert hub.verdict(missing) is None
    (site.content_dir / "pages" / "brand-new.md").write_text("---\ntitle: Brand new\ntenants: [acme]\n---\nHello\n")
    Builder(site).run()
    assert (hub.verdict(missing) or "").startswith("event: reload")


def test_publish_sends_problems_then_clears_them(site: Config) -> None:
    hub = LiveHub(site)
    err = TemplateError("template syntax: unexpected end", Location(file="themes/default/templates/page.html", line=3))
    hub.publish(Batch({"file"}, error=err))
    assert hub.problems == [{"message": "template syntax: unexpected end", "file": "themes/default/templates/page.html",
                             "line": 3, "column": None, "where": "themes/default/templates/page.html:3",
                             "code": "template"}]
    hub.publish(Batch({"file"}, result=Builder(site).run()))
    assert hub.problems == []


def test_inject_and_asset_shape() -> None:
    page = b'<html><head><link rel="stylesheet" href="/assets/style.0123456789.css"></head><body></body></html>'
    out = inject(page, {"tenant": "acme", "page": "/", "level": 0, "prefix": "/acme", "hash": "x"})
    assert out.count(b"<script") == 1 and out.index(b"<script") < out.index(b"</head>")
    assert b"&quot;tenant&quot;:&quot;acme&quot;" in out
    assert inject(b"<p>no head</p>", {}).startswith(b"<p>no head</p><script")
    other = page.replace(b"0123456789", b"abcdefabcd")
    assert asset_shape(page) == asset_shape(other)
    assert asset_shape(page) != asset_shape(other.replace(b"<body>", b"<body>x"))


def test_describe_line(site: Config) -> None:
    batch = Batch({"file"}, {str(site.content_dir / "pages" / "about.md")}, seconds=0.042)
    line = describe(Published(batch, [("acme", "/about", 0), ("acme", "/about", 1), ("globex", "/about", 0)], 1, 0),
                    site.site_dir)
    assert "content/pages/about.md → 2 pages changed (acme /about, globex /about) · 42 ms · 1 reloaded" in line
    failed = describe(Published(Batch({"data"}, error=TemplateError("boom", Location(file="x.html")))), site.site_dir)
    assert "database change → build failed: x.html: boom" in failed


# -- the whole loop over a real socket: watcher → hub → event stream ------------------------------------------

def _events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            yield name, line[6:]
            name = ""


def _next_event(stream: Iterator[tuple[str, str]], wanted: str) -> str:
    for name, data in stream:
        if name == wanted:
            return data
    raise AssertionError(f"the stream ended before a {wanted!r} event")


def test_event_stream_over_a_socket(site: Config) -> None:
    templates = site.site_dir / "themes" / "default" / "templates"
    templates.mkdir(parents=True)
    good = (builtin_root() / "themes" / "default" / "templates" / "page.html").read_text()
    (templates / "page.html").write_text(good)
    lines: list[str] = []
    preview = Preview(site, BufferReporter(), on_published=lambda p: lines.append(describe(p, site.site_dir)))
    # The read timeout is shorter than the stream's keep-alive ping: a missing event fails instead of hanging.
    with preview.serving() as base, httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/_mbsite/status").json()["problems"] == []
        served = http.get("/acme/about").text
        digest = re.search(r"&quot;hash&quot;:&quot;([0-9a-f]{64})", served)
        assert digest is not None
        params = {"t": "acme", "p": "/about", "l": "0", "h": digest.group(1)}
        with http.stream("GET", "/_mbsite/events", params=params) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            stream = _events(r.iter_lines())
            (templates / "page.html").write_text(good.replace("{% endblock %}", "{% endblock", 1))
            problems = json.loads(_next_event(stream, "problems"))
            assert problems and problems[0]["file"] == "themes/default/templates/page.html" and problems[0]["line"]
            (templates / "page.html").write_text(good)
            assert json.loads(_next_event(stream, "problems")) == []
            md = site.content_dir / "pages" / "about.md"
            md.write_text(md.read_text() + "\nNew words.\n")
            assert _next_event(stream, "reload") == "{}"
        # a row changed with plain SQL reaches the page through the change feed
        served = http.get("/acme/products").text
        digest = re.search(r"&quot;hash&quot;:&quot;([0-9a-f]{64})", served)
        assert digest is not None
        params = {"t": "acme", "p": "/products", "l": "0", "h": digest.group(1)}
        with http.stream("GET", "/_mbsite/events", params=params) as r:
            stream = _events(r.iter_lines())
            with sqlite3.connect(site.state_dir / "mbsite.sqlite3") as con:
                con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Rocket Skates Mk II') "
                            "WHERE id = 'rocket-skates'")
            assert _next_event(stream, "reload") == "{}"
        assert "Rocket Skates Mk II" in http.get("/acme/products").text
    assert any("database change → " in line and "acme /products" in line for line in lines), lines


def test_rebuild_lines_name_the_changed_pages(site: Config) -> None:
    seen: list[Published] = []
    watcher = PreviewWatcher(site, BufferReporter(), LiveHub(site), on_published=seen.append)
    try:
        md = site.content_dir / "pages" / "about.md"
        md.write_text(md.read_text() + "\nOne more line.\n")
        watcher.build_once(Batch({"file"}, {str(md)}))
        assert {(t, p) for t, p, _ in seen[-1].changed} == {("acme", "/about"), ("globex", "/about")}
        watcher.build_once(Batch({"timer"}))
        assert seen[-1].changed == []
        md.unlink()  # a removed route: its variants leave the table
        watcher.build_once(Batch({"file"}, {str(md)}))
        assert ("acme", "/about", 0) in seen[-1].changed and seen[-1].batch.result is not None
        assert "content/pages/about.md → " in describe(seen[-1], site.site_dir)
    finally:
        watcher.engine.dispose()
