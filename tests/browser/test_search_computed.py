"""Search in headless Chromium, over the built public folder served as a CDN would: the header's box (a plain form)
lands on /search?q=…, whose Pagefind interface shows the public page that matches and nothing of the members' page;
typing another query on the search page finds other pages. `/pagefind-members/…` is answered as the gate answers it
(`members_search_file`, for the level a session cookie of the test names): a signed-in member's search merges the
members' index and finds the members' page too; an anonymous viewer's gets a 404 and searches the public index."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from support import folder_server
from test_fidelity_computed import ARGS, _chromium

from mbsite.builder import Builder
from mbsite.config import DEFAULT_CSP, load_config
from mbsite.reporter import BufferReporter
from mbsite.web.gate import MEMBERS_SEARCH_PREFIX, Gate, members_search_file
from mbsite.web.sessions import SIGNED_IN_HINT

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("search_on")]
ORIGIN = "http://t.example"
SESSION = "test_level"  # the cookie that stands for a session of that level here (the gate looks sessions up)


def _built(root: Path, files: dict[str, str], toml: str) -> Path:
    """A site of tenant t (at t.example) with these content files, built; its public folder."""
    pytest.importorskip("pagefind.service", reason="pagefind is not installed (pip install 'pagefind[bin]')")
    tenant = {"slug": "t", "name": "T", "domains": ["t.example"]}
    files = {"seed/site.yaml": json.dumps({"entity": "Tenant", "records": [tenant]}), **files}
    for rel, text in files.items():
        (root / "content" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "content" / rel).write_text(text)
    (root / "mbsite.toml").write_text(toml)
    assert Builder(load_config(root), BufferReporter()).run().ok
    return root / "build" / "t" / "public"


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _built(tmp_path_factory.mktemp("search") / "site", {
        "blog/open.md": "---\ntitle: Zebrafish notes\ndate: 2024-01-01\n---\nThe zebrafish swims in public waters.\n",
        "blog/club.md": "---\ntitle: Club notes\ndate: 2024-01-02\nlevel: 2\n---\nThe zebrafish okapi is a members "
                        "secret.\n",
        "pages/about.md": "---\ntitle: About\n---\nAbout the narwhal.\n",
    }, "[build]\nworkers = 1\n")


def _cdn_and_gate(public: Path) -> Any:
    """public/ as a CDN serves it, and `/pagefind-members/…` as the gate answers it for the cookie's level."""
    serve = folder_server(public, ORIGIN, {"Content-Security-Policy": DEFAULT_CSP})
    gate = Gate(public.parent.parent)

    def handle(route: Any) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if not path.startswith(MEMBERS_SEARCH_PREFIX):
            serve(route)
            return
        cookies = dict(part.strip().split("=", 1) for part in (route.request.headers.get("cookie") or "").split(";")
                       if "=" in part)
        choice = members_search_file(gate, "t", path, int(cookies.get(SESSION, "0")))
        route.fulfill(status=choice.status, body=choice.file.read_bytes() if choice.file else b"not found",
                      headers={"Cache-Control": choice.cache, "Vary": "Cookie"})
    return handle


