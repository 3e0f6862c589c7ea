"""`mbsite serve` in headless Chromium: open pages follow file edits, stylesheet edits, template errors and SQL
row changes on their own; unrelated tabs stay put; signing in as the demo admin shows the admin page.

Uses Debian's chromium (MBSITE_TEST_CHROMIUM, else `chromium` on PATH) through playwright's executable_path;
never downloads a browser."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest

from mbsite.config import Config, builtin_root
from mbsite.preview import Preview
from mbsite.reporter import BufferReporter

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


def _chromium() -> str:
    path = os.environ.get("MBSITE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.skip(f"Chromium not found ({path}); install Debian's chromium package or set MBSITE_TEST_CHROMIUM")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The demo content plus a theme override (stylesheet and page template) that the tests edit."""
    root = tmp_path_factory.mktemp("live") / "site"
    shutil.copytree(REPO / "content", root / "content")
    theme = root / "themes" / "default"
    (theme / "static").mkdir(parents=True)
    (theme / "templates").mkdir()
    shutil.copy(builtin_root() / "themes" / "default" / "static" / "style.css", theme / "static" / "style.css")
    shutil.copy(builtin_root() / "themes" / "default" / "templates" / "page.html", theme / "templates" / "page.html")
    return Config(site_dir=root)


@pytest.fixture(scope="module")
def base_url(site: Config) -> Iterator[str]:
    from mbsite.passwords import hash_password

    one = hash_password("mbsite-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: one)  # argon2 per seeded user is the slow part
        preview = Preview(site, BufferReporter())
    with preview.serving() as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True, args=ARGS)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.__mbsite !== undefined")
    page.evaluate("() => { window.__stayed = true; }")  # gone after any reload


def test_markdown_edit_reloads_the_open_page_only(browser: Any, tab: Any, base_url: str, site: Config) -> None:
    other = browser.new_page()
    try:
        _open(tab, f"{base_url}/acme/about")
        _open(other, f"{base_url}/acme/products")
        navigations: list[str] = []
        tab.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == tab.main_frame else None)
        md = site.content_dir / "pages" / "about.md"
        md.write_text(md.read_text() + "\nFreshly written paragraph for the live preview.\n")
        tab.get_by_text("Freshly written paragraph for the live preview.").wait_for()
        assert tab.evaluate("() => window.__stayed") is None
        assert len(navigations) == 1  # one reload, after the batch was published, already showing the new text
        assert other.evaluate("() => window.__stayed") is True  # the unrelated tab did not reload
    finally:
        other.close()


def test_stylesheet_edit_swaps_without_navigation(tab: Any, base_url: str, site: Config) -> None:
    _open(tab, f"{base_url}/acme/about")
    css = site.site_dir / "themes" / "default" / "static" / "style.css"
    css.write_text(css.read_text() + "\nbody { background-color: rgb(1, 2, 3) !important; }\n")
    tab.wait_for_function("() => getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)'",
                          timeout=TIMEOUT_MS * 2)
    assert tab.evaluate("() => window.__stayed") is True
    hrefs = tab.eval_on_selector_all('link[rel="stylesheet"]', "els => els.map(e => e.getAttribute('href'))")
    assert sum("/assets/style." in h for h in hrefs) == 1


def test_template_error_shows_an_overlay_until_fixed(tab: Any, base_url: str, site: Config) -> None:
    _open(tab, f"{base_url}/globex/about")
    template = site.site_dir / "themes" / "default" / "templates" / "page.html"
    good = template.read_text()
    template.write_text(good.replace("{% endblock %}", "{% endblock", 1))
    overlay = tab.locator("#mbsite-overlay")
    overlay.wait_for()
    assert "themes/default/templates/page.html:" in overlay.inner_text()
    template.write_text(good)
    overlay.wait_for(state="detached")
    assert tab.evaluate("() => window.__stayed") is True  # the output did not change: no reload


def test_sql_row_change_updates_the_page(tab: Any, base_url: str, site: Config) -> None:
    _open(tab, f"{base_url}/acme/products")
    with sqlite3.connect(site.state_dir / "mbsite.sqlite3") as con:
        con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Rocket Skates Turbo') "
                    "WHERE id = 'rocket-skates'")
    tab.get_by_text("Rocket Skates Turbo").first.wait_for()


def test_demo_admin_signs_in_and_sees_the_admin_page(tab: Any, base_url: str) -> None:
    tab.goto(f"{base_url}/acme/admin")
    assert tab.url.endswith("/acme/login?next=/acme/admin")
    tab.fill("input[name=username]", "admin")
    tab.fill("input[name=password]", "mbsite-demo")
    tab.click("form[action='/api/auth/login'] button[type=submit]")
    tab.wait_for_url(f"{base_url}/acme/admin")
    assert tab.locator("h1", has_text="Administration").count() == 1
    tab.click("a[href='/products']")  # a root-relative link stays in the tenant
    tab.wait_for_url(f"{base_url}/acme/products")
    tab.click("form[action='/api/auth/logout'] button[type=submit]")
    tab.wait_for_url(f"{base_url}/acme/")
    tab.goto(f"{base_url}/acme/admin")
    assert "/acme/login" in tab.url


def test_tenant_by_host_on_localhost(tab: Any, base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    _open(tab, f"http://globex.localhost:{port}/about")  # Chromium sends *.localhost to loopback
    assert tab.evaluate("() => window.__mbsite.prefix") == ""
    assert "Globex" in tab.title()
