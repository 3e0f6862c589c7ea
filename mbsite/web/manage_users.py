"""/api/v1/{tenant}/_users[/{id}] and /api/auth/reset → users and roles: list, create, read, change, reset password.

Rules (each has a test in tests/web/test_manage_users.py):
- a manager acts only on users whose level is at most their own, and gives no role above their own level;
- nobody changes their own role or disables themselves (a last admin cannot lock the tenant out by accident);
- disabling deletes the user's sessions in the same transaction, so they end at once (and this process's
  session cache forgets them; the session lookup also refuses a disabled account);
- a password reset hands out a one-time token (256 bits, only its SHA-256 stored, valid RESET_TTL_S); spending
  it at POST /api/auth/reset stores the new password's argon2 hash and ends every session of the user.
"""
from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..db.models import now_ms
from ..db.rows import USER_SELECT, user_doc
from ..levels import ROLE_LEVELS, role_level
from ..passwords import hash_password
from . import audit
from .crud import new_id
from .manage import (
    Manager,
    check_if_match,
    error,
    json_object,
    listing,
    manager,
    one,
    raise_errors,
    row_etag,
    unknown_keys,
)
from .problems import ApiError, json_response
from .sessions import forget_user, hash_token

RESET_TTL_S = 24 * 3600
MIN_PASSWORD = 8
ROLES = tuple(r for r in ROLE_LEVELS if r != "public")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,50}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COLUMNS = ("id", "username", "email", "role", "level", "disabled", "createdAt")


async def _read(conn: Any, tenant: str, uid: str) -> dict[str, Any]:
    row = (await conn.execute(f"{USER_SELECT} WHERE u.tenant = :t AND u.id = :id", {"t": tenant, "id": uid})).first()
    if row is None:
        raise ApiError(404, "no such user")
    return user_doc(row)


def _role(m: Manager, value: Any, errors: list[dict[str, Any]]) -> str | None:
    if not isinstance(value, str) or value not in ROLES:
        errors.append(error("/role", "enum", "must be one of: " + ", ".join(ROLES)))
        return None
    if role_level(value) > m.principal.level:
        raise ApiError(403, f"you may not give the role {value}: it is above your own level")
    return value


def _may_manage(m: Manager, target: dict[str, Any]) -> None:
    if target["level"] > m.principal.level:
        raise ApiError(403, "this user's level is above yours")


async def _end_sessions(conn: Any, uid: str) -> None:
    await conn.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": uid})


async def _new_reset(m: Manager, conn: Any, uid: str) -> dict[str, Any]:
    """A fresh one-time token for the user (earlier ones are spent); the caller shows it once."""
    token = secrets.token_urlsafe(32)
    now = now_ms()
    await conn.execute(text("DELETE FROM password_resets WHERE user_id = :u"), {"u": uid})
    await conn.execute(text("INSERT INTO password_resets (token_hash, user_id, tenant, created_by, created_at, "
                            "expires_at) VALUES (:h, :u, :t, :by, :now, :exp)"),
                       {"h": hash_token(token), "u": uid, "t": m.tenant, "by": m.actor, "now": now,
                        "exp": now + RESET_TTL_S * 1000})
    return {"token": token, "expiresAt": now + RESET_TTL_S * 1000, "redeem": "POST /api/auth/reset"}


async def list_users(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        rows = (await conn.execute(f"{USER_SELECT} WHERE u.tenant = :t ORDER BY u.username", {"t": m.tenant})).all()
    return listing(request, [user_doc(r) for r in rows], COLUMNS, f"{m.tenant}-users")


async def create_user(request: Request) -> Response:
    m = await manager(request)
    body = await json_object(request)
    errors = unknown_keys(body, ("username", "email", "role", "password"))
    username, email, password = body.get("username"), body.get("email"), body.get("password")
    if not isinstance(username, str) or not _USERNAME.match(username):
        errors.append(error("/username", "pattern", "1 to 50 letters, digits or _ . @ -"))
    if email is not None and (not isinstance(email, str) or len(email) > 255 or not _EMAIL.match(email)):
        errors.append(error("/email", "format", "must be an email address"))
    if password is not None and (not isinstance(password, str) or len(password) < MIN_PASSWORD):
        errors.append(error("/password", "minLength", f"at least {MIN_PASSWORD} characters"))
    role = _role(m, body.get("role", "user"), errors)
    raise_errors(errors)
    # argon2 is CPU-bound: hash off the event loop, before the write transaction starts.
    hashed = await asyncio.to_thread(hash_password, password) if password else None
    uid = new_id()
    async with m.web.db.write() as conn:
        taken = (await conn.execute(text("SELECT 1 FROM users WHERE tenant = :t AND lower(username) = lower(:u)"),
                                    {"t": m.tenant, "u": username})).first()
        if taken is not None:
            raise ApiError(409, f"the username {username!r} is taken", code="CONFLICT",
                           errors=[error("/username", "unique", "is already taken")])
        await conn.execute(text("INSERT INTO users (id, tenant, username, email, role, created_at) "
                                "VALUES (:id, :t, :u, :e, :r, :now)"),
                           {"id": uid, "t": m.tenant, "u": username, "e": email, "r": role, "now": now_ms()})
        if hashed is not None:
            await conn.execute(text("INSERT INTO credentials (user_id, password_hash, changed_at) "
                                    "VALUES (:u, :h, :now)"), {"u": uid, "h": hashed, "now": now_ms()})
        doc = await _read(conn, m.tenant, uid)
        reset = await _new_reset(m, conn, uid) if hashed is None else None
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="create", target=f"_users/{uid}", after=doc)
    headers = {"ETag": row_etag(doc), "Location": f"{request.url.path.rstrip('/')}/{uid}", "Cache-Control": "no-store"}
    return json_response({**doc, **({"passwordReset": reset} if reset else {})}, status=201, headers=headers)


