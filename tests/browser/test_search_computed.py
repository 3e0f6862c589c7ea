"""Search in headless Chromium, over the built public folder served as a CDN would (no server code): the header's
box (a plain form) lands on /search?q=…, whose Pagefind interface shows the public page that matches and nothing of
the members' page; typing another query on the search page finds other pages."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from support import folder_server
from test_fidelity_computed import ARGS, _chromium

from mbsite.builder import Builder
from mbsite.config import DEFAULT_CSP, load_config
from mbsite.reporter import BufferReporter

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("search_on")]
ORIGIN = "http://t.example"


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pagefind.service", reason="pagefind is not installed (pip install 'pagefind[bin]')")
    site = tmp_path_factory.mktemp("search") / "site"
    (site / "content" / "seed").mkdir(parents=True)
    tenant = {"slug": "t", "name": "T", "domains": ["t.example"]}
    (site / "content" / "seed" / "site.yaml").write_text(json.dumps({"entity": "Tenant", "records": [tenant]}))
    (site / "content" / "blog").mkdir()
    (site / "content" / "blog" / "open.md").write_text(
        "---\ntitle: Zebrafish notes\ndate: 2024-01-01\n---\nThe zebrafish swims in public waters.\n")
    (site / "content" / "blog" / "club.md").write_text(
        "---\ntitle: Club notes\ndate: 2024-01-02\nlevel: 2\n---\nThe zebrafish okapi is a members secret.\n")
    (site / "content" / "pages").mkdir()
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nAbout the narwhal.\n")
    (site / "mbsite.toml").write_text("[build]\nworkers = 1\n")
    assert Builder(load_config(site), BufferReporter()).run().ok
    return site / "build" / "t" / "public"


@pytest.fixture(scope="module")
def tab(public: Path) -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

    # The site's own Content-Security-Policy, as its _headers gives it to a CDN: search must work under it.
    serve = folder_server(public, ORIGIN, {"Content-Security-Policy": DEFAULT_CSP})

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15_000)
            page.route(f"{ORIGIN}/**", serve)
            yield page
        finally:
            browser.close()


def results(tab: Any) -> list[str]:
    tab.wait_for_selector(".pagefind-ui__result-link")
    return tab.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))")


def test_the_header_box_lands_on_results_of_public_pages_only(tab: Any) -> None:
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{ORIGIN}/about/")
    tab.fill("header input[name=q]", "zebrafish")
    tab.press("header input[name=q]", "Enter")
    tab.wait_for_url("**/search?q=zebrafish")
    assert results(tab) == ["/blog/open/"]  # the members' post mentions zebrafish too: not in the public index
    assert "okapi" not in tab.inner_text("main")
    assert errors == []


def test_typing_on_the_search_page_finds_other_pages(tab: Any) -> None:
    tab.goto(f"{ORIGIN}/search")
    box = ".pagefind-ui__search-input"
    tab.wait_for_selector(box)
    assert not tab.is_visible("main form.search-form")  # Pagefind's box replaces the plain form
    tab.fill(box, "narwhal")
    tab.wait_for_function("() => [...document.querySelectorAll('.pagefind-ui__result-link')]"
                          ".some(a => a.getAttribute('href') === '/about/')")


def test_search_fits_a_phone(tab: Any) -> None:
    tab.set_viewport_size({"width": 360, "height": 740})
    try:
        tab.goto(f"{ORIGIN}/search?q=zebrafish")
        results(tab)
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert tab.is_visible("header input[name=q]")
    finally:
        tab.set_viewport_size({"width": 1280, "height": 800})
