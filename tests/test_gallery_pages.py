"""Built gallery pages: their components' CSS, the viewer's level, and their storybook files as inputs."""
from __future__ import annotations

from pathlib import Path

from support import copy_site

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.web.gate import Gate, choose


def make_site(root: Path) -> Path:
    """tests/sites/gallery: tenant t with package p (level 4), whose component lists the users its story gives."""
    return copy_site("gallery", root)


def page(site: Path, level: int) -> str:
    choice = choose(Gate(site / "build"), "t", "/_gallery/p", level)
    assert choice.file is not None
    return (choice.body() or choice.file.read_bytes()).decode()


def test_a_gallery_page_has_its_css_and_is_drawn_for_the_viewers_level(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    assert Builder(load_config(site), BufferReporter()).run().ok
    admin, god = page(site, 3), page(site, 4)  # a package for gods: an admin sees the note, a god the component
    assert "not rendered for level 3" in admin and "Ada" not in admin
    assert "Ada" in god and "display:flex" in god  # story props, and the Stack's class rules


def test_editing_a_story_rebuilds_the_gallery_page(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    assert Builder(load_config(site), BufferReporter()).run().ok
    stories = site / "packages" / "p" / "storybook" / "stories.json"
    stories.write_text(stories.read_text().replace("Grace", "Hedy"))
    result = Builder(load_config(site), BufferReporter()).run()
    assert result.summary["rendered"] >= 1
    assert "Hedy" in page(site, 4)
    assert Builder(load_config(site), BufferReporter()).run().summary["rendered"] == 0


def test_the_gallery_index_shows_each_package_as_a_card(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    assert Builder(load_config(site), BufferReporter()).run().ok
    choice = choose(Gate(site / "build"), "t", "/_gallery", 3)
    assert choice.file is not None
    index = (choice.body() or choice.file.read_bytes()).decode()
    assert '<li class="gallery-card"><a href="/_gallery/p"><strong>P</strong> <code>p</code></a>' in index
    assert "1 component · 1.0.0" in index
