"""Management writes regenerate pages: a page config created, changed or deleted through /_pages reaches the
built site with the next incremental build (through the change feed, like every other write)."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.web import create_app

REPO = Path(__file__).resolve().parent.parent.parent
PASSWORD = "mbsite-demo"
pytestmark = pytest.mark.anyio




def _tree(text: str) -> dict:
    return {"type": "Box", "children": [{"type": "Typography", "props": {"variant": "h1", "children": text}}]}


async def test_page_config_written_through_the_api_is_built(built_demo: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    config = load_config(site)
    slug = f"crew-{uuid.uuid4().hex[:6]}"
    page = config.out / "acme" / "public" / slug / "index.html"
    assert not page.exists()
    first, second = f"Meet the team {uuid.uuid4().hex[:6]}", f"The whole team {uuid.uuid4().hex[:6]}"
    app = create_app(config, include_gate=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        r = await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
        headers = {"X-CSRF-Token": r.json()["csrfToken"]}
        r = await client.post("/api/v1/acme/_pages", headers=headers,
                              json={"path": f"/{slug}", "title": "Crew", "componentTree": _tree(first)})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        result = Builder(config).run()
        assert result.ok, result.problems
        assert first in page.read_text(encoding="utf-8")
        r = await client.patch(f"/api/v1/acme/_pages/{pid}", headers=headers, json={"componentTree": _tree(second)})
        assert r.status_code == 200, r.text
        Builder(config).run()
        html = page.read_text(encoding="utf-8")
        assert second in html and first not in html
        assert (await client.delete(f"/api/v1/acme/_pages/{pid}", headers=headers)).status_code == 204
        Builder(config).run()
        assert not page.exists()
