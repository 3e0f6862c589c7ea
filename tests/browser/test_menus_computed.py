"""The default theme's menu in headless Chromium: on a wide screen a configured menu with many entries stays on one
row and a group opens as a dropdown without JavaScript; on a phone the navigation hides behind a Menu toggle that
opens it, and nothing overflows the screen. The built public folder is served to the browser as a CDN would."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from support import folder_server
from test_fidelity_computed import ARGS, _chromium

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

pytestmark = pytest.mark.browser
ORIGIN = "http://t.example"
PAGES = ["About", "Blog", "Docs", "Pricing", "Careers", "Contact", "Press", "Partners"]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose menu has eight pages, a group of three and an external link, built; its public folder."""
    site = tmp_path_factory.mktemp("menus") / "site"
    (site / "content" / "seed").mkdir(parents=True)
    (site / "content" / "pages").mkdir()
    for title in PAGES + ["Team", "History"]:
        (site / "content" / "pages" / f"{title.lower()}.md").write_text(f"---\ntitle: {title}\n---\n{title}.\n")
    (site / "content" / "pages" / "specs.md").write_text(
        "---\ntitle: Specs\n---\n| Model | Where | Notes |\n|---|---|---|\n"
        "| Hammock 3000 | `warehouse-seventeen.northern-district.example` | Ships assembled, weatherproofed |\n")
    menu = [{"title": t, "path": f"/{t.lower()}"} for t in PAGES]
    menu.insert(1, {"title": "Company", "children": [{"title": "Team", "path": "/team"},
                                                     {"title": "History", "path": "/history"},
                                                     {"title": "Source", "url": "https://example.com/src"}]})
    tenant = {"slug": "t", "name": "A tenant with a long name", "domains": ["t.example"], "settings": {"menu": menu}}
    (site / "content" / "seed" / "site.yaml").write_text(json.dumps({"entity": "Tenant", "records": [tenant]}))
    (site / "mbsite.toml").write_text("[build]\nworkers = 1\n")
    assert Builder(load_config(site), BufferReporter()).run().ok
    return site / "build" / "t" / "public"


@pytest.fixture(scope="module")
def tab(public: Path) -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

    serve = folder_server(public, ORIGIN)

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            page.route(f"{ORIGIN}/**", serve)
            yield page
        finally:
            browser.close()


def rows(tab: Any) -> int:
    """How many distinct rows the top-level navigation entries sit on."""
    tops = tab.eval_on_selector_all("header nav .nav > li", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
    return len(set(tops))


def test_a_long_menu_stays_on_one_row_and_its_group_opens_without_javascript(tab: Any) -> None:
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.goto(f"{ORIGIN}/about/")
    assert tab.is_visible("header nav") and not tab.is_visible(".nav-toggle-label")
    assert rows(tab) == 1
    assert not tab.is_visible("text=Team")
    tab.click("header nav details.nav-group > summary")  # <details>: the browser opens it, no script involved
    assert tab.is_visible("text=Team") and tab.is_visible("text=Source")
    assert tab.get_attribute("header nav a[aria-current='page']", "href") == "/about"


def test_on_a_phone_the_menu_hides_behind_a_toggle_and_nothing_overflows(tab: Any) -> None:
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"{ORIGIN}/about/")
    assert tab.is_visible(".nav-toggle-label") and not tab.is_visible("header nav")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab.click(".nav-toggle-label")
    assert tab.is_visible("header nav") and tab.is_visible("header nav >> text=Partners")
    tab.click("header nav details.nav-group > summary")
    assert tab.is_visible("text=History")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_a_wide_table_of_a_markdown_page_narrows_instead_of_widening_the_page(tab: Any) -> None:
    tab.set_viewport_size({"width": 375, "height": 700})
    tab.goto(f"{ORIGIN}/specs/")
    assert tab.is_visible("text=Hammock 3000")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.evaluate("document.querySelector('main table').getBoundingClientRect().right <= window.innerWidth")
