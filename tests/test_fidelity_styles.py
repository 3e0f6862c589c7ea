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


# --------------------------------------------------------------------------- CSS values browsers would ignore

@pytest.mark.parametrize(("width", "px"), [("xs", "444px"), ("sm", "600px"), ("md", "900px"), ("lg", "1200px"),
                                           ("xl", "1536px")])
def test_container_max_width_names_become_breakpoint_widths(tmp_path: Path, width: str, px: str) -> None:
    _, css = render(tmp_path, {"type": "Container", "maxWidth": width, "children": "c"})
    assert f"max-width:{px}" in css and f"max-width:{width}" not in css


def test_breakpoint_names_in_sx_widths_become_pixels(tmp_path: Path) -> None:
    _, css = render(tmp_path, {"type": "Box", "sx": {"maxWidth": "sm", "minWidth": "xs"}, "children": "c"})
    assert "max-width:600px" in css and "min-width:444px" in css


@pytest.mark.parametrize(("weight", "number"), [("semibold", "600"), ("medium", "500"), ("bold", "bold"),
                                                ("light", "300"), ("regular", "400")])
def test_named_font_weights_become_numbers(tmp_path: Path, weight: str, number: str) -> None:
    _, css = render(tmp_path, {"type": "Text", "fontWeight": weight, "children": "t"})
    assert f"font-weight:{number}" in css


@pytest.mark.parametrize(("color", "var"), [("textSecondary", "var(--mb-text-secondary)"),
                                            ("textPrimary", "var(--mb-text-primary)"),
                                            ("text.secondary", "var(--mb-text-secondary)"),
                                            ("error.main", "var(--mb-error-main)")])
def test_palette_names_become_token_colours(tmp_path: Path, color: str, var: str) -> None:
    _, css = render(tmp_path, {"type": "Typography", "color": color, "children": "t"})
    assert f"color:{var}" in css


def test_text_colour_secondary_means_muted(tmp_path: Path) -> None:
    _, css = render(tmp_path, {"type": "Typography", "color": "secondary", "children": "t"})
    assert "color:var(--mb-text-secondary)" in css and "secondary-main" not in css


def test_headings_have_no_browser_margins() -> None:
    assert re.search(r"(^|\n|\})\.mb-text\{[^}]*margin:0", BASE)


def test_card_header_is_padded_and_its_title_is_no_tooltip(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "CardHeader", "title": "Users", "subheader": "all of them"})
    header = doc.xpath("//header")[0]
    assert header.get("title") is None and doc.xpath("//header//*[text()='Users']")
    assert re.search(r"\.mb-card-header\{[^}]*padding:16px", BASE)


def test_select_in_a_labelled_form_control_is_labelled_once(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "FormControl", "children": [
        {"type": "InputLabel", "children": "Role"},
        {"type": "Select", "label": "Role", "value": "a", "children": [{"type": "MenuItem", "value": "a",
                                                                      "children": "A"}]}]})
    select = doc.xpath("//select")[0]
    labels = doc.xpath(f"//label[@for='{select.get('id')}']")
    assert len(labels) == 1 and labels[0].text_content() == "Role"


def test_select_without_an_input_label_keeps_its_own(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "FormControl", "children": [{"type": "Select", "label": "Role"}]})
    select = doc.xpath("//select")[0]
    assert len(doc.xpath(f"//label[@for='{select.get('id')}']")) == 1


def test_tabs_without_a_value_show_the_first_panel_only(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "Box", "children": [
        {"type": "Tabs", "value": "{{state.tab}}", "children": [{"type": "Tab", "label": "One"},
                                                                {"type": "Tab", "label": "Two"}]},
        {"type": "TabPanel", "value": "{{state.tab}}", "index": 0, "children": "first"},
        {"type": "TabPanel", "value": "{{state.tab}}", "index": 1, "children": "second"}]})
    panels = doc.xpath("//section[@role='tabpanel']")
    assert ["mb-tab-panel--inactive" in p.get("class") for p in panels] == [False, True]
    assert [t.get("aria-selected") for t in doc.xpath("//a[@role='tab']")] == ["true", "false"]


