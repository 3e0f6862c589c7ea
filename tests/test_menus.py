"""Configured menus (a tenant's `menu` setting): order, groups, external links and per-level entries, drawn by the
default layout and by the header package, composed for every level like the automatic navigation."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html as lxml_html
from test_composed import every_level_equals_a_full_render

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

MENU = [
    {"title": "About", "path": "/about"},
    {"title": "More", "children": [{"title": "Blog", "path": "/blog"},
                                   {"title": "Source", "url": "https://example.com/src"},
                                   {"title": "Club", "path": "/club"}]},
    {"title": "Admin", "path": "/about", "level": 3},
    {"title": "Ghost", "path": "/nowhere"},
]


def make_site(root: Path, header_package: bool) -> Path:
    (root / "content" / "seed").mkdir(parents=True)
    tenant = {"slug": "t", "name": "T", "domains": ["t.example"], "settings": {"menu": MENU}}
    docs = [{"entity": "Tenant", "records": [tenant]}]
    if header_package:
        docs.append({"entity": "InstalledPackage", "records": [{"tenant": "t", "package": "mb_header"}]})
    (root / "content" / "seed" / "site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nAbout.\n")
    (root / "content" / "pages" / "club.md").write_text("---\ntitle: Club\nlevel: 2\n---\nMembers.\n")
    (root / "content" / "blog").mkdir()
    (root / "content" / "blog" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nA.\n")
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\n")
    return root


def nav_links(site: Path, rel: str) -> list[str]:
    doc = lxml_html.fromstring((site / "build" / "t" / rel).read_bytes())
    return doc.xpath("//header//nav//a/@href")


@pytest.mark.parametrize("header_package", [False, True], ids=["default-layout", "header-package"])
def test_a_configured_menu_with_groups_links_and_levels(tmp_path: Path, header_package: bool) -> None:
    site = make_site(tmp_path / "site", header_package)
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0
    assert [p.location.pointer for p in result.problems if p.code == "menu"] == ["/settings/menu/3"]  # the ghost
    public = nav_links(site, "public/about/index.html")
    assert public == ["/about", "/blog", "https://example.com/src"]  # no members' page, no admin entry
    doc = lxml_html.fromstring((site / "build" / "t" / "public" / "about" / "index.html").read_bytes())
    assert doc.xpath("//header//details/summary")[0].text_content().strip().startswith("More")
    assert every_level_equals_a_full_render(site) > 0  # the members' and admin entries, composed per level


def test_without_a_menu_setting_the_pages_marked_nav_are_the_navigation(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", header_package=False)
    seed = site / "content" / "seed" / "site.yaml"
    seed.write_text(seed.read_text().replace('"settings": {"menu"', '"settings": {"other"'))
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\nnav: true\n---\nAbout.\n")
    assert Builder(load_config(site), BufferReporter()).run().ok
    assert nav_links(site, "public/about/index.html") == ["/about", "/blog"]


# -- menus per language ------------------------------------------------------------------------------------------

def language_site(root: Path, menu: object, header_package: bool = False) -> Path:
    """A tenant in English with German pages under content/de/ (and one Spanish page, a language the site does not
    list), with `menu` as its menu setting."""
    (root / "content" / "seed").mkdir(parents=True)
    tenant = {"slug": "t", "name": "T", "domains": ["t.example"], "settings": {"menu": menu}}
    docs = [{"entity": "Tenant", "records": [tenant]}]
    if header_package:
        docs.append({"entity": "InstalledPackage", "records": [{"tenant": "t", "package": "mb_header"}]})
    (root / "content" / "seed" / "site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))
    pages = {"pages/about.md": "---\ntitle: About\n---\nAbout.\n",
             "pages/club.md": "---\ntitle: Club\nlevel: 2\n---\nMembers.\n",
             "pages/hola.md": "---\ntitle: Hola\nlang: es\n---\nHola.\n",
             "blog/a.md": "---\ntitle: A\ndate: 2024-01-01\n---\nA.\n",
             "de/pages/about.md": "---\ntitle: Über uns\n---\nÜber uns.\n",
             "de/pages/impressum.md": "---\ntitle: Impressum\n---\nImpressum.\n",
             "de/blog/b.md": "---\ntitle: B\ndate: 2024-01-02\n---\nB.\n"}
    for rel, text in pages.items():
        (root / "content" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "content" / rel).write_text(text, encoding="utf-8")
    (root / "mbsite.toml").write_text('[site]\nlanguages = ["en", "de"]\n[build]\nworkers = 1\nhighlight = false\n')
    return root


def served_nav(site: Path, path: str, level: int) -> list[str]:
    """The navigation links of a page as the gate serves it at `level` (a file or a composition)."""
    from test_composed import served

    from mbsite.web.gate import Gate

    return lxml_html.fromstring(served(Gate(site / "build"), "t", path, level)).xpath("//header//nav//a/@href")


@pytest.mark.parametrize("header_package", [False, True], ids=["default-layout", "header-package"])
def test_menu_entries_for_some_languages_only(tmp_path: Path, header_package: bool) -> None:
    menu = [{"title": "About", "path": "/about", "lang": "en"},
            {"title": "Über uns", "path": "/de/about", "lang": "de"},
            {"title": "Blog", "path": "/blog"},  # (no lang: every language)
            {"title": "Impressum", "path": "/de/impressum", "lang": ["de"]},
            {"title": "Club", "path": "/club", "level": 2, "lang": ["en", "de"]},
            {"title": "Broken", "path": "/about", "lang": 5}]
    site = language_site(tmp_path / "site", menu, header_package)
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0
    assert [p.location.pointer for p in result.problems if p.code == "menu"] == ["/settings/menu/5"]
    assert served_nav(site, "/about", 0) == ["/about", "/blog"]
    assert served_nav(site, "/de/about", 0) == ["/de/about", "/blog", "/de/impressum"]
    assert served_nav(site, "/de/about", 2) == ["/de/about", "/blog", "/de/impressum", "/club"]
    assert served_nav(site, "/hola", 0) == ["/blog"]  # Spanish: only the entries for every language
    assert every_level_equals_a_full_render(site) > 0


def test_a_menu_per_language_and_the_fallback_to_the_tenants_language(tmp_path: Path) -> None:
    menu = {"en": [{"title": "About", "path": "/about"}, {"title": "Blog", "path": "/blog"}],
            "de": [{"title": "Über uns", "path": "/de/about"}, {"title": "Blog", "path": "/de/blog"},
                   {"title": "Klub", "path": "/club", "level": 2}, {"title": "Weg", "path": "/de/nowhere"}],
            "fr": [{"title": "À propos", "path": "/about"}],
            "Deutsch": [{"title": "Nie", "path": "/about"}]}
    site = language_site(tmp_path / "site", menu)
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["errors"] == 0
    warnings = {p.location.pointer: p.message for p in result.problems if p.code == "menu"}
    assert set(warnings) == {"/settings/menu/de/3", "/settings/menu/fr", "/settings/menu/Deutsch"}
    assert all(p.location.file == "tenants:t" for p in result.problems if p.code == "menu")
    assert "no page of tenant t is in 'fr'" in warnings["/settings/menu/fr"]
    assert served_nav(site, "/about", 0) == ["/about", "/blog"]
    assert served_nav(site, "/about", 5) == ["/about", "/blog"]
    assert served_nav(site, "/de/about", 0) == ["/de/about", "/de/blog"]
    assert served_nav(site, "/de/blog/b", 3) == ["/de/about", "/de/blog", "/club"]
    assert served_nav(site, "/hola", 0) == ["/about", "/blog"]  # no Spanish menu: the tenant language's
    header = lxml_html.fromstring((site / "build" / "t" / "public" / "de" / "about" / "index.html").read_bytes())
    assert header.xpath("//header//nav//a[@aria-current='page']/@href") == ["/de/about"]
    assert every_level_equals_a_full_render(site) > 0


def test_editing_one_languages_menu_equals_a_full_build(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    from support import output_tree

    menu = {"en": [{"title": "About", "path": "/about"}], "de": [{"title": "Über uns", "path": "/de/about"}]}
    site = language_site(tmp_path / "site", menu)
    assert Builder(load_config(site), BufferReporter()).run().ok
    english = (site / "build" / "t" / "public" / "about" / "index.html").read_bytes()
    menu["de"].append({"title": "Impressum", "path": "/de/impressum"})
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as db:
        db.execute("UPDATE tenants SET settings = ? WHERE slug = 't'", (json.dumps({"menu": menu}),))
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    assert served_nav(site, "/de/about", 0) == ["/de/about", "/de/impressum"]
    assert (site / "build" / "t" / "public" / "about" / "index.html").read_bytes() == english
    full = tmp_path / "full"
    shutil.copytree(site, full, ignore=shutil.ignore_patterns("build"))
    assert Builder(load_config(full), BufferReporter(), full=True).run().ok
    assert output_tree(site / "build") == output_tree(full / "build")
