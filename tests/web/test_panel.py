"""The admin panel: built pages under /admin/ for admins and above, whose plain HTML forms go through the
management API (web/forms.py) and come back with a message; each write re-renders exactly the panel pages and
site pages it affects."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from lxml import html as lxml_html

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.web import create_app
from mbsite.web.forms import CSRF_SLOT, FLASH_SLOT, FormError, flash_cookie, flash_for, form_to_json, personalize

REPO = Path(__file__).resolve().parent.parent.parent
PASSWORD = "mbsite-demo"
HOST = "https://acme.localhost"
pytestmark = pytest.mark.anyio




@pytest.fixture
async def client(built_demo: Path, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    config = load_config(site)
    app = create_app(config)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=HOST) as c:
        yield c, config


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post("/api/auth/login", json={"tenant": "acme", "username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def form(page: str, action_contains: str, **fields: str) -> tuple[str, dict[str, str]]:
    """The first form of a panel page whose action contains `action_contains`, with its fields, overridden."""
    doc = lxml_html.fromstring(page)
    for f in doc.xpath("//form[@method='post']"):
        if f.get("action").endswith(action_contains):
            values = {i.get("name"): i.get("value") or "" for i in f.xpath(".//input[@name]")
                      if i.get("type") != "checkbox" or i.get("checked") is not None}
            values.update({s.get("name"): (s.xpath("./option[@selected]/@value") or s.xpath("./option/@value"))[0]
                           for s in f.xpath(".//select[@name]")})
            values.update(fields)
            return f.get("action"), values
    raise AssertionError(f"no form posting to {action_contains}")


def message(page: str) -> str:
    found = lxml_html.fromstring(page).xpath("//output[@data-mb-flash]")
    return found[0].text_content() if found else ""


SAME_ORIGIN = {"origin": HOST, "referer": f"{HOST}/admin/pages"}


async def test_the_panel_is_for_admins_only(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, config = client
    out = config.out / "acme"
    assert not list((out / "public").glob("admin/pages*"))  # never public
    assert (await c.get("/admin/pages")).status_code == 302  # anonymous: to the sign-in page
    await sign_in(c, "moderator")
    assert (await c.get("/admin/users")).status_code == 403
    await sign_in(c, "admin")
    for name in ("pages", "packages", "users", "schemas", "audit"):
        r = await c.get(f"/admin/{name}")
        assert r.status_code == 200 and "no-store" in r.headers["cache-control"], name


async def test_a_page_created_through_the_panel_form_is_built_and_the_panel_says_so(
        client: tuple[httpx.AsyncClient, Any]) -> None:
    c, config = client
    await sign_in(c, "admin")
    page = (await c.get("/admin/pages")).text
    token = lxml_html.fromstring(page).xpath("//input[@name='csrf']/@value")[0]
    assert token and CSRF_SLOT.decode() not in page  # the gate wrote this session's token into the forms
    choices = lxml_html.fromstring(page).xpath("//select[@name='component']/option/@value")
    assert choices[0] == "" and all(":" in c for c in choices[1:])  # a placeholder first: a choice is required
    action, fields = form(page, "/_pages", path="/crew", title="Our crew", component=choices[1])
    assert fields["_method"] == "POST"
    r = await c.post(action, data=fields, headers=SAME_ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/admin/pages"
    assert "mb_flash=" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    shown = await c.get("/admin/pages")
    assert message(shown.text).startswith("Created /crew")
    assert "mb_flash=" in shown.headers["set-cookie"] and "Max-Age=0" in shown.headers["set-cookie"]  # shown once
    assert message((await c.get("/admin/pages")).text) == ""

    result = Builder(config, BufferReporter()).run()
    assert result.ok, result.problems
    assert (config.out / "acme" / "public" / "crew" / "index.html").is_file()
    listed = (await c.get("/admin/pages")).text
    assert "/crew" in [a for a in lxml_html.fromstring(listed).xpath("//table//a/text()")]
    audit = (await c.get("/admin/audit")).text
    assert "_pages/" in audit and "create" in audit


async def test_a_refused_form_comes_back_with_the_reason(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, _ = client
    await sign_in(c, "admin")
    page = (await c.get("/admin/pages")).text
    component = lxml_html.fromstring(page).xpath("//select[@name='component']/option/@value")[1]
    action, fields = form(page, "/_pages", path="/a/../../globex", title="x", component=component)
    r = await c.post(action, data=fields, headers=SAME_ORIGIN)
    assert r.status_code == 303
    text = message((await c.get("/admin/pages")).text)
    assert text.startswith("Not saved") and "/path" in text
    assert lxml_html.fromstring((await c.get("/admin/pages")).text).xpath("//output[@data-mb-flash]/@hidden")


async def test_a_cross_site_form_or_a_wrong_token_changes_nothing(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, config = client
    await sign_in(c, "admin")
    page = (await c.get("/admin/pages")).text
    component = lxml_html.fromstring(page).xpath("//select[@name='component']/option/@value")[1]
    action, fields = form(page, "/_pages", path="/evil", title="Evil", component=component)
    fields["csrf"] = ""
    r = await c.post(action, data=fields, headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/pages"  # not to the attacker's Referer
    fields["csrf"] = "forged"
    await c.post(action, data=fields, headers=SAME_ORIGIN)
    assert "CSRF" in message((await c.get("/admin/pages")).text)  # a forged token is refused, and said so
    r = await c.get("/api/v1/acme/_pages", headers={"accept": "application/json"})
    assert "/evil" not in r.text


async def test_roles_offered_stop_at_the_viewers_own_level(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, _ = client
    await sign_in(c, "admin")
    doc = lxml_html.fromstring((await c.get("/admin/users")).text)
    offered = set(doc.xpath("//select[@name='role']/option/@value"))
    assert "admin" in offered and not offered & {"god", "supergod"}
    rows = {tr.xpath("./td[1]/text()")[0]: tr for tr in doc.xpath("//tbody/tr")}
    assert not rows["god"].xpath(".//form")  # a god's account is above an admin: no forms for it


async def test_disabling_a_user_through_the_panel_ends_their_sessions(client: tuple[httpx.AsyncClient, Any],
                                                                      tmp_path: Path) -> None:
    c, config = client
    async with httpx.AsyncClient(transport=c._transport, base_url=HOST) as other:
        await sign_in(other, "user")
        assert (await other.get("/api/auth/me")).status_code == 200
        await sign_in(c, "admin")
        page = (await c.get("/admin/users")).text
        doc = lxml_html.fromstring(page)
        row = next(tr for tr in doc.xpath("//tbody/tr") if tr.xpath("./td[1]/text()")[0] == "user")
        disable = next(f for f in row.xpath(".//form") if f.xpath(".//input[@name='disabled']"))
        fields = {i.get("name"): i.get("value") or "" for i in disable.xpath(".//input[@name]")}
        assert fields["disabled"] == "true"
        r = await c.post(disable.get("action"), data=fields, headers={**SAME_ORIGIN, "referer": f"{HOST}/admin/users"})
        assert r.status_code == 303
        assert message((await c.get("/admin/users")).text).startswith("Saved")
        assert (await other.get("/api/auth/me")).status_code == 401
        Builder(config, BufferReporter()).run()
        doc = lxml_html.fromstring((await c.get("/admin/users")).text)
        row = next(tr for tr in doc.xpath("//tbody/tr") if tr.xpath("./td[1]/text()")[0] == "user")
        assert "disabled" in row.text_content()


def test_a_write_re_renders_the_panel_pages_that_list_it_and_no_others(built_demo: Path, tmp_path: Path) -> None:
    import sqlite3

    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    db = sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3")
    db.execute("UPDATE users SET email = 'boss@acme.example' WHERE username = 'admin' AND tenant = 'acme'")
    db.commit()
    db.close()
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    # /admin/users of acme (for each level that sees it) and nothing else, but pages whose revalidate timer ran out
    # while the shared demo waited
    reasons = result.summary["reasons"]
    assert reasons.get("data") == 1 and set(reasons) <= {"data", "timer"}, reasons
    page = (site / "build" / "acme" / "private" / "3" / "admin" / "users" / "index.html").read_text()
    assert "boss@acme.example" in page


def test_form_fields_become_the_json_the_api_takes() -> None:
    method, target, body = form_to_json([
        ("_method", "patch"), ("_next", "/admin/pages"), ("csrf", "t"), ("level", "2"), ("published", "false"),
        ("published", "true"), ("params", '{"nav": true}'), ("tags", "a, b,"), ("component", "shop:list"),
        ("title", ""), ("email", "")])
    assert (method, target) == ("PATCH", "/admin/pages")
    assert body == {"level": 2, "published": True, "params": {"nav": True}, "tags": ["a", "b"], "package": "shop",
                    "component": "list", "title": ""}
    for bad in ([("level", "two")], [("params", "{")], [("_method", "TRACE")], [("enabled", "maybe")]):
        with pytest.raises(FormError):
            form_to_json(bad)


def test_the_flash_is_shown_only_to_the_session_it_was_signed_for() -> None:
    cookie = flash_cookie("session-a", False, "<script>alert(1)</script> refused")
    assert flash_for(cookie, "session-a") == (False, "<script>alert(1)</script> refused")
    assert flash_for(cookie, "session-b") is None
    assert flash_for(cookie.replace(".", "x."), "session-a") is None
    page = b'<form><input type="hidden" name="csrf" ' + CSRF_SLOT + b"></form>" + FLASH_SLOT
    out, clear = personalize(page, "session-a", cookie)
    assert b'value="session-a"' in out and clear
    assert b"&lt;script&gt;" in out and b"<script>" not in out
    out, _ = personalize(page, "session-a", flash_cookie("session-b", True, "hi"))
    assert FLASH_SLOT in out  # not this session's message: nothing shown


def test_the_panel_templates_leave_the_slots_the_gate_fills() -> None:
    root = REPO / "themes" / "default" / "templates" / "panel"
    assert FLASH_SLOT.decode() in (root / "layout.html").read_text()
    assert CSRF_SLOT.decode() in (root / "_form.html").read_text()


def test_panel_pages_leave_nothing_private_in_public(built_demo: Path) -> None:
    public = built_demo / "build" / "acme" / "public"
    leaked = [p for p in public.rglob("*.html") if re.search(r"data-mb-csrf|panel-flash", p.read_text())]
    assert leaked == []


async def test_settings_are_for_gods_and_tenants_for_supergods(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, config = client
    await sign_in(c, "admin")
    assert (await c.get("/admin/settings")).status_code == 403
    links = lxml_html.fromstring((await c.get("/admin/pages")).text).xpath("//nav[@class='panel-nav']//a/@href")
    assert "/admin/settings" not in links and "/admin/tenants" not in links
    await sign_in(c, "god")
    assert (await c.get("/admin/tenants")).status_code == 403
    page = (await c.get("/admin/settings")).text
    action, fields = form(page, "/_settings",
                          settings='{"menu": [{"title": "Shop", "path": "/products"}]}')
    r = await c.post(action, data=fields, headers={**SAME_ORIGIN, "referer": f"{HOST}/admin/settings"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/settings"
    assert message((await c.get("/admin/settings")).text).startswith("Saved")
    result = Builder(config, BufferReporter()).run()
    assert result.ok, result.problems
    nav = lxml_html.fromstring((config.out / "acme" / "public" / "index.html").read_bytes())
    assert [a.text_content().strip() for a in nav.xpath("//header//nav//a")] == ["Shop"]

    await sign_in(c, "supergod")
    page = (await c.get("/admin/tenants")).text
    action, fields = form(page, "/_tenants", slug="initech", name="Initech")
    r = await c.post(action, data=fields, headers={**SAME_ORIGIN, "referer": f"{HOST}/admin/tenants"})
    assert r.status_code == 303
    assert message((await c.get("/admin/tenants")).text).startswith("Created initech")
    assert Builder(config, BufferReporter()).run().ok
    doc = lxml_html.fromstring((await c.get("/admin/tenants")).text)
    assert "initech" in doc.xpath("//tbody//code/text()")  # the list of another tenant's page follows


def test_every_route_is_listed_at_each_admin_level_and_its_template_is_an_input(built_demo: Path,
                                                                                tmp_path: Path) -> None:
    """The list of every route is drawn once per build for the levels that open the panel (panel.routes_table,
    from panel/_routes.html): each level's page lists every route, and editing that template re-renders them."""
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    build = site / "build" / "acme" / "private"
    manifest = (site / "build" / "acme" / "routes.json").read_text()
    listed = {level: lxml_html.fromstring((build / str(level) / "admin" / "pages" / "index.html").read_text())
              .xpath("//section[@aria-labelledby='routes-title']//tbody/tr/td[1]/a/@href") for level in (3, 4, 5)}
    assert listed[3] and listed[3] == listed[4] == listed[5]
    assert all(f'"{path}"' in manifest for path in listed[3])
    own = site / "themes" / "default" / "templates" / "panel"
    own.mkdir(parents=True)
    default = (REPO / "themes" / "default" / "templates" / "panel" / "_routes.html").read_text()
    (own / "_routes.html").write_text(default.replace('<table class="panel-table">',
                                                      '<table class="panel-table every-route">'))
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    for level in (3, 4, 5):
        assert "every-route" in (build / str(level) / "admin" / "pages" / "index.html").read_text()


