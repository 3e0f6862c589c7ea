"""Registry entries produce semantic, accessible HTML (checked with lxml, not string matching only)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from mbsite.components import ComponentRenderer
from mbsite.context import PageScope
from mbsite.packages import load_packages


def render(tmp_path: Path, template: Any, *, tenant: dict | None = None) -> Any:
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "x", "name": "X", "props": [], "render": {"type": "element", "template": template}}]}))
    result = ComponentRenderer(load_packages([tmp_path / "packages"])).render_component(
        "p", "x", None, scope=PageScope(tenant=tenant or {}))
    assert not result.unknown_types, result.unknown_types
    return lxml_html.fragment_fromstring(result.html, create_parent="div")


@pytest.mark.parametrize(("variant", "tag"), [("h1", "h1"), ("h4", "h4"), ("body1", "p"), ("caption", "span"),
                                              ("subtitle2", "p")], ids=["h1", "h4", "body1", "caption", "subtitle"])
def test_typography_variants(tmp_path: Path, variant: str, tag: str) -> None:
    doc = render(tmp_path, {"type": "Typography", "variant": variant, "children": "t"})
    assert doc.xpath(f"//{tag}[text()='t']")


def test_box_component_override_is_limited_to_safe_tags(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "component": "section", "children": [
        {"type": "Box", "component": "script", "children": "x"}]})
    assert doc.xpath("//section/div[text()='x']")


def test_buttons_and_links(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "children": [
        {"type": "Button", "href": "/go", "children": "Go"}, {"type": "Button", "inputType": "submit", "children": "Send"},
        {"type": "IconButton", "icon": "Delete"}, {"type": "Link", "href": "https://x.org", "target": "_blank",
                                                   "children": "ext"}]})
    assert doc.xpath("//a[@href='/go' and contains(@class,'mb-button')]")
    assert doc.xpath("//button[@type='submit' and text()='Send']")
    assert doc.xpath("//button[@aria-label='Delete']/svg")
    assert doc.xpath("//a[@href='https://x.org' and @rel='noopener noreferrer']")


def test_text_field_has_associated_label_and_help(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "TextField", "label": "Email", "inputType": "email", "name": "email",
                            "helperText": "We never share it", "required": True})
    inp = doc.xpath("//input")[0]
    assert inp.get("type") == "email" and inp.get("required") is not None
    assert doc.xpath(f"//label[@for='{inp.get('id')}' and text()='Email']")
    assert doc.xpath(f"//*[@id='{inp.get('aria-describedby')}' and text()='We never share it']")


def test_form_control_select_label(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "FormControl", "children": [
        {"type": "InputLabel", "children": "Role"},
        {"type": "Select", "value": "b", "name": "role", "children": [
            {"type": "MenuItem", "value": "a", "children": "A"}, {"type": "MenuItem", "value": "b", "children": "B"}]}]})
    select = doc.xpath("//select")[0]
    assert doc.xpath(f"//label[@for='{select.get('id')}']")
    assert [o.get("value") for o in select.xpath("option")] == ["a", "b"]
    assert select.xpath("option[@selected]")[0].text == "B"


def test_checkbox_switch_slider_labels(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "children": [
        {"type": "FormControlLabel", "label": "Remember", "control": {"type": "Checkbox", "checked": True}},
        {"type": "Switch", "label": "Dark"}, {"type": "Slider", "label": "Vol", "min": 0, "max": 10, "value": 3}]})
    assert doc.xpath("//label[span='Remember']/input[@type='checkbox' and @checked]")
    switch = doc.xpath("//input[@role='switch']")[0]
    assert doc.xpath(f"//label[@for='{switch.get('id')}']")
    slider = doc.xpath("//input[@type='range']")[0]
    assert slider.get("max") == "10" and doc.xpath(f"//label[@for='{slider.get('id')}']")


def test_form_posts_without_javascript(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "form", "entity": "contact", "children": [
        {"type": "TextField", "name": "msg", "label": "Message", "multiline": True}]}, tenant={"slug": "acme"})
    form = doc.xpath("//form")[0]
    assert form.get("method") == "post" and form.get("action") == "/api/v1/acme/p/contact"
    assert form.xpath(".//textarea[@name='msg']")


def test_table_head_cells_are_th(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "TableContainer", "children": {"type": "Table", "children": [
        {"type": "TableHead", "children": {"type": "TableRow", "children": [{"type": "TableCell", "children": "H"}]}},
        {"type": "TableBody", "children": {"type": "TableRow", "children": [{"type": "TableCell", "children": "D"}]}}]}})
    assert doc.xpath("//table/thead/tr/th[@scope='col' and text()='H']")
    assert doc.xpath("//table/tbody/tr/td[text()='D']")


def test_list_family(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "List", "children": [
        {"type": "ListItem", "children": [{"type": "ListItemIcon", "children": {"type": "Icon", "name": "Home"}},
                                          {"type": "ListItemText", "primary": "P", "secondary": "S"}]},
        {"type": "ListItemButton", "href": "/a", "children": "A"}]})
    assert doc.xpath("//ul/li//span[text()='P']") and doc.xpath("//ul/li/a[@href='/a']")


def test_tabs_work_without_javascript(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "children": [
        {"type": "Tabs", "value": 1, "children": [{"type": "Tab", "label": "One"}, {"type": "Tab", "label": "Two"}]},
        {"type": "TabPanel", "value": 1, "index": 0, "children": "first"},
        {"type": "TabPanel", "value": 1, "index": 1, "children": "second"}]})
    tabs = doc.xpath("//*[@role='tablist']/a[@role='tab']")
    assert [t.get("href") for t in tabs] == ["#mb-tab-0", "#mb-tab-1"]
    assert [t.get("aria-selected") for t in tabs] == ["false", "true"]
    assert doc.xpath("//section[@id='mb-tab-0' and @role='tabpanel']")


def test_disclosure_and_feedback(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "children": [
        {"type": "Accordion", "children": [{"type": "AccordionSummary", "children": "Q"},
                                           {"type": "AccordionDetails", "children": "A"}]},
        {"type": "Dialog", "open": False, "children": [{"type": "DialogTitle", "children": "T"}]},
        {"type": "Alert", "severity": "error", "children": "Bad"},
        {"type": "Breadcrumbs", "children": [{"type": "Link", "href": "/", "children": "Home"}, "Here"]},
        {"type": "Pagination", "count": 10, "page": 5},
        {"type": "LinearProgress", "variant": "determinate", "value": 40},
        {"type": "Skeleton", "variant": "text"}, {"type": "Badge", "badgeContent": 4, "children": "m"},
        {"type": "Chip", "label": "c"}, {"type": "Divider"}]})
    assert doc.xpath("//details/summary[text()='Q']")
    assert doc.xpath("//dialog[not(@open)]/h2[text()='T']")
    assert doc.xpath("//div[@role='alert' and contains(@class,'mb-alert--error')]")
    assert doc.xpath("//nav[@aria-label='Breadcrumb']/ol/li[last()][@aria-current='page']")
    assert doc.xpath("//nav[@aria-label='Pagination']//a[@aria-current='page' and text()='5']")
    assert doc.xpath("//progress[@value='40' and @max='100']")
    assert doc.xpath("//span[@aria-hidden='true' and contains(@class,'mb-skeleton')]")
    assert doc.xpath("//span[contains(@class,'mb-badge__content') and text()='4']")
    assert doc.xpath("//hr")


def test_icons_are_inline_svg(tmp_path: Path) -> None:
    doc = render(tmp_path, {"type": "Box", "children": [{"type": "Icon", "name": "CheckCircle"},
                                                        {"type": "Icon", "name": "NoSuchIcon"}]})
    known, unknown = doc.xpath("//svg")
    assert known.get("aria-hidden") == "true" and known.get("data-icon") == "checkcircle"
    assert unknown.get("aria-label") == "NoSuchIcon" and unknown.get("role") == "img"


def test_grid_and_stack_styles(tmp_path: Path) -> None:
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [{"id": "x", "name": "X", "render": {
        "template": {"type": "Grid", "container": True, "spacing": 2, "children": [
            {"type": "Grid", "item": True, "xs": 12, "md": 6, "children": {"type": "Stack", "direction": "row",
                                                                          "spacing": 1}}]}}}]}))
    result = ComponentRenderer(load_packages([tmp_path / "packages"])).render_component("p", "x", None, scope=PageScope())
    assert "display:grid;grid-template-columns:repeat(12, minmax(0, 1fr));gap:16px" in result.css
    assert "grid-column:span 12" in result.css and "@media (min-width:900px)" in result.css
    assert "display:flex;flex-direction:row;gap:8px" in result.css
