"""Nothing broken is published silently: an unknown component type and a seed value that breaks its entity schema
are located warnings in `mbsite build` and errors in `mbsite check`."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.components import ComponentRenderer
from mbsite.config import load_config
from mbsite.context import PageScope
from mbsite.packages import load_packages
from mbsite.reporter import BufferReporter

PANEL = {"components": [{"id": "panel", "name": "Panel", "render": {"type": "element", "template": {
    "type": "Box", "children": [{"type": "Text", "children": "ok"}, {"type": "GodsPanel", "children": ["inner"]}]}}}]}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_an_unknown_type_is_a_located_render_warning(tmp_path: Path) -> None:
    write(tmp_path, {"packages/p/package.json": json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}),
                     "packages/p/components/ui.json": json.dumps(PANEL)})
    renderer = ComponentRenderer(load_packages([tmp_path / "packages"], root=tmp_path))
    result = renderer.render_component("p", "panel", scope=PageScope())
    [warning] = [w for w in result.warnings if "GodsPanel" in w.message]
    assert warning.message == "unknown component type 'GodsPanel': rendered as an empty container"
    assert warning.location.file == "packages/p/components/ui.json"
    assert warning.location.pointer == "/components/0/render/template/children/1"
    assert warning.location.package == "p" and warning.location.node == "panel"


SITE = {
    "packages/p/package.json": json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}),
    "packages/p/components/ui.json": json.dumps(PANEL),
    "content/seed/site.yaml": (
        "entity: Tenant\nrecords:\n  - {slug: t, name: T}\n"
        "---\nentity: InstalledPackage\nrecords:\n  - {tenant: t, package: p}\n  - {tenant: t, package: shop}\n"
        "---\nentity: PageConfig\nrecords:\n  - {tenant: t, path: /panel, title: Panel, packageId: p, component: panel}\n"
        "---\nentity: Record\nrecords:\n"
        "  - {tenant: t, package: shop, entity: product, id: good, data: {name: Pen, price: 2.5}}\n"
        "  - {tenant: t, package: shop, entity: product, id: bad, data: {name: Cup, price: not a number}}\n"),
    "content/pages/about.md": "---\ntitle: About\n---\nHi\n",
}


def test_build_warns_and_check_fails_with_locations(tmp_path: Path) -> None:
    site = write(tmp_path / "site", SITE)
    result = Builder(load_config(site), BufferReporter()).run()
    warnings = {str(p) for p in result.problems if p.severity == "warning"}
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    assert any("packages/p/components/ui.json" in w and "unknown component type 'GodsPanel'" in w for w in warnings), warnings
    assert "content/seed/site.yaml:17 at /records/1/data/price: shop.product 'bad': must be a number" in warnings, warnings

    checked = CliRunner().invoke(main, ["check", "--site", str(site)])
    assert checked.exit_code == 1, checked.output
    assert "unknown component type 'GodsPanel'" in checked.output and "packages/p/components/ui.json" in checked.output
    assert "content/seed/site.yaml:17 at /records/1/data/price: shop.product 'bad': must be a number" in checked.output

    again = Builder(load_config(site), BufferReporter()).run()  # the seed's rows are reported by the build that seeds
    assert not any("must be a number" in str(p) for p in again.problems)
