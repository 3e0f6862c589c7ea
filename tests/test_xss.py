"""XSS corpus: payloads through text, props, expressions, sx/style, URLs and class names never yield
script execution. Every output is parsed with lxml and checked structurally, not by string search alone."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from mbsite.components import ComponentRenderer, tokens_css
from mbsite.components.urls import safe_url
from mbsite.context import PageScope
from mbsite.packages import load_packages

PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "'><iframe src=javascript:alert(1)>",
    "</style><script>alert(1)</script>", "{{constructor.constructor('alert(1)')()}}", "<a href=\"javascript:alert(1)\">x</a>",
    "&lt;script&gt;", "\u2028<script>", "<!--", "]]><script>",
]
BAD_URLS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "java\nscript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>", "data:image/svg+xml,<svg onload=alert(1)>",
    "\x01javascript:alert(1)", "javascript&#58;alert(1)", "livescript:x", "jar:http://x!/",
]
GOOD_URLS = ["https://example.com/a?b=1&c=2", "/relative/path", "#anchor", "mailto:a@b.c", "?page=2", "//cdn.example.com/x.png"]
BAD_CSS = [
    "red;}</style><script>alert(1)</script>", "expression(alert(1))", "url(javascript:alert(1))", "url('javascript:alert(1)')",
    "@import 'http://evil'", "red;background:url(x)", "red}body{display:none", "\\3c/style\\3e", "url(data:text/html,x)",
    "behavior: url(x.htc)", "-moz-binding:url(x)", "red /* */",
]


def _renderer(tmp_path: Path, template: Any, props: list | None = None) -> ComponentRenderer:
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "x", "name": "X", "props": props or [], "render": {"type": "element", "template": template}}]}))
    return ComponentRenderer(load_packages([tmp_path / "packages"]))


def _render(tmp_path: Path, template: Any, props: dict | None = None, defaults: list | None = None) -> tuple[str, str]:
    result = _renderer(tmp_path, template, defaults).render_component("p", "x", props, scope=PageScope())
    return result.html, result.css


def assert_safe(html: str) -> None:
    root = lxml_html.fragment_fromstring(html or "<div></div>", create_parent="div")
    assert not root.xpath("//script | //style | //object | //embed | //base | //meta | //link")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"event handler attribute {name}"
            assert name.lower() != "style"
            if name in ("href", "src", "action", "poster", "formaction"):
                probe = "".join(value.split()).lower()
                assert not probe.startswith(("javascript:", "vbscript:", "data:text")), f"{name}={value!r}"
        if el.tag == "iframe":
            assert el.get("sandbox") == "", "embedded frames are sandboxed without scripts"


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{i}" for i in range(len(PAYLOADS))])
@pytest.mark.parametrize("channel", ["text", "prop", "expression", "label", "class", "id", "aria", "title",
                                     "icon-name", "alt"])
def test_payloads_are_inert(tmp_path: Path, payload: str, channel: str) -> None:
    templates = {
        "text": {"type": "Text", "children": payload},
        "prop": {"type": "Chip", "label": payload},
        "expression": {"type": "Text", "children": "a {{evil}} b", "title": "{{evil}}"},
        "label": {"type": "TextField", "label": payload, "placeholder": payload, "value": payload, "helperText": payload},
        "class": {"type": "Box", "className": payload + " ok", "children": "x"},
        "id": {"type": "Box", "id": payload, "data-test": payload},
        "aria": {"type": "Button", "aria-label": payload, "ariaDescription": payload, "children": payload},
        "title": {"type": "CardHeader", "title": payload, "subheader": payload},
        "icon-name": {"type": "Icon", "name": payload, "aria-label": payload},
        "alt": {"type": "Image", "src": "/a.png", "alt": payload},
    }
    html, css = _render(tmp_path, {"type": "Box", "children": [templates[channel]]}, {"evil": payload})
    assert_safe(html)
    assert "<script" not in html.lower() and "<svg onload" not in html.lower() and "<img src=x" not in html.lower()
    assert "</style" not in css.lower()


@pytest.mark.parametrize("url", BAD_URLS, ids=[f"bad{i}" for i in range(len(BAD_URLS))])
def test_dangerous_urls_are_dropped(tmp_path: Path, url: str) -> None:
    assert safe_url(url) is None and safe_url(url, image=True) is None
    html, _ = _render(tmp_path, {"type": "Box", "children": [
        {"type": "Link", "href": url, "children": "l"}, {"type": "Button", "href": "{{u}}", "children": "b"},
        {"type": "Image", "src": url}, {"type": "Avatar", "src": url}, {"type": "form", "action": url},
        {"type": "Iframe", "src": url}, {"type": "video", "src": url, "poster": url}]}, {"u": url})
    assert_safe(html)
    assert "script" not in html.lower().replace("description", "")


@pytest.mark.parametrize("url", GOOD_URLS, ids=[f"good{i}" for i in range(len(GOOD_URLS))])
def test_ordinary_urls_pass(url: str) -> None:
    assert safe_url(url) == url


def test_data_image_urls_only_for_raster_images() -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    assert safe_url(png, image=True) == png and safe_url(png) is None
    assert safe_url("data:image/svg+xml;base64,PHN2Zz4=", image=True) is None


@pytest.mark.parametrize("value", BAD_CSS, ids=[f"css{i}" for i in range(len(BAD_CSS))])
def test_css_values_cannot_break_out(tmp_path: Path, value: str) -> None:
    html, css = _render(tmp_path, {"type": "Box", "sx": {"color": value, "&:hover": {"background": value},
                                                         "width": {"md": value}},
                                   "style": {"background": value}, "children": "x"})
    assert_safe(html)
    low = css.lower()
    for bad in ("</style", "<script", "expression(", "javascript:", "@import", "}body", "behavior", "binding", "\\"):
        assert bad not in low


def test_css_selectors_from_data_are_checked(tmp_path: Path) -> None:
    _, css = _render(tmp_path, {"type": "Box", "sx": {"&}</style><script>": {"color": "red"},
                                                      "@media x{}": {"color": "red"}, "&:hover": {"color": "blue"}}})
    assert "</style" not in css and "script" not in css and "{}" not in css.replace("{color:blue}", "")
    assert ":hover{color:blue}" in css


def test_event_props_never_become_attributes(tmp_path: Path) -> None:
    html, _ = _render(tmp_path, {"type": "Button", "onClick": "alert(1)", "onMouseOver": "{{() => alert(1)}}",
                                 "props": {"onFocus": "x"}, "children": "b"})
    assert_safe(html)
    assert "alert(1)" not in html and 'data-action="' in html


def test_tokens_are_sanitised(tmp_path: Path) -> None:
    root = tmp_path / "packages" / "p"
    (root / "styles").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "styles" / "tokens.json").write_text(json.dumps({"colors": {
        "primary": "red;}</style><script>alert(1)</script>", "ok": "#fff", "x}{": "#000"}}))
    css = tokens_css(load_packages([tmp_path / "packages"]))
    assert "</style" not in css and "script" not in css and "--mb-color-ok:#fff" in css and "x}{" not in css
