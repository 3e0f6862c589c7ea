"""Markdown bodies rendered ahead by the build's helper process: same output, shortcodes left to the workers."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support import output_tree as _tree

from mbsite import pages, prerender
from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.markdown import split_front_matter
from mbsite.reporter import BufferReporter
from mbsite.sources import scan_markdown, sha256_bytes

REPO = Path(__file__).resolve().parent.parent

EXTRA = {
    "blog/code-sample.md": "---\ntitle: Code\ndate: 2024-03-01\ntags: [code]\n---\n"
                           "```python\ndef f(x):\n    return {'x': x}\n```\n\nText with `{{ literal }}`.\n",
    "blog/broken.md": "---\ntitle: [unclosed\n---\nBody\n",
    "pages/plain.md": "---\ntitle: Plain\n---\n# Heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nA footnote[^1].\n\n"
                      "[^1]: The note.\n",
}


def _site(root: Path) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    for rel, text in EXTRA.items():
        (root / "content" / rel).write_text(text)
    (root / "mbsite.toml").write_text("[build]\nworkers = 2\nhighlight = true\n")
    return root




@pytest.fixture
def eager_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper renders every file, however early the build asks it to stop (the fork inherits this)."""
    monkeypatch.setattr(prerender, "MIN_FILES", 1)
    monkeypatch.setattr(prerender, "_stop_requested", lambda fd: False)


@pytest.mark.parametrize("shares", [1, 2])
def test_helper_renders_bodies_without_shortcodes_and_skips_broken_files(tmp_path: Path, eager_helper: None,
                                                                         shares: int) -> None:
    config = load_config(_site(tmp_path / "site"))
    helper = prerender.Prerenderer.start(config, shares=shares)
    assert helper is not None
    bodies = helper.collect()
    by_file = {key[0]: html for key, html in bodies.items()}
    content = config.content_dir
    assert "content/blog/code-sample.md" in by_file and 'class="highlight"' in by_file["content/blog/code-sample.md"]
    assert "{{ literal }}" in by_file["content/blog/code-sample.md"]
    assert "content/blog/broken.md" not in by_file  # bad front matter: the workers report it
    for path in content.rglob("*.md"):
        rel = "content/" + path.relative_to(content).as_posix()
        if "{{<" in path.read_text() and "seed" not in rel:
            assert rel not in by_file, f"{rel} calls a shortcode: must be rendered by the workers"
    data = (content / "pages" / "plain.md").read_bytes()
    _front, _body, line = split_front_matter(data.decode(), "content/pages/plain.md")
    assert prerender.body_key("content/pages/plain.md", sha256_bytes(data), line, config) in bodies


@pytest.mark.parametrize("shares", [1, 2, 3])
def test_the_helper_hands_over_the_same_scan_the_build_would_make(tmp_path: Path, eager_helper: None,
                                                                  shares: int) -> None:
    """However many helpers share the files, their scans put back together are the one scan, in its order."""
    config = load_config(_site(tmp_path / "site"))
    helper = prerender.Prerenderer.start(config, shares=shares)
    assert helper is not None and len(helper.pids) == shares
    try:
        scanned = helper.scan()
        assert scanned is not None
        problems: list = []
        assert scanned[0] == scan_markdown(config, problems)  # same sources, same order, same front matter
        assert [str(p) for p in scanned[1]] == [str(p) for p in problems]
        assert any("broken.md" in str(p) for p in problems)
        assert helper.scan() is None  # handed over once
        assert helper.collect()  # the bodies come after the scan
    finally:
        helper.cancel()


def test_a_helper_that_dies_leaves_the_scan_to_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerender, "MIN_FILES", 1)

    def die(*_args: object) -> None:
        os._exit(3)

    monkeypatch.setattr("mbsite.sources.MarkdownScanner.scan", die)  # the helpers die before handing over
    helper = prerender.Prerenderer.start(load_config(_site(tmp_path / "site")), shares=2)
    assert helper is not None
    assert helper.scan() is None
    assert helper.collect() == {}


