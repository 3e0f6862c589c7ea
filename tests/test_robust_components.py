"""Component trees that would never finish: reference cycles and exponential expansion are located errors, found
at once; unknown node types are reported, never published silently."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mbsite.components import ComponentRenderer
from mbsite.components import renderer as renderer_module
from mbsite.context import PageScope
from mbsite.errors import RenderError
from mbsite.packages import load_packages


def site(tmp_path: Path, components: list[dict], pid: str = "p") -> ComponentRenderer:
    root = tmp_path / "packages"
    (root / pid / "components").mkdir(parents=True, exist_ok=True)
    (root / pid / "package.json").write_text(json.dumps({"packageId": pid, "name": pid, "version": "1.0.0"}))
    (root / pid / "components" / "ui.json").write_text(json.dumps({"components": components}))
    return ComponentRenderer(load_packages([root], root=tmp_path))


def c(cid: str, template: dict, props: list | None = None) -> dict:
    return {"id": cid, "name": cid.title(), "props": props or [], "render": {"type": "element", "template": template}}


def two_way_cycle() -> list[dict]:
    return [c("a", {"type": "Box", "children": [{"type": "ComponentRef", "ref": "b"}, {"type": "ComponentRef", "ref": "b"}]}),
            c("b", {"type": "Box", "children": [{"$ref": "a"}, {"$ref": "a"}]})]


def test_a_reference_cycle_is_a_located_error(tmp_path: Path) -> None:
    r = site(tmp_path, two_way_cycle())
    with pytest.raises(RenderError) as info:
        r.render_component("p", "a", scope=PageScope())
    err = info.value
    assert err.message == "component reference cycle: p:a → p:b → p:a"
    assert err.location.file == "packages/p/components/ui.json"
    assert err.location.package == "p" and err.location.node == "b"
    assert err.location.pointer == "/components/1/render/template/children/0"


def test_recursion_with_new_props_each_time_is_allowed_while_it_ends(tmp_path: Path) -> None:
    countdown = c("down", {"type": "Box", "children": [
        {"type": "Text", "children": "{{n}}"},
        {"type": "conditional", "condition": "{{n > 0}}",
         "then": [{"type": "ComponentRef", "ref": "down", "props": {"n": "{{n - 1}}"}}]}]},
        props=[{"name": "n", "default": 3}])
    out = site(tmp_path, [countdown]).render_component("p", "down", scope=PageScope()).html
    assert [t for t in ("3", "2", "1", "0") if f">{t}<" in out] == ["3", "2", "1", "0"]


def test_exponential_expansion_stops_at_the_node_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each level references the next twice, with new props each time: no cycle, but 2**24 renders.
    monkeypatch.setattr(renderer_module, "MAX_RENDER_NODES", 5_000)
    grow = c("grow", {"type": "Box", "children": [
        {"type": "ComponentRef", "ref": "grow", "props": {"n": "{{n + 1}}"}},
        {"type": "ComponentRef", "ref": "grow", "props": {"n": "{{n + 2}}"}}]}, props=[{"name": "n", "default": 0}])
    r = site(tmp_path, [grow])
    with pytest.raises(RenderError) as info:
        r.render_component("p", "grow", scope=PageScope())
    assert "more than 5000 nodes" in info.value.message
    assert info.value.location.package == "p" and info.value.location.node == "grow"


def test_a_cycle_through_the_cli_fails_fast_and_keeps_the_other_pages(tmp_path: Path) -> None:
    site_dir = tmp_path / "site"
    pkg = site_dir / "packages" / "loop"
    (pkg / "components").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"packageId": "loop", "name": "Loop", "version": "1.0.0"}))
    (pkg / "components" / "ui.json").write_text(json.dumps({"components": two_way_cycle()}))
    seed = site_dir / "content" / "seed" / "site.yaml"
    seed.parent.mkdir(parents=True)
    seed.write_text("entity: Tenant\nrecords:\n  - {slug: t, name: T}\n---\nentity: InstalledPackage\nrecords:\n"
                    "  - {tenant: t, package: loop}\n---\nentity: PageConfig\nrecords:\n"
                    "  - {tenant: t, path: /loop, title: Loop, packageId: loop, component: a}\n")
    (site_dir / "content" / "pages").mkdir()
    (site_dir / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nHi\n")
    proc = subprocess.run([sys.executable, "-c", "from mbsite.cli import main; main()", "build", "--site", str(site_dir),
                           "--workers", "1"], capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output[-2000:]
    assert "packages/loop/components/ui.json" in output and "component reference cycle: loop:a → loop:b → loop:a" in output
    assert "Traceback" not in output
    assert (site_dir / "build" / "t" / "public" / "about" / "index.html").is_file()
