"""A site made of every upstream package (the fixtures folder): it builds, reports the broken files, resolves
routes the way the data intends, and leaves no template syntax or control-node tags in the output."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mbsite.builder import Builder
from mbsite.config import load_config

CONTROL_TAGS = {"each", "loop", "map", "repeat", "iterate", "iterator", "for_each", "conditional", "componentref",
                "fragment", "renderComponent".lower()}


@pytest.fixture(scope="module")
def upstream_site(upstream: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    site = tmp_path_factory.mktemp("upstream")
    shutil.copytree(upstream / "packages", site / "packages")
    ids = sorted(d.name for d in (site / "packages").iterdir() if (d / "package.json").is_file())
    (site / "content/seed").mkdir(parents=True)
    docs = [{"entity": "Tenant", "records": [{"slug": "up", "name": "Upstream"}]},
            {"entity": "InstalledPackage", "records": [{"tenant": "up", "package": p, "sortOrder": i}
                                                       for i, p in enumerate(ids)]}]
    (site / "content/seed/site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))
    result = Builder(load_config(site)).run()
    return site, result


def test_broken_files_are_errors_with_positions_and_the_rest_builds(upstream_site) -> None:
    site, result = upstream_site
    errors = sorted(str(p) for p in result.problems if p.severity == "error")
    assert errors == [
        "packages/nerd_mode_ide/components/ui.json:510:15: invalid JSON: Expecting ',' delimiter (its contents are skipped)",
        "packages/user_manager/components/ui.json:433:5: invalid JSON: Expecting ',' delimiter (its contents are skipped)",
    ]
    manifest = json.loads((site / "build/up/routes.json").read_text())
    assert result.summary["pages"] == len(manifest["pages"]) > 20
    assert (site / "build/up/public/index.html").is_file()
    assert "/login" in manifest["pages"]  # ui_auth's and ui_login's rows name missing components: ui_pages wins


def test_unresolvable_routes_fall_through_with_a_warning(upstream_site) -> None:
    _site, result = upstream_site
    text = "\n".join(str(p) for p in result.problems)
    assert "route /login of tenant up (packages/ui_auth/page-config/page-config.json#/0): component 'login_form' " \
           "not found in package ui_auth; skipped" in text
    assert "/admin/database/[entity]/[id] has parameter(s) entity, id with no 'expand' rule" in text


def test_output_has_no_template_syntax_or_control_tags(upstream_site) -> None:
    site, _ = upstream_site
    pages = list((site / "build").rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        raw = page.read_bytes()
        doc = lxml_html.fromstring(raw)
        assert "{{" not in doc.text_content(), page
        assert b"{{" not in raw, page
        tags = {el.tag.lower() for el in doc.iter() if isinstance(el.tag, str)}
        assert not tags & CONTROL_TAGS, (page, tags & CONTROL_TAGS)
