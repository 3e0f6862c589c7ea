"""Writes regenerate pages, end to end: an API write → change feed → the rebuild loop → the static page.

The demo site is built once; each test runs the real rebuild loop (`mbsite.watch.Watcher`) in a thread on
a copy of it, writes as the demo admin through the ASGI app, and waits (bounded) for /products to change.
"""
from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from mbsite.config import Config, load_config
from mbsite.reporter import BufferReporter
from mbsite.watch import Batch, Watcher
from mbsite.web import create_app

REPO = Path(__file__).resolve().parent.parent.parent
PASSWORD = "mbsite-demo"
WAIT_S = 10.0
pytestmark = pytest.mark.anyio




class Loop:
    """The rebuild loop running in a thread, and what it has built."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.batches: list[Batch] = []
        self.watcher = Watcher(config, BufferReporter(), on_batch=self.batches.append)
        self.thread = threading.Thread(target=self.watcher.run, name="test-rebuild-loop", daemon=True)

    def products_page(self) -> str:
        return (self.config.out / "acme" / "public" / "products" / "index.html").read_text(encoding="utf-8")

    def wait_for(self, what: str, done: Callable[[str], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if done(self.products_page()):
                return
            time.sleep(0.05)
        errors = [str(b.error) for b in self.batches if b.error]
        pytest.fail(f"/products did not {what} within {WAIT_S:.0f} s ({len(self.batches)} builds; errors: {errors})")


@pytest.fixture
def loop(built_demo: Path, tmp_path: Path) -> Iterator[Loop]:
    site = tmp_path / "site"
    shutil.copytree(built_demo, site)
    running = Loop(load_config(site))
    running.thread.start()
    deadline = time.monotonic() + WAIT_S
    while not running.batches and time.monotonic() < deadline:  # the initial (up-to-date) build
        time.sleep(0.02)
    assert running.batches and running.batches[0].error is None
    yield running
    running.watcher.stop.set()
    running.thread.join(timeout=WAIT_S)
    running.watcher.engine.dispose()
    assert not running.thread.is_alive()


async def admin_client(config: Config) -> Any:
    app = create_app(config, include_gate=False)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


async def signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/api/auth/login", json={"tenant": "acme", "username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrfToken"]}


async def test_post_shows_the_new_product(loop: Loop) -> None:
    name = f"Portable Hole {uuid.uuid4().hex[:6]}"
    assert name not in loop.products_page()
    app, client = await admin_client(loop.config)
    async with app.router.lifespan_context(app), client:
        headers = await signed_in(client)
        r = await client.post("/api/v1/acme/shop/product", headers=headers,
                              json={"name": name, "price": 12.5, "status": "active", "category": "Tools"})
        assert r.status_code == 201, r.text
    loop.wait_for("list the new product", lambda html: name in html)


async def test_patch_and_delete_change_the_page(loop: Loop) -> None:
    page = loop.products_page()
    assert "Rocket Skates" in page and "Giant Magnet" in page
    renamed = f"Rocket Skates Mk {uuid.uuid4().hex[:4]}"
    app, client = await admin_client(loop.config)
    async with app.router.lifespan_context(app), client:
        headers = await signed_in(client)
        r = await client.patch("/api/v1/acme/shop/product/rocket-skates", headers=headers, json={"name": renamed})
        assert r.status_code == 200, r.text
        loop.wait_for("show the renamed product", lambda html: renamed in html)
        r = await client.delete("/api/v1/acme/shop/product/giant-magnet", headers=headers)
        assert r.status_code == 204, r.text
        loop.wait_for("drop the deleted product", lambda html: "Giant Magnet" not in html)
