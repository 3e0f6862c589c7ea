"""pages.py: (route, level) → HTML and the inputs its render read — rows, queries and their results, files, the
chrome, neighbours and listings — whether it depends on the viewer, and the split render the gate composes from."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterator

import pytest
from support import site_model

from mbsite import keys
from mbsite.compose import BLOCKS, MARKS, NO_KEY, fill
from mbsite.context import Recorder
from mbsite.errors import RenderError, TemplateError
from mbsite.graph import digest_of
from mbsite.pages import chrome_fragment, nav_key, render_chrome, render_not_found, render_page, route_records
from mbsite.prerender import body_key
from mbsite.site import SiteModel

THEME = "themes/default/templates"
OVERRIDES = {  # two templates of the site's own theme folder, for pages that name them
    f"{THEME}/members.html": '{% extends "base.html" %}{% block content %}'
                             '{% if viewer.level >= 2 %}<p>club</p>{% else %}<p>public</p>{% endif %}{% endblock %}',
    f"{THEME}/broken.html": '{% extends "base.html" %}\n{% block content %}\n{{ 1 // 0 }}\n{% endblock %}\n',
}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, seeded_site: Callable[..., Path]) -> Iterator[SiteModel]:
    site = seeded_site("pipeline", tmp_path_factory.mktemp("pages") / "site", OVERRIDES)
    with site_model(site) as (found, _problems):
        yield found


def page(model: SiteModel, path: str, level: int | None = None, **changes: object) -> tuple[str, Recorder]:
    route = model.tables["t"].routes[path]
    if changes:
        route = dataclasses.replace(route, **changes)
    result = render_page(model, route, route.min_level if level is None else level)
    return result.html, result.recorder


def main(html: str) -> str:
    return html[html.index('<main id="main"'):html.index("</main>")]


def test_a_row_page_records_its_row_its_chrome_and_its_template(model: SiteModel) -> None:
    html, rec = page(model, "/about")
    assert "<title>About (row) · T</title>" in html and "About from a row" in main(html)
    assert {keys.row("page_configs", "row-about"), keys.row("tenants", "t"), keys.row("installed_packages", "t"),
            keys.nav("t", 0), keys.tokens("t"), keys.feed("t"), "file:builtin:themes/default/templates/component.html",
            "file:builtin:themes/default/templates/base.html"} <= rec.inputs
    assert rec.digests[keys.nav("t", 0)] == digest_of(model.tables["t"].nav(0))
    assert not rec.level_sensitive


def test_a_package_page_records_its_component_and_package_files(model: SiteModel) -> None:
    html, rec = page(model, "/greeting")
    assert "Hello World" in main(html)
    assert {keys.component("widgets", "greeting"), "file:packages/widgets/components/ui.json"} <= rec.inputs


def test_a_query_page_shows_and_records_what_its_queries_returned(model: SiteModel) -> None:
    route = model.tables["t"].routes["/products"]
    rec = Recorder()
    records = route_records(model, route, rec)
    assert [d["name"] for d in records["products"]] == ["Ink", "Pen"]  # active only, by price descending
    query = keys.query("t", "shop", "product")
    assert rec.inputs == {query} and rec.digests[query] == digest_of([["products", records["products"]]])
    html, page_rec = page(model, "/products")
    assert main(html).index("Ink") < main(html).index("Pen") and "Cup" not in html
    assert page_rec.digests[query] == rec.digests[query]


def test_an_expanded_page_reads_its_own_record(model: SiteModel) -> None:
    route = model.tables["t"].routes["/products/p2"]
    records = route_records(model, route, Recorder())
    assert records["record"]["id"] == "p2"
    assert ">Ink<" in main(page(model, "/products/p2")[0])


def test_a_post_records_its_file_and_neighbours_and_links_the_ones_its_viewers_see(model: SiteModel) -> None:
    md = model.tables["t"].routes["/blog/third"].markdown
    assert md is not None
    html, rec = page(model, "/blog/third")
    assert rec.digests[keys.file(md.relpath)] == md.digest and keys.nearby("t", "/blog/third") in rec.inputs
    assert '<a rel="prev" href="/blog/first">← First</a>' in html  # the members' post between them is skipped
    assert 'rel="next"' not in html
    members, _ = page(model, "/blog/second")  # a level-2 post sees both public posts around it
    assert 'href="/blog/first">← First<' in members and 'href="/blog/third">Third &amp; last →<' in members


def test_text_from_sources_is_escaped(model: SiteModel) -> None:
    html, _ = page(model, "/blog/third")
    assert "<title>Third &amp; last · T</title>" in html
    assert '<meta name="description" content="The &lt;newest&gt; post.">' in html and "<newest>" not in html


def test_a_listing_with_members_posts_is_rendered_for_each_level(model: SiteModel) -> None:
    public, rec = page(model, "/blog", 0)
    members, _ = page(model, "/blog", 2)
    assert rec.level_sensitive and keys.posts("t", "en") in rec.inputs
    assert ">Second<" not in main(public) and ">Second<" in main(members)
    assert {keys.file("content/blog/first.md"), keys.file("content/blog/third.md")} <= rec.inputs


def test_a_tag_is_linked_only_when_its_page_exists_for_every_viewer_of_the_page(model: SiteModel) -> None:
    html, rec = page(model, "/blog/first", tags=("news", "club"))
    assert '<a class="tag" href="/tags/news">#news</a>' in html
    assert '<span class="tag">#club</span>' in html  # /tags/club needs level 2; this page is public
    assert keys.tags("t") in rec.inputs
    members, _ = page(model, "/blog/second")
    assert '<a class="tag" href="/tags/club">#club</a>' in members


def test_a_page_that_reads_the_viewer_is_level_sensitive(model: SiteModel) -> None:
    public, rec = page(model, "/about", 0, template="members.html")
    club, _ = page(model, "/about", 2, template="members.html")
    assert rec.level_sensitive and "<p>public</p>" in public and "<p>club</p>" in club


def test_an_unknown_template_is_a_render_error_at_the_pages_source(model: SiteModel) -> None:
    with pytest.raises(RenderError) as info:
        page(model, "/greeting", template="nope.html")
    assert info.value.location.file == "packages/widgets/page-config/pages.json#/1"
    assert "'nope.html'" in info.value.message


def test_a_template_that_fails_while_rendering_is_named_with_its_line(model: SiteModel) -> None:
    with pytest.raises(TemplateError) as info:
        page(model, "/about", template="broken.html")
    assert (info.value.location.file, info.value.location.line) == (f"{THEME}/broken.html", 3)
    assert info.value.message.startswith("template: ") and "by zero" in info.value.message


@pytest.mark.parametrize("path", ["/about", "/blog/third", "/products"])
def test_the_skeleton_and_each_levels_chrome_give_that_levels_full_render(model: SiteModel, path: str) -> None:
    route = model.tables["t"].routes[path]
    split = render_page(model, route, 0, split=True)
    assert split.skeleton is not None and split.split is not None
    assert all(split.skeleton.count(MARKS[b]) == 1 for b in BLOCKS)
    assert fill(split.skeleton, render_chrome(model, route, 0, split.split)[0]) == split.html
    for level in range(1, 6):
        chrome, rec, _problems = render_chrome(model, route, level, split.split)
        assert fill(split.skeleton, chrome) == render_page(model, route, level).html, level
        assert keys.nav("t", level) in rec.inputs


def test_the_chrome_fragment_of_a_level_holds_that_levels_navigation(model: SiteModel) -> None:
    public = chrome_fragment(model, "t", 0, "component.html\t/about")
    members = chrome_fragment(model, "t", 2, "component.html\t/about")
    assert 'href="/club"' not in public[0] and 'href="/club"' in members[0]
    assert 'href="/about" aria-current="page"' in members[0]
    table = model.tables["t"]
    assert nav_key(table, 0, "/about") == "/about" and nav_key(table, 0, "/club") == NO_KEY
    assert nav_key(table, 2, "/club") == "/club"


def test_the_not_found_page_is_the_themes(model: SiteModel) -> None:
    html = render_not_found(model, "t")
    assert "<h1>Page not found</h1>" in html and "<title>Page not found · T</title>" in html


def test_a_markdown_body_ready_from_earlier_is_used_instead_of_rendering_it_again(model: SiteModel) -> None:
    md = model.tables["t"].routes["/blog/first"].markdown
    assert md is not None
    key = body_key(md.relpath, md.digest, md.body_line, model.config)
    model.bodies.use({key: "<p>from the helper</p>"}, keep_rendered=True)
    try:
        assert "<p>from the helper</p>" in page(model, "/blog/first")[0]
        assert model.bodies.take() == {}  # nothing was rendered
        page(model, "/welcome")
        [(rendered_key, body)] = model.bodies.take().items()
        assert rendered_key[0] == "content/pages/welcome.md" and 'href="/blog"' in body
    finally:
        model.bodies.use(None)
        model.bodies.last = None
    assert "<p>First post.</p>" in page(model, "/blog/first")[0]
