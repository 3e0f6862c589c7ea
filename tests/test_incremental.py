"""The invariant of incremental builds: after any sequence of edits, the output equals a clean full build.

A hypothesis state machine edits rows (ORM and raw SQL), Markdown, an image, templates, component JSON, installed
packages and page configs of a small two-tenant site, building incrementally after each step — either with a
fresh Builder (cold: graph from the database) or with one long-lived Builder given the changed paths (warm,
as `mbsite watch` runs it) — and compares with a full build of a copy."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from PIL import Image
from sqlalchemy import insert
from support import output_tree as tree
from test_composed import every_level_equals_a_full_render

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.db.models import EntityRecord

SEED = """
entity: Tenant
records:
  - {slug: a, name: Alpha}
  - {slug: b, name: Beta}
---
entity: InstalledPackage
records:
  - {tenant: a, package: mb_nav, sortOrder: 1}
  - {tenant: a, package: mb_data_table, sortOrder: 2}
  - {tenant: a, package: site_widgets, sortOrder: 3}
  - {tenant: b, package: mb_footer, sortOrder: 1}
  - {tenant: b, package: mb_data_table, sortOrder: 2}
  - {tenant: b, package: site_widgets, sortOrder: 3, enabled: false}
---
entity: PageConfig
records:
  - tenant: a
    path: /items
    title: Items
    packageId: mb_data_table
    component: data_table
    params:
      data: {items: {package: shop, entity: item, filter: {kind: x}, sort: name}}
      props: {rows: "{{records.items}}", columns: [{field: name, label: Name}]}
  - tenant: a
    path: /items/:id
    title: Item
    packageId: site_widgets
    component: banner
    params:
      expand: {id: {package: shop, entity: item, field: id}}
      props: {text: "{{records.record.name}}"}
  - tenant: b
    path: /staff
    title: Staff
    level: 2
    packageId: site_widgets
    component: banner
    params: {props: {text: staff only}}
  - tenant: b
    path: /all
    title: All items
    packageId: mb_data_table
    component: data_table
    params:
      data: {items: {package: shop, entity: item}}
      props: {rows: "{{records.items}}", columns: [{field: name, label: Name}]}
---
entity: Record
records:
  - {tenant: a, package: shop, entity: item, id: i1, data: {name: Anvil, kind: x}}
  - {tenant: a, package: shop, entity: item, id: i2, data: {name: Bolt, kind: y}}
  - {tenant: b, package: shop, entity: item, id: i3, data: {name: Crate, kind: x}}