def _versions(page: str) -> dict[str, str]:
    """Each row form's action → the version tag it sends (`_if_match`)."""
    doc = lxml_html.fromstring(page)
    return {f.get("action"): f.xpath(".//input[@name='_if_match']/@value")[0]
            for f in doc.xpath("//form[@method='post']") if f.xpath(".//input[@name='_if_match']")}


async def test_every_row_form_sends_the_version_the_api_checks(client: tuple[httpx.AsyncClient, Any]) -> None:
    """The version a built panel page puts into a row's forms is the ETag the management API gives that row now."""
    c, _ = client
    await sign_in(c, "god")
    checked = 0
    for name in ("pages", "packages", "users", "settings"):
        versions = _versions((await c.get(f"/admin/{name}")).text)
        assert versions, name
        for action, version in versions.items():
            if action.endswith(("/reset-password", "/_settings")):
                url = "/api/v1/acme/_settings" if action.endswith("/_settings") else None
                if url is None:
                    continue
            else:
                url = action
            r = await c.get(url, headers={"accept": "application/json"})
            assert r.status_code == 200, (url, r.text)
            assert r.headers["etag"] == version, (name, action)
            checked += 1
    assert checked >= 8


async def test_a_form_from_a_page_older_than_the_row_saves_nothing(client: tuple[httpx.AsyncClient, Any]) -> None:
    """Two edits of one row from the same built page (two admins, or one twice before the rebuild): the first is
    saved; the second was made on what the row was before it, and is refused with a message, the row left as the
    first edit made it."""
    c, _ = client
    await sign_in(c, "admin")
    page = (await c.get("/admin/pages")).text
    row = next(a for a in _versions(page) if "/_pages/" in a)
    doc = lxml_html.fromstring(page)
    edit = next(f for f in doc.xpath(f"//form[@action='{row}']") if f.xpath(".//input[@name='title']"))
    fields = {i.get("name"): i.get("value") or "" for i in edit.xpath(".//input[@name]")
              if i.get("type") != "checkbox" or i.get("checked") is not None}
    fields.update({s.get("name"): (s.xpath("./option[@selected]/@value") or s.xpath("./option/@value"))[0]
                   for s in edit.xpath(".//select[@name]")})
    first = await c.post(row, data={**fields, "title": "First edit"}, headers=SAME_ORIGIN)
    assert first.status_code == 303
    assert message((await c.get("/admin/pages")).text).startswith("Saved")
    second = await c.post(row, data={**fields, "title": "Second edit"}, headers=SAME_ORIGIN)
    assert second.status_code == 303
    said = message((await c.get("/admin/pages")).text)
    assert said.startswith("Not saved") and "Reload the page" in said
    stored = (await c.get(row, headers={"accept": "application/json"})).json()
    assert stored["title"] == "First edit"
    # A form without a version (a theme's own, or a script) is not checked, as the API's If-Match is optional.
    unversioned = {k: v for k, v in fields.items() if k != "_if_match"}
    await c.post(row, data={**unversioned, "title": "Third edit"}, headers=SAME_ORIGIN)
    assert (await c.get(row, headers={"accept": "application/json"})).json()["title"] == "Third edit"


async def test_a_version_that_is_no_tag_is_refused(client: tuple[httpx.AsyncClient, Any]) -> None:
    c, _ = client
    await sign_in(c, "admin")
    page = (await c.get("/admin/pages")).text
    row = next(a for a in _versions(page) if "/_pages/" in a)
    before = (await c.get(row, headers={"accept": "application/json"})).json()
    for bad in ('"abc"\r\nX-Injected: 1', "*", 'W/"0123"', '"' + "a" * 65 + '"'):
        r = await c.post(row, data={"_method": "PATCH", "_if_match": bad, "title": "Hacked", "csrf": ""},
                         headers=SAME_ORIGIN)
        assert r.status_code == 303
    assert (await c.get(row, headers={"accept": "application/json"})).json() == before