def test_build_with_the_helper_equals_build_without(tmp_path: Path, eager_helper: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []
    original = pages.BodyCache.use

    def spy(self: pages.BodyCache, bodies: dict | None, **kwargs: bool) -> None:
        if bodies:
            used.append(len(bodies))
        original(self, bodies, **kwargs)

    monkeypatch.setattr(pages.BodyCache, "use", spy)
    scans: list[bool] = []
    original_scan = prerender.Prerenderer.scan

    def scan_spy(self: prerender.Prerenderer) -> object:
        got = original_scan(self)
        scans.append(got is not None)
        return got

    monkeypatch.setattr(prerender.Prerenderer, "scan", scan_spy)
    with_helper = _site(tmp_path / "with")
    builder = Builder(load_config(with_helper), BufferReporter(), full=True)
    result = builder.run()
    assert used and used[0] >= 5, "the helper's bodies were not used"
    assert scans == [True], "the helper's scan was not used"
    without = _site(tmp_path / "without")
    monkeypatch.setattr("mbsite.builder.start_prerender", lambda config, full: None)
    plain = Builder(load_config(without), BufferReporter(), full=True).run()
    assert [str(p) for p in result.problems] == [str(p) for p in plain.problems]
    assert any("broken.md" in str(p) for p in result.problems)
    assert _tree(with_helper / "build", row_versions=False) == _tree(without / "build", row_versions=False)
    assert builder.model is not None and builder.model.bodies.ready == {}  # released after the build


def test_cancel_stops_and_reaps_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerender, "MIN_FILES", 1)
    helper = prerender.Prerenderer.start(load_config(_site(tmp_path / "site")), shares=2)
    assert helper is not None
    pids = helper.pids
    assert len(pids) == 2
    helper.cancel()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind
    helper.cancel()  # twice is harmless (and never signals process 0)


def test_no_helper_with_one_worker(tmp_path: Path) -> None:
    config = load_config(_site(tmp_path / "site"))
    assert prerender.start_prerender(config.with_options(workers=1)) is None


def test_incremental_builds_take_the_helpers_scan_but_no_bodies(
        tmp_path: Path, eager_helper: None, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path / "site")
    (site / "content" / "blog" / "broken.md").unlink()
    config = load_config(site)
    assert Builder(config, BufferReporter()).run().ok
    events: list[tuple[str, int]] = []
    for name in ("scan", "collect"):
        original = getattr(prerender.Prerenderer, name)

        def spy(self: prerender.Prerenderer, *args: object, _name: str = name, _original: object = original) -> object:
            got = _original(self, *args)  # type: ignore[operator]
            events.append((_name, len(got) if isinstance(got, dict) else int(got is not None)))
            return got

        monkeypatch.setattr(prerender.Prerenderer, name, spy)

    post = site / "content" / "pages" / "plain.md"  # one page of each tenant
    post.write_text(post.read_text() + "\nOne more line.\n")
    result = Builder(config, BufferReporter()).run()
    assert result.ok and result.summary["rendered"] == 2
    assert events[:2] == [("scan", 1), ("collect", 0)], events

    events.clear()  # a template edit: every page renders; an incremental build's helper renders no bodies
    theme = site / "themes" / "default" / "templates"
    theme.mkdir(parents=True)
    (theme / "page.html").write_text((REPO / "themes" / "default" / "templates" / "page.html").read_text()
                                     + "\n{# edited #}\n")
    result = Builder(config, BufferReporter()).run()
    assert result.ok and result.summary["rendered"] >= 10
    assert events[:2] == [("scan", 1), ("collect", 0)], events

    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("build", ".mbsite"))
    assert Builder(load_config(fresh), BufferReporter(), full=True).run().ok
    assert _tree(site / "build", row_versions=False) == _tree(fresh / "build", row_versions=False)
