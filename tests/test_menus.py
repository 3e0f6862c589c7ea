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
