"""Webhooks: signed deliveries of record changes, retried after failures."""
from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from web_support import make_api

from mbsite.config import Config

pytestmark = pytest.mark.anyio


async def test_signed_delivery_with_retry(site: Config) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503 if len(calls) == 1 else 204)

    config = Config(**{**site.__dict__, "webhooks": {"acme": [{"url": "https://hooks.test/x", "secret": "k",
                                                               "events": ["record.*"]}]}})
    async for api in make_api(config, webhook_transport=httpx.MockTransport(handler)):
        api.app.state.mb.webhooks.base_delay = 0.01
        await api.login("acme", "user")
        r = await api.client.post("/api/v1/acme/notes/note", json={"title": "hooked"}, headers=api.h())
        assert r.status_code == 201
        await api.app.state.mb.webhooks.drain()
    assert len(calls) == 2  # one failure, one retry
    req = calls[-1]
    body = req.content
    assert json.loads(body)["event"] == "record.created"
    sig = dict(part.split("=", 1) for part in req.headers["x-mbsite-signature"].split(","))
    expected = hmac.new(b"k", sig["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(sig["v1"], expected)