@pytest.fixture(scope="module")
def browser(public: Path) -> Iterator[Any]:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _tab(browser: Any, public: Path, level: int) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    if level:  # (and the display-only cookie that sign-in sets beside the session: web/sessions.py)
        context.add_cookies([{"name": SESSION, "value": str(level), "url": ORIGIN},
                             {"name": SIGNED_IN_HINT, "value": "1", "url": ORIGIN}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The site's own Content-Security-Policy, as its _headers gives it to a CDN: search must work under it.
    page.route(f"{ORIGIN}/**", _cdn_and_gate(public))
    return page


@pytest.fixture(scope="module")
def tab(browser: Any, public: Path) -> Iterator[Any]:
    page = _tab(browser, public, 0)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def member_tab(browser: Any, public: Path) -> Iterator[Any]:
    page = _tab(browser, public, 2)
    yield page
    page.context.close()


def results(tab: Any) -> list[str]:
    tab.wait_for_selector(".pagefind-ui__result-link")
    return tab.eval_on_selector_all(".pagefind-ui__result-link", "els => els.map(e => e.getAttribute('href'))")


def test_the_header_box_lands_on_results_of_public_pages_only(tab: Any) -> None:
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{ORIGIN}/about/")
    tab.fill("header input[name=q]", "zebrafish")
    tab.press("header input[name=q]", "Enter")
    tab.wait_for_url("**/search?q=zebrafish")
    assert results(tab) == ["/blog/open/"]  # the members' post mentions zebrafish too: not in the public index
    assert "okapi" not in tab.inner_text("main")
    assert errors == []


def test_a_signed_in_member_also_finds_the_members_page(member_tab: Any) -> None:
    errors: list[str] = []
    member_tab.on("pageerror", lambda exc: errors.append(str(exc)))
    asked: list[str] = []
    member_tab.on("request", lambda request: asked.append(request.url[len(ORIGIN):]))
    member_tab.goto(f"{ORIGIN}/search?q=okapi")
    assert results(member_tab) == ["/blog/club/"]  # only in the members' index
    member_tab.goto(f"{ORIGIN}/search?q=zebrafish")
    member_tab.wait_for_function("() => document.querySelectorAll('.pagefind-ui__result-link').length >= 2")
    assert sorted(results(member_tab)) == ["/blog/club/", "/blog/open/"]  # public ∪ members' pages, each once
    assert any(url.startswith("/pagefind-members/fragment/") for url in asked)
    assert errors == []


def test_an_anonymous_viewer_does_not_find_the_members_page(tab: Any) -> None:
    asked: list[tuple[str, int]] = []
    tab.on("response", lambda response: asked.append((response.url[len(ORIGIN):], response.status)))
    tab.goto(f"{ORIGIN}/search?q=zebrafish")
    assert results(tab) == ["/blog/open/"]
    tab.fill(".pagefind-ui__search-input", "okapi")
    tab.wait_for_selector(".pagefind-ui__message:has-text('No results')")
    assert not tab.query_selector_all(".pagefind-ui__result-link")
    # Not signed in: the members' index is not even asked for, and nothing the page asks for fails (a visitor's
    # console shows no error: the list of further parts is there, empty, for a public index of one part).
    assert not any(url.startswith("/pagefind-members/") for url, _status in asked)
    assert [(url, status) for url, status in asked if status >= 400] == []
    assert ("/pagefind-shards/index.json", 200) in asked


def test_typing_on_the_search_page_finds_other_pages(tab: Any) -> None:
    tab.goto(f"{ORIGIN}/search")
    box = ".pagefind-ui__search-input"
    tab.wait_for_selector(box)
    assert not tab.is_visible("main form.search-form")  # Pagefind's box replaces the plain form
    tab.fill(box, "narwhal")
    tab.wait_for_function("() => [...document.querySelectorAll('.pagefind-ui__result-link')]"
                          ".some(a => a.getAttribute('href') === '/about/')")


def test_search_fits_a_phone(tab: Any) -> None:
    tab.set_viewport_size({"width": 360, "height": 740})
    try:
        tab.goto(f"{ORIGIN}/search?q=zebrafish")
        results(tab)
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert tab.is_visible("header input[name=q]")
    finally:
        tab.set_viewport_size({"width": 1280, "height": 800})


WORDS = ["aardvark", "bison", "caracal", "dingo", "echidna", "ferret", "gecko", "hyrax", "ibex", "jackal", "kudu",
         "lemur"]


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose public index is in four parts (`[search] shard_pages = 2`), each animal in one post."""
    posts = {f"blog/{word}.md": f"---\ntitle: Post {i}\ndate: 2024-01-{i + 1:02}\n---\nThe {word} lives here.\n"
             for i, word in enumerate(WORDS)}
    # (No one-letter word: Pagefind also finds a page by a word that begins the query.)
    posts["blog/club.md"] = "---\ntitle: Club notes\ndate: 2024-02-01\nlevel: 2\n---\nThe okapi keeps members secrets.\n"
    public = _built(tmp_path_factory.mktemp("sharded") / "site", posts,
                    "[build]\nworkers = 1\n[search]\nshard_pages = 2\n")
    assert (public / "pagefind-shards" / "index.json").is_file()
    return public


def test_every_part_of_a_large_index_is_searched(browser: Any, sharded: Path) -> None:
    from mbsite.search import shard_count, shard_of

    count = shard_count(len(WORDS), 2)  # the public index holds the posts (listings are not indexed)
    far = [w for w in WORDS if shard_of(f"/blog/{w}", count) > 0]
    assert far, "no post fell in a further part"
    for level in (0, 2):
        tab = _tab(browser, sharded, level)
        try:
            errors: list[str] = []
            tab.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
            for word in far[:3]:
                tab.goto(f"{ORIGIN}/search?q={word}")
                assert results(tab) == [f"/blog/{word}/"], (level, word)
            tab.goto(f"{ORIGIN}/search?q=okapi")
            if level:
                assert results(tab) == ["/blog/club/"]  # the members' index is merged too
            else:
                tab.wait_for_selector(".pagefind-ui__message:has-text('No results')")
            assert errors == []
        finally:
            tab.context.close()
