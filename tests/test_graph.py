"""graph.py: the digests of what pages can read (routes, listings, navigation, tenant inputs), the stored rows of
the dependency graph on a real SQLite file, the build state, and change-feed events → input keys."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import Engine
from support import site_model

from mbsite import keys
from mbsite.db.engine import ensure_schema, open_engine
from mbsite.db.feed import ChangeEvent
from mbsite.errors import ConfigError
from mbsite.graph import (
    OutputRow,
    _placeholder,
    clear_graph,
    digest_of,
    dirty_keys,
    get_state,
    listing_digest,
    load_outputs,
    route_fingerprint,
    save_outputs,
    set_state,
    tenant_digests,
)
from mbsite.markdown import split_front_matter
from mbsite.routes import Route, RouteTable
from mbsite.site import SiteModel
from mbsite.sources import MarkdownSource, TenantData

TENANT = TenantData("t", "T", (), {}, (), ())


def test_a_digest_ignores_key_order_and_follows_every_value() -> None:
    assert digest_of({"a": 1, "b": [1, 2]}) == digest_of({"b": [1, 2], "a": 1})
    assert digest_of({"a": 1, "b": [1, 2]}) != digest_of({"a": 1, "b": [2, 1]})
    assert digest_of({1: "x"}) != digest_of({2: "x"})  # non-string keys are digested too
    assert len(digest_of(None)) == 32 and int(digest_of(None), 16) >= 0


def markdown(text: str, relpath: str = "content/blog/a.md") -> MarkdownSource:
    front, body, line = split_front_matter(text, relpath)
    return MarkdownSource(relpath, "/blog/a", digest_of(text), front, body, line)


def test_a_routes_fingerprint_follows_what_its_page_shows_but_not_its_markdown_body() -> None:
    md = markdown("---\ntitle: A\n---\nBody one.\n")
    route = Route("t", "/blog/a", "markdown", "A", md.relpath, markdown=md, date="2024-01-01")
    same = route_fingerprint(route)
    edited = dataclasses.replace(md, body="Body two.\n", digest="other")
    assert route_fingerprint(dataclasses.replace(route, markdown=edited)) == same  # (the file is its own input)
    for change in ({"title": "B"}, {"level": 2}, {"template": "x.html"}, {"aliases": ("/old",)}, {"tags": ("t",)},
                   {"date": "2024-01-02"}, {"lang": "de"}):
        assert route_fingerprint(dataclasses.replace(route, **change)) != same, change


def listing(*routes: Route) -> RouteTable:
    table = RouteTable(TENANT)
    for r in routes:
        table.add(r)
    return table


def test_a_listing_digest_follows_the_listed_pages_only() -> None:
    post = Route("t", "/blog/a", "markdown", "A", "a.md", date="2024-01-01")
    page = Route("t", "/about", "markdown", "About", "about.md")
    comp = Route("t", "/shop", "component", "Shop", "row")
    base = listing(post, page)
    everything, posts = listing_digest(base), listing_digest(base, blog_only=True)
    assert listing_digest(listing(post, page, comp)) == everything  # component pages are never listed
    assert listing_digest(listing(post, dataclasses.replace(page, title="Us")), blog_only=True) == posts
    assert listing_digest(listing(post, dataclasses.replace(page, title="Us"))) != everything
    assert listing_digest(listing(dataclasses.replace(post, title="B"), page), blog_only=True) != posts
    assert listing_digest(listing(dataclasses.replace(post, level=1), page), blog_only=True) != posts
    assert listing_digest(base, lang="de") == listing_digest(listing(), lang="de")  # nothing in German


def test_a_listing_digest_is_computed_again_after_a_route_is_added() -> None:
    table = listing(Route("t", "/blog/a", "markdown", "A", "a.md"))
    first = listing_digest(table)
    table.add(Route("t", "/blog/b", "markdown", "B", "b.md"))
    assert listing_digest(table) != first


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, seeded_site: Callable[..., Path]) -> Iterator[SiteModel]:
    with site_model(seeded_site("pipeline", tmp_path_factory.mktemp("graph") / "site")) as (found, _problems):
        yield found


def test_tenant_digests_cover_every_input_a_page_of_the_tenant_records(model: SiteModel) -> None:
    table = model.tables["t"]
    d = tenant_digests(table, "/assets/tokens.x.css")
    assert {keys.nav("t", level) for level in range(6)} <= set(d)
    assert {keys.routes("t", "en"), keys.posts("t", "en"), keys.tags("t"), keys.paths("t"), keys.feed("t")} <= set(d)
    assert {k for k in d if k.startswith("route:")} == {keys.route("t", p) for p in table.routes}
    assert {k for k in d if k.startswith("nearby:")} == {keys.nearby("t", p) for p in
                                                         ("/blog/first", "/blog/second", "/blog/third")}
    first = table.routes["/blog/first"].markdown
    assert first is not None and d[keys.file(first.relpath)] == first.digest
    assert d[keys.tokens("t")] == "/assets/tokens.x.css" and d[keys.feed("t")] == "True"
    assert d[keys.nav("t", 0)] != d[keys.nav("t", 2)]  # the members' page is in the level-2 navigation
    assert d[keys.nav("t", 2)] == d[keys.nav("t", 3)]
    assert tenant_digests(table, "/assets/tokens.x.css") == d  # the same table, the same digests


# -- stored rows on a real SQLite file ------------------------------------------------------------------------

@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'graph.sqlite3'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


def out_row(path: str, level: int, **fields: object) -> OutputRow:
    values: dict = dict(tenant="t", path=path, level=level, file=f"t/public{path}/index.html", html_hash="h",
                        inputs=["file:a.md", "nav:t:0"], digests={"route": "r", "file:a.md": "d"})
    values.update(fields)
    return OutputRow(**values)


def test_rows_come_back_as_stored_grouped_by_page_and_ordered_by_level(engine: Engine) -> None:
    rows = [out_row("/a", 2, revalidate_at=123, tags=["news"], reason="new", rendered_at=7), out_row("/a", 0),
            out_row("/b", 0, inputs=[], digests={})]
    with engine.begin() as conn:
        save_outputs(conn, [], rows)
    with engine.connect() as conn:
        loaded = load_outputs(conn)
    assert sorted(loaded) == [("t", "/a"), ("t", "/b")]
    assert [r.level for r in loaded[("t", "/a")]] == [0, 2]
    assert loaded[("t", "/a")][1].as_dict() == rows[0].as_dict()
    assert loaded[("t", "/a")][0].revalidate_at is None and loaded[("t", "/a")][0].tags == []
    assert loaded[("t", "/b")][0].inputs == [] and loaded[("t", "/b")][0].digests == {}


def test_saving_a_page_replaces_its_rows_and_leaves_the_others(engine: Engine) -> None:
    with engine.begin() as conn:
        save_outputs(conn, [], [out_row("/a", 0), out_row("/a", 3), out_row("/b", 0)])
        save_outputs(conn, [("t", "/a")], [out_row("/a", 0, html_hash="new")])
        save_outputs(conn, [("t", "/gone")], [])  # nothing stored for it: nothing happens
    with engine.connect() as conn:
        loaded = load_outputs(conn)
    assert [(r.level, r.html_hash) for r in loaded[("t", "/a")]] == [(0, "new")]
    assert [r.html_hash for r in loaded[("t", "/b")]] == ["h"]
    with engine.begin() as conn:
        clear_graph(conn)
        assert load_outputs(conn) == {}


def test_build_state_keeps_one_value_per_key(engine: Engine) -> None:
    with engine.begin() as conn:
        assert get_state(conn, "cursor") is None and get_state(conn, "cursor", "0") == "0"
        set_state(conn, "cursor", "5")
        set_state(conn, "cursor", "9")
        set_state(conn, "generation", "g1")
    with engine.connect() as conn:
        assert (get_state(conn, "cursor"), get_state(conn, "generation")) == ("9", "g1")


def test_only_the_drivers_mbsite_knows_have_a_placeholder() -> None:
    assert (_placeholder("qmark"), _placeholder("format"), _placeholder("pyformat")) == ("?", "%s", "%s")
    with pytest.raises(ConfigError) as info:
        _placeholder("named")
    assert "'named'" in str(info.value)


# -- change-feed events → input keys --------------------------------------------------------------------------

@pytest.mark.parametrize("tenant,table,key,expected", [
    ("t", "entity_records", "shop/product/p1", {"query:t:shop.product"}),
    ("t", "page_configs", "row-about", {"row:page_configs:row-about"}),
    ("t", "installed_packages", "7", {"row:installed_packages:t"}),
    ("t", "tenants", "t", {"row:tenants:t"}),
    ("t", "package_data", "shop", {"row:package_data:t/shop"}),
    ("t", "users", "u1", set()),
    (None, "tenants", "t", set()),
], ids=["record", "page-config", "installed-package", "tenant", "package-data", "other-table", "no-tenant"])
def test_an_event_dirties_its_tables_and_the_rows_pages_read(tenant: str | None, table: str, key: str,
                                                              expected: set[str]) -> None:
    found = dirty_keys([ChangeEvent(1, tenant, table, key, "update", 0)])
    tables = {f"table:*:{table}"} | ({f"table:{tenant}:{table}"} if tenant else set())
    assert found == tables | expected


def test_events_add_up() -> None:
    events = [ChangeEvent(1, "t", "entity_records", "shop/product/p1", "insert", 0),
              ChangeEvent(2, "u", "entity_records", "shop/order/o1", "delete", 0)]
    assert {k for k in dirty_keys(events) if k.startswith("query:")} == {"query:t:shop.product", "query:u:shop.order"}
    assert dirty_keys([]) == set()