def test_tabs_content_panels_follow_the_tabs_value_or_the_first(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "Tabs", "children": [
        {"type": "TabsList", "children": [{"type": "TabsTrigger", "value": "a", "children": "A"},
                                          {"type": "TabsTrigger", "value": "b", "children": "B"}]},
        {"type": "TabsContent", "value": "a", "children": "first"},
        {"type": "TabsContent", "value": "b", "children": "second"}]})
    panels = doc.xpath("//section[@role='tabpanel']")
    assert ["mb-tab-panel--inactive" in p.get("class") for p in panels] == [False, True]
    assert [t.get("aria-selected") for t in doc.xpath("//a[@role='tab']")] == ["true", "false"]


@pytest.mark.parametrize("node", [
    {"type": "TextField", "label": "Name"}, {"type": "TextField", "helperText": "h"}, {"type": "Input"},
    {"type": "Select", "label": "S"}, {"type": "Checkbox", "label": "C"}, {"type": "Switch", "label": "S"},
    {"type": "Radio", "label": "R"}, {"type": "Slider", "label": "S"}, {"type": "Textarea", "label": "T"},
    {"type": "ColorPicker", "label": "C"}], ids=lambda n: n["type"] + ("-label" if "label" in n else ""))
def test_an_id_prop_lands_on_the_control_only(tmp_path: Path, node: dict[str, Any]) -> None:
    doc, _ = render(tmp_path, {**node, "id": "the-id"})
    owners = doc.xpath("//*[@id='the-id']")
    assert len(owners) == 1 and owners[0].tag in ("input", "select", "textarea")


def test_selected_list_items_are_marked_current(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "List", "children": [
        {"type": "ListItem", "selected": True, "children": "plain"},
        {"type": "ListItemButton", "selected": True, "href": "/a", "children": "link"},
        {"type": "ListItemButton", "selected": True, "children": "button"},
        {"type": "ListItemButton", "children": "other"}]})
    marked = doc.xpath("//*[@aria-current]")
    assert [m.text_content() for m in marked] == ["plain", "link", "button"]


def test_circular_progress_is_a_round_progressbar(tmp_path: Path) -> None:
    doc, css = render(tmp_path, {"type": "CircularProgress", "value": 40, "variant": "determinate"})
    bar = doc.xpath("//*[@role='progressbar']")[0]
    assert bar.get("aria-valuenow") == "40" and "mb-progress--circular" in bar.get("class")
    assert re.search(r"\.mb-progress--circular\{[^}]*border-radius:50%", BASE)
    assert re.search(r"\.mb-progress--circular\{[^}]*width:40px;height:40px", BASE)


@pytest.mark.parametrize("spelling", [{"events": {"onClick": "navigateTo('/users')"}},
                                      {"onClick": "navigateTo('/users')"},
                                      {"events": {"onClick": "{{() => navigateTo('/users')}}"}}],
                         ids=["events", "prop", "arrow"])
def test_navigate_to_click_becomes_a_link(tmp_path: Path, spelling: dict[str, Any]) -> None:
    doc, _ = render(tmp_path, {"type": "Box", "children": [
        {"type": "Button", "children": "Users", **spelling},
        {"type": "Card", "children": "card", **spelling}]})
    links = doc.xpath("//a[@href='/users']")
    assert [a.text_content() for a in links] == ["Users", "card"]


def test_navigate_to_an_expression_path(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "Button", "children": "Go", "events": {"onClick": "navigateTo('/u/' + 7)"}})
    assert doc.xpath("//a[@href='/u/7']")


def test_events_dict_handlers_are_inert_markers(tmp_path: Path) -> None:
    doc, _ = render(tmp_path, {"type": "Button", "children": "Go", "events": {"onClick": "loadLogs"}})
    assert doc.xpath("//button[@data-action='click:loadLogs']")


@pytest.mark.parametrize("span", ["{{12 / 0}}", "{{0 / 0}}", "{{-1 / 0}}", 99, -3],
                         ids=["infinity", "nan", "minus-infinity", "too-wide", "negative"])
def test_grid_spans_out_of_range_are_clamped(tmp_path: Path, span: Any) -> None:
    _, css = render(tmp_path, {"type": "Grid", "container": True, "children": [
        {"type": "Grid", "item": True, "xs": span, "md": 6, "children": "c"}]})
    spans = [int(n) for n in re.findall(r"grid-column:span (\d+)", css)]
    assert spans and all(1 <= n <= 12 for n in spans)
