"""Rendered components in headless Chromium: the styles the JSON asks for are the styles the browser computes.

Each test renders a small tree with the component renderer, puts it in a page with the default theme's
stylesheet, the token stylesheet and the render's CSS (as a built page has them), and reads computed
styles. Uses Debian's chromium (MBSITE_TEST_CHROMIUM, else `chromium` on PATH); never downloads a browser.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from mbsite.components import ComponentRenderer, tokens_css
from mbsite.config import builtin_root
from mbsite.context import PageScope
from mbsite.packages import load_packages

pytestmark = pytest.mark.browser
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    path = os.environ.get("MBSITE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.skip(f"Chromium not found ({path}); install Debian's chromium package or set MBSITE_TEST_CHROMIUM")
    return path


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            tab.set_default_timeout(10_000)
            yield tab
        finally:
            browser.close()


def show(page: Any, tmp_path: Path, template: Any) -> Any:
    """Render `template` as a component and load it into the browser tab like a built page."""
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "x", "name": "X", "props": [], "render": {"type": "element", "template": template}}]}))
    packages = load_packages([tmp_path / "packages"])
    result = ComponentRenderer(packages).render_component("p", "x", None, scope=PageScope())
    theme_css = (builtin_root() / "themes" / "default" / "static" / "style.css").read_text(encoding="utf-8")
    page.set_content(f"<!doctype html><html><head><style>{theme_css}</style><style>{tokens_css([])}</style>"
                     f"<style>{result.css}</style></head><body><main>{result.html}</main></body></html>")
    return page


def style(page: Any, selector: str, prop: str) -> str:
    value: str = page.eval_on_selector(selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')")
    return value


def test_chip_and_button_colours_follow_the_palette(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "Box", "children": [
        {"type": "Chip", "label": "bad", "color": "error", "id": "chip"},
        {"type": "Button", "variant": "contained", "color": "error", "children": "Delete", "id": "btn"},
        {"type": "Icon", "name": "Add", "color": "success", "id": "icon"}]})
    assert style(page, "#chip", "background-color") == "rgb(211, 47, 47)"
    assert style(page, "#chip", "color") == "rgb(255, 255, 255)"
    assert style(page, "#btn", "background-color") == "rgb(211, 47, 47)"
    assert style(page, "svg.mb-icon", "color") == "rgb(46, 125, 50)"


def test_small_button_is_smaller_than_large(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "Box", "children": [
        {"type": "Button", "size": "small", "children": "S", "className": "s"},
        {"type": "Button", "size": "large", "children": "L", "className": "l"}]})
    assert float(style(page, ".s", "font-size")[:-2]) < float(style(page, ".l", "font-size")[:-2])


def test_a_container_named_xs_is_as_narrow_as_mui_draws_it(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "Container", "maxWidth": "xs", "id": "login", "children": {
        "type": "Card", "children": {"type": "CardContent", "children": "Sign in"}}})
    assert page.eval_on_selector("#login", "el => el.getBoundingClientRect().width") <= 444


def test_named_weights_palette_names_and_heading_margins(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "Box", "children": [
        {"type": "Text", "fontWeight": "semibold", "id": "w", "children": "semi"},
        {"type": "Typography", "color": "textSecondary", "id": "c", "children": "muted"},
        {"type": "Typography", "variant": "h2", "id": "h", "children": "Heading"}]})
    assert style(page, "#w", "font-weight") == "600"
    assert style(page, "#c", "color") == "rgba(0, 0, 0, 0.6)"
    assert style(page, "#h", "margin-top") == "0px" and style(page, "#h", "margin-bottom") == "0px"


def test_the_circular_spinner_is_round(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "CircularProgress", "id": "spin"})
    # offsetWidth/Height: the layout box (the bounding rectangle of a spinning element grows as it turns)
    box = page.eval_on_selector("#spin", "el => [el.offsetWidth, el.offsetHeight]")
    assert box[0] == box[1] == 40
    assert style(page, "#spin", "border-top-left-radius") == "50%"


def test_only_the_first_tab_panel_shows_when_no_tab_is_chosen(page: Any, tmp_path: Path) -> None:
    show(page, tmp_path, {"type": "Box", "children": [
        {"type": "Tabs", "children": [{"type": "Tab", "label": "One"}, {"type": "Tab", "label": "Two"}]},
        {"type": "TabPanel", "index": 0, "value": "{{state.tab}}", "className": "p0", "children": "first"},
        {"type": "TabPanel", "index": 1, "value": "{{state.tab}}", "className": "p1", "children": "second"}]})
    assert style(page, ".p0", "display") != "none" and style(page, ".p1", "display") == "none"
