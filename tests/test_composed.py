"""Composed pages: each page rendered once, each level's chrome composed by the gate. What the gate serves at
every level must equal a full render of the page for that level, byte for byte."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import output_tree as _tree

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.db.models import now_ms
from mbsite.pages import render_page
from mbsite.reporter import BufferReporter
from mbsite.routes import PANELS
from mbsite.site import load_model, open_site_db
from mbsite.web.gate import Gate, choose

REPO = Path(__file__).resolve().parent.parent


def served(gate: Gate, tenant: str, path: str, level: int) -> bytes:
    choice = choose(gate, tenant, path, level)
    assert choice.kind in ("file", "compose"), (tenant, path, level, choice.kind)
    assert choice.file is not None
    return choice.body() or choice.file.read_bytes()


def every_level_equals_a_full_render(site: Path) -> int:
    config = load_config(site)
    engine, _ = open_site_db(config)
    try:
        model = load_model(config, engine, [])
        gate = Gate(config.out)
        compared = 0
        for slug, table in model.tables.items():
            for path, route in table.routes.items():
                for level in range(route.min_level, 6):
                    full = render_page(model, route, level).html.encode()
                    assert served(gate, slug, path, level) == full, (slug, path, level)
                    compared += 1
        return compared
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("composed") / "site"
    shutil.copytree(REPO / "content", site / "content")
    assert Builder(load_config(site), BufferReporter()).run().ok
    return site


def test_the_gate_serves_every_level_of_the_demo_as_a_full_render_would(demo: Path) -> None:
    assert every_level_equals_a_full_render(demo) > 400


def test_most_levels_are_composed_not_written(demo: Path) -> None:
    pages = variants = composed = 0
    for tenant in ("acme", "globex"):
        manifest = json.loads((demo / "build" / tenant / "routes.json").read_text())
        for info in manifest["pages"].values():
            if info["kind"] in ("gallery", "panel"):  # (admin tools drawn for each level that opens them, by design)
                continue
            pages += 1
            variants += len(info["variants"])
            composed += len(info.get("composed", {}).get("keys", {}))
    # (pages that read the viewer in their body, like the home and sign-in pages, keep a file per level)
    assert variants <= 1.8 * pages and composed > 3 * pages


def test_a_new_users_blog_writes_about_one_file_per_page(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mbsite.cli import main

    site = tmp_path / "blog"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    for i in range(60):
        (site / "content" / "blog" / f"post-{i}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-02-{i % 28 + 1:02}\ntags: [t{i % 4}]\n---\nBody {i}.\n")
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    # (the component gallery and the admin panel are drawn for each level that opens them, by design)
    html = [p for p in (site / "build").rglob("*.html") if "_gallery" not in p.parts and "admin" not in p.parts]
    pages = sum(1 for info in json.loads((site / "build" / "main" / "routes.json").read_text())["pages"].values()
                if info["kind"] not in ("gallery", "panel"))
    assert len(html) <= 1.2 * pages, (len(html), pages)
    assert every_level_equals_a_full_render(site) >= 5 * result.summary["pages"]


def test_a_missing_fragment_serves_the_base_level_never_more(demo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(demo, site)
    gate = Gate(site / "build")
    choice = choose(gate, "acme", "/about", 5)
    assert choice.kind == "compose" and choice.level == 5
    (site / "build" / "acme" / "private" / "chrome" / "5.json").unlink()
    fallback = choose(gate, "acme", "/about", 5)
    assert fallback.kind == "file" and fallback.file == site / "build" / "acme" / "public" / "about" / "index.html"


def test_nothing_of_a_signed_in_level_is_in_public(demo: Path) -> None:
    public = b"".join(p.read_bytes() for p in (demo / "build" / "acme" / "public").rglob("*.html"))
    chrome = json.loads((demo / "build" / "acme" / "private" / "chrome" / "3.json").read_text())
    admin_only = 'href="/admin"'
    assert all(admin_only in header for header, _ in chrome.values())
    assert admin_only.encode() not in public


def _blog(root: Path, posts: int = 30) -> Path:
    from click.testing import CliRunner

    from mbsite.cli import main

    assert CliRunner().invoke(main, ["init", str(root)]).exit_code == 0
    for i in range(posts):
        (root / "content" / "blog" / f"post-{i}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-02-{i % 28 + 1:02}\n---\nBody {i}.\n")
    toml = root / "mbsite.toml"
    toml.write_text(toml.read_text().replace("[build]", "[build]\nworkers = 1", 1))
    assert Builder(load_config(root), BufferReporter()).run().ok
    return root




def test_a_members_only_nav_page_rewrites_no_post(tmp_path: Path) -> None:
    site = _blog(tmp_path / "site")
    posts = {p: p.read_bytes() for p in (site / "build").rglob("post-*/index.html")}
    (site / "content" / "pages" / "club.md").write_text("---\ntitle: Club\nnav: true\nlevel: 2\n---\nMembers.\n")
    builder = Builder(load_config(site), BufferReporter())
    started = now_ms()
    result = builder.run()
    assert result.ok and result.summary["reasons"].get("new") == 1
    rendered = {key for key, rows in builder.graph.items() if rows[0].rendered_at >= started}
    assert builder.model is not None
    for slug, path in rendered:  # the new page, members' pages (their base shows the entry), pages reading the viewer
        route = builder.model.tables[slug].routes[path]
        assert path == "/club" or route.min_level >= 2 or "compose" not in builder.graph[(slug, path)][0].digests, path
    assert not any(path.startswith("/blog") for _slug, path in rendered)
    assert {p: p.read_bytes() for p in posts} == posts
    assert every_level_equals_a_full_render(site) > 0
    reference = tmp_path / "ref"
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns("build"))
    Builder(load_config(reference), BufferReporter(), full=True).run()
    assert _tree(site / "build") == _tree(reference / "build")


def test_a_public_nav_page_splices_the_pages_without_rendering_them(tmp_path: Path) -> None:
    site = _blog(tmp_path / "site")
    (site / "content" / "pages" / "news.md").write_text("---\ntitle: News\nnav: true\n---\nNews.\n")
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.ok
    reasons = result.summary["reasons"]
    assert reasons.get("splice", 0) >= 30 and reasons.get("new") == 1, reasons
    # the new page, members' pages, pages reading the viewer (among them the admin panel's, drawn per level)
    assert result.summary["rendered"] < 15 + len(PANELS), result.summary
    post = (site / "build" / "main" / "public" / "blog" / "post-3" / "index.html").read_text()
    assert 'href="/news"' in post
    assert every_level_equals_a_full_render(site) > 0
    reference = tmp_path / "ref"
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns("build"))
    Builder(load_config(reference), BufferReporter(), full=True).run()
    assert _tree(site / "build") == _tree(reference / "build")
    (site / "content" / "pages" / "news.md").unlink()  # and back: spliced again, equal to a full build again
    assert Builder(load_config(site), BufferReporter()).run().summary["reasons"].get("splice", 0) >= 30
    shutil.rmtree(reference)
    shutil.copytree(site, reference, ignore=shutil.ignore_patterns("build"))
    Builder(load_config(reference), BufferReporter(), full=True).run()
    assert _tree(site / "build") == _tree(reference / "build")
