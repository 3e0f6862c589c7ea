"""The gallery shows components as their stories describe them, with their CSS, and reports broken packages."""
from __future__ import annotations

import json
from pathlib import Path

from mbsite.components import ComponentRenderer
from mbsite.gallery import gallery_page, render_all
from mbsite.packages import load_packages


def _package(tmp_path: Path) -> Path:
    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True)
    (root / "storybook").mkdir()
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "user_list", "name": "UserList", "props": [{"name": "users", "default": []}],
         "render": {"type": "element", "template": {"type": "Stack", "spacing": 2, "children": [
             {"type": "each", "items": "{{users}}", "render": {"type": "Text", "children": "{{item}}"}}]}}}]}))
    (root / "storybook" / "stories.json").write_text(json.dumps({"stories": [
        {"name": "UserList", "args": {"users": ["Ada", "Grace"]}}]}))
    return tmp_path / "packages"


def test_gallery_uses_story_args_as_props(tmp_path: Path) -> None:
    packages = load_packages([_package(tmp_path)])
    body, css = gallery_page(packages.get("p"), ComponentRenderer(packages))
    assert "Ada" in body and "Grace" in body
    assert "display:flex" in css


def test_render_all_rows_carry_css_and_story_props(tmp_path: Path) -> None:
    rows = list(render_all([_package(tmp_path)]))
    assert rows[0]["css"] and "display:flex" in rows[0]["css"]
    assert "Grace" in rows[0]["html"]


def test_render_all_reports_a_package_that_failed_to_load(tmp_path: Path) -> None:
    packages = _package(tmp_path)
    broken = packages / "broken"
    broken.mkdir()
    (broken / "package.json").write_text("{ not json")
    rows = list(render_all([packages]))
    problems = [r for r in rows if not r["ok"] and r["component"] is None]
    assert problems and any("broken" in (r["error"] or "") or "package.json" in (r["error"] or "") for r in problems)
