"""End-to-end builds of the demo site: layout per level, incremental behaviour, errors, atomic publishing."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html
from support import output_tree as files_of

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent


def build(site: Path, *, full: bool = False, **opts: object):
    cfg = load_config(site).with_options(workers=opts.pop("workers", 2), **opts)
    reporter = BufferReporter()
    result = Builder(cfg, reporter, full=full).run()
    return result




@pytest.fixture
def demo(tmp_path: Path, built_demo: Path) -> Path:
    """A private copy of the built demo (site, database, output) that a test may change."""
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    return site




def manifest(site: Path, tenant: str) -> dict:
    return json.loads((site / "build" / tenant / "routes.json").read_text())


def test_both_tenants_are_built_with_a_home_page(built_demo: Path) -> None:
    for tenant in ("acme", "globex"):
        home = built_demo / "build" / tenant / "public" / "index.html"
        doc = lxml_html.fromstring(home.read_bytes())
        assert doc.xpath("//title/text()")
        assert "{{" not in home.read_text()


def test_public_holds_only_level_zero_pages(built_demo: Path) -> None:
    for tenant in ("acme", "globex"):
        pages = manifest(built_demo, tenant)["pages"]
        public = built_demo / "build" / tenant / "public"
        for path, info in pages.items():
            leaf = path.strip("/") + "/index.html" if path != "/" else "index.html"
            if info["level"] > 0:
                assert not (public / leaf).exists(), path
                assert 0 not in info["variants"]
                assert min(info["variants"]) >= info["level"]
            else:
                assert (public / leaf).exists(), path


def test_private_variants_exist_for_the_levels_listed(built_demo: Path) -> None:
    pages = manifest(built_demo, "acme")["pages"]
    assert pages["/reports"]["level"] == 3
    for path, info in pages.items():
        for level in info["variants"]:
            leaf = path.strip("/") + "/index.html" if path != "/" else "index.html"
            base = built_demo / "build" / "acme" / ("public" if level == 0 else f"private/{level}")
            assert (base / leaf).is_file(), (path, level)


def test_disabled_and_missing_packages_contribute_nothing(built_demo: Path) -> None:
    acme, globex = manifest(built_demo, "acme")["pages"], manifest(built_demo, "globex")["pages"]
    assert "/stats" in acme and "/stats" not in globex


def test_second_build_renders_nothing(demo: Path) -> None:
    before = files_of(demo / "build")
    result = build(demo)
    assert result.summary["rendered"] == 0
    assert files_of(demo / "build") == before


def test_editing_a_post_rerenders_that_post_only(demo: Path) -> None:
    post = demo / "content" / "blog" / "hello-mbsite.md"
    post.write_text(post.read_text() + "\n\nA new closing paragraph.\n")
    result = build(demo)
    # The post, and the listing pages that show its summary (the blog index and its two tag pages), per tenant.
    assert result.summary["rendered"] == 8 and result.summary["reasons"] == {"file": 8}
    rows = sqlite3.connect(demo / ".mbsite" / "mbsite.sqlite3").execute(
        "SELECT DISTINCT path FROM build_outputs WHERE reason = 'file'").fetchall()
    assert sorted(r[0] for r in rows) == ["/blog", "/blog/hello-mbsite", "/tags/announcements", "/tags/mbsite"]
    assert "A new closing paragraph." in (demo / "build/acme/public/blog/hello-mbsite/index.html").read_text()


def test_deleting_a_page_removes_its_output(demo: Path) -> None:
    (demo / "content" / "pages" / "about.md").unlink()
    result = build(demo)
    assert not (demo / "build/acme/public/about/index.html").exists()
    assert "/about" not in manifest(demo, "acme")["pages"]
    assert result.summary["removed"] >= 2


def test_a_row_change_through_sql_rerenders_the_pages_that_show_it(demo: Path) -> None:
    con = sqlite3.connect(demo / ".mbsite" / "mbsite.sqlite3")
    rid, name = con.execute("SELECT id, json_extract(data, '$.name') FROM entity_records "
                            "WHERE tenant='acme' AND package='shop' AND entity='product' LIMIT 1").fetchone()
    con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Renamed Widget 9000') "
                "WHERE tenant='acme' AND id=?", (rid,))
    con.commit()
    con.close()
    result = build(demo)
    assert 0 < result.summary["rendered"] < 40
    assert result.summary["reasons"].get("data", 0) >= 1
    assert "Renamed Widget 9000" in (demo / "build/acme/public/products/index.html").read_text()
    assert "Renamed Widget 9000" not in (demo / "build/globex/public/products/index.html").read_text()


def test_incremental_equals_full_after_edits(demo: Path, tmp_path: Path) -> None:
    (demo / "content" / "blog" / "fresh.md").write_text("---\ntitle: Fresh\ndate: 2030-01-01\ntags: [new-tag]\n---\nHi\n")
    con = sqlite3.connect(demo / ".mbsite" / "mbsite.sqlite3")
    con.execute("UPDATE page_configs SET title = 'Our Team' WHERE tenant='acme' AND path='/team'")
    con.execute("DELETE FROM entity_records WHERE tenant='globex' AND rowid IN "
                "(SELECT rowid FROM entity_records WHERE tenant='globex' LIMIT 1)")
    con.commit()
    con.close()
    build(demo)
    incremental = files_of(demo / "build")
    clean = tmp_path / "clean"
    shutil.copytree(demo, clean)
    shutil.rmtree(clean / "build")
    build(clean, full=True)
    assert files_of(clean / "build") == incremental


def test_broken_template_names_file_and_line_and_keeps_output(demo: Path) -> None:
    theme = demo / "themes" / "default" / "templates"
    theme.mkdir(parents=True)
    (theme / "page.html").write_text('{% extends "base.html" %}\n{% block content %}\n{{ page.nope.deeper }}\n'
                                     '{% endblock %}\n')
    before = (demo / "build/acme/public/about/index.html").read_bytes()
    result = build(demo)
    errors = [p for p in result.problems if p.severity == "error"]
    assert errors and all(p.location.file == "themes/default/templates/page.html" for p in errors)
    assert {p.location.line for p in errors} == {3}
    assert (demo / "build/acme/public/about/index.html").read_bytes() == before
    (theme / "page.html").unlink()
    assert build(demo).summary["errors"] == 0


def test_strict_mode_publishes_nothing_on_error(demo: Path) -> None:
    (demo / "content" / "pages" / "bad.md").write_text("---\ntitle: [oops\n---\nx\n")
    post = demo / "content" / "blog" / "hello-mbsite.md"
    post.write_text(post.read_text() + "\nchanged\n")
    before = files_of(demo / "build")
    result = build(demo, strict=True)
    assert result.summary["errors"] >= 1
    assert files_of(demo / "build") == before


def test_cli_build_json_summary_and_exit_codes(demo: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["build", "--site", str(demo), "--json"])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout.strip().splitlines()[-1])
    assert {"pages", "variants_written", "variants_shared", "warnings", "errors", "seconds"} <= set(summary)
    (demo / "content" / "pages" / "bad.md").write_text("---\ntags: 3\n---\nx\n")
    bad = runner.invoke(main, ["build", "--site", str(demo)])
    assert bad.exit_code == 1
    assert "content/pages/bad.md:2: front matter: 'tags' must be a list" in bad.output


def test_render_prints_one_page(built_demo: Path) -> None:
    result = CliRunner().invoke(main, ["render", "acme", "/about", "--site", str(built_demo)])
    assert result.exit_code == 0, result.output
    assert "<html" in result.stdout
    denied = CliRunner().invoke(main, ["render", "acme", "/reports", "--site", str(built_demo), "--level", "1"])
    assert denied.exit_code == 1 and "needs level 3" in denied.output


def test_init_then_build_round_trip(tmp_path: Path) -> None:
    runner = CliRunner()
    site = tmp_path / "new"
    made = runner.invoke(main, ["init", str(site)])
    assert made.exit_code == 0, made.output
    built = runner.invoke(main, ["build", "--site", str(site), "--json"])
    assert built.exit_code == 0, built.output
    assert (site / "build" / "main" / "public" / "index.html").is_file()
    assert (site / "build" / "main" / "public" / "blog" / "hello-world" / "index.html").is_file()
    again = runner.invoke(main, ["init", str(site)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_check_reports_broken_internal_links(demo: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["check", "--site", str(demo)]).exit_code == 0
    page = demo / "build/acme/public/about/index.html"
    page.write_text(page.read_text().replace("</main>", '<a href="/no/such/page">x</a></main>'))
    result = runner.invoke(main, ["check", "--site", str(demo)])
    assert result.exit_code == 1
    assert "acme/public/about/index.html: broken internal link to /no/such/page" in result.output


def test_output_does_not_depend_on_hash_seed(built_demo: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    outs = []
    for seed in ("1", "2"):
        site = tmp_path / f"s{seed}"
        shutil.copytree(built_demo, site)
        shutil.rmtree(site / "build")
        env = {**__import__("os").environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-m", "mbsite.cli", "build", "--site", str(site), "--full"], env=env,
                       check=True, capture_output=True)
        outs.append(files_of(site / "build"))
    assert outs[0] == outs[1]


def test_no_duplicate_element_ids_in_any_page(built_demo: Path) -> None:
    for page in (built_demo / "build").rglob("*.html"):
        ids = lxml_html.fromstring(page.read_bytes()).xpath("//@id")
        dupes = {i for i in ids if ids.count(i) > 1}
        assert not dupes, (page.relative_to(built_demo).as_posix(), dupes)


def test_deleting_a_tenant_removes_its_folder(demo: Path) -> None:
    con = sqlite3.connect(demo / ".mbsite" / "mbsite.sqlite3")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("DELETE FROM tenants WHERE slug = 'globex'")
    con.commit()
    con.close()
    result = build(demo)
    assert result.summary["tenants"] == ["acme"]
    assert not (demo / "build" / "globex").exists()
    assert (demo / "build" / "acme" / "public" / "index.html").is_file()


def test_check_reports_a_broken_entity_schema(demo: Path) -> None:
    bad = demo / "schemas" / "entities" / "bad.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("entity: 'not a name!'\nfields: {}\n")
    result = CliRunner().invoke(main, ["check", "--site", str(demo)])
    assert result.exit_code == 1
    assert "schemas/entities/bad.yaml" in result.output and "entity needs a valid" in result.output


def test_static_headers_carry_the_security_policy(built_demo: Path) -> None:
    headers = (built_demo / "build/acme/public/_headers").read_text()
    assert "Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';" in headers
    assert "X-Content-Type-Options: nosniff" in headers
    home = lxml_html.fromstring((built_demo / "build/acme/public/index.html").read_bytes())
    assert all(el.get("src") for el in home.xpath("//script"))  # no inline script for the policy to block


def _content_site(root: Path, files: dict[str, str], tenants: str = "  - {slug: t, name: T, domains: [t.example]}\n") -> Path:
    """A site of Markdown files (paths under content/) and a seed with the given tenant records."""
    for rel, text in {"seed/site.yaml": "entity: Tenant\nrecords:\n" + tenants, **files}.items():
        path = root / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_feed_and_sitemap_stay_well_formed_with_quotes_and_markup_in_titles_and_paths(tmp_path: Path) -> None:
    from lxml import etree

    title = 'Fish & "Chips" <b>now</b> it\'s'
    site = _content_site(tmp_path / "site", {'blog/say-"hi"&more.md': (
        f"---\ntitle: '{title.replace(chr(39), chr(39) * 2)}'\ndate: 2024-01-02\ndescription: a < b\n---\nBody\n")},
        tenants="  - {slug: t, name: \"T & 'Co'\"}\n")
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok, result.problems
    public = site / "build" / "t" / "public"
    atom = {"a": "http://www.w3.org/2005/Atom"}
    feed = etree.fromstring((public / "feed.xml").read_bytes())
    assert feed.findtext("a:title", namespaces=atom) == "T & 'Co' · Blog"  # the tenant's name · the blog's title
    entry = feed.find("a:entry", namespaces=atom)
    assert entry.findtext("a:title", namespaces=atom) == title
    assert entry.find("a:link", namespaces=atom).get("href").endswith("/blog/say-%22hi%22%26more")
    assert entry.findtext("a:summary", namespaces=atom) == "a < b"
    sitemap = etree.fromstring((public / "sitemap.xml").read_bytes())
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith("/blog/say-%22hi%22%26more") for loc in locs)


def test_redirects_of_protected_pages_are_percent_encoded(tmp_path: Path) -> None:
    site = _content_site(tmp_path / "site", {"pages/members & friends #1.md": "---\ntitle: Members\nlevel: 1\n---\nHi\n"})
    assert Builder(load_config(site), BufferReporter()).run().ok
    lines = [line for line in (site / "build" / "t" / "public" / "_redirects").read_text().splitlines()
             if not line.startswith(("#", "/admin/"))]  # the admin panel's pages are protected too
    assert lines == ["/members%20%26%20friends%20%231 /login?next=%2Fmembers%20%26%20friends%20%231 302"]


@pytest.mark.parametrize("warm", [False, True])
def test_a_tag_links_to_its_page_only_when_the_page_exists(tmp_path: Path, warm: bool) -> None:
    site = _content_site(tmp_path / "site", {
        "pages/about.md": "---\ntitle: About\ntags: [python, cooking]\n---\nHi\n",
        "blog/one.md": "---\ntitle: One\ndate: 2024-01-01\ntags: [python]\n---\nPost\n"})
    builder = Builder(load_config(site), BufferReporter())
    assert builder.run().ok
    about = site / "build" / "t" / "public" / "about" / "index.html"
    page = lxml_html.fromstring(about.read_bytes())
    assert page.xpath("//a[@class='tag']/@href") == ["/tags/python"]
    assert page.xpath("//span[@class='tag']/text()") == ["#cooking"]  # no blog post has it: no page
    check = CliRunner().invoke(main, ["check", "--site", str(site), "--json"])
    assert check.exit_code == 0, check.output

    post = site / "content" / "blog" / "one.md"  # now a blog post has the tag: its page exists, the link appears
    post.write_text(post.read_text().replace("tags: [python]", "tags: [python, cooking]"))
    result = (builder if warm else Builder(load_config(site), BufferReporter())).run({str(post)} if warm else None)
    assert result.ok
    page = lxml_html.fromstring(about.read_bytes())
    assert page.xpath("//a[@class='tag']/@href") == ["/tags/python", "/tags/cooking"]


def test_a_tenant_without_a_home_page_gets_one_listing_its_newest_pages(tmp_path: Path) -> None:
    files = {f"pages/p{i:02d}.md": f"---\ntitle: P{i}\ndate: 2024-01-{i + 1:02d}\n---\nx\n" for i in range(25)}
    files["pages/secret.md"] = "---\ntitle: Secret\ndate: 2030-01-01\nlevel: 2\n---\nx\n"
    files["index.md"] = "---\ntitle: Own home\ntenants: [u]\n---\nMine\n"
    site = _content_site(tmp_path / "site", files, tenants="  - {slug: t, name: Team T, domains: [t.example]}\n"
                                                        "  - {slug: u, name: U, domains: [u.example]}\n")
    assert Builder(load_config(site), BufferReporter()).run().ok
    home = lxml_html.fromstring((site / "build" / "t" / "public" / "index.html").read_bytes())
    assert home.findtext(".//h1") == "Team T"
    links = home.xpath("//ul[@class='post-list']//a/@href")
    assert links == [f"/p{i:02d}" for i in range(24, 4, -1)]  # the 20 newest that level 0 may see
    level2 = (site / "build" / "t" / "private" / "2" / "index.html").read_text()
    assert 'href="/secret"' in level2
    assert "Mine" in (site / "build" / "u" / "public" / "index.html").read_text()  # its own home wins
    check = CliRunner().invoke(main, ["check", "--site", str(site), "--json"])
    assert check.exit_code == 0, check.output


def test_blog_listings_show_a_members_post_from_its_level_up_only(tmp_path: Path) -> None:
    site = _content_site(tmp_path / "site", {
        "blog/open.md": "---\ntitle: Open\ndate: 2024-01-01\ntags: [news]\n---\nx\n",
        "blog/members.md": "---\ntitle: Members\ndate: 2024-02-01\ntags: [news]\nlevel: 2\n---\nx\n"})
    assert Builder(load_config(site), BufferReporter()).run().ok
    out = site / "build" / "t"
    for page in ("blog/index.html", "tags/news/index.html", "index.html"):
        public = (out / "public" / page).read_text()
        assert 'href="/blog/open"' in public and 'href="/blog/members"' not in public, page
        for level in (2, 5):  # the variant the gate serves: the highest one not above the viewer's level
            have = [n for n in range(1, level + 1) if (out / "private" / str(n) / page).is_file()]
            assert have, f"no variant of {page} for level {level}"
            text = (out / "private" / str(have[-1]) / page).read_text()
            assert 'href="/blog/members"' in text, (page, level)
