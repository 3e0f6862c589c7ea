"""Pure ASGI middleware: rate limits with their headers, and the request body size limit (413)."""
from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem
from .ratelimit import RateLimiter, route_class


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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                for k, v in headers.items():
                    h[k] = v
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
