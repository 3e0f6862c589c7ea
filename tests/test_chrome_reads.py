"""chrome_reads.py: a page's chrome for a level is taken to be the level's fragment only when the fragment's traced
render read nothing that differs for the page; every chrome that reads the page in another way is rendered and
compared, and what the gate serves equals a full render at every level."""
from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import escape
from test_composed import _blog, every_level_equals_a_full_render

from mbsite import builder as builder_module
from mbsite import pages as pages_module
from mbsite.builder import Builder
from mbsite.chrome_reads import ChromeTrace, PathProbe, ReadDict
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent


def test_read_dict_notes_the_keys_read_and_turns_opaque_when_walked() -> None:
    d = ReadDict({"a": 1, "b": 2})
    assert d["a"] == 1 and d.get("c") is None and "b" in d
    assert d.read == {"a", "b", "c"} and not d.opaque
    list(d)
    assert d.opaque
    e = ReadDict({"a": 1})
    assert dict(e) == {"a": 1} and e.opaque  # a copy walks it


def test_the_path_probe_notes_comparisons_and_any_other_use() -> None:
    probe = PathProbe("/blog/x")
    assert ("/blog/x" == probe) and not (probe != "/blog/x") and ("/about" != probe)
    assert probe.compared == {"/blog/x", "/about"} and not probe.raw
    for use in (str, lambda p: escape(p), len, lambda p: p.startswith("/"), lambda p: "x" + p, hash, bool):
        p = PathProbe("/blog/x")
        use(p)
        assert p.raw, use


def test_a_trace_matches_a_page_only_where_it_reads_the_same() -> None:
    page, probe = ChromeTrace.traced_page({"path": "", "title": "", "lang": "en"})
    context = ReadDict({"page": page, "site": {"nav": []}, "content": ""})
    context["site"]
    page["lang"]
    _ = page["path"] == "/about"
    trace = ChromeTrace.of(context, page, probe, equal=True)
    assert not trace.opaque and trace.names == {"site": {"nav": []}} and trace.page == {"lang": "en"}
    values = {"page": {"path": "/blog/x", "title": "X", "lang": "en"}, "site": {"nav": []}, "content": "body"}
    assert trace.matches(values, {})                                           # title, content: not read
    assert not trace.matches({**values, "site": {"nav": [1]}}, {})             # a name read differs
    assert not trace.matches({**values, "page": {**values["page"], "lang": "de"}}, {})  # a page key read differs
    assert not trace.matches({**values, "page": {**values["page"], "path": "/about"}}, {})  # a comparison differs
    assert ChromeTrace.of(context, page, probe, equal=False).opaque            # the traced render differed
    list(page)
    assert ChromeTrace.of(context, page, probe, equal=True).opaque             # the page was walked


# Chromes that read the page in ways a fragment cannot stand for, each only at the levels whose navigation holds the
# members' page /club (so the public level's check passes and only the other levels can catch them).
TRICKS = {
    "title at members' levels": '{% if item.path == "/club" %}<b>{{ page.title }}</b>{% endif %}',
    "raw path": '{% if item.path == "/club" %}<b>{{ page.path }}</b>{% endif %}',
    "path method": '{% if item.path == "/club" and page.path.startswith("/blog/post-1") %}<b>1</b>{% endif %}',
    "path constant": '{% if item.path == "/club" and page.path == "/blog/post-3" %}<b>3</b>{% endif %}',
    "content": '{% if item.path == "/club" %}<b>{{ content|length }}</b>{% endif %}',
    "pagination": '{% if item.path == "/club" and pagination %}<b>{{ pagination.page }}</b>{% endif %}',
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_chrome_that_reads_the_page_at_some_levels_is_served_as_a_full_render(tmp_path: Path, trick: str) -> None:
    site = _blog(tmp_path / "site", posts=12)
    theme = site / "themes" / "default" / "templates"
    theme.mkdir(parents=True, exist_ok=True)
    base = (REPO / "themes" / "default" / "templates" / "base.html").read_text()
    hook = "{% block chrome_header %}"
    assert hook in base
    (theme / "base.html").write_text(base.replace(hook, hook + "{% for item in site.nav %}" + TRICKS[trick]
                                                  + "{% endfor %}", 1))
    (site / "content" / "pages" / "club.md").write_text("---\ntitle: Club\nnav: true\nlevel: 2\n---\nMembers.\n")
    assert Builder(load_config(site), BufferReporter()).run().ok
    assert every_level_equals_a_full_render(site) > 50


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_a_chrome_that_reads_the_page_at_every_level_is_rendered_for_its_page(tmp_path: Path, trick: str) -> None:
    """The same tricks at the public level too: a page's own (base) chrome is its fragment only when the fragment's
    trace matches the page, so each file shows what a full render of its page shows."""
    site = _blog(tmp_path / "site", posts=12)
    theme = site / "themes" / "default" / "templates"
    theme.mkdir(parents=True, exist_ok=True)
    base = (REPO / "themes" / "default" / "templates" / "base.html").read_text()
    hook = "{% block chrome_header %}"
    every = TRICKS[trick].replace('item.path == "/club"', "loop.first")
    assert every != TRICKS[trick]
    (theme / "base.html").write_text(base.replace(hook, hook + "{% for item in site.nav %}" + every
                                                  + "{% endfor %}", 1))
    assert Builder(load_config(site), BufferReporter(), full=True).run().ok
    assert every_level_equals_a_full_render(site) > 50


def test_the_default_themes_chrome_is_taken_from_the_fragments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new user's blog (a navigation that differs at every level): no page's chrome is rendered for its other
    levels, and yet every level is served as a full render."""
    calls: list[tuple[str, int]] = []
    real = builder_module.render_chrome

    def counted(model, route, level, cut):  # type: ignore[no-untyped-def]
        calls.append((route.path, level))
        return real(model, route, level, cut)

    monkeypatch.setattr(builder_module, "render_chrome", counted)
    own: list[str] = []
    real_blocks = pages_module._chrome_blocks

    def counted_blocks(cut, table, level, page, *args):  # type: ignore[no-untyped-def]
        own.append(page["path"])
        return real_blocks(cut, table, level, page, *args)

    monkeypatch.setattr(pages_module, "_chrome_blocks", counted_blocks)
    site = _blog(tmp_path / "site", posts=12)
    assert calls == []
    own.clear()
    assert Builder(load_config(site), BufferReporter(), full=True).run().ok
    assert calls == []
    # Nor for its own level: only fragments are rendered (the posts, which stand nowhere in the navigation, share one).
    assert own and not any(path.startswith("/blog/post-") for path in own), own
    assert every_level_equals_a_full_render(site) > 50
