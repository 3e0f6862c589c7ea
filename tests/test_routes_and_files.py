"""Unit tests of the route table (routes.py), the tenant files (sitefiles.py), the planner's decisions (plan.py)
and the composition (compose.py), without a build."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from mbsite.compose import MARKS, compose, dump_fragments, fill, load_fragments
from mbsite.graph import OutputRow
from mbsite.plan import reason_for, revalidation_hits
from mbsite.routes import Route, RouteTable, _add_blog_routes, _collect_aliases, page_count
from mbsite.sitefiles import redirects, sitemap, url_path
from mbsite.sources import TenantData

TENANT = TenantData("t", "T", ("t.example",), {}, (), ())


def post(path: str, level: int = 0, tags: tuple[str, ...] = ("x",), date: str = "2024-01-01") -> Route:
    return Route("t", path, "markdown", path.rsplit("/", 1)[-1], f"content{path}.md", level=level, tags=tags,
                 date=date)


def table(*routes: Route) -> RouteTable:
    t = RouteTable(TENANT)
    for r in routes:
        t.add(r)
    return t


@pytest.mark.parametrize("visible,size,pages", [(0, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3), (25, 0, 1)])
def test_page_count(visible: int, size: int, pages: int) -> None:
    assert page_count(visible, size) == pages


def test_listing_pages_start_at_the_level_that_fills_them() -> None:
    t = table(*[post(f"/blog/p{i}") for i in range(10)], *[post(f"/blog/m{i}", level=2) for i in range(3)])
    _add_blog_routes(t, page_size=10)
    assert t.routes["/blog"].min_level == 0
    assert t.routes["/blog/page/2"].min_level == 2 and t.routes["/blog/page/2"].requires_auth
    assert t.routes["/tags/x/page/2"].params == {"tag": "x", "page": 2}


def test_a_tag_page_starts_at_the_lowest_level_of_its_posts() -> None:
    t = table(post("/blog/a", tags=("open", "both")), post("/blog/b", level=3, tags=("club", "both")))
    _add_blog_routes(t)
    levels = {p: t.routes[p].min_level for p in ("/tags/open", "/tags/both", "/tags/club")}
    assert levels == {"/tags/open": 0, "/tags/both": 0, "/tags/club": 3}


def test_blog_neighbours_skip_posts_the_viewers_cannot_see() -> None:
    t = table(post("/blog/a", date="2024-01-01"), post("/blog/b", level=2, date="2024-01-02"),
              post("/blog/c", date="2024-01-03"))
    older, newer = t.blog_neighbors("/blog/c")
    assert older is not None and older.path == "/blog/a" and newer is None
    older, newer = t.blog_neighbors("/blog/b")  # a members' post sees everything up to its level
    assert (older.path if older else None, newer.path if newer else None) == ("/blog/a", "/blog/c")


def test_aliases_never_shadow_a_page_or_each_other() -> None:
    about = Route("t", "/about", "markdown", "About", "a.md", aliases=("/old", "/contact", "/bad/../x"))
    team = Route("t", "/team", "markdown", "Team", "t.md", aliases=("/old",))
    t = table(about, team, Route("t", "/contact", "markdown", "Contact", "c.md"))
    _collect_aliases(t)
    assert t.aliases == {"/old": "/about"}
    assert len([p for p in t.problems if p.severity == "warning"]) == 3
    lines = redirects(t).splitlines()
    assert "/old /about 301" in lines


def test_sitemap_lists_public_pages_under_the_address_percent_encoded() -> None:
    t = table(Route("t", "/a b", "markdown", "A", "a.md"), Route("t", "/club", "markdown", "C", "c.md", level=2))
    xml = sitemap(t, "https://t.example")
    assert "<loc>https://t.example/a%20b</loc>" in xml and "/club" not in xml
    assert url_path("/plain/path") == "/plain/path" and url_path('/q"&') == "/q%22%26"


def test_reasons_and_revalidations() -> None:
    assert [reason_for(k) for k in ("row:tenants:t", "query:t:p.e", "file:a.md", "asset:style.css",
                                    "route:t:/", "nav:t:0", "posts:t", "nearby:t:/blog/a")] == \
        ["data", "data", "file", "file", "route", "navigation", "navigation", "navigation"]
    row = OutputRow("t", "/blog/a", 0, "t/public/blog/a/index.html", "h", [], {}, tags=["news"])
    hit = SimpleNamespace(tenant=None, path=None, tag="news")
    other = SimpleNamespace(tenant="u", path="/blog/a", tag=None)
    assert revalidation_hits(hit, ("t", "/blog/a"), [row]) and not revalidation_hits(other, ("t", "/blog/a"), [row])


def test_compose_replaces_the_base_chrome_and_refuses_when_it_cannot_find_it() -> None:
    skeleton = f"<head></head><body>{MARKS['chrome_header']}<main>x</main>{MARKS['chrome_footer']}</body>"
    base = fill(skeleton, ("<header>0</header>", "<footer>0</footer>"))
    assert compose(base, ("<header>0</header>", "<footer>0</footer>"), ("<header>3</header>", "<footer>3</footer>")) \
        == fill(skeleton, ("<header>3</header>", "<footer>3</footer>"))
    assert compose(base, ("<header>9</header>", "<footer>0</footer>"), ("<header>3</header>", "")) is None
    assert compose(base, ("", "<footer>0</footer>"), ("<header>3</header>", "")) is None  # nowhere to put it
    fragments = {"page.html\t/": ("<h>", "<f>")}
    assert load_fragments(dump_fragments(fragments)) == fragments
    with pytest.raises(ValueError):
        load_fragments(b'{"k": ["only one"]}')
