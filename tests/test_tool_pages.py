"""The tool pages — the preview's landing and not-found pages, the API reference, a failed form sign-in — wear the
default theme: its stylesheet (served by the functions with the tool pages' rules), its header bar and content
area, and no inline script or style (the Content-Security-Policy is script-src 'self')."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from mbsite.config import Config
from mbsite.preview import create_serve_app
from mbsite.web import create_app
from mbsite.web.toolpages import STYLESHEET_URL

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "mbsite-demo"
HOST = "http://127.0.0.1:8000"
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo content with its database seeded once (not built: the tool pages need no output)."""
    from mbsite.db.engine import ensure_schema, open_engine
    from mbsite.db.seed import load_seed
    from mbsite.passwords import hash_password

    site = tmp_path_factory.mktemp("tools") / "site"
    shutil.copytree(REPO / "content", site / "content")
    (site / ".mbsite").mkdir()
    engine = open_engine(f"sqlite:///{site / '.mbsite' / 'mbsite.sqlite3'}")
    ensure_schema(engine)
    one = hash_password(PASSWORD)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("mbsite.db.seed.hash_password", lambda _pw: one)
        load_seed(engine, site / "content")
    engine.dispose()
    return site


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def preview(seeded: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_serve_app(Config(site_dir=seeded))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as c:
            yield c


@pytest.fixture
async def functions(seeded: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Config(site_dir=seeded))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as c:
            yield c


def assert_themed(page: str) -> None:
    assert f'<link rel="stylesheet" href="{STYLESHEET_URL}">' in page
    assert 'class="site-header"' in page and '<main id="main" class="content' in page
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline script"


async def test_the_stylesheet_is_the_themes_plus_the_tool_rules(preview: httpx.AsyncClient) -> None:
    r = await preview.get(STYLESHEET_URL)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    theme = (REPO / "themes" / "default" / "static" / "style.css").read_text(encoding="utf-8")
    assert r.text.startswith(theme) and ".signin-card" in r.text and ".tool-cards" in r.text
    again = await preview.get(STYLESHEET_URL, headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/", "/api/v1/docs", "/nowhere"], ids=["landing", "api-docs", "not-found"])
async def test_tool_pages_wear_the_theme(preview: httpx.AsyncClient, path: str) -> None:
    r = await preview.get(path)
    assert r.headers["content-type"].startswith("text/html")
    assert_themed(r.text)
    assert "script-src 'self'" in r.headers["content-security-policy"]


async def test_the_landing_page_shows_tenants_as_cards(preview: httpx.AsyncClient) -> None:
    page = (await preview.get("/")).text
    assert page.count('class="tool-card"') >= 2


async def test_the_api_reference_marks_methods(preview: httpx.AsyncClient) -> None:
    page = (await preview.get("/api/v1/docs")).text
    assert '<table class="tool-table">' in page and 'class="method method-get"' in page


async def test_a_failed_preview_sign_in_returns_to_the_form_with_the_message(preview: httpx.AsyncClient) -> None:
    r = await preview.post("/api/auth/login", data={"tenant": "globex", "username": "admin", "password": "nope"},
                           headers={"referer": f"{HOST}/globex/login?next=%2Fglobex%2Fadmin", "origin": HOST})
    assert r.status_code == 401
    assert_themed(r.text)
    assert 'role="alert">wrong tenant, username or password' in r.text
    assert '<form method="post" action="/api/auth/login?next=/globex/admin">' in r.text
    assert 'name="tenant" value="globex"' in r.text and 'name="username" autocomplete="username" required ' \
        'value="admin"' in r.text
    # Trying again from that form lands where the first attempt was going.
    ok = await preview.post("/api/auth/login?next=/globex/admin",
                            data={"tenant": "globex", "username": "admin", "password": PASSWORD},
                            headers={"referer": f"{HOST}/api/auth/login", "origin": HOST})
    assert ok.status_code == 303 and ok.headers["location"] == "/globex/admin"


async def test_a_failed_deployed_sign_in_returns_to_the_form_with_the_message(functions: httpx.AsyncClient) -> None:
    r = await functions.post("/api/auth/login", data={"tenant": "acme", "username": "user", "password": "nope",
                                                      "next": "/members"},
                             headers={"referer": f"{HOST}/login", "origin": HOST})
    assert r.status_code == 401
    assert_themed(r.text)
    assert 'role="alert">wrong tenant, username or password' in r.text
    assert 'name="tenant" value="acme"' in r.text and 'name="next" value="/members"' in r.text
    css = await functions.get(STYLESHEET_URL)
    assert css.status_code == 200 and ".signin-error" in css.text