"""

WIDGETS_PKG = {"packageId": "site_widgets", "name": "Site widgets", "version": "1.0.0", "description": "test",
               "minLevel": 0}


def widgets_ui(text: str) -> str:
    return json.dumps({"package": "site_widgets", "components": [
        {"id": "banner", "name": "Banner", "props": [{"name": "text", "type": "string", "default": text}],
         "render": {"type": "element", "template": {"type": "Box", "children": [
             {"type": "Typography", "variant": "h2", "children": "{{text}}"},
             {"type": "Text", "children": text}]}}}]})


def write_image(path: Path, color: str) -> None:
    """A small PNG (the picture page shows it through the image step: variants, digest input, cache)."""
    Image.new("RGB", (64, 48), color).save(path, "PNG")


def make_site(root: Path) -> Path:
    (root / "content" / "seed").mkdir(parents=True)
    (root / "content" / "seed" / "site.yaml").write_text(SEED)
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\nnav: true\n---\nAbout us.\n")
    (root / "content" / "blog").mkdir()
    (root / "content" / "blog" / "one.md").write_text("---\ntitle: One\ndate: 2024-01-01\ntags: [t1]\n---\nFirst.\n")
    (root / "content" / "pages" / "picture.md").write_text("---\ntitle: Picture\n---\n![A picture](../blog/pic.png)\n")
    write_image(root / "content" / "blog" / "pic.png", "red")
    pkg = root / "packages" / "site_widgets"
    (pkg / "components").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps(WIDGETS_PKG))
    (pkg / "components" / "ui.json").write_text(widgets_ui("hello"))
    (root / "mbsite.toml").write_text("[build]\nworkers = 1\nhighlight = false\n")
    return root




def full_build_of(site: Path, dest: Path) -> dict[str, bytes]:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(site, dest, ignore=shutil.ignore_patterns("build"))
    result = Builder(load_config(dest), full=True).run()
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]
    return tree(dest / "build")


NAMES = st.sampled_from(["Anvil", "Bolt", "Crate", "Drum", "Easel"])
KINDS = st.sampled_from(["x", "y"])
TEXT = st.sampled_from(["alpha", "beta", "{{ literal }}", "<b>bold?</b>", "gamma"])


class IncrementalMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(TMP.mktemp("inc"))
        self.site = make_site(self.root / "site")
        self.config = load_config(self.site)
        self.warm = Builder(self.config, keep_bodies=True)  # as the watch loop keeps it
        result = self.warm.run()
        assert result.summary["errors"] == 0
        self.pending: set[str] = set()
        self.n = 10

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.site / ".mbsite" / "mbsite.sqlite3")

    def touch(self, path: Path) -> None:
        self.pending.add(str(path))

    # -- rows ------------------------------------------------------------------------------------------------
    @rule(tenant=st.sampled_from(["a", "b"]), name=NAMES, kind=KINDS)
    def insert_record_sqlalchemy(self, tenant: str, name: str, kind: str) -> None:
        self.n += 1
        with self.warm.engine.begin() as conn:
            conn.execute(insert(EntityRecord).values(tenant=tenant, package="shop", entity="item", id=f"i{self.n}",
                                                     data={"name": name, "kind": kind, "id": f"i{self.n}"}))

    @rule(name=NAMES, kind=KINDS)
    def update_record_sql(self, name: str, kind: str) -> None:
        with self.db() as con:
            con.execute("UPDATE entity_records SET data = json_set(data, '$.name', ?, '$.kind', ?) WHERE rowid = "
                        "(SELECT rowid FROM entity_records ORDER BY id LIMIT 1)", (name, kind))

    @rule()
    def delete_record_sql(self) -> None:
        with self.db() as con:
            con.execute("DELETE FROM entity_records WHERE rowid = (SELECT rowid FROM entity_records ORDER BY id DESC "
                        "LIMIT 1)")

    @rule(level=st.integers(0, 6))
    def change_page_level(self, level: int) -> None:
        with self.db() as con:
            con.execute("UPDATE page_configs SET level = ? WHERE path = '/staff'", (min(level, 5),))

    @rule(path=st.sampled_from(["/items", "/things", "/stuff"]))
    def change_page_path(self, path: str) -> None:
        with self.db() as con:
            con.execute("UPDATE page_configs SET path = ? WHERE tenant = 'a' AND path IN ('/items', '/things', "
                        "'/stuff')", (path,))

    @rule(enabled=st.booleans(), tenant=st.sampled_from(["a", "b"]))
    def toggle_package(self, enabled: bool, tenant: str) -> None:
        with self.db() as con:
            con.execute("UPDATE installed_packages SET enabled = ? WHERE tenant = ? AND package = 'site_widgets'",
                        (enabled, tenant))

    # -- files -----------------------------------------------------------------------------------------------
    @rule(text=TEXT, title=TEXT, tag=st.sampled_from(["t1", "t2"]))
    def edit_markdown(self, text: str, title: str, tag: str) -> None:
        path = self.site / "content" / "blog" / "one.md"
        if path.exists():
            path.write_text(f"---\ntitle: {json.dumps(title)}\ndate: 2024-01-01\ntags: [{tag}]\n---\n{text}\n")
            self.touch(path)

    @rule(color=st.sampled_from(["red", "blue", "green"]), present=st.booleans())
    def edit_image(self, color: str, present: bool) -> None:
        """The picture page's image changes, goes (a located warning, its files leave) or comes back."""
        path = self.site / "content" / "blog" / "pic.png"
        if present:
            write_image(path, color)
        elif path.exists():
            path.unlink()
        else:
            return
        self.touch(path)

    @rule(level=st.sampled_from([0, 1, 3]))
    def set_post_level(self, level: int) -> None:
        """A members' post: the blog listings' signed-in variants show it, the public ones do not."""
        path = self.site / "content" / "blog" / "one.md"
        if path.exists():
            text = path.read_text()
            lines = [line for line in text.split("\n") if not line.startswith("level:")]
            lines.insert(1, f"level: {level}")
            path.write_text("\n".join(lines))
            self.touch(path)

    @rule(tags=st.lists(st.sampled_from(["t1", "t2", "t3"]), unique=True, max_size=3))
    def tag_a_page_outside_the_blog(self, tags: list[str]) -> None:
        """Its tags link to tag pages only while some blog post makes them (t3 never has one)."""
        path = self.site / "content" / "pages" / "about.md"
        path.write_text(f"---\ntitle: About\nnav: true\ntags: [{', '.join(tags)}]\n---\nAbout us.\n")
        self.touch(path)

    @rule(name=st.sampled_from(["two", "three"]), text=TEXT)
    def create_markdown(self, name: str, text: str) -> None:
        path = self.site / "content" / "blog" / f"{name}.md"
        path.write_text(f"---\ntitle: {name}\ndate: 2024-02-0{len(name)}\ntags: [t2]\n---\n{text}\n")
        self.touch(path)

    @rule(level=st.sampled_from([0, 1, 2, 3]), present=st.booleans())
    def toggle_nav_page(self, level: int, present: bool) -> None:
        """A navigation entry appears or goes, for the public or for members: the chrome of some levels changes."""
        path = self.site / "content" / "pages" / f"nav{level}.md"
        if present:
            path.write_text(f"---\ntitle: Nav {level}\nnav: true\nlevel: {level}\nsortOrder: {level}\n---\nEntry.\n")
        elif path.exists():
            path.unlink()
        else:
            return
        self.touch(path)

    @rule(name=st.sampled_from(["one", "two", "three"]))
    def delete_markdown(self, name: str) -> None:
        path = self.site / "content" / "blog" / f"{name}.md"
        if path.exists():
            path.unlink()
            self.touch(path)

    @rule()
    def rename_markdown(self) -> None:
        src = self.site / "content" / "pages" / "about.md"
        dst = self.site / "content" / "pages" / "about-us.md"
        if not src.exists():
            src, dst = dst, src
        src.rename(dst)
        self.touch(src)
        self.touch(dst)

    @rule(color=st.sampled_from(["red", "blue", "green"]))
    def edit_stylesheet(self, color: str) -> None:
        path = self.site / "themes" / "default" / "static" / "style.css"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"body {{ color: {color}; }}\n")
        self.touch(path)

    @rule(marker=TEXT)
    def edit_template(self, marker: str) -> None:
        path = self.site / "themes" / "default" / "templates" / "page.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{% extends "base.html" %}{% block content %}<p class="marker">' + marker.replace("{", "(")
                        + "</p>{{ content }}{% endblock %}")
        self.touch(path)

    @rule()
    def delete_template(self) -> None:
        path = self.site / "themes" / "default" / "templates" / "page.html"
        if path.exists():
            path.unlink()
            self.touch(path)

    @rule(text=TEXT)
    def edit_component(self, text: str) -> None:
        path = self.site / "packages" / "site_widgets" / "components" / "ui.json"
        path.write_text(widgets_ui(text))
        self.touch(path)

    # -- builds ----------------------------------------------------------------------------------------------
    @rule(warm=st.booleans())
    def build(self, warm: bool) -> None:
        builder = self.warm if warm else Builder(self.config)
        result = builder.run(paths=set(self.pending)) if warm else builder.run()
        if not warm:
            self.warm.model = None  # another builder moved the cursor: the long-lived one must notice anyway
        self.pending.clear()
        assert result.summary["errors"] == 0, [str(p) for p in result.problems]

    @precondition(lambda self: not self.pending)
    @rule()
    def compare_with_full_build(self) -> None:
        self.check()

    def check(self) -> None:
        Builder(self.config).run()  # bring everything since the last step in
        self.pending.clear()
        assert tree(self.site / "build") == full_build_of(self.site, self.root / "clean")
        # and what the gate serves at every level (composed or a file) is what a full render of that level gives
        every_level_equals_a_full_render(self.site)

    def teardown(self) -> None:
        try:
            self.check()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


TMP: pytest.TempPathFactory


@pytest.fixture(autouse=True)
def _tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    global TMP
    TMP = tmp_path_factory


# No shrinking: each step builds a site, so shrinking a failure can take many minutes; the failing sequence
# is printed as generated, which is enough to reproduce it.
IncrementalMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=10, deadline=None,
                                                suppress_health_check=list(HealthCheck),
                                                phases=[Phase.explicit, Phase.reuse, Phase.generate])
