"""Node semantics: props, control nodes, references, level gating, recording, styling."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from mbsite.components import ComponentRenderer, RenderResult, tokens_css
from mbsite.context import PageScope, Recorder
from mbsite.errors import RenderError
from mbsite.packages import load_packages


def site(tmp_path: Path, components: list[dict], *, pid: str = "p", extra: dict | None = None,
         **meta: Any) -> ComponentRenderer:
    root = tmp_path / "packages"
    (root / pid / "components").mkdir(parents=True, exist_ok=True)
    (root / pid / "package.json").write_text(json.dumps({"packageId": pid, "name": pid, "version": "1.0.0",
                                                         "description": "", **meta}))
    (root / pid / "components" / "ui.json").write_text(json.dumps({"components": components}))
    for rel, data in (extra or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data))
    return ComponentRenderer(load_packages([root], root=tmp_path))


def c(cid: str, template: Any, props: list | None = None, **extra: Any) -> dict:
    return {"id": cid, "name": "".join(p.title() for p in cid.split("_")), "props": props or [],
            "render": {"type": "element", "template": template}, **extra}


def render(r: ComponentRenderer, ref: str, props: dict | None = None, *, level: int = 0, pkg: str = "p",
           scope: PageScope | None = None, recorder: Recorder | None = None) -> RenderResult:
    result = r.render_component(pkg, ref, props, scope=scope or PageScope(level=level), recorder=recorder)
    lxml_html.fragment_fromstring(result.html or "<div></div>", create_parent="div")
    return result


def test_inline_props_merge_with_props_bag_and_defaults(tmp_path: Path) -> None:
    r = site(tmp_path, [c("hero", {"type": "Text", "variant": "h1", "className": "a", "props": {"className": "b"},
                                   "children": "{{title}} / {{props.sub}}"},
                          props=[{"name": "title", "default": "Hello"}, {"name": "sub", "default": "S"}])])
    out = render(r, "hero").html
    assert "<h1" in out and 'class="mb-text mb-text--h1 b"' in out and "Hello / S" in out
    assert "Bye" in render(r, "hero", {"title": "Bye"}).html


def test_page_props_are_evaluated_against_the_page_scope(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Text", "children": "{{who}}"})])
    out = render(r, "x", {"who": "{{tenant.name}}"}, scope=PageScope(tenant={"name": "Acme"})).html
    assert "Acme" in out


@pytest.mark.parametrize("children", ["hi", ["hi"], {"type": "Text", "children": "hi"}],
                         ids=["string", "list", "single-node"])
def test_children_shapes(tmp_path: Path, children: Any) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": children})])
    assert "hi" in render(r, "x").html


def test_node_valued_props_render_as_nodes(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Button", "startIcon": {"type": "Icon", "name": "Add"}, "children": "Go",
                                "onClick": "{{() => onAction(item)}}"})])
    out = render(r, "x").html
    assert "<svg" in out and 'data-icon="add"' in out and "[object" not in out
    assert 'data-action="click:onAction"' in out and "onclick" not in out.lower()


@pytest.mark.parametrize(("cond", "expected"), [(True, "yes"), (False, "no"), ("{{flag}}", "yes"),
                                                 ("{{!flag}}", "no")], ids=["true", "false", "expr", "negated"])
def test_conditional(tmp_path: Path, cond: Any, expected: str) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": [
        {"type": "conditional", "condition": cond, "then": {"type": "Text", "children": "yes"},
         "else": "no"}]}, props=[{"name": "flag", "default": True}])])
    out = render(r, "x").html
    assert expected in out and ({"yes", "no"} - {expected}).pop() not in out


def test_conditional_without_else_and_conditional_render(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": [
        {"type": "conditional", "condition": "{{0}}", "then": "A"},
        {"type": "ConditionalRender", "props": {"condition": "{{[]}}"}, "children": ["B"]}]})])
    out = render(r, "x").html
    assert ">A<" not in out
    assert ">B<" in out  # [] is truthy in JavaScript


LOOPS = [
    ({"type": "each", "items": "{{rows}}", "as": "row", "index": "i", "render": {"type": "Text", "children": "{{i}}:{{row.n}}"}}, "each"),
    ({"type": "loop", "items": "{{rows}}", "iterator": "row", "template": {"type": "Text", "children": "{{index}}:{{row.n}}"}}, "loop"),
    ({"type": "loop", "source": "{{rows}}", "render": {"type": "Text", "children": "{{index}}:{{item.n}}"}, "key": "n"}, "loop-source"),
    ({"type": "map", "items": "{{rows}}", "template": {"type": "Text", "children": "{{index}}:{{item.n}}"}}, "map"),
    ({"type": "repeat", "items": "{{rows}}", "template": {"type": "Text", "children": "{{index}}:{{item.n}}"}}, "repeat"),
    ({"type": "iterate", "over": "{{rows}}", "as": "row", "render": {"type": "Text", "children": "{{index}}:{{row.n}}"}}, "iterate"),
    ({"type": "iterator", "items": "{{rows}}", "itemTemplate": {"type": "Text", "children": "{{index}}:{{item.n}}"}}, "iterator"),
    ({"type": "for_each", "items": "{{rows}}", "as": "row", "render": {"type": "Text", "children": "{{index}}:{{row.n}}"}}, "for_each"),
]


@pytest.mark.parametrize("loop", [x[0] for x in LOOPS], ids=[x[1] for x in LOOPS])
def test_every_loop_spelling(tmp_path: Path, loop: dict) -> None:
    r = site(tmp_path, [c("x", {"type": "List", "children": [loop]},
                          props=[{"name": "rows", "default": [{"n": "a"}, {"n": "b"}]}])])
    result = render(r, "x")
    assert ">0:a<" in result.html and ">1:b<" in result.html
    assert f"<{loop['type']}" not in result.html and not result.warnings


REFS = [
    ({"$ref": "card"}, "dollar-ref"),
    ({"type": "ComponentRef", "ref": "card", "props": {"label": "L"}}, "component-ref"),
    ({"type": "ComponentRef", "props": {"ref": "card", "label": "L"}}, "component-ref-props-ref"),
    ({"type": "component", "ref": "card", "props": {"label": "L"}}, "component-ref-lowercase"),
    ({"type": "component", "name": "Card", "props": {"label": "L"}}, "component-name"),
    ({"type": "ComponentRef", "ref": "card", "bindLabel": "{{'L'}}"}, "bind-props"),
    ({"type": "ComponentRef", "ref": "card", "label": "L"}, "inline-props"),
    ({"type": "component", "ref": "card", "label": "{{'L'}}"}, "inline-props-lowercase"),
    ({"type": "component", "name": "Card", "label": "L"}, "inline-props-with-name"),
    ({"type": "ComponentRef", "ref": "card", "label": "X", "props": {"label": "L"}}, "props-bag-wins"),
]


@pytest.mark.parametrize("ref", [x[0] for x in REFS], ids=[x[1] for x in REFS])
def test_every_reference_spelling(tmp_path: Path, ref: dict) -> None:
    r = site(tmp_path, [c("page", {"type": "Box", "children": [ref]}, props=[{"name": "label", "default": "L"}]),
                        c("card", {"type": "Text", "children": "card {{label}}"}, props=[{"name": "label", "default": "D"}])])
    result = render(r, "page")
    assert "card L" in result.html and not result.warnings


def test_cross_package_reference(tmp_path: Path) -> None:
    r = site(tmp_path, [c("page", {"type": "ComponentRef", "ref": "lib.Widget", "props": {"v": "1"}})],
             extra={"lib/package.json": {"packageId": "lib", "name": "lib", "version": "1.0.0"},
                    "lib/components/ui.json": {"components": [c("widget", {"type": "Text", "children": "w{{v}}"})]}})
    out = render(r, "page").html
    assert "w1" in out and 'data-mb-package="lib"' in out


def test_render_component_and_fragment(tmp_path: Path) -> None:
    tree = {"type": "Chip", "label": "from data"}
    r = site(tmp_path, [c("x", {"type": "Fragment", "children": [{"type": "RenderComponent", "component": "{{tree}}"}]},
                          props=[{"name": "tree", "default": tree}])])
    out = render(r, "x").html
    assert "from data" in out and "<Fragment" not in out and "<RenderComponent" not in out


def test_missing_reference_placeholder_and_warning(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": [{"type": "ComponentRef", "ref": "nope"}]})])
    result = render(r, "x")
    assert 'data-mb-missing="nope"' in result.html and "Component missing: nope" in result.html
    assert any("'nope' not found" in w.message and w.location.pointer for w in result.warnings)


def test_reference_cycle_is_an_error(tmp_path: Path) -> None:
    r = site(tmp_path, [c("a", {"type": "Box", "children": [{"$ref": "b"}]}),
                        c("b", {"type": "Box", "children": [{"$ref": "a"}]})])
    with pytest.raises(RenderError, match="component reference cycle: p:a → p:b → p:a"):
        render(r, "a")


def test_recursion_stops_at_depth_limit(tmp_path: Path) -> None:
    r = site(tmp_path, [c("a", {"type": "Box", "children": [{"type": "ComponentRef", "ref": "a",
                                                             "props": {"n": "{{n + 1}}"}}]},
                          props=[{"name": "n", "default": 0}])])
    result = render(r, "a")
    assert "too deep" in result.html and any("deeper than 24" in w.message for w in result.warnings)


def test_unknown_types_are_wrapped_and_counted(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": [{"type": "GodsPanel", "children": ["inner"]},
                                                           {"type": "GodsPanel"}]})])
    result = render(r, "x")
    assert '<div class="mb-unknown" data-mb-type="GodsPanel">inner</div>' in result.html
    assert result.unknown_types["GodsPanel"] == 2


def test_custom_type_naming_a_package_component(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "StatCard", "title": "T"}),
                        c("stat_card", {"type": "Text", "children": "stat {{title}}"})])
    result = render(r, "x")
    assert "stat T" in result.html and not result.unknown_types


def test_level_gating_and_recorder(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "children": [{"type": "Text", "minLevel": 3, "children": "admin"},
                                                           "public"]})])
    rec = Recorder()
    low = render(r, "x", level=0, recorder=rec)
    assert "admin" not in low.html and "public" in low.html and rec.level_sensitive
    assert "admin" in render(r, "x", level=3).html
    assert "component:p:x" in rec.inputs and "file:packages/p/components/ui.json" in rec.inputs
    assert "file:packages/p/package.json" in rec.inputs


def test_reading_the_viewer_marks_level_sensitive(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Text", "children": "{{user ? user.username : 'guest'}}"}),
                        c("y", {"type": "Text", "children": "static"})])
    rec = Recorder()
    assert "guest" in render(r, "x", recorder=rec).html and rec.level_sensitive
    rec2 = Recorder()
    render(r, "y", recorder=rec2)
    assert not rec2.level_sensitive


def test_package_min_level_renders_nothing_below(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Text", "children": "secret"})], minLevel=4)
    low = render(r, "x", level=1)
    assert "secret" not in low.html and low.warnings
    assert "secret" in render(r, "x", level=4).html


def test_sx_becomes_classes_with_media_queries_and_tokens(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Box", "sx": {"py": {"xs": 2, "md": 4}, "color": "text.secondary",
                                                      "&:hover": {"bgcolor": "primary.main"}},
                                "style": {"marginTop": 8}})])
    result = render(r, "x")
    cls = result.html.split('class="mb-box ')[1].split('"')[0]
    assert f".{cls}{{padding-top:16px;padding-bottom:16px;color:var(--mb-text-secondary);margin-top:8px}}" in result.css
    assert f"@media (min-width:900px){{.{cls}{{padding-top:32px;padding-bottom:32px}}}}" in result.css
    assert f".{cls}:hover{{background-color:var(--mb-primary-main)}}" in result.css
    assert "style=" not in result.html


def test_tokens_css_scopes_package_tokens(tmp_path: Path) -> None:
    r = site(tmp_path, [], extra={"p/styles/tokens.json": {"colors": {"primary": "#123456", "bad": "red;}</style>"},
                                                          "spacing": {"cardPadding": "24px"}}})
    css = tokens_css(r.packages)
    assert ":root{--mb-primary-main:#1976d2" in css
    assert '[data-mb-package="p"]{' in css and "--mb-primary-main:#123456" in css and "--color-primary:#123456" in css
    assert "--mb-spacing-card-padding:24px" in css and "</style" not in css


def test_compiled_form_is_cached_between_renders(tmp_path: Path) -> None:
    r = site(tmp_path, [c("x", {"type": "Text", "children": "{{a}}"})])
    render(r, "x")
    first = r.compiled(r.packages.get("p").find_component("x"))
    render(r, "x")
    assert r.compiled(r.packages.get("p").find_component("x")) is first


def test_theme_template_overrides_a_type(tmp_path: Path) -> None:
    import jinja2
    env = jinja2.Environment(autoescape=True)
    tpl = env.from_string('<mark class="{{ props.variant }}">{{ children }}</mark>')
    r = site(tmp_path, [c("x", {"type": "Chip", "variant": "v", "children": ["<b>"]})])
    r.type_template = lambda t: tpl if t == "Chip" else None
    assert '<mark class="v">&lt;b&gt;</mark>' in render(r, "x").html


def test_render_tree_inline(tmp_path: Path) -> None:
    r = site(tmp_path, [c("card", {"type": "Text", "children": "card"})])
    result = r.render_tree("p", {"type": "Box", "children": [{"$ref": "card"}, "{{path}}"]}, scope=PageScope(path="/x"))
    assert "card" in result.html and "/x" in result.html
