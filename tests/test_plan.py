"""plan.py: what is stale and why — one page against its stored rows (`stale_reason`), the cold plan of a build, and
the warm plan of a long-lived builder, which must label a batch of changes the way the cold plan does."""
from __future__ import annotations

from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import text
from support import site_model

from mbsite import keys
from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.context import Recorder
from mbsite.db.feed import ChangeEvent
from mbsite.db.models import now_ms
from mbsite.explain import queue_revalidation
from mbsite.graph import OutputRow, load_outputs
from mbsite.pages import route_records
from mbsite.plan import (
    Memory,
    Pending,
    current_digests,
    plan_cold,
    plan_warm,
    read_pending,
    reason_for,
    revalidation_hits,
    stale_reason,
)
from mbsite.reporter import BufferReporter
from mbsite.site import SiteModel

Revalidation = namedtuple("Revalidation", "id tenant path tag")  # as read_pending reads them
NOTHING = Pending(cursor=0, generation="", high=0, events=[], revalidations=[])


def test_reasons_and_revalidations() -> None:
    assert [reason_for(k) for k in ("row:tenants:t", "query:t:p.e", "file:a.md", "asset:style.css",
                                    "route:t:/", "nav:t:0", "posts:t", "nearby:t:/blog/a")] == \
        ["data", "data", "file", "file", "route", "navigation", "navigation", "navigation"]
    row = OutputRow("t", "/blog/a", 0, "t/public/blog/a/index.html", "h", [], {}, tags=["news"])
    hit = SimpleNamespace(tenant=None, path=None, tag="news")
    other = SimpleNamespace(tenant="u", path="/blog/a", tag=None)
    assert revalidation_hits(hit, ("t", "/blog/a"), [row]) and not revalidation_hits(other, ("t", "/blog/a"), [row])


@pytest.mark.parametrize("tenant,path,tag,hits", [
    (None, "/blog/a/", None, True), ("t", "/blog/a", None, True), ("t", "/blog", None, False),
    (None, None, "sport", False), (None, None, None, False)],
    ids=["trailing-slash", "tenant-and-path", "other-path", "other-tag", "names-nothing"])
def test_a_revalidation_names_a_page_by_path_or_tag(tenant: str | None, path: str | None, tag: str | None,
                                                    hits: bool) -> None:
    row = OutputRow("t", "/blog/a", 0, "f", "h", [], {}, tags=["news"])
    assert revalidation_hits(SimpleNamespace(tenant=tenant, path=path, tag=tag), ("t", "/blog/a"), [row]) is hits


# -- one page against its stored rows (the fixture site tests/sites/pipeline) ------------------------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, seeded_site: Callable[..., Path]) -> Iterator[SiteModel]:
    with site_model(seeded_site("pipeline", tmp_path_factory.mktemp("plan") / "site")) as (found, _problems):
        yield found


@pytest.fixture(scope="module")
def digests(model: SiteModel) -> dict[str, str]:
    return current_digests(model)


def stored(model: SiteModel, digests: dict[str, str], path: str, inputs: list[str], **fields: Any) -> OutputRow:
    """A stored row of tenant t's page `path` that is current: its route's fingerprint and its inputs' digests."""
    route_key = keys.route("t", path)
    row_digests = {"route": digests[route_key], **{k: digests[k] for k in inputs if k in digests}}
    return OutputRow("t", path, 0, f"t/public{path}/index.html", "h", sorted(inputs), row_digests, **fields)


POST_INPUTS = [keys.file("content/blog/first.md"), keys.nav("t", 0), keys.posts("t", "en")]


def test_a_page_without_rows_is_new_and_a_current_one_is_not_stale(model: SiteModel, digests: dict[str, str]) -> None:
    route = model.tables["t"].routes["/blog/first"]
    assert stale_reason(model, route, None, digests, set(), now_ms(), []) == "new"
    assert stale_reason(model, route, [], digests, set(), now_ms(), []) == "new"
    row = stored(model, digests, "/blog/first", POST_INPUTS)
    assert stale_reason(model, route, [row], digests, set(), now_ms(), []) is None


@pytest.mark.parametrize("changed,reason", [
    (["route"], "route"), ([keys.nav("t", 0)], "navigation"), ([keys.file("content/blog/first.md")], "file"),
    ([keys.nav("t", 0), keys.file("content/blog/first.md")], "file"),  # the first changed input, in stored order
    (["route", keys.file("content/blog/first.md")], "route")], ids=["route", "nav", "file", "file-first", "route-first"])
def test_a_changed_digest_names_its_kind(model: SiteModel, digests: dict[str, str], changed: list[str],
                                         reason: str) -> None:
    route = model.tables["t"].routes["/blog/first"]
    row = stored(model, digests, "/blog/first", POST_INPUTS)
    for key in changed:
        row.digests[key] = "something else"
    assert stale_reason(model, route, [row], digests, set(), now_ms(), []) == reason


def test_timers_revalidations_and_dirty_rows(model: SiteModel, digests: dict[str, str]) -> None:
    route = model.tables["t"].routes["/about"]
    now = now_ms()
    inputs = [keys.row("page_configs", "row-about"), keys.nav("t", 0)]
    assert stale_reason(model, route, [stored(model, digests, "/about", inputs, revalidate_at=now)], digests,
                        set(), now, []) == "timer"
    assert stale_reason(model, route, [stored(model, digests, "/about", inputs, revalidate_at=now + 1)], digests,
                        set(), now, []) is None
    current = [stored(model, digests, "/about", inputs)]
    asked = SimpleNamespace(tenant="t", path="/about/", tag=None)
    assert stale_reason(model, route, current, digests, set(), now, [asked]) == "on-demand"
    assert stale_reason(model, route, current, digests, {keys.row("page_configs", "row-about")}, now, []) == "data"
    assert stale_reason(model, route, current, digests, {keys.row("page_configs", "other")}, now, []) is None


