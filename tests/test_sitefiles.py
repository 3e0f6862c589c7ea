"""sitefiles.py: the tenant files beside the pages — sitemap.xml, robots.txt, the Atom feeds, _headers, _redirects,
the redirect pages of aliases and routes.json — from route tables, without a build."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import pytest
from lxml import etree
from support import site_model

from mbsite.routes import Route, RouteTable
from mbsite.site import SiteModel
from mbsite.sitefiles import (
    feed,
    feed_files,
    headers,
    redirect_page,
    redirects,
    robots,
    routes_manifest,
    sitemap,
    tenant_base_url,
    url_path,
)
from mbsite.sources import TenantData

TENANT = TenantData("t", "T", ("t.example",), {}, (), ())
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def table(*routes: Route) -> RouteTable:
    t = RouteTable(TENANT)
    for r in routes:
        t.add(r)
    return t


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, seeded_site: Callable[..., Path]) -> Iterator[SiteModel]:
    """The fixture site tests/sites/pipeline: tenant t with a blog of two public posts and a members' one."""
    with site_model(seeded_site("pipeline", tmp_path_factory.mktemp("sitefiles") / "site")) as (found, _problems):
        yield found


def test_sitemap_lists_public_pages_under_the_address_percent_encoded() -> None:
    t = table(Route("t", "/a b", "markdown", "A", "a.md"), Route("t", "/club", "markdown", "C", "c.md", level=2))
    xml = sitemap(t, "https://t.example")
    assert "<loc>https://t.example/a%20b</loc>" in xml and "/club" not in xml
    assert url_path("/plain/path") == "/plain/path" and url_path('/q"&') == "/q%22%26"


def test_the_sitemap_of_the_fixture_holds_exactly_the_pages_level_zero_may_open(model: SiteModel) -> None:
    doc = etree.fromstring(sitemap(model.tables["t"], "https://t.example/").encode())
    locs = [loc.text for loc in doc.iter(f"{SITEMAP}loc")]
    assert locs == [f"https://t.example{p}" for p in (
        "/", "/about", "/blog", "/blog/first", "/blog/third", "/greeting", "/products", "/products/p1",
        "/products/p2", "/tags", "/tags/news", "/welcome")]


def test_a_page_that_needs_a_session_is_not_in_the_sitemap_whatever_its_level() -> None:
    t = table(Route("t", "/account", "markdown", "Account", "a.md", requires_auth=True),
              Route("t", "/open", "markdown", "Open", "o.md"))
    assert "/account" not in sitemap(t, "https://t.example") and "/open" in sitemap(t, "https://t.example")


def test_translations_are_sitemap_alternates_only_with_an_address() -> None:
    t = table(Route("t", "/about", "markdown", "About", "a.md", lang="en", translation_key="/about"),
              Route("t", "/de/about", "markdown", "Über", "de/a.md", lang="de", translation_key="/about"))
    t.roots = {"": "en", "/de": "de"}
    xml = sitemap(t, "https://t.example")
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in xml
    assert xml.count('<xhtml:link rel="alternate" hreflang="de" href="https://t.example/de/about"/>') == 2
    assert xml.count('hreflang="x-default" href="https://t.example/about"') == 2
    relative = sitemap(t, "")
    assert "xhtml" not in relative and "<loc>/de/about</loc>" in relative


@pytest.mark.parametrize("base,line", [("https://t.example/", "Sitemap: https://t.example/sitemap.xml"),
                                       ("", "Sitemap: /sitemap.xml")], ids=["absolute", "no-address"])
def test_robots_keeps_crawlers_out_of_the_api_and_the_gallery(base: str, line: str) -> None:
    assert robots(base).splitlines() == ["User-agent: *", "Disallow: /api/", "Disallow: /_gallery/", line]


@pytest.mark.parametrize("settings,domains,fallback,expected", [
    ({"base_url": "https://www.own.example/site/"}, ("own.example",), "", "https://www.own.example/site"),
    ({"baseUrl": "http://camel.example"}, (), "", "http://camel.example"),
    ({}, ("Shop.Example",), "https://fallback.example", "https://shop.example"),
    ({}, ("app.localhost:8000",), "", "http://app.localhost:8000"),
    ({}, ("[::1]:8000",), "", "http://[::1]:8000"),
    ({}, (), "https://fallback.example/", "https://fallback.example"),
    ({}, (), "", ""),
    ({"base_url": "javascript:alert(1)"}, ("ok.example",), "", ""),
    ({"base_url": 'https://x.example/"><script>'}, (), "", ""),
    ({"base_url": "https://x.example/?q=1"}, (), "", ""),
], ids=["setting", "camel-case", "first-domain", "localhost-is-http", "loopback-is-http",
        "site-fallback", "none", "not-http",
        "markup", "query"])
def test_a_tenants_address(settings: dict, domains: tuple[str, ...], fallback: str, expected: str) -> None:
    assert tenant_base_url(TenantData("t", "T", domains, settings, (), ()), fallback) == expected


