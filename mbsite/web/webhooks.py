"""Record changes → HMAC-signed POSTs to each tenant's webhook URLs, retried with exponential backoff.

Config (mbsite.toml):  [functions.webhooks]  acme = [{url = "https://…", secret = "…", events = ["record.*"]}]
Delivery happens after the write committed, in background tasks of the serving process; a crash loses
undelivered events (the change feed remains the durable record of what changed).
"""
from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

log = logging.getLogger("mbsite.webhooks")
SIGNATURE_HEADER = "X-Mbsite-Signature"


@dataclass(frozen=True)
class Hook:
    url: str
    secret: str
    events: tuple[str, ...] = ("*",)

    def wants(self, event: str) -> bool:
        return any(fnmatch.fnmatchcase(event, pattern) for pattern in self.events)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`t=<unix>,v1=<hex hmac-sha256 of "<t>.<body>">`: the timestamp is signed too, against replays."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def parse_hooks(config: dict[str, Any]) -> dict[str, list[Hook]]:
    hooks: dict[str, list[Hook]] = {}
    for tenant, entries in (config or {}).items():
        if isinstance(entries, dict):
            entries = [entries]
        for entry in entries or []:
            if isinstance(entry, dict) and entry.get("url") and entry.get("secret"):
                events = entry.get("events") or ["*"]
                hooks.setdefault(str(tenant), []).append(
                    Hook(str(entry["url"]), str(entry["secret"]), tuple(map(str, events))))
    return hooks


class Dispatcher:
    """Queues deliveries as tasks; `drain()` waits for them (tests, shutdown)."""

    def __init__(self, hooks: dict[str, list[Hook]], *, attempts: int = 5, base_delay: float = 0.5,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.hooks = hooks
        self.attempts = attempts
        self.base_delay = base_delay
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def emit(self, tenant: str, event: str, payload: dict[str, Any]) -> None:
        targets = [h for h in self.hooks.get(tenant, []) if h.wants(event)]
        if not targets:
            return
        body = orjson.dumps({"id": uuid.uuid4().hex, "event": event, "tenant": tenant,
                             "at": int(time.time() * 1000), "data": payload})
        for hook in targets:
            task = asyncio.get_running_loop().create_task(self._deliver(hook, event, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, hook: Hook, event: str, body: bytes) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0, transport=self._transport)
        for attempt in range(self.attempts):
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Mbsite-Event": event,
                       SIGNATURE_HEADER: sign(hook.secret, ts, body)}
            try:
                response = await self._client.post(hook.url, content=body, headers=headers)
                if response.status_code < 300:
                    return
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    log.warning("webhook %s refused %s: %s", hook.url, event, response.status_code)
                    return  # the receiver rejected it: retrying will not help
            except httpx.HTTPError as exc:
                log.info("webhook %s attempt %d failed: %s", hook.url, attempt + 1, exc)
            await asyncio.sleep(self.base_delay * (2 ** attempt))
        log.warning("webhook %s: giving up on %s after %d attempts", hook.url, event, self.attempts)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
