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