def test_the_feed_holds_the_public_posts_newest_first_escaped(model: SiteModel) -> None:
    atom = feed(model.tables["t"], "https://t.example")
    assert atom is not None
    doc = etree.fromstring(atom.encode())
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert doc.findtext(f"{ATOM}title") == "T · Blog" and doc.findtext(f"{ATOM}id") == "https://t.example/"
    entries = [(e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}updated"),
                e.findtext(f"{ATOM}summary")) for e in doc.iter(f"{ATOM}entry")]
    assert entries == [  # the members' post (2024-02-01) is not in it
        ("Third & last", "https://t.example/blog/third", "2024-03-01T00:00:00Z", "The <newest> post."),
        ("First", "https://t.example/blog/first", "2024-01-01T00:00:00Z", "The first post.")]
    assert doc.findtext(f"{ATOM}updated") == "2024-03-01T00:00:00Z"


def test_feeds_exist_for_the_blog_and_each_public_tag_only(model: SiteModel) -> None:
    files = feed_files(model.tables["t"], "https://t.example")
    assert sorted(files) == ["/feed.xml", "/tags/news/feed.xml"]  # #club is a members' tag: no public feed
    assert "<title>T · Tagged “news”</title>" in files["/tags/news/feed.xml"]
    assert feed(model.tables["t"], "https://t.example", tag="club") is None
    assert feed_files(table(Route("t", "/about", "markdown", "About", "a.md")), "") == {}


def test_the_feed_keeps_the_twenty_newest_posts() -> None:
    posts = [Route("t", f"/blog/p{i:02}", "markdown", f"P{i}", f"p{i}.md", date=f"2024-01-{i + 1:02}")
             for i in range(25)]
    atom = feed(table(*posts), "https://t.example")
    assert atom is not None
    titles = [e.findtext(f"{ATOM}title") for e in etree.fromstring(atom.encode()).iter(f"{ATOM}entry")]
    assert titles == [f"P{i}" for i in range(24, 4, -1)]


def test_a_feed_dates_posts_at_midnight_of_the_tenants_zone() -> None:
    t = table(Route("t", "/blog/a", "markdown", "A", "a.md", date="2024-06-01"))
    t.zone = "Europe/Berlin"
    atom = feed(t, "https://t.example")
    assert atom is not None and "<updated>2024-05-31T22:00:00Z</updated>" in atom


def test_headers_make_assets_immutable_and_carry_the_policy() -> None:
    text = headers("default-src 'self'")
    assert text.startswith("/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n/*\n")
    assert "  Content-Security-Policy: default-src 'self'\n" in text
    assert "  X-Content-Type-Options: nosniff\n" in text and "Content-Security-Policy" not in headers("")


def test_redirects_move_aliases_and_send_members_pages_to_sign_in(model: SiteModel) -> None:
    lines = redirects(model.tables["t"]).splitlines()
    assert lines[:2] == ["# Earlier paths of pages (aliases) move to the page.", "/hello /welcome 301"]
    signin = [line for line in lines if line.endswith(" 302")]
    assert "/club /login?next=%2Fclub 302" in signin and "/blog/second /login?next=%2Fblog%2Fsecond 302" in signin
    assert not any(line.startswith(("/blog/first ", "/about ")) for line in signin)
    assert signin == sorted(signin)


def test_redirect_paths_are_percent_encoded_so_a_line_never_splits() -> None:
    t = table(Route("t", "/a b&c#d", "markdown", "Odd", "o.md", level=1))
    [line] = [x for x in redirects(t).splitlines() if not x.startswith("#")]
    assert line == "/a%20b%26c%23d /login?next=%2Fa%20b%26c%23d 302"
    assert len(line.split()) == 3


def test_a_redirect_page_escapes_its_target() -> None:
    page = redirect_page('/x"><script>alert(1)</script>')
    assert "<script>" not in page and 'content="0; url=/x&quot;&gt;&lt;script&gt;' in page
    assert '<link rel="canonical" href="/x&quot;' in page


def test_the_routes_manifest_describes_the_pages_with_files(model: SiteModel) -> None:
    t = model.tables["t"]
    doc = json.loads(routes_manifest(t, {"/club": [2], "/about": [0], "/gone": [0]},
                                     {"/about": {"base": 0, "levels": {"3": "k"}}}))
    assert doc["tenant"] == "t" and doc["domains"] == ["t.example"] and doc["aliases"] == {"/hello": "/welcome"}
    assert sorted(doc["pages"]) == ["/about", "/club"]  # a path the table no longer has is left out
    assert doc["pages"]["/club"] == {"level": 2, "requires_auth": False, "variants": [2], "title": "Club",
                                     "kind": "component"}
    assert doc["pages"]["/about"]["composed"] == {"base": 0, "levels": {"3": "k"}}
    assert doc["login"] is None and doc["access_denied"] is None


def test_a_redirect_page_links_the_favicon_it_is_given() -> None:
    page = redirect_page("/new", '/assets/favicon.1"x.svg')
    assert '<link rel="icon" href="/assets/favicon.1&quot;x.svg" type="image/svg+xml">' in page
    assert 'rel="icon"' not in redirect_page("/new")