test_incremental_equals_full = IncrementalMachine.TestCase


def test_a_stylesheet_edit_rewrites_asset_urls_without_rendering(tmp_path: Path) -> None:
    """Warm path: pages whose only change is a theme asset's URL are not rendered, and equal a full build."""
    site = make_site(tmp_path / "site")
    css = site / "themes" / "default" / "static" / "style.css"
    css.parent.mkdir(parents=True)
    css.write_text("body { color: red; }\n")
    builder = Builder(load_config(site))
    assert builder.run().ok
    assert builder.run(paths=set()).summary["rendered"] == 0  # warm, builds the index
    css.write_text("body { color: blue; }\n")
    result = builder.run(paths={str(css)})
    assert result.ok
    assert result.summary["rendered"] == 0 and result.summary["reasons"]["asset"] > 5
    assert tree(site / "build") == full_build_of(site, tmp_path / "clean")


def test_warm_and_full_builds_agree_on_which_file_wins_a_url(tmp_path: Path) -> None:
    """content/blog.md and content/blog/index.md both claim /blog: the warm path must pick the file the full
    scan picks (folder by folder order), and ignore dot-files and README.md as the full scan does."""
    site = make_site(tmp_path / "site")
    builder = Builder(load_config(site))
    assert builder.run().ok
    assert builder.run(paths=set()).summary["rendered"] == 0
    flat = site / "content" / "blog.md"
    nested = site / "content" / "blog" / "index.md"
    flat.write_text("---\ntitle: Flat\n---\nFrom blog.md\n")
    nested.write_text("---\ntitle: Nested\n---\nFrom blog/index.md\n")
    hidden = site / "content" / ".draft.md"
    hidden.write_text("---\ntitle: Hidden\n---\nNot a page\n")
    readme = site / "content" / "blog" / "README.md"
    readme.write_text("Notes for authors\n")
    result = builder.run(paths={str(flat), str(nested), str(hidden), str(readme)})
    assert result.ok
    warm = tree(site / "build")
    assert warm == full_build_of(site, tmp_path / "clean")
    page = warm["a/public/blog/index.html"].decode()
    assert "From blog/index.md" in page and "From blog.md" not in page
    assert not any("draft" in name for name in warm)
