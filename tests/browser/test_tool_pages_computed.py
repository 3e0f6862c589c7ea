"""The tool pages in headless Chromium: they wear the default theme (its font, its cards, its sign-in card) and fit a
phone. Each page is fetched from the preview app, its stylesheet inlined, and computed styles are read."""
from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from test_fidelity_computed import ARGS, _chromium

from mbsite.config import Config
from mbsite.preview import create_serve_app
from mbsite.web.toolpages import STYLESHEET_URL

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
HOST = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The landing page and a failed sign-in, each with the tool pages' stylesheet inlined."""
    from mbsite.db.engine import ensure_schema, open_engine
    from mbsite.db.seed import load_seed

    site = tmp_path_factory.mktemp("toolpages") / "site"
    shutil.copytree(REPO / "content", site / "content")
    (site / ".mbsite").mkdir()
    engine = open_engine(f"sqlite:///{site / '.mbsite' / 'mbsite.sqlite3'}")
    ensure_schema(engine)
    load_seed(engine, site / "content")
    engine.dispose()
    async def fetch() -> tuple[str, str, str]:
        app = create_serve_app(Config(site_dir=site))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
                css = (await client.get(STYLESHEET_URL)).text
                landing = (await client.get("/")).text
                failed = (await client.post(
                    "/api/auth/login", data={"tenant": "acme", "username": "admin", "password": "nope"},
                    headers={"referer": f"{HOST}/acme/login", "origin": HOST})).text
        return css, landing, failed

    css, landing, failed = asyncio.run(fetch())
    link = re.compile(r'<link rel="stylesheet" href="[^"]*docs\.css[^"]*">')
    return {name: link.sub(lambda _m: f"<style>{css}</style>", html) for name, html in
            (("landing", landing), ("failed", failed))}


@pytest.fixture(scope="module")
def tab() -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 800})
        finally:
            browser.close()


def style(tab: Any, selector: str, prop: str) -> str:
    return str(tab.eval_on_selector(selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')"))


def test_the_landing_page_wears_the_theme_and_fits_a_phone(pages: dict[str, str], tab: Any) -> None:
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.set_content(pages["landing"])
    assert "serif" not in style(tab, "body", "font-family").split(",")[0]  # the theme's font, not the default
    assert style(tab, ".tool-card", "border-top-width") == "1px" and style(tab, ".tool-card", "border-radius") != "0px"
    tab.set_viewport_size({"width": 390, "height": 844})
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_failed_sign_in_is_a_themed_card_with_the_message(pages: dict[str, str], tab: Any) -> None:
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.set_content(pages["failed"])
    width = tab.eval_on_selector(".signin-card", "el => el.getBoundingClientRect().width")
    assert 250 <= width <= 560  # a card, not the page's full width
    assert tab.locator("form input[name=password]").count() == 1
