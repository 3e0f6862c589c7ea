"""Package loading: tolerant of upstream quirks, precise about where problems are."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mbsite import jsonload
from mbsite.errors import DataError, PackageError
from mbsite.packages import load_packages

REPO = Path(__file__).resolve().parent.parent
UPSTREAM = Path(os.environ.get("MBSITE_UPSTREAM") or REPO.parent / "shared" / "upstream")
needs_upstream = pytest.mark.skipif(not (UPSTREAM / "packages").is_dir(),
                                    reason=f"upstream fixtures not found at {UPSTREAM} (set MBSITE_UPSTREAM)")


def write(root: Path, rel: str, data: Any) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def make_pkg(root: Path, pid: str, *, deps: Any = None, components: list | None = None, **meta: Any) -> Path:
    write(root, f"{pid}/package.json", {"packageId": pid, "name": pid.title(), "version": "1.0.0",
                                        "description": "d", "dependencies": deps or {}, **meta})
    if components is not None:
        write(root, f"{pid}/components/ui.json", {"components": components})
    return root / pid


def comp(cid: str, template: Any, **extra: Any) -> dict:
    return {"id": cid, "name": "".join(p.title() for p in cid.split("_")), "render": {"type": "element",
                                                                                      "template": template}, **extra}


def test_duplicate_type_keys_first_wins_later_is_input_type() -> None:
    value = jsonload.loads('{"type": "TextField", "label": "E", "type": "email", "children": [{"type": "Button", "type": "submit"}]}')
    assert value["type"] == "TextField" and value["inputType"] == "email"
    assert value["children"][0] == {"type": "Button", "inputType": "submit"}


def test_invalid_json_reports_line_and_column() -> None:
    with pytest.raises(DataError) as info:
        jsonload.loads('{\n  "a": 1\n  "b": 2\n}', source="x.json")
    assert (info.value.location.file, info.value.location.line, info.value.location.column) == ("x.json", 3, 3)
    assert str(info.value).startswith("x.json:3:3: invalid JSON")


def test_broken_package_components_are_skipped_rest_builds(tmp_path: Path) -> None:
    make_pkg(tmp_path, "good", components=[comp("a", {"type": "Box"})])
    make_pkg(tmp_path, "bad")
    write(tmp_path, "bad/components/ui.json", '{"components": [ {"id": "x"} {"id": "y"} ]}')
    pset = load_packages([tmp_path], root=tmp_path)
    assert len(pset) == 2
    assert pset.get("good").find_component("a") is not None
    assert pset.get("bad").components == []
    errors = [p for p in pset.problems if p.severity == "error"]
    assert len(errors) == 1 and str(errors[0]).startswith("bad/components/ui.json:1:")
    with pytest.raises(PackageError, match="invalid JSON"):
        load_packages([tmp_path], root=tmp_path, strict=True)


def test_dependency_order_missing_and_cycles(tmp_path: Path) -> None:
    make_pkg(tmp_path, "app", deps={"lib": "*", "ghost": "^1.0.0"})
    make_pkg(tmp_path, "lib", deps=["base"])
    make_pkg(tmp_path, "base")
    make_pkg(tmp_path, "c1", deps={"c2": "*"})
    make_pkg(tmp_path, "c2", deps={"c1": "*"})
    pset = load_packages([tmp_path])
    order = [p.id for p in pset.ordered()]
    assert order.index("base") < order.index("lib") < order.index("app")
    messages = [p.message for p in pset.problems]
    assert any("'ghost'" in m and "not installed" in m for m in messages)
    assert any("dependency cycle" in m and "c1" in m and "c2" in m for m in messages)


def test_earlier_dir_wins_and_non_packages_are_skipped(tmp_path: Path) -> None:
    site, builtin = tmp_path / "site", tmp_path / "builtin"
    make_pkg(site, "shared_pkg", description="site")
    make_pkg(builtin, "shared_pkg", description="builtin")
    write(builtin, "npm_app/package.json", {"name": "npm-app", "version": "1.0.0"})
    write(builtin, "examples/readme.json", {})
    write(builtin, "seeded/seed/metadata.json", {"packageId": "seeded", "version": "1.0.0", "dependencies": []})
    pset = load_packages([site, builtin])
    assert pset.get("shared_pkg").description == "site"
    assert "npm_app" not in pset and "examples" not in pset and "seeded" in pset
    assert set(pset.get("seeded").files) == {"builtin/seeded/seed/metadata.json"}


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (3, 3), (5, 5), (6, 5), ("admin", 3), (None, 0)],
                         ids=["zero", "three", "five", "six-clamped", "role-name", "absent"])
def test_min_level_is_clamped(tmp_path: Path, raw: Any, expected: int) -> None:
    extra = {"minLevel": raw} if raw is not None else {}
    make_pkg(tmp_path, "p", **extra)
    assert load_packages([tmp_path]).get("p").min_level == expected


def test_pages_from_all_sources_in_order(tmp_path: Path) -> None:
    make_pkg(tmp_path, "p", routes=[{"path": "/media", "component": "m", "title": "Media", "minLevel": 6}])
    write(tmp_path, "p/page-config/metadata.json", {"entity": "page-config"})
    write(tmp_path, "p/page-config/page-config.json", [{"id": "page_p_root", "path": "/", "title": "Home",
                                                        "component": "home", "level": 0, "requiresAuth": False,
                                                        "componentTree": '{"type": "Box"}'}])
    write(tmp_path, "p/components/ui.json", {"components": [], "pages": [
        {"id": "lvl", "path": "/lvl", "title": "L", "level": 1, "requireAuth": True, "layout": {"type": "Box"}}]})
    write(tmp_path, "p/seed/page-config.json", [{"path": "/admin/[id]", "title": "A", "component": "W",
                                                 "level": 3, "breadcrumbs": [{"label": "x", "href": "/"}]}])
    pages = load_packages([tmp_path], root=tmp_path).get("p").pages
    assert [pg.path for pg in pages] == ["/", "/media", "/lvl", "/admin/[id]"]
    root, media, lvl, admin = pages
    assert root.tree == {"type": "Box"} and root.source == "p/page-config/page-config.json#/0"
    assert media.level == 5 and media.requires_auth and media.component == "m"
    assert lvl.tree == {"type": "Box"} and lvl.requires_auth and lvl.level == 1
    assert admin.meta["breadcrumbs"][0]["label"] == "x" and admin.id.startswith("page_p_")


def test_component_lookup_and_home(tmp_path: Path) -> None:
    make_pkg(tmp_path, "p", components=[comp("first_one", {"type": "Box"}), comp("home_page", {"type": "Box"}),
                                        comp("first_one", {"type": "Text"})])
    pkg = load_packages([tmp_path]).get("p")
    assert pkg.home_component().id == "home_page"
    assert pkg.find_component("FirstOne").id == "first_one"
    assert len(pkg.components) == 2 and any("duplicate component id" in p.message for p in pkg.problems)


def test_schema_problems_are_warnings_with_pointers(tmp_path: Path) -> None:
    make_pkg(tmp_path, "p", components=[{"id": 5, "render": "nope"}])
    pset = load_packages([tmp_path])
    schema = [p for p in pset.problems if p.code == "schema"]
    assert schema and all(p.severity == "warning" and p.location.pointer for p in schema)


@needs_upstream
def test_upstream_packages_load() -> None:
    pset = load_packages([UPSTREAM / "packages"], root=UPSTREAM)
    assert "geocities-app" not in pset and "examples" not in pset and len(pset) >= 50
    errors = sorted(str(p) for p in pset.problems if p.severity == "error")
    assert errors == [
        "packages/nerd_mode_ide/components/ui.json:510:15: invalid JSON: Expecting ',' delimiter (its contents are skipped)",
        "packages/user_manager/components/ui.json:433:5: invalid JSON: Expecting ',' delimiter (its contents are skipped)",
    ]
    assert pset.get("ui_level6").min_level == 5
    login = pset.get("ui_login")
    assert all(c.template is not None for c in login.components)
    assert "packages/ui_home/components/ui.json" in pset.get("ui_home").files
