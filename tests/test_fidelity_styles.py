"""What the JSON says about looks reaches the page: colour and size props, named CSS values, MUI defaults.

Checked on the HTML and CSS the renderer emits (computed styles are checked in tests/browser/).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from mbsite.components import ComponentRenderer, tokens_css
from mbsite.context import PageScope
from mbsite.packages import load_packages

BASE = tokens_css([])


def render(tmp_path: Path, template: Any) -> tuple[Any, str]:
    """A one-component package with `template` → (parsed HTML, the render's CSS)."""
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "x", "name": "X", "props": [], "render": {"type": "element", "template": template}}]}))
    result = ComponentRenderer(load_packages([tmp_path / "packages"])).render_component(
        "p", "x", None, scope=PageScope())
    return lxml_html.fragment_fromstring(result.html, create_parent="div"), result.css


def _selectors(css: str) -> set[str]:
    """Every simple class name that appears in a selector of `css`."""
    out: set[str] = set()
    for selector in re.findall(r"([^{}]+)\{", css):
        out.update(re.findall(r"\.(mb-[A-Za-z0-9_-]+)", selector))
    return out


def _classes(doc: Any) -> set[str]:
    return {c for el in doc.iter() for c in (el.get("class") or "").split()}


COLOURED = [
    {"type": "Chip", "label": "c", "color": "error", "size": "small"},
    {"type": "Chip", "label": "c", "color": "success", "variant": "outlined", "size": "large"},
    {"type": "Button", "children": "b", "color": "error", "variant": "contained", "size": "small"},
    {"type": "Button", "children": "b", "color": "secondary", "size": "large"},
    {"type": "IconButton", "icon": "Delete", "color": "warning", "size": "small"},
    {"type": "Icon", "name": "Add", "color": "info"},
    {"type": "Icon", "name": "Add", "color": "action"},
    {"type": "Link", "href": "/x", "children": "l", "color": "inherit"},
    {"type": "Badge", "badgeContent": 3, "color": "secondary", "children": "x"},
    {"type": "Avatar", "alt": "A B", "size": "large"},
    {"type": "TextField", "label": "t", "size": "small"},
    {"type": "Table", "size": "small", "children": []},
    {"type": "CircularProgress", "color": "secondary"},
]


@pytest.mark.parametrize("node", COLOURED, ids=lambda n: f"{n['type']}-{n.get('color', '')}-{n.get('size', '')}")
def test_colour_and_size_classes_are_defined_by_the_stylesheet(tmp_path: Path, node: dict[str, Any]) -> None:
    doc, _ = render(tmp_path, node)
    used = {c for c in _classes(doc) if c.startswith(("mb-color-", "mb-size-"))}
    assert used, "the node's colour/size props produced no class"
    assert used <= _selectors(BASE), used - _selectors(BASE)


def test_palette_colours_come_from_theme_tokens() -> None:
    rule = re.search(r"\.mb-color-error\{([^}]*)\}", BASE)
    assert rule is not None and "var(--mb-error-main)" in rule.group(1)
    assert re.search(r"\.mb-chip[^{]*\.mb-color-error[^{]*\{[^}]*background", BASE) or \
        re.search(r"\.mb-chip:not\(\.mb-chip--outlined\):is\([^)]*\.mb-color-error[^)]*\)\{background:var\(--mb-c\)",
                  BASE)
    assert "--mb-error-contrast-text" in BASE


@pytest.mark.parametrize(("size", "cls"), [("sm", "mb-size-small"), ("lg", "mb-size-large"), ("md", "mb-size-medium")])
def test_short_size_names_mean_the_mui_sizes(tmp_path: Path, size: str, cls: str) -> None:
    doc, _ = render(tmp_path, {"type": "Button", "children": "b", "size": size})
    assert cls in _classes(doc)


def test_icon_colour_given_as_a_palette_path_or_css_colour_is_a_style(tmp_path: Path) -> None:
    _, css = render(tmp_path, {"type": "Box", "children": [{"type": "Icon", "name": "Add", "color": "text.secondary"},
                                                           {"type": "Icon", "name": "Add", "color": "#6c757d"}]})
    assert "color:var(--mb-text-secondary)" in css and "color:#6c757d" in css
