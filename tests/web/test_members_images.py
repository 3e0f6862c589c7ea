"""An image that only members' pages show is built under private/ and served by the gate at its public URL, only to a
session whose level may see a page showing it; anyone else gets exactly what a file that does not exist gets."""
from __future__ import annotations

import dataclasses
import io
import json

import pytest
from PIL import Image
from web_support import Api

from mbsite.builder import Builder
from mbsite.reporter import BufferReporter

pytestmark = pytest.mark.anyio


def _build_members_post(api: Api) -> tuple[str, bytes]:
    """A level-2 post of acme showing a picture; built; returns one of the picture's files (name, bytes)."""
    config = api.app.state.mb.config
    blog = config.site_dir / "content" / "blog"
    blog.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 60)).save(buf, "PNG")
    (blog / "desk.png").write_bytes(buf.getvalue())
    (blog / "desk.md").write_text("---\ntitle: Desk\ndate: 2024-03-01\nlevel: 2\ntenants: [acme]\n---\n"
                                  "![The desk](desk.png)\n")
    result = Builder(dataclasses.replace(config, search=False, workers=1), BufferReporter()).run()
    assert result.ok, [str(p) for p in result.problems]
    listed = json.loads((config.out / "acme" / "routes.json").read_text())["images"]
    name = sorted(listed)[0]
    assert listed[name] == 2 and not (config.out / "acme" / "public" / "assets" / "images" / name).exists()
    return name, (config.out / "acme" / "private" / "assets" / "images" / name).read_bytes()


async def test_a_members_image_is_served_to_its_level_and_missing_for_everyone_else(api: Api) -> None:
    if not api.app.state.mb.config.database_url.startswith("sqlite"):
        pytest.skip("the build and the gate's files do not depend on the database: one run (SQLite) is enough")
    name, data = _build_members_post(api)
    missing = await api.client.get("/acme/assets/images/nothing-40.0123456789.png")
    assert missing.status_code == 404

    anonymous = await api.client.get(f"/acme/assets/images/{name}")
    assert (anonymous.status_code, anonymous.content) == (404, missing.content)
    assert {k: v for k, v in anonymous.headers.items() if k not in ("date",)} == \
        {k: v for k, v in missing.headers.items() if k not in ("date",)}  # not even the headers tell it exists

    await api.login("acme", "user")  # level 1: may not see the post, so not its image
    assert (await api.client.get(f"/acme/assets/images/{name}")).status_code == 404
    await api.login("globex", "supergod")  # another tenant's session is nobody here
    assert (await api.client.get(f"/acme/assets/images/{name}")).status_code == 404

    await api.login("acme", "moderator")  # level 2: the post's level
    got = await api.client.get(f"/acme/assets/images/{name}")
    assert (got.status_code, got.content) == (200, data)
    assert got.headers["cache-control"] == "private, no-store" and got.headers["vary"] == "Cookie"
    page = await api.client.get("/acme/blog/desk")
    assert page.status_code == 200 and f"/assets/images/{name}" in page.text
    for sneaky in (f"/acme/assets/images/../../private/assets/images/{name}",
                   f"/acme/assets/images/%2e%2e/%2e%2e/private/assets/images/{name}", "/acme/private/assets/images/"
                   + name):
        await api.login("acme", "user")
        r = await api.client.get(sneaky)
        assert r.status_code == 404 and r.content != data, sneaky
