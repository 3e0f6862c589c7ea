"""The admin panel in headless Chromium against `mbsite serve`: an admin creates a page and then renames it through
the panel's plain forms, reads the result message, and sees the page rebuilt by the live preview; the panel fits a
phone. Uses Debian's chromium through playwright's executable_path; never downloads a browser."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from test_live_preview import ARGS, TIMEOUT_MS, _chromium

from mbsite.config import Config
from mbsite.preview import Preview
from mbsite.reporter import BufferReporter

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from mbsite.passwords import hash_password

    root = tmp_path_factory.mktemp("panel") / "site"
    shutil.copytree(REPO / "content", root / "content")
    one = hash_password("mbsite-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: one)
        preview = Preview(Config(site_dir=root), BufferReporter())
    with preview.serving() as url:
        yield url


@pytest.fixture(scope="module")
def tab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def wait_for_title(tab: Any, url: str, wanted: str, seconds: float = 15) -> None:
    """Open `url` until its title contains `wanted` (the live preview rebuilds after the change feed moves)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = tab.goto(url)
            title = tab.title()
        except Exception as exc:  # noqa: BLE001 - the live script reloading the tab aborts a navigation: try again
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} could not be opened: {exc}") from exc
            time.sleep(0.3)
            continue
        if response is not None and response.status == 200 and wanted in title:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not show {wanted!r} (status {response and response.status}, "
                                 f"title {title!r})")
        time.sleep(0.3)


def test_an_admin_creates_and_renames_a_page_through_the_panel(tab: Any, base_url: str) -> None:
    tab.goto(f"{base_url}/acme/admin/pages")
    assert "/acme/login" in tab.url  # signed out: to the sign-in page first
    tab.fill("input[name=username]", "admin")
    tab.fill("input[name=password]", "mbsite-demo")
    tab.click("form[action='/api/auth/login'] button[type=submit]")
    tab.wait_for_url(f"{base_url}/acme/admin/pages")

    new = tab.locator("form.panel-form[action$='/_pages']")
    new.locator("input[name=path]").fill("/crew")
    new.locator("input[name=title]").fill("Our crew")
    new.locator("select[name=component]").select_option(index=1)  # the first is the "Choose a component" prompt
    new.locator("button[type=submit]").click()
    tab.wait_for_url(f"{base_url}/acme/admin/pages")
    assert tab.locator("output.panel-flash").inner_text().startswith("Created /crew")
    wait_for_title(tab, f"{base_url}/acme/crew", "Our crew")

    # The panel lists the new row after the rebuild; rename it through its edit form.
    wait_for_title(tab, f"{base_url}/acme/admin/pages", "Pages")
    deadline = time.monotonic() + 15
    while tab.locator("tr", has=tab.locator("a", has_text="/crew")).count() == 0:
        assert time.monotonic() < deadline, "the panel never listed /crew"
        time.sleep(0.3)
        tab.reload()
    row = tab.locator("tr", has=tab.locator("a", has_text="/crew"))
    row.locator("summary").click()
    row.locator("input[name=title]").fill("The whole crew")
    row.locator("form.panel-form:not(.inline) button[type=submit]").click()
    tab.wait_for_url(f"{base_url}/acme/admin/pages")
    assert tab.locator("output.panel-flash").inner_text().startswith("Saved /crew")
    wait_for_title(tab, f"{base_url}/acme/crew", "The whole crew")

    tab.set_viewport_size({"width": 390, "height": 844})  # a phone: the tables scroll, the page does not
    tab.goto(f"{base_url}/acme/admin/pages")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    tab.set_viewport_size({"width": 1280, "height": 800})