def test_a_dirty_query_makes_a_page_stale_only_when_its_result_changed(model: SiteModel,
                                                                       digests: dict[str, str]) -> None:
    route = model.tables["t"].routes["/products"]
    rec = Recorder()
    route_records(model, route, rec)
    query = keys.query("t", "shop", "product")
    row = stored(model, digests, "/products", [query])
    row.digests[query] = rec.digests[query]
    dirty = {query}
    assert stale_reason(model, route, [row], digests, dirty, now_ms(), []) is None  # same products, same order
    row.digests[query] = "what it returned before"
    assert stale_reason(model, route, [row], digests, dirty, now_ms(), []) == "data"


# -- the cold plan --------------------------------------------------------------------------------------------

def current_graph(model: SiteModel, digests: dict[str, str]) -> dict[tuple[str, str], list[OutputRow]]:
    """A stored graph in which every page of the model is current (its route's fingerprint, no other input)."""
    return {(slug, path): [OutputRow(slug, path, 0, "f", "h", [], {"route": digests[keys.route(slug, path)]})]
            for slug, table in model.tables.items() for path in table.routes}


def test_a_full_plan_renders_everything_and_a_current_graph_nothing(model: SiteModel,
                                                                     digests: dict[str, str]) -> None:
    everything = sum(len(t.routes) for t in model.tables.values())
    plan, _ = plan_cold(model, {}, NOTHING, full=True)
    assert len(plan.todo) == everything and set(plan.why.values()) == {"full"} and plan.full
    plan, _ = plan_cold(model, current_graph(model, digests), NOTHING, full=False)
    assert (plan.todo, plan.why, plan.removed) == ([], {}, [])


def test_the_cold_plan_drops_vanished_pages_and_renders_damaged_and_new_ones(model: SiteModel,
                                                                              digests: dict[str, str]) -> None:
    old = current_graph(model, digests)
    del old[("t", "/greeting")]
    old[("t", "/gone")] = [OutputRow("t", "/gone", 0, "f", "h", [], {"route": "x"})]
    old[("nobody", "/")] = [OutputRow("nobody", "/", 0, "f", "h", [], {"route": "x"})]
    pending = Pending(cursor=3, generation="g", high=9, events=[], revalidations=[Revalidation(4, "t", "/welcome", None)])
    plan, _ = plan_cold(model, old, pending, full=False, damaged={("t", "/about"): "missing"})
    assert plan.why == {("t", "/greeting"): "new", ("t", "/about"): "missing", ("t", "/welcome"): "on-demand"}
    assert sorted(plan.removed) == [("nobody", "/"), ("t", "/gone")]
    assert (plan.high, plan.revalidation_ids) == (9, [4])


def test_change_feed_events_become_the_plans_dirty_keys(model: SiteModel, digests: dict[str, str]) -> None:
    event = ChangeEvent(5, "t", "page_configs", "row-about", "update", 0)
    plan, _ = plan_cold(model, current_graph(model, digests), Pending(0, "", 5, [event], []), full=False)
    assert plan.dirty == {"table:*:page_configs", "table:t:page_configs", "row:page_configs:row-about"}


# -- warm and cold label a batch alike ------------------------------------------------------------------------

def index_of(graph: dict[tuple[str, str], list[OutputRow]]) -> dict[str, set[tuple[str, str]]]:
    """Input key → pages, as a long-lived builder keeps it (every page also under its route key)."""
    index: dict[str, set[tuple[str, str]]] = {}
    for key, rows in graph.items():
        index.setdefault(keys.route(*key), set()).add(key)
        for row in rows:
            for inp in row.inputs:
                index.setdefault(inp, set()).add(key)
    return index


def test_the_warm_plan_labels_a_batch_as_the_cold_plan_does(tmp_path: Path, seeded_site: Callable[..., Path]) -> None:
    site = seeded_site("pipeline", tmp_path / "site")
    config = load_config(site)
    builder = Builder(config, BufferReporter())
    builder.run()
    engine = builder.engine
    try:
        with engine.connect() as conn:
            graph = load_outputs(conn)
        before = site_model_of(config, engine)
        memory = Memory(before, graph, index_of(graph), current_digests(before), set())
        # One batch: a post's title and text, a product's price, and a revalidation of a page that changed too.
        post = site / "content" / "blog" / "first.md"
        post.write_text(post.read_text().replace("title: First", "title: First, renamed").replace("First post.", "New."))
        with engine.begin() as conn:
            conn.execute(text("UPDATE entity_records SET data = :d WHERE tenant = 't' AND id = 'p2'"),
                         {"d": '{"id": "p2", "name": "Ink", "price": 1, "status": "active"}'})
        queue_revalidation(engine, "t", "/blog", None)
        with engine.connect() as conn:
            pending = read_pending(conn)
        warm = plan_warm(memory, engine, {str(post)}, pending.events, pending.revalidations, pending.high, [])
        assert warm is not None
        cold, _ = plan_cold(site_model_of(config, engine), graph, pending, full=False)
    finally:
        builder.close()
    assert cold.why[("t", "/blog/first")] == "route" and cold.why[("t", "/blog")] == "on-demand"
    assert cold.why[("t", "/products")] == "data" and cold.why[("t", "/")] == "file"
    assert warm.why == cold.why
    assert sorted((r.tenant, r.path) for r in warm.todo) == sorted((r.tenant, r.path) for r in cold.todo)


def site_model_of(config: Any, engine: Any) -> SiteModel:
    from mbsite.site import load_model

    return load_model(config, engine, [])
