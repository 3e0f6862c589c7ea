"""Session tokens ↔ database sessions ↔ the Principal of a request.

Tokens are 256-bit random strings; only their SHA-256 is stored, so a leaked sessions table opens no
account. Each login creates a fresh session (rotation); last_activity is refreshed at most once a minute
to keep reads off the write path. A looked-up session is kept for SESSION_CACHE_S (2 s) per token hash;
logout and rotation drop it at once in this process (another process may honour it until its entry ages
out), and expiry is checked on every request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response

from ..config import Config
from ..db.models import now_ms
from ..levels import role_level
from .authz import ANONYMOUS, Principal

TOUCH_EVERY_MS = 60_000
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_LOOKUP = ("SELECT s.id, s.user_id, s.tenant, s.csrf_token, s.expires_at, s.last_activity, u.username, u.role "
           "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = :h "
           # A disabled account's sessions are deleted when it is disabled; this keeps a session that raced
           # with that delete from ever signing anyone in.
           "AND NOT EXISTS (SELECT 1 FROM disabled_users d WHERE d.user_id = s.user_id)")
_TOUCH = "UPDATE sessions SET last_activity = :t WHERE id = :id"


@dataclass
class _Cached:
    principal: Principal        # as seen through the cookie; `via` is replaced per request
    expires_at: int
    last_activity: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_token(request: Request, config: Config) -> tuple[str | None, str]:
    """The session token of a request and how it came: `Authorization: Bearer` or the cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, "bearer"
    return request.cookies.get(config.session_cookie), "cookie"


async def principal_for(request: Request, config: Config, db: Any) -> Principal:
    """The signed-in user of the request, or ANONYMOUS; cached on the request and, briefly, per token."""
    cached = request.scope.get("mb.principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token, via = request_token(request, config)
    principal = ANONYMOUS
    if token:
        key = hash_token(token)
        entry: _Cached | None = db.session_cache.get(key)
        if entry is None:
            async with db.read() as conn:
                row = (await conn.execute(_LOOKUP, {"h": key})).first()
            if row is not None:
                entry = _Cached(Principal(user_id=row.user_id, tenant=row.tenant, username=row.username,
                                          role=row.role, level=role_level(row.role), session_id=row.id,
                                          csrf_token=row.csrf_token, via="cookie"),
                                row.expires_at, row.last_activity)
                db.session_cache.put(key, entry)
        now = now_ms()
        if entry is not None and entry.expires_at > now:
            principal = entry.principal if via == "cookie" else replace(entry.principal, via=via)
            if now - entry.last_activity > TOUCH_EVERY_MS:
                entry.last_activity = now
                async with db.write() as conn:
                    await conn.execute(_TOUCH, {"t": now, "id": entry.principal.session_id})
    request.scope["mb.principal"] = principal
    return principal


def forget_session(db: Any, session_id: str) -> None:
    """Drop a session from this process's cache (logout, rotation)."""
    db.session_cache.drop_where(lambda entry: entry.principal.session_id == session_id)


def forget_user(db: Any, user_id: str) -> None:
    """Drop every cached session of a user (disabled, role changed, password reset)."""
    db.session_cache.drop_where(lambda entry: entry.principal.user_id == user_id)


def same_origin(request: Request) -> bool:
    """The browser says the request comes from a page of this very site (Fetch metadata, else Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].rstrip("/").lower() == host.lower()


def csrf_ok(request: Request, principal: Principal) -> bool:
    """Cookie-authenticated writes must echo the session's CSRF token in X-CSRF-Token, or come from a plain
    HTML form of the same origin (the static pages cannot know the token), as the browser attests."""
    if request.method in SAFE_METHODS or principal.via != "cookie":
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    if sent:
        return bool(principal.csrf_token) and hmac.compare_digest(sent, principal.csrf_token or "")
    return same_origin(request)


async def create_session(conn: Any, config: Config, user_id: str, tenant: str, request: Request) -> tuple[str, str]:
    """Insert a new session; returns (token, csrf token). The token itself is never stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = now_ms()
    client = request.client.host if request.client else None
    await conn.execute(text(
        "INSERT INTO sessions (id, token_hash, user_id, tenant, csrf_token, created_at, expires_at, last_activity,"
        " ip_address, user_agent) VALUES (:id, :h, :u, :t, :c, :now, :exp, :now, :ip, :ua)"),
        {"id": uuid.uuid4().hex, "h": hash_token(token), "u": user_id, "t": tenant, "c": csrf, "now": now,
         "exp": now + config.session_ttl * 1000, "ip": client,
         "ua": (request.headers.get("user-agent") or "")[:512] or None})
    return token, csrf


async def delete_session(conn: Any, session_id: str) -> None:
    await conn.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": session_id})


def _secure(request: Request) -> bool:
    # Browsers drop Secure cookies on plain-HTTP origins; only local development runs without TLS.
    host = (request.url.hostname or "").lower()
    return not (request.url.scheme == "http" and host in ("localhost", "127.0.0.1", "::1"))


# Display-only hint for static pages (which account control to show); it grants nothing and carries no secret.
SIGNED_IN_HINT = "mb_signed_in"


def set_cookie(response: Response, request: Request, config: Config, token: str) -> None:
    response.set_cookie(config.session_cookie, token, max_age=config.session_ttl, path="/", httponly=True,
                        samesite="lax", secure=_secure(request))
    response.set_cookie(SIGNED_IN_HINT, "1", max_age=config.session_ttl, path="/", httponly=False,
                        samesite="lax", secure=_secure(request))


def clear_cookie(response: Response, request: Request, config: Config) -> None:
    response.delete_cookie(config.session_cookie, path="/", httponly=True, samesite="lax", secure=_secure(request))
    response.delete_cookie(SIGNED_IN_HINT, path="/", httponly=False, samesite="lax", secure=_secure(request))
