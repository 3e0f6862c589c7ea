"""The OpenAPI document: valid 3.1, covers the entities, and a bounded schemathesis run finds no 5xx and
no response that breaks the document."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from mbsite.config import Config
from mbsite.web import build_state, create_app

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis (the [test] extra) is not installed")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import checks  # noqa: E402


class SyncClient:
    """Drives the ASGI app (lifespan included) on a private event loop, for hypothesis' sync tests."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.lifespan = app.router.lifespan_context(app)
        self.loop.run_until_complete(self.lifespan.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")
        self.cookies = self.client.cookies

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="module")
def fuzz_app(template_site: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fuzz") / "site"
    shutil.copytree(template_site, root)
    config = Config(site_dir=root, revalidate_secret="fuzz-secret",
                    rate_limits={"read": "1000000/minute", "write": "1000000/minute", "login": "1000000/minute",
                                 "media": "1000000/minute", "login_account": "1000000/minute",
                                 "login_client": "1000000/minute"})
    app = create_app(config, state=build_state(config), include_gate=False)
    client = SyncClient(app)
    token = client.post("/api/auth/login?token=1", json={"tenant": "acme", "username": "supergod",
                                                         "password": "mbsite-demo"}).json()["token"]
    client.cookies.clear()
    yield app, client, token
    client.close()


def test_document_shape(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    _, client, _ = fuzz_app
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert "/api/v1/{tenant}/notes/note/{id}" in doc["paths"]
    assert "secret" not in doc["components"]["schemas"]["notes_Note"]["properties"]
    assert doc["paths"]["/api/v1/{tenant}/notes/note"]["parameters"][0]["schema"]["enum"] == ["acme", "globex"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/{tenant}/notes/note" in page.text and "<script" not in page.text


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


def test_schemathesis(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    app, client, token = fuzz_app
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/api/media" in operation.path:
            continue  # multipart bodies: covered by tests/web/test_auth_gate.py

        @settings(max_examples=6, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            kwargs = case.as_transport_kwargs(base_url="http://localhost")
            kwargs = {k: v for k, v in kwargs.items() if k in (
                "method", "url", "headers", "params", "content", "json", "data", "files") and v is not None}
            if isinstance(kwargs.get("data"), (str, bytes)):  # a text/csv body: raw content, not form data
                kwargs["content"] = kwargs.pop("data")
            response = client.request(**kwargs)
            sresponse = schemathesis.Response.from_any(response)
            for check in CHECKS:
                try:
                    case.validate_response(sresponse, checks=[check])
                except AssertionError as exc:
                    failures.append(f"{case.method} {case.formatted_path}: {check.__name__}: {str(exc)[:300]}")

        run()
        ran += 1
    assert ran >= 10
    assert not failures, "\n".join(failures[:20])

