"""routes.py: the route table of a tenant — which source wins a path, what is generated or expanded from records,
what each level sees in the navigation, and where every refused route is reported."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import text
from support import site_model

from mbsite.errors import Location, Problem
from mbsite.levels import ADMIN
from mbsite.paths import PathError
from mbsite.routes import (
    PANELS,
    SEARCH_PATH,
    Route,
    RouteTable,
    _add_blog_routes,
    _collect_aliases,
    build_route_table,
    normalize_path,
    page_count,
    tag_slug,
)
from mbsite.site import SiteModel
from mbsite.sitefiles import redirects
from mbsite.sources import PageRow, TenantData

TENANT = TenantData("t", "T", ("t.example",), {}, (), ())


# -- tables made in memory ------------------------------------------------------------------------------------

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


def test_adding_a_path_twice_keeps_the_first_and_warns_at_the_second_source() -> None:
    t = table(Route("t", "/a", "markdown", "First", "content/pages/a.md"),
              Route("t", "/a", "component", "Second", "packages/p/page-config/pages.json#/3"))
    assert t.routes["/a"].title == "First"
    [warning] = t.problems
    assert (warning.severity, warning.code, warning.location.file) == \
        ("warning", "route-conflict", "packages/p/page-config/pages.json")
    assert "content/pages/a.md" in warning.message and "pages.json#/3" in warning.message


@pytest.mark.parametrize("raw,canonical", [("/", "/"), ("", "/"), ("a/b/", "/a/b"), ("//a//b//", "/a/b"),
                                           (" /a ", "/a"), ("/a b/ü", "/a b/ü")],
                         ids=["root", "empty", "no-leading-slash", "doubled-slashes", "spaces-around", "unicode"])
def test_paths_are_made_canonical(raw: str, canonical: str) -> None:
    assert normalize_path(raw) == canonical


@pytest.mark.parametrize("raw", ["/a/../b", "/./a", "/a/\x00", "/a\\b", "/" + "x" * 201],
                         ids=["dotdot", "dot", "nul", "backslash", "long-segment"])
def test_a_path_that_could_leave_its_folder_is_an_error_naming_its_source(raw: str) -> None:
    with pytest.raises(PathError) as info:
        normalize_path(raw, Location(file="page_configs:r1"))
    assert info.value.location.file == "page_configs:r1" and repr(raw) in info.value.message


@pytest.mark.parametrize("tag,slug", [("News", "news"), ("C++ & Rust", "c-rust"), ("  spaced out  ", "spaced-out"),
                                      ("!!!", "tag")], ids=["lower", "punctuation", "spaces", "nothing-left"])
def test_tag_slugs(tag: str, slug: str) -> None:
    assert tag_slug(tag) == slug


# -- tables of the fixture site (tests/sites/pipeline) ----------------------------------------------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, seeded_site: Callable[..., Path]) -> Iterator[SiteModel]:
    with site_model(seeded_site("pipeline", tmp_path_factory.mktemp("routes") / "site")) as (found, _problems):
        yield found


def row(row_id: str, path: str, **fields: Any) -> PageRow:
    values: dict[str, Any] = dict(
        id=row_id, path=path, title=row_id, description=None, icon=None, package=None, component=None,
        tree={"type": "Text", "children": row_id}, level=0, requires_auth=False, published=True, sort_order=0,
        params={}, meta={}, revalidate=None, tags=())
    values.update(fields)
    return PageRow(**values)


def rebuilt(model: SiteModel, slug: str = "t", *, now: int | None = None, search: bool = False,
            **tenant_fields: Any) -> RouteTable:
    """Tenant `slug`'s route table built again from the fixture site's sources, with its data changed."""
    tenant = dataclasses.replace(model.tables[slug].tenant, **tenant_fields)
    return build_route_table(tenant, model.sources, model.packages, model.store, now=now, config=model.config,
                             search=search)


def problems_of(t: RouteTable, code: str) -> list[Problem]:
    return [p for p in t.problems if p.code == code]


def test_a_row_wins_over_a_package_page_which_wins_over_markdown(model: SiteModel) -> None:
    assert model.tables["t"].routes["/about"].source == "page_configs row row-about"
    assert rebuilt(model, pages=()).routes["/about"].source == "packages/widgets/page-config/pages.json#/0"
    # Tenant u has the package installed but disabled, and no rows: the Markdown page is its /about.
    assert model.tables["u"].routes["/about"].source == "content/pages/about.md"


def test_each_losing_source_is_a_warning_at_its_own_file_naming_the_winner(model: SiteModel) -> None:
    conflicts = {p.location.file: p.message for p in problems_of(model.tables["t"], "route-conflict")
                 if "route /about" in p.message}
    assert conflicts == {
        "packages/widgets/page-config/pages.json": "route /about of tenant t is defined by page_configs row row-about "
                                                   "and by packages/widgets/page-config/pages.json#/0; the first wins",
        "content/pages/about.md": "route /about of tenant t is defined by page_configs row row-about and by "
                                  "content/pages/about.md; the first wins"}


def test_two_rows_of_one_canonical_path_keep_the_first(model: SiteModel) -> None:
    t = rebuilt(model, pages=(row("a", "/x/"), row("b", "//x")))
    assert t.routes["/x"].row_id == "a"
    [warning] = [p for p in problems_of(t, "route-conflict") if "/x" in p.message]
    assert warning.location.file == "page_configs:b"


def test_every_refused_row_is_reported_at_its_row(model: SiteModel) -> None:
    t = model.tables["t"]
    located = {(p.severity, p.code, p.location.file) for p in t.problems if "row-" in str(p.location.file)}
    assert located == {("error", "path", "page_configs:row-climb"),
                       ("warning", "route-param", "page_configs:row-noexpand"),
                       ("warning", "route-unresolved", "page_configs:row-orphan")}
    assert not {"/admin", "/orders/:id", "/orphan"} & set(t.routes)  # (the panel's pages are under /admin/)


def test_a_package_that_is_not_there_is_named(model: SiteModel) -> None:
    [missing] = problems_of(model.tables["t"], "package-missing")
    assert missing.location.package == "ghost" and "'ghost' not found" in missing.message
    assert not problems_of(model.tables["u"], "package-missing")  # a disabled package is not missing


def test_a_record_path_expands_to_one_page_per_record_its_query_finds(model: SiteModel) -> None:
    t = model.tables["t"]
    products = {p: r for p, r in t.routes.items() if p.startswith("/products/")}
    assert sorted(products) == ["/products/p1", "/products/p2"]  # p3 is archived: the expand filter leaves it out
    pen = products["/products/p1"]
    assert (pen.record, pen.params, pen.title, pen.nav) == (("shop", "product", "p1"), {"id": "p1"}, "Pen", False)
    assert ("shop", "product") in t.queries_read


def test_an_expanded_field_is_percent_encoded_and_a_bad_one_is_refused(model: SiteModel) -> None:
    with model.store.engine.begin() as conn:  # an entity of its own: the other tests do not read it
        for rid, name in (("a", "Fine pen"), ("b", ".."), ("c", "")):
            conn.execute(text("INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, "
                              "updated_at) VALUES ('t', 'shop', 'label', :id, :data, 1, 0, 0)"),
                         {"id": rid, "data": json.dumps({"id": rid, "name": name})})
    expand = {"id": {"package": "shop", "entity": "label", "field": "name"}}
    t = rebuilt(model, pages=(row("by-name", "/by/[id]", params={"expand": expand}),))
    assert sorted(p for p in t.routes if p.startswith("/by/")) == ["/by/Fine%20pen"]
    [refused] = [p for p in t.problems if p.code == "path"]
    assert refused.severity == "error" and refused.location.file == "page_configs:by-name"
    assert "record 'b'" in refused.message


def test_generated_pages_fill_what_no_source_gives(model: SiteModel) -> None:
    t = model.tables["t"]
    kinds = {p: (r.kind, r.min_level) for p, r in t.routes.items() if r.source.startswith(("generated", "admin"))}
    assert kinds == {
        "/": ("home_index", 0), "/blog": ("blog_index", 0), "/tags": ("tags", 0), "/tags/news": ("tag", 0),
        "/tags/club": ("tag", 2),  # only the members' post has that tag
        "/_gallery": ("gallery", ADMIN), "/_gallery/widgets": ("gallery", ADMIN),
        **{f"/admin/{panel.name}": ("panel", panel.level) for panel in PANELS}}
    assert "/_gallery" not in model.tables["u"].routes  # no enabled package with components
    home = rebuilt(model, pages=(row("home", "/"),)).routes["/"]
    assert (home.kind, home.row_id) == ("component", "home")


def test_each_level_sees_the_nav_pages_it_may_open_in_sort_order(model: SiteModel) -> None:
    t = model.tables["t"]
    assert [e["path"] for e in t.nav(0)] == ["/about", "/greeting", "/products", "/blog"]
    assert [e["path"] for e in t.nav(2)] == ["/about", "/club", "/greeting", "/products", "/blog"]
    assert t.nav(2)[1] == {"path": "/club", "title": "Club", "level": 2, "icon": None, "external": False,
                           "children": []}


def test_a_configured_menu_shows_what_each_level_may_open_and_warns_at_each_bad_entry(model: SiteModel) -> None:
    menu = [{"title": "About", "path": "about/"},
            {"title": "Club", "path": "/club"},
            {"title": "Elsewhere", "url": "https://example.org/x"},
            {"title": "Script", "url": "javascript:alert(1)"},
            {"title": "Group", "children": [{"title": "Greeting", "path": "/greeting"}, {"title": "Gone", "path": "/x"}]},
            {"path": "/untitled"}]
    t = rebuilt(model, settings={"menu": menu})
    assert [(e["title"], e["path"]) for e in t.nav(0)] == [
        ("About", "/about"), ("Elsewhere", "https://example.org/x"), ("Group", "")]
    assert [e["title"] for e in t.nav(0)[2]["children"]] == ["Greeting"]
    assert [e["title"] for e in t.nav(2)] == ["About", "Club", "Elsewhere", "Group"]
    warnings = {p.location.pointer: p.message for p in problems_of(t, "menu")}
    assert all(p.location.file == "tenants:t" for p in problems_of(t, "menu"))
    assert warnings == {"/settings/menu/3": "menu link 'javascript:alert(1)' is not an http(s) URL",
                        "/settings/menu/4/children/1": "menu entry 'Gone' names no page ('/x')",
                        "/settings/menu/5": "a menu entry needs a title"}


def test_a_scheduled_row_appears_at_its_publish_date_and_says_when(model: SiteModel) -> None:
    publish = int(datetime(2030, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
    soon = row("soon", "/soon", params={"publishDate": "2030-01-01T00:00:00Z"})
    before = rebuilt(model, pages=(soon,), now=publish - 1)
    assert "/soon" not in before.routes and before.next_change == publish
    after = rebuilt(model, pages=(soon,), now=publish)
    assert "/soon" in after.routes


def test_with_search_the_index_folder_is_refused_and_a_search_page_is_added(model: SiteModel) -> None:
    t = rebuilt(model, pages=(row("squat", "/pagefind/x"),), search=True)
    assert "/pagefind/x" not in t.routes and t.routes[SEARCH_PATH].kind == "search"
    [refused] = [p for p in problems_of(t, "route-conflict") if "/pagefind/" in p.message]
    assert refused.location.file == "page_configs:squat"
    assert SEARCH_PATH not in model.tables["t"].routes  # search off: no page
    own = rebuilt(model, pages=(row("mine", SEARCH_PATH),), search=True)
    assert own.routes[SEARCH_PATH].row_id == "mine"  # the site's own page at /search wins


def test_aliases_of_the_fixture_redirect_to_their_page_unless_a_page_is_there(model: SiteModel) -> None:
    t = model.tables["t"]
    assert t.aliases == {"/hello": "/welcome"}
    [taken] = [p for p in problems_of(t, "route-conflict") if p.message.startswith("alias")]
    assert taken.location.file == "content/pages/welcome.md"
    assert taken.message == "alias /about of /welcome is already page_configs row row-about; skipped"


def test_a_row_language_that_is_not_a_language_is_refused_at_its_field(model: SiteModel) -> None:
    t = rebuilt(model, pages=(row("speak", "/speak", params={"lang": "not a language"}),))
    assert "/speak" not in t.routes
    [bad] = [p for p in t.problems if p.location.file == "page_configs:speak"]
    assert bad.location.pointer == "/params/lang" and bad.message.startswith("'lang': ")

