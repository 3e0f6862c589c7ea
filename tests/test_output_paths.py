"""Nothing escapes its page, its tenant or the output folder: names from rows, records and files are checked in
one place (mbsite.paths), and symlinks reach only inside the site."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from support import output_tree

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.paths import PathError, SymlinkError, checked_rel, page_file, record_id_problem, route_path
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent


def build(site: Path, **opts: object):
    cfg = load_config(site).with_options(workers=1, **opts)
    return Builder(cfg, BufferReporter()).run()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but symbolic links (never read through), staging folders and the build's marker."""
    return output_tree(folder, links=False)




@pytest.fixture
def demo(tmp_path: Path, built_demo: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    return site


def sql(site: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as conn:
        conn.execute(statement, args)


@pytest.mark.parametrize("raw", ["/..", "/a/../b", "/.", "/x/./y", "/../../globex/public", "/../../../../x",
                                 "/a\x00b", "/tab\there", "/back\\slash", "/" + "x" * 300],
                         ids=["dotdot", "inner-dotdot", "dot", "inner-dot", "other-tenant", "outside", "nul", "tab",
                              "backslash", "too-long"])
def test_route_path_refuses_segments_that_climb_or_hide(raw: str) -> None:
    with pytest.raises(PathError):
        route_path(raw)


@pytest.mark.parametrize("raw,canonical", [("/", "/"), ("", "/"), ("a/b/", "/a/b"), ("//a//b", "/a/b"),
                                           ("/...", "/..."), ("/.well-known", "/.well-known"), ("/ü", "/ü")])
def test_route_path_keeps_ordinary_paths(raw: str, canonical: str) -> None:
    assert route_path(raw) == canonical


@pytest.mark.parametrize("rel", ["../x/index.html", "acme/../globex/public/index.html", "/etc/passwd",
                                 "acme/public/./index.html", "acme", "../../x", "acme//x"])
def test_every_output_file_stays_in_a_tenant_folder(rel: str) -> None:
    with pytest.raises(PathError):
        checked_rel(rel)


def test_page_file_refuses_a_path_that_climbs() -> None:
    assert page_file("acme", "/a/b", 2) == "acme/private/2/a/b/index.html"
    with pytest.raises(PathError):
        page_file("acme", "/../../globex/public", 0)
    with pytest.raises(PathError):
        page_file("..", "/x", 0)


@pytest.mark.parametrize("rid", ["..", ".", "...", "", "a/b", "a\x00", "x" * 65])
def test_record_ids_that_cannot_be_a_path_segment_are_refused(rid: str) -> None:
    assert record_id_problem(rid) is not None


def test_a_record_id_of_dotdot_does_not_replace_the_home_page(demo: Path) -> None:
    before = snapshot(demo / "build" / "acme")
    home = before["public/index.html"]
    doc = {"id": "..", "name": "Defaced", "price": 1, "status": "active", "category": "x", "createdAt": "2024-01-01"}
    sql(demo, "INSERT INTO entity_records (tenant, package, entity, id, data, version, created_at, updated_at) "
        "VALUES ('acme', 'shop', 'product', '..', ?, 1, 0, 0)", json.dumps(doc))
    result = build(demo)
    assert (demo / "build" / "acme" / "public" / "index.html").read_bytes() == home
    # No page for it anywhere (a listing shows it, so the search index, whose file names are content hashes, changes).
    assert {f for f in snapshot(demo / "build" / "acme") if "pagefind/" not in f} == \
        {f for f in before if "pagefind/" not in f}
    assert any(p.code == "path" and "'..'" in p.message for p in result.problems)


@pytest.mark.parametrize("path", ["/../../globex/public", "/../../../../x", "/a/../../../globex"],
                         ids=["other-tenant", "outside-build", "climb"])
def test_a_page_config_path_cannot_reach_another_tenant_or_leave_the_output(demo: Path, path: str) -> None:
    globex = snapshot(demo / "build" / "globex")
    outside = snapshot(demo)
    tree = json.dumps({"type": "Typography", "props": {"text": "PWNED"}})
    sql(demo, "INSERT INTO page_configs (id, tenant, path, title, component_tree, level, requires_auth, published, "
        "sort_order, created_at, updated_at) VALUES ('evil', 'acme', ?, 'Evil', ?, 0, 0, 1, 0, 0, 0)", path, tree)
    result = build(demo)
    assert snapshot(demo / "build" / "globex") == globex
    after = snapshot(demo)
    assert not any(b"PWNED" in data for rel, data in after.items() if not rel.startswith(".mbsite/"))
    assert {rel for rel in after if not rel.startswith(("build/", ".mbsite/"))} == \
        {rel for rel in outside if not rel.startswith(("build/", ".mbsite/"))}
    located = [p for p in result.problems if p.code == "path"]
    assert located and "page_configs:evil" in str(located[0])
    assert build(demo).summary["errors"] == 1  # a later build still runs (and still names the bad row)


def test_a_markdown_file_named_dot_dot_md_is_a_located_error(demo: Path) -> None:
    homes = {t: (demo / "build" / t / "public" / "index.html").read_bytes() for t in ("acme", "globex")}
    (demo / "content" / "pages" / "...md").write_text("# Defaced\n\nPWNED\n")
    result = build(demo)
    for tenant, data in homes.items():
        assert (demo / "build" / tenant / "public" / "index.html").read_bytes() == data
    assert any(p.code == "path" and p.location.file == "content/pages/...md" for p in result.problems)
    (demo / "content" / "pages" / "...md").unlink()
    result = build(demo)
    assert result.ok
    for tenant, data in homes.items():
        assert (demo / "build" / tenant / "public" / "index.html").read_bytes() == data


def test_a_tenant_slug_that_climbs_is_not_built(demo: Path) -> None:
    sql(demo, "INSERT INTO tenants (slug, name, domains, settings, created_at) VALUES ('..', 'Evil', '[]', '{}', 0)")
    result = build(demo)
    assert any(p.code == "path" and "tenant" in p.message for p in result.problems)
    assert not (demo / "index.html").exists() and not (demo / "public").exists()
    assert sorted(p.name for p in (demo / "build").iterdir() if not p.name.startswith(".")) == ["acme", "globex"]


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ"])
def test_a_symlink_out_of_the_site_is_not_published(demo: Path, target: str) -> None:
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist on this system")
    os.environ["MBSITE_TEST_SECRET"] = "s3cr3t-value"
    try:
        (demo / "content" / "pages" / "leak.md").symlink_to(target)
        (demo / "content" / "blog" / "leak2.md").symlink_to(target)
        result = build(demo)
    finally:
        del os.environ["MBSITE_TEST_SECRET"]
    published = snapshot(demo / "build")
    assert not any(b"root:x:0:0" in data or b"s3cr3t-value" in data for data in published.values())
    assert not (demo / "build" / "acme" / "public" / "leak").exists()
    errors = [p for p in result.problems if p.severity == "error" and p.code == "symlink"]
    assert {p.location.file for p in errors} == {"content/pages/leak.md", "content/blog/leak2.md"}


def test_a_symlink_inside_the_site_or_an_allowed_folder_is_followed(demo: Path, tmp_path: Path) -> None:
    (demo / "notes").mkdir()
    (demo / "notes" / "inside.md").write_text("---\ntitle: Inside\n---\nfrom inside the site\n")
    (demo / "content" / "pages" / "inside.md").symlink_to(demo / "notes" / "inside.md")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "allowed.md").write_text("---\ntitle: Allowed\n---\nfrom an allowed folder\n")
    (demo / "content" / "pages" / "allowed.md").symlink_to(shared / "allowed.md")
    refused = build(demo)
    assert (demo / "build" / "acme" / "public" / "inside" / "index.html").is_file()
    assert any(p.code == "symlink" for p in refused.problems)
    (demo / "mbsite.toml").write_text(f'[build]\nfollow_symlinks = ["{shared}"]\n')
    allowed = build(demo)
    assert not any(p.code == "symlink" for p in allowed.problems)
    assert "from an allowed folder" in (demo / "build" / "acme" / "public" / "allowed" / "index.html").read_text()


def test_a_theme_asset_symlinked_out_of_the_site_is_not_published(demo: Path) -> None:
    static = demo / "themes" / "default" / "static"
    static.mkdir(parents=True)
    (static / "passwd.css").symlink_to("/etc/passwd")
    before = snapshot(demo / "build")
    with pytest.raises(SymlinkError) as err:
        build(demo)
    assert str(err.value).startswith("themes/default/static/passwd.css: symbolic link to /etc/passwd")
    assert snapshot(demo / "build") == before


def test_the_watch_loop_refuses_a_symlink_out_of_the_site_too(demo: Path) -> None:
    builder = Builder(load_config(demo).with_options(workers=1), BufferReporter(), keep_bodies=True)
    assert builder.run().ok
    link = demo / "content" / "pages" / "leak.md"
    link.symlink_to("/etc/passwd")
    result = builder.run(paths={str(link)})
    assert not any(b"root:x:0:0" in data for data in snapshot(demo / "build").values())
    assert [p.location.file for p in result.problems if p.code == "symlink"] == ["content/pages/leak.md"]


def test_a_package_file_symlinked_out_of_the_site_is_not_read(demo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"package": "x", "components": [{"id": "leak", "render": {"type": "element", "template": '
                       '{"type": "Text", "children": "OUTSIDE-SECRET"}}}]}')
    pkg = demo / "packages" / "mb_evil"
    (pkg / "components").mkdir(parents=True)
    (pkg / "package.json").write_text('{"packageId": "mb_evil", "name": "Evil", "version": "1.0.0"}')
    (pkg / "components" / "ui.json").symlink_to(outside)
    (demo / "packages" / "mb_linked").symlink_to(tmp_path, target_is_directory=True)
    result = build(demo)
    refused = sorted(p.location.file for p in result.problems if p.code == "symlink")
    assert refused == ["packages/mb_evil/components/ui.json", "packages/mb_linked"]
    assert not any(b"OUTSIDE-SECRET" in data for data in snapshot(demo / "build").values())
