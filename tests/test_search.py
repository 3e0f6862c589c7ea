"""Static search: a public Pagefind bundle of the public pages and, per level, a members' bundle of the members' pages
that level may open (only where it differs from the level below's), made again only when those pages changed; the
search page and the header's search box; a build without Pagefind warns and goes on."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html
from support import copy_site, output_tree

from mbsite.builder import Builder
from mbsite.check import check_output
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.search import plan_bundles
from mbsite.site import SiteModel

pytestmark = pytest.mark.usefixtures("search_on")  # conftest switches indexing off elsewhere

pytest.importorskip("pagefind.service", reason="pagefind is not installed (pip install 'pagefind[bin]')")


def make_site(root: Path, toml: str = "") -> Path:
    """tests/sites/search: tenant t with a public post (a zebrafish), a members' post (an okapi) and an about page
    (a narwhal); `toml` is added to its mbsite.toml."""
    site = copy_site("search", root)
    (site / "mbsite.toml").write_text((site / "mbsite.toml").read_text() + toml)
    return site


def post(root: Path, name: str, text: str, level: int = 0) -> None:
    """Write content/blog/<name>.md (as the fixture site's own posts are written)."""
    front = f"---\ntitle: {name.title()}\ndate: 2024-01-0{len(name) % 9 + 1}\n" + (f"level: {level}\n" if level else "")
    (root / "content" / "blog" / f"{name}.md").write_text(front + "---\n" + text + "\n")


def build(site: Path, full: bool = False) -> dict:
    result = Builder(load_config(site), BufferReporter(), full=full).run()
    assert result.ok, result.problems
    return result.summary


def indexed(site: Path, folder: str) -> dict[str, str]:
    """The pages a bundle holds, read from Pagefind's own fragment files: URL → indexed text."""
    pages = {}
    for fragment in sorted((site / "build" / "t" / folder / "fragment").glob("*.pf_fragment")):
        data = json.loads(gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd"))
        pages[data["url"]] = data["content"]
    return pages


def page_count(site: Path, folder: str) -> int:
    """The number of pages Pagefind reports for a bundle (its entry file, all languages)."""
    entry = json.loads((site / "build" / "t" / folder / "pagefind-entry.json").read_bytes())
    return sum(int(lang["page_count"]) for lang in entry["languages"].values())


def with_dashboard(site: Path) -> None:
    """Install the members' dashboard (as `mbsite init` does): a level-1 page whose file differs at every level."""
    seed = site / "content" / "seed" / "site.yaml"
    seed.write_text(seed.read_text() + "---\nentity: InstalledPackage\nrecords:\n"
                    "  - {tenant: t, package: mb_dashboard, sortOrder: 1}\n")


def bundles(site: Path) -> set[str]:
    out = site / "build" / "t"
    return {p.parent.relative_to(out).as_posix() for p in out.rglob("pagefind-entry.json")}


def test_public_index_holds_public_pages_only_and_the_members_index_the_members_pages_only(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    summary = build(site)
    assert summary["search_indexes"] == 2
    # Level 1 has no members' page: no members' bundle (it searches the public one alone).
    assert bundles(site) == {"public/pagefind", "private/pagefind/2"}
    public = indexed(site, "public/pagefind")
    assert set(public) == {"/blog/open/", "/about/"}
    assert not any("okapi" in text for text in public.values())
    members = indexed(site, "private/pagefind/2")
    assert set(members) == {"/blog/club/"}  # the public pages are in the public bundle, merged with it by the page
    assert page_count(site, "private/pagefind/2") == 1
    assert "okapi" in members["/blog/club/"]
    # Only the page's own content is indexed: not the header, its navigation or the footer.
    assert "built with mbsite" not in public["/about/"] and "Sign in" not in public["/about/"]
    # Nothing of the members' level under public/.
    assert b"okapi" not in b"".join(data for rel, data in output_tree(site / "build" / "t" / "public").items()
                                    if Path(rel).suffix != ".pagefind")
    assert check_output(site / "build") == []  # the search page's links to the bundle resolve


def test_search_page_and_header_box_work_without_javascript(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    public = site / "build" / "t" / "public"
    doc = lxml_html.fromstring((public / "about" / "index.html").read_bytes())
    (box,) = doc.xpath("//header//form[@role='search']")
    assert box.get("action") == "/search" and box.get("method") == "get"
    (field,) = box.xpath(".//input[@name='q']")
    assert box.xpath(f".//label[@for='{field.get('id')}']")  # labelled
    page = lxml_html.fromstring((public / "search" / "index.html").read_bytes())
    assert page.xpath("//script[@src='/pagefind/pagefind-ui.js']") and page.xpath("//link[@href='/pagefind/pagefind-ui.css']")
    (form,) = page.xpath("//main//form[@role='search']")
    assert form.get("action") == "/search" and form.xpath(".//input[@name='q']") and form.xpath(".//label")
    assert page.xpath("//noscript")
    assert (public / "pagefind" / "pagefind-ui.js").is_file()
    assert "/search" not in indexed(site, "public/pagefind")  # the search page is not a result


def test_second_build_does_no_index_work_and_changes_update_the_indexes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    public_dir = site / "build" / "t" / "public" / "pagefind"
    before = {p: p.stat().st_mtime_ns for p in public_dir.rglob("*") if p.is_file()}
    assert build(site)["search_indexes"] == 0
    assert {p: p.stat().st_mtime_ns for p in public_dir.rglob("*") if p.is_file()} == before

    members_dir = site / "build" / "t" / "private" / "pagefind" / "2"
    members_before = {p: p.stat().st_mtime_ns for p in members_dir.rglob("*") if p.is_file()}
    # (a page, not a post: a new post would be the members' post's neighbour, changing its file)
    (site / "content" / "pages" / "new.md").write_text("---\ntitle: New\n---\nA public quokka appears.\n")
    assert build(site)["search_indexes"] == 1  # the public bundle only: the members' one holds no public page
    assert "/new/" in indexed(site, "public/pagefind") and "/new/" not in indexed(site, "private/pagefind/2")
    assert {p: p.stat().st_mtime_ns for p in members_dir.rglob("*") if p.is_file()} == members_before

    post(site, "club", "The okapi is a members secret, now with a tapir.", level=2)
    assert build(site)["search_indexes"] == 1  # only the members' bundle: the public one did not change
    assert "tapir" in indexed(site, "private/pagefind/2")["/blog/club/"]

    (site / "content" / "pages" / "new.md").unlink()
    build(site)
    assert "/new/" not in indexed(site, "public/pagefind")
    # The removed page's fragment file went too.
    assert not any(b"quokka" in gzip.decompress(p.read_bytes()) for p in public_dir.glob("fragment/*"))

    post(site, "open", "The zebrafish swims in public.", level=2)  # a public post becomes members-only
    build(site)
    assert "/blog/open/" not in indexed(site, "public/pagefind")
    assert set(indexed(site, "private/pagefind/2")) == {"/blog/open/", "/blog/club/"}

    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental  # incremental ≡ full, bundles included


def test_a_members_page_that_differs_by_level_makes_small_members_bundles(tmp_path: Path) -> None:
    """The site `mbsite init` makes: a members' dashboard whose file differs at every level. Each level gets a members'
    bundle of its members' pages (the dashboard, as that level sees it, and the level-2 post from level 2 on), never
    another copy of the public pages."""
    site = make_site(tmp_path / "site")
    with_dashboard(site)
    assert build(site)["search_indexes"] == 6
    assert bundles(site) == {"public/pagefind"} | {f"private/pagefind/{level}" for level in range(1, 6)}
    assert set(indexed(site, "public/pagefind")) == {"/blog/open/", "/about/"}
    assert page_count(site, "public/pagefind") == 2
    for level in range(1, 6):
        members = indexed(site, f"private/pagefind/{level}")
        assert set(members) == ({"/dashboard/"} | ({"/blog/club/"} if level >= 2 else set())), level
        assert page_count(site, f"private/pagefind/{level}") == len(members)
        assert f"Level. {level}." in members["/dashboard/"]  # the variant the gate serves that level
    assert check_output(site / "build") == []


def test_bundle_folders_of_an_older_layout_are_removed(tmp_path: Path) -> None:
    """An output made before (a bundle of every page at each level) keeps no bundle the plan no longer has."""
    site = make_site(tmp_path / "site")
    build(site)
    stray = site / "build" / "t" / "private" / "pagefind" / "4"
    stray.mkdir(parents=True)
    (stray / "pagefind-entry.json").write_text("{}")
    (stray / "fragment").mkdir()
    (stray / "fragment" / "en_0.pf_fragment").write_bytes(b"zebrafish")
    build(site)
    assert bundles(site) == {"public/pagefind", "private/pagefind/2"} and not stray.exists()
    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


def test_a_level_that_sees_what_the_level_below_sees_has_no_bundle(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "content" / "blog" / "club.md").unlink()
    build(site)
    assert bundles(site) == {"public/pagefind"}
    post(site, "staff", "Admins only: the axolotl.", level=3)
    build(site)
    assert bundles(site) == {"public/pagefind", "private/pagefind/3"}
    (site / "content" / "blog" / "staff.md").unlink()
    build(site)
    assert bundles(site) == {"public/pagefind"}
    assert not (site / "build" / "t" / "private" / "pagefind").exists()


def test_plan_follows_the_variant_each_level_is_served(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    builder = Builder(load_config(site), BufferReporter())
    builder.run()
    model = builder.model
    assert isinstance(model, SiteModel)
    rows: dict[str, list] = {}
    for (slug, path), found in builder.graph.items():
        if slug == "t":
            rows[path] = found
    plan = plan_bundles(model.tables["t"], rows)
    assert sorted(plan) == [0, 2]
    assert [p[0] for p in plan[0].pages] == ["/about", "/blog/open"]
    assert [p[0] for p in plan[2].pages] == ["/blog/club"]
    builder.close()


def test_without_pagefind_the_build_warns_and_drops_the_out_of_date_bundle(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    post(site, "open", "The zebrafish swims in public.", level=2)
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    (warning,) = [p for p in result.problems if p.code == "search"]
    assert warning.severity == "warning" and "pip install 'pagefind[bin]'" in warning.message
    assert warning.location.file == "mbsite.toml"
    # The public bundle still listed the post that is now members-only: it is gone rather than out of date.
    assert not (site / "build" / "t" / "public" / "pagefind").exists()
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    build(site)  # Pagefind is back: the next build makes the bundles again
    assert "/blog/open/" not in indexed(site, "public/pagefind")
    assert "/blog/open/" in indexed(site, "private/pagefind/2")


def test_search_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MBSITE_SEARCH")  # the file's [search] enabled decides here
    site = make_site(tmp_path / "site", "[search]\nenabled = false\n")
    summary = build(site)
    assert summary["search_indexes"] == 0
    out = site / "build" / "t"
    assert not list(out.rglob("pagefind*")) and not (out / "public" / "search").exists()
    doc = lxml_html.fromstring((out / "public" / "about" / "index.html").read_bytes())
    assert not doc.xpath("//form[@role='search']")


def test_turning_search_off_removes_the_bundles_and_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MBSITE_SEARCH")  # the file's [search] enabled decides here
    site = make_site(tmp_path / "site")
    build(site)
    (site / "mbsite.toml").write_text("[build]\nworkers = 1\n[search]\nenabled = false\n")
    build(site)
    out = site / "build" / "t"
    assert not list(out.rglob("pagefind-entry.json")) and not (out / "public" / "search").exists()


def test_a_deleted_bundle_is_repaired_by_the_next_build(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    build(site)
    shutil.rmtree(site / "build" / "t" / "private" / "pagefind")
    assert build(site)["search_indexes"] == 1
    assert "/blog/club/" in indexed(site, "private/pagefind/2")


def test_a_page_under_the_search_folders_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "content" / "pages" / "pagefind.md").write_text("---\ntitle: Clash\n---\nA page where the index goes.\n")
    (site / "content" / "pages" / "pagefind-members.md").write_text("---\ntitle: Clash\n---\nThe members' index.\n")
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    warnings = sorted((p.location.file, p.message) for p in result.problems if p.code == "route-conflict")
    assert [file for file, _ in warnings] == ["content/pages/pagefind-members.md", "content/pages/pagefind.md"]
    assert "/pagefind-members/ holds the search index" in warnings[0][1]
    assert "/pagefind/ holds the search index" in warnings[1][1]
    assert not (site / "build" / "t" / "public" / "pagefind-members").exists()
    assert (site / "build" / "t" / "public" / "pagefind" / "pagefind-entry.json").is_file()
    assert not (site / "build" / "t" / "public" / "pagefind" / "index.html").exists()


def test_a_tenant_with_no_public_page_to_search_has_no_public_index(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    for name in ("open.md",):
        (site / "content" / "blog" / name).unlink()
    (site / "content" / "pages" / "about.md").unlink()
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok and not [p for p in result.problems if p.code == "search"]
    assert bundles(site) == {"private/pagefind/2"}  # the members' post, for members
    assert build(site)["search_indexes"] == 0  # and nothing to do the next time
    # The search page's links to a public index that there is no page for are not broken links.
    assert not [p for p in check_output(site / "build") if "/pagefind/" in p.message]
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nAbout the narwhal.\n")
    build(site)
    assert set(indexed(site, "public/pagefind")) == {"/about/"}


def test_an_incremental_build_publishes_its_pages_before_indexing(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A page is live without waiting for Pagefind: when the bundles are made, the changed page is already
    published (and a build cut short there leaves the old bundle, made again by the next build)."""
    import mbsite.builder as builder_module

    site = make_site(tmp_path / "site")
    build(site)
    seen: list[str] = []
    real = builder_module.update_search

    def watching(out: Path, *args: object, **kwargs: object) -> object:
        page = out / "t" / "public" / "new" / "index.html"
        seen.append(page.read_text(encoding="utf-8") if page.is_file() else "")
        return real(out, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builder_module, "update_search", watching)
    (site / "content" / "pages" / "new.md").write_text("---\ntitle: New\n---\nA public quokka appears.\n")
    assert build(site)["search_indexes"] == 1
    assert len(seen) == 1 and "quokka" in seen[0]
    assert "/new/" in indexed(site, "public/pagefind")

    def cut_short(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(builder_module, "update_search", cut_short)
    (site / "content" / "pages" / "new.md").write_text("---\ntitle: New\n---\nA public wombat appears.\n")
    with pytest.raises(KeyboardInterrupt):
        build(site)
    assert "wombat" in (site / "build" / "t" / "public" / "new" / "index.html").read_text(encoding="utf-8")
    assert "quokka" in indexed(site, "public/pagefind")["/new/"]  # the old bundle, whole
    monkeypatch.setattr(builder_module, "update_search", real)
    assert build(site)["search_indexes"] == 1  # the next build makes it again
    assert "wombat" in indexed(site, "public/pagefind")["/new/"]
    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


def test_a_navigation_change_that_leaves_the_pages_own_content_does_not_index_again(tmp_path: Path) -> None:
    """The index is made from each page's own content, never the chrome: a new menu re-renders every public page
    with a new header, and the bundle stays as it was, which is what a full build indexes too."""
    import sqlite3

    site = make_site(tmp_path / "site")
    build(site)
    public_dir = site / "build" / "t" / "public" / "pagefind"
    before = {p.relative_to(public_dir): p.read_bytes() for p in public_dir.rglob("*") if p.is_file()}
    page_before = (site / "build" / "t" / "public" / "about" / "index.html").read_bytes()
    menu = [{"title": "Elsewhere", "url": "https://elsewhere.example/"}, {"path": "/about"}]
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as db:
        db.execute("UPDATE tenants SET settings = ? WHERE slug = 't'", (json.dumps({"menu": menu}),))
    assert build(site)["search_indexes"] == 0
    assert (site / "build" / "t" / "public" / "about" / "index.html").read_bytes() != page_before
    assert b"elsewhere.example" in (site / "build" / "t" / "public" / "about" / "index.html").read_bytes()
    after = {p.relative_to(public_dir): p.read_bytes() for p in public_dir.rglob("*") if p.is_file()}
    assert after == before
    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


def test_a_navigation_change_does_not_index_a_page_that_differs_by_level_again(tmp_path: Path) -> None:
    """A public page that shows the viewer's role in its own content has a file per level, and a new menu changes
    every one of them; but its own content is what it was: no index is made again."""
    import sqlite3

    site = make_site(tmp_path / "site")
    templates = site / "themes" / "default" / "templates"
    templates.mkdir(parents=True)
    (templates / "role.html").write_text('{% extends "page.html" %}{% block content %}{{ super() }}'
                                         "<p>Seen as {{ viewer.role }}.</p>{% endblock %}")
    (site / "content" / "pages" / "roles.md").write_text("---\ntitle: Roles\ntemplate: role.html\n---\nThe quokka.\n")
    build(site)
    public = site / "build" / "t" / "public" / "roles" / "index.html"
    before = public.read_bytes()
    assert b"Seen as" in before and (site / "build" / "t" / "private" / "3" / "roles" / "index.html").is_file()
    menu = [{"title": "Elsewhere", "url": "https://elsewhere.example/"}, {"path": "/about"}]
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as db:
        db.execute("UPDATE tenants SET settings = ? WHERE slug = 't'", (json.dumps({"menu": menu}),))
    assert build(site)["search_indexes"] == 0
    assert public.read_bytes() != before and b"elsewhere.example" in public.read_bytes()
    assert "quokka" in indexed(site, "public/pagefind")["/roles/"]
    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


def test_indexing_gives_way_to_newer_changes_and_the_next_build_catches_up(tmp_path: Path) -> None:
    """mbsite watch asks, while Pagefind runs, whether newer changes wait; if so Pagefind is stopped, nothing of
    the new bundle is published, and a later build makes it (the pages themselves were published already)."""
    site = make_site(tmp_path / "site")
    build(site)
    public_dir = site / "build" / "t" / "public" / "pagefind"
    before = {p.relative_to(public_dir): p.read_bytes() for p in public_dir.rglob("*") if p.is_file()}
    (site / "content" / "pages" / "new.md").write_text("---\ntitle: New\n---\nA public quokka appears.\n")
    builder = Builder(load_config(site), BufferReporter())
    asked: list[bool] = []

    def newer_changes_wait() -> bool:
        asked.append(True)
        return True

    builder.search_cancel = newer_changes_wait
    result = builder.run()
    assert result.ok and result.summary["search_indexes"] == 0 and asked
    assert "quokka" in (site / "build" / "t" / "public" / "new" / "index.html").read_text(encoding="utf-8")
    assert {p.relative_to(public_dir): p.read_bytes() for p in public_dir.rglob("*") if p.is_file()} == before
    assert not (site / "build" / ".staging").exists() or not any((site / "build" / ".staging").iterdir())
    builder.search_cancel = None
    assert builder.run().summary["search_indexes"] == 1  # nothing else changed: only the index was behind
    assert "/new/" in indexed(site, "public/pagefind")
    incremental = output_tree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


# -- a large public index in parts ------------------------------------------------------------------------------------

def test_the_number_of_parts_changes_only_when_the_site_doubles() -> None:
    from mbsite.search import shard_count

    assert [shard_count(n, 1000) for n in (0, 1999, 2000, 3999, 4000, 4800, 8000)] == [1, 1, 2, 2, 4, 4, 8]
    assert shard_count(10 ** 6, 0) == 1  # 0: never in parts


def sharded_site(root: Path) -> Path:
    """The search site with twelve more public posts and parts of two pages or more: four parts."""
    site = make_site(root, "\n[search]\nshard_pages = 2\n")
    for i in range(12):
        post(site, f"kiwi{i}", f"The kiwi number {i} runs in public.")
    return site


def shard_folders(site: Path) -> list[str]:
    return sorted(b for b in bundles(site) if b.startswith("public/"))


def test_a_large_public_index_is_made_in_parts_that_hold_each_public_page_once(tmp_path: Path) -> None:
    site = sharded_site(tmp_path / "site")
    build(site)
    parts = shard_folders(site)
    assert parts == ["public/pagefind", "public/pagefind-shards/1", "public/pagefind-shards/2",
                     "public/pagefind-shards/3"]
    listed = json.loads((site / "build" / "t" / "public" / "pagefind-shards" / "index.json").read_bytes())
    assert listed == {"bundles": ["/pagefind-shards/1/", "/pagefind-shards/2/", "/pagefind-shards/3/"]}
    urls: list[str] = []
    for part in parts:
        urls += list(indexed(site, part))
    assert len(urls) == len(set(urls))  # each page in one part only
    assert {u for u in urls if "kiwi" in u} == {f"/blog/kiwi{i}/" for i in range(12)}
    assert not any("okapi" in text for part in parts for text in indexed(site, part).values())  # members' post
    assert check_output(site / "build") == []


def test_a_changed_page_makes_its_part_again_and_leaves_the_others(tmp_path: Path) -> None:
    site = sharded_site(tmp_path / "site")
    build(site)
    out = site / "build" / "t" / "public"
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in out.rglob("*") if p.is_file()
              and ("pagefind" in p.parts[-3:-1] or "pagefind-shards" in p.parts)}
    post(site, "kiwi3", "The kiwi number 3 now swims like a zebrafish.")
    build(site)
    changed = {p for p, (ino, data) in before.items() if not p.is_file() or p.stat().st_ino != ino
               or p.read_bytes() != data}
    parts_changed = {p.relative_to(out).parts[:1 if p.relative_to(out).parts[0] == "pagefind" else 2] for p in changed}
    assert len(shard_folders(site)) == 4 and len(parts_changed) == 1, parts_changed  # the part holding kiwi3 only
    holder = [part for part in shard_folders(site) if "/blog/kiwi3/" in indexed(site, part)]
    assert holder and "swims like a zebrafish" in indexed(site, holder[0])["/blog/kiwi3/"]
    # And the incremental output equals a full build's.
    incremental = output_tree(site / "build")
    shutil.rmtree(site / "build")
    build(site, full=True)
    assert output_tree(site / "build") == incremental


def test_a_site_that_shrinks_below_two_parts_loses_its_part_folders(tmp_path: Path) -> None:
    site = sharded_site(tmp_path / "site")
    build(site)
    toml = site / "mbsite.toml"
    toml.write_text(toml.read_text().replace("shard_pages = 2", "shard_pages = 0"))
    build(site)
    assert shard_folders(site) == ["public/pagefind"]
    shards = site / "build" / "t" / "public" / "pagefind-shards"
    assert [p.name for p in shards.iterdir()] == ["index.json"]  # (no part folder left)
    assert json.loads((shards / "index.json").read_bytes()) == {"bundles": []}
    assert len([u for u in indexed(site, "public/pagefind") if "kiwi" in u]) == 12
