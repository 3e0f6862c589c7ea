"""Node spellings: `{"ref": "Name"}` with no type renders the component; a node with no type is a located warning."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mbsite.components import ComponentRenderer, RenderResult
from mbsite.context import PageScope
from mbsite.packages import load_packages


def render(tmp_path: Path, components: list[dict[str, Any]], ref: str = "main") -> RenderResult:
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": components}))
    return ComponentRenderer(load_packages([tmp_path / "packages"])).render_component(
        "p", ref, None, scope=PageScope())


def comp(cid: str, template: Any, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "render": {"type": "element", "template": template}, **extra}


def test_a_typeless_ref_node_renders_the_referenced_component(tmp_path: Path) -> None:
    result = render(tmp_path, [
        comp("main", {"type": "Box", "children": [{"ref": "Header"}, {"ref": "Greeting", "props": {"who": "Ada"}}]}),
        comp("Header", {"type": "Text", "children": "The header"}),
        comp("Greeting", {"type": "Text", "children": "Hello {{who}}"})])
    assert "The header" in result.html and "Hello Ada" in result.html
    assert not result.warnings


def test_a_typeless_ref_to_a_missing_component_is_a_visible_warning(tmp_path: Path) -> None:
    result = render(tmp_path, [comp("main", {"type": "Box", "children": [{"ref": "Nope"}]})])
    assert 'data-mb-missing="Nope"' in result.html
    assert any("Nope" in w.message for w in result.warnings)


def test_a_node_without_a_type_is_a_located_warning(tmp_path: Path) -> None:
    result = render(tmp_path, [comp("main", {"type": "Box", "children": [{"props": {"label": "x"}}]})])
    found = [w for w in result.warnings if "no `type`" in w.message]
    assert found and found[0].location.pointer and found[0].location.pointer.endswith("/children/0")


def test_children_that_are_data_objects_print_nothing(tmp_path: Path) -> None:
    result = render(tmp_path, [comp("main", {"type": "Box", "children": "{{rows}}"},
                                    props=[{"name": "rows", "default": [{"label": "a"}, {"label": "b"}]}])])
    assert "[object Object]" not in result.html
    assert any("data objects" in w.message for w in result.warnings)
