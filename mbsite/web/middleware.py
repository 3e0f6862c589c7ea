"""Pure ASGI middleware: the client address behind trusted proxies, rate limits with their headers, and the
request body size limit (413)."""
from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ConfigError
from .problems import problem
from .ratelimit import RateLimiter, route_class

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(entries: Iterable[Any]) -> tuple[Network, ...]:
    """`functions.trusted_proxies` → networks (addresses or CIDR blocks; `"*"` trusts every peer)."""
    networks: list[Network] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise ConfigError(f"functions.trusted_proxies: {entry!r} is not a string")
        if entry.strip() == "*":
            networks += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"functions.trusted_proxies: {entry!r} is not an IP address or network") from None
    return tuple(networks)


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in n for n in networks)


def forwarded_client(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The client address: the peer, or, when the peer is a trusted proxy, the nearest address in
    X-Forwarded-For that is not a trusted proxy itself (read right to left: only trusted hops can have
    appended to the header, anything further left is whatever the client claimed)."""
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


class ClientAddressMiddleware:
    """Sets scope["client"] to the real client when the request came through a trusted proxy, so rate
    limits, session records and endpoints all see the same address. Outermost; only installed when
    `functions.trusted_proxies` is set."""

    def __init__(self, app: ASGIApp, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer, port = scope.get("client") or ("", 0)
            header = None
            for key, value in scope.get("headers", ()):
                if key == b"x-forwarded-for":
                    # Several X-Forwarded-For lines mean one comma list, in order.
                    header = value.decode("latin-1") if header is None else f"{header},{value.decode('latin-1')}"
            client = forwarded_client(peer, header, self.networks)
            if client != peer:
                scope = {**scope, "client": (client, port)}
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """Counts each /api request against its route class; 429 with Retry-After when over."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = route_class(scope["method"], scope["path"])
        if name is None:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        verdict = await self.limiter.hit(name, client)
        headers = verdict.headers()
        if not verdict.allowed:
            response = problem(429, f"rate limit for {name} requests exceeded", headers=headers)
            await response(scope, receive, send)
            return
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """413 for bodies over the limit: by Content-Length up front, or while streaming (chunked uploads)."""

    def __init__(self, app: ASGIApp, max_bytes: int, media_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.media_max_bytes = media_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # Multipart framing adds a little to the file itself, so media get some slack over the file limit.
        limit = self.media_max_bytes + 64 * 1024 if scope["path"].startswith("/api/media") else self.max_bytes
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await problem(413, f"request body over {limit} bytes")(scope, receive, send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await problem(413, f"request body over {limit} bytes")(scope, receive, send)


class _TooLarge(Exception):
    pass


def client_ip(scope: Any) -> str:
    return (scope.get("client") or ("unknown", 0))[0]
