"""Every component of every upstream package renders: no crash, no `{{`, no control names as tags,
parseable HTML. Also snapshot tests of a handful of real components (MBSITE_UPDATE_SNAPSHOTS=1 rewrites)."""
from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import html as lxml_html

from mbsite.components import ComponentRenderer
from mbsite.components.compiler import CONTROL_TYPES
from mbsite.context import PageScope
from mbsite.gallery import gallery_page_html, render_all, render_one
from mbsite.packages import PackageSet, load_packages

REPO = Path(__file__).resolve().parent.parent
UPSTREAM = Path(os.environ.get("MBSITE_UPSTREAM") or REPO.parent / "shared" / "upstream")
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
pytestmark = pytest.mark.skipif(not (UPSTREAM / "packages").is_dir(),
                                reason=f"upstream fixtures not found at {UPSTREAM} (set MBSITE_UPSTREAM)")
_CONTROL_TAG = re.compile(r"<\s*(%s)[\s>/]" % "|".join(sorted(map(re.escape, CONTROL_TYPES))), re.I)


@pytest.fixture(scope="module")
def packages() -> PackageSet:
    return load_packages([UPSTREAM / "packages"], root=UPSTREAM)


def test_every_upstream_component_renders(packages: PackageSet, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(render_all(packages))
    # Packages that failed to load are rows of their own (component None), so they never vanish silently.
    load_problems = [row for row in rows if row["component"] is None]
    assert {row["package"] for row in load_problems} >= {"nerd_mode_ide"}
    assert all(not row["ok"] and row["error"] for row in load_problems)
    rows = [row for row in rows if row["component"] is not None]
    assert len(rows) >= 200
    unknown: Counter[str] = Counter()
    for row in rows:
        where = f"{row['package']}:{row['component']}"
        assert row["ok"], f"{where}: {row['error']}"
        html = row["html"]
        assert "{{" not in html, where
        assert not _CONTROL_TAG.search(html), f"{where}: control node printed as a tag"
        assert "[object Object]" not in html, where
        if html:
            root = lxml_html.fragment_fromstring(html, create_parent="div")
            assert not root.xpath("//*[starts-with(name(), 'each') or name()='conditional']"), where
        unknown.update(row["unknown_types"])
    with capsys.disabled():
        report = ", ".join(f"{t}×{n}" for t, n in unknown.most_common())
        print(f"\n[upstream] {len(rows)} components rendered; unknown types: {report or 'none'}")
    # Unknown custom widgets exist upstream (FORMAT §3.7), but mapped primitives must not fall through.
    assert not {"Box", "Text", "Typography", "Button", "Card", "Grid", "Stack", "Icon"} & set(unknown)


def test_broken_upstream_packages_still_load_their_metadata(packages: PackageSet) -> None:
    for pid in ("user_manager", "nerd_mode_ide"):
        pkg = packages.get(pid)
        assert pkg is not None and pkg.components == []
        assert any(p.severity == "error" and p.location.line for p in pkg.problems)


def test_duplicate_type_keys_render_as_input_types(packages: PackageSet) -> None:
    result = ComponentRenderer(packages).render_component("ui_login", "login_form", None, scope=PageScope(level=1))
    assert 'type="password"' in result.html and 'type="submit"' in result.html
    assert "<email" not in result.html and 'data-mb-type="email"' not in result.html


def test_home_page_resolves_all_refs(packages: PackageSet) -> None:
    result = render_one(UPSTREAM / "packages", "ui_home:home_page", None, 0)
    assert not result.warnings and not result.unknown_types
    assert result.html.count("data-mb-missing") == 0 and "<section" in result.html


def test_gallery_page(packages: PackageSet) -> None:
    body = gallery_page_html(packages.get("ui_home"), ComponentRenderer(packages))
    lxml_html.fragment_fromstring(body, create_parent="div")
    assert 'id="hero_section"' in body and "ui_home:home_page" in body


SNAPSHOT_CASES = [
    ("ui_home", "hero_section"), ("ui_login", "login_form"), ("data_table", "data_grid"),
    ("audit_log", "audit_stats_cards"), ("form_builder", "contact_form"), ("component_editor", "component_tree"),
    ("dashboard", "stat_card"),
]


@pytest.mark.parametrize(("pkg", "comp"), SNAPSHOT_CASES, ids=[f"{p}-{c}" for p, c in SNAPSHOT_CASES])
def test_snapshot(packages: PackageSet, pkg: str, comp: str) -> None:
    if packages.get(pkg) is None or packages.get(pkg).find_component(comp) is None:
        pytest.skip(f"{pkg}:{comp} not in the fixtures")
    result = ComponentRenderer(packages).render_component(pkg, comp, None, scope=PageScope(level=5, role="supergod"))
    assert result.html, f"{pkg}:{comp} rendered nothing"
    text = _pretty(result.html) + "\n/* css */\n" + result.css + "\n"
    path = SNAPSHOTS / f"{pkg}__{comp}.html"
    if os.environ.get("MBSITE_UPDATE_SNAPSHOTS") or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"snapshot differs; MBSITE_UPDATE_SNAPSHOTS=1 rewrites {path.name}"


def _pretty(html: str) -> str:
    return re.sub(r"(<(?!/)(?:div|section|header|article|ul|li|table|tr|form|nav)\b)", r"\n\1", html).strip()