async def get_user(request: Request) -> Response:
    m = await manager(request)
    async with m.web.db.read() as conn:
        doc = await _read(conn, m.tenant, request.path_params["id"])
    return one(request, doc)


async def update_user(request: Request) -> Response:
    """PATCH: `role`, `email`, `disabled`."""
    m = await manager(request)
    uid = request.path_params["id"]
    body = await json_object(request)
    errors = unknown_keys(body, ("role", "email", "disabled"), ("id", "username", "level", "createdAt"))
    role = _role(m, body["role"], errors) if "role" in body else None
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or len(email) > 255 or not _EMAIL.match(email)):
        errors.append(error("/email", "format", "must be an email address"))
    if "disabled" in body and not isinstance(body["disabled"], bool):
        errors.append(error("/disabled", "type", "must be a boolean"))
    raise_errors(errors)
    if uid == m.actor and (role is not None or body.get("disabled") is True):
        raise ApiError(403, "you may not change your own role or disable yourself")
    async with m.web.db.write() as conn:
        old = await _read(conn, m.tenant, uid)
        _may_manage(m, old)
        check_if_match(request, row_etag(old))
        if role is not None and role != old["role"]:
            await conn.execute(text("UPDATE users SET role = :r WHERE id = :id AND tenant = :t"),
                               {"r": role, "id": uid, "t": m.tenant})
        if "email" in body:
            await conn.execute(text("UPDATE users SET email = :e WHERE id = :id AND tenant = :t"),
                               {"e": email, "id": uid, "t": m.tenant})
        if body.get("disabled") is True and not old["disabled"]:
            await conn.execute(text("INSERT INTO disabled_users (user_id, tenant, disabled_by, disabled_at) "
                                    "VALUES (:u, :t, :by, :now)"),
                               {"u": uid, "t": m.tenant, "by": m.actor, "now": now_ms()})
            await _end_sessions(conn, uid)
            await conn.execute(text("DELETE FROM password_resets WHERE user_id = :u"), {"u": uid})
        elif body.get("disabled") is False and old["disabled"]:
            await conn.execute(text("DELETE FROM disabled_users WHERE user_id = :u"), {"u": uid})
        new = await _read(conn, m.tenant, uid)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="update", target=f"_users/{uid}",
                           before=old, after=new)
    forget_user(m.web.db, uid)  # a new role or a disabled account takes effect with the next request
    return one(request, new)


async def reset_password(request: Request) -> Response:
    """POST …/_users/{id}/reset-password: a one-time token the user spends at POST /api/auth/reset."""
    m = await manager(request)
    uid = request.path_params["id"]
    async with m.web.db.write() as conn:
        target = await _read(conn, m.tenant, uid)
        _may_manage(m, target)
        if target["disabled"]:
            raise ApiError(409, "the account is disabled; enable it first", code="CONFLICT")
        reset = await _new_reset(m, conn, uid)
        await audit.record(conn, tenant=m.tenant, actor=m.actor, action="reset-password", target=f"_users/{uid}")
    return json_response(reset, status=201, headers={"Cache-Control": "no-store"})


async def redeem_reset(request: Request) -> Response:
    """POST /api/auth/reset {token, password}: set the password once; every session of the user ends."""
    web = request.app.state.mb
    body = await json_object(request)
    token, password = body.get("token"), body.get("password")
    errors = unknown_keys(body, ("token", "password"))
    if not isinstance(token, str) or not token:
        errors.append(error("/token", "required", "is required"))
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        errors.append(error("/password", "minLength", f"at least {MIN_PASSWORD} characters"))
    raise_errors(errors)
    token, hashed = str(token), await asyncio.to_thread(hash_password, str(password))
    async with web.db.write() as conn:
        # Spent by deleting it: of two uses racing, only the one whose DELETE removed the row goes on.
        row = (await conn.execute(text("SELECT user_id, tenant, expires_at FROM password_resets WHERE token_hash = :h"),
                                  {"h": hash_token(token)})).first()
        gone = await conn.execute(text("DELETE FROM password_resets WHERE token_hash = :h"), {"h": hash_token(token)})
        if row is None or gone.rowcount != 1 or row.expires_at < now_ms():
            raise ApiError(400, "this reset token is unknown, used or expired", code="INVALID_TOKEN")
        disabled = (await conn.execute(text("SELECT 1 FROM disabled_users WHERE user_id = :u"),
                                       {"u": row.user_id})).first()
        if disabled is not None:
            raise ApiError(400, "this reset token is unknown, used or expired", code="INVALID_TOKEN")
        await conn.execute(text("DELETE FROM credentials WHERE user_id = :u"), {"u": row.user_id})
        await conn.execute(text("INSERT INTO credentials (user_id, password_hash, changed_at) VALUES (:u, :h, :now)"),
                           {"u": row.user_id, "h": hashed, "now": now_ms()})
        await conn.execute(text("DELETE FROM sessions WHERE user_id = :u"), {"u": row.user_id})
        await audit.record(conn, tenant=row.tenant, actor=row.user_id, action="password-set",
                           target=f"_users/{row.user_id}")
    forget_user(web.db, row.user_id)
    return Response(status_code=204)


async def collection(request: Request) -> Response:
    return await (create_user if request.method == "POST" else list_users)(request)


async def item(request: Request) -> Response:
    return await (update_user if request.method == "PATCH" else get_user)(request)


routes = [
    Route("/{tenant}/_users", collection, methods=["GET", "POST"]),
    Route("/{tenant}/_users/{id}", item, methods=["GET", "PATCH"]),
    Route("/{tenant}/_users/{id}/reset-password", reset_password, methods=["POST"]),
]
