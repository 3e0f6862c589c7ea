"""Nothing broken is published silently: an unknown component type and a seed value that breaks its entity schema
are located warnings in `mbsite build` and errors in `mbsite check`."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support import copy_site

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.components import ComponentRenderer
from mbsite.config import load_config
from mbsite.context import PageScope
from mbsite.packages import load_packages
from mbsite.reporter import BufferReporter


def test_an_unknown_type_is_a_located_render_warning(tmp_path: Path) -> None:
    site = copy_site("broken", tmp_path / "site")
    renderer = ComponentRenderer(load_packages([site / "packages"], root=site))
    result = renderer.render_component("p", "panel", scope=PageScope())
    [warning] = [w for w in result.warnings if "GodsPanel" in w.message]
    assert warning.message == "unknown component type 'GodsPanel': rendered as an empty container"
    assert warning.location.file == "packages/p/components/ui.json"
    assert warning.location.pointer == "/components/0/render/template/children/1"
    assert warning.location.package == "p" and warning.location.node == "panel"


def test_build_warns_and_check_fails_with_locations(tmp_path: Path) -> None:
    site = copy_site("broken", tmp_path / "site")
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
