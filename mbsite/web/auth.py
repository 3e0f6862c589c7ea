"""POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me: database sessions behind a cookie.

Brute force: the route class `login` limits attempts per client (middleware); failed passwords are also
counted per account (`login_account`), and a locked account answers 429 even to the right password.
"""
from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..levels import role_level
from ..passwords import dummy_hash, verify_password
from .problems import ApiError, json_response
from .sessions import (clear_cookie, create_session, csrf_ok, delete_session, forget_session, principal_for,
                       set_cookie)

_USER = text("SELECT u.id, u.role, c.password_hash FROM users u LEFT JOIN credentials c ON c.user_id = u.id "
             "WHERE u.tenant = :t AND u.username = :u")


async def _credentials(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise ApiError(400, "invalid JSON body", code="INVALID_JSON") from None
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = dict(await request.form())
    else:
        raise ApiError(415, "send JSON or a form", headers={"Accept-Post": "application/json"})
    if not isinstance(body, dict):
        raise ApiError(422, "body must be an object", errors=[])
    missing = [k for k in ("tenant", "username", "password") if not isinstance(body.get(k), str) or not body[k]]
    if missing:
        raise ApiError(422, "missing credentials", errors=[{"field": f"/{k}", "code": "required",
                                                             "message": "is required"} for k in missing])
    return {k: str(body[k]) for k in ("tenant", "username", "password")}


async def login(request: Request) -> Response:
    web = request.app.state.mb
    creds = await _credentials(request)
    account = f"{creds['tenant']}:{creds['username'].lower()}"
    locked = await web.limiter.blocked("login_account", account)
    if not locked.allowed:
        raise ApiError(429, "too many failed sign-ins for this account", headers=locked.headers())
    async with web.db.read() as conn:
        row = (await conn.execute(_USER, {"t": creds["tenant"], "u": creds["username"]})).first()
    # argon2 is CPU-bound (~50 ms): verify in a thread, and against a dummy hash for unknown users so the
    # response time does not tell whether an account exists.
    stored = row.password_hash if row is not None and row.password_hash else dummy_hash()
    ok = await asyncio.to_thread(verify_password, stored, creds["password"])
    if not ok or row is None or not row.password_hash:
        await web.limiter.hit("login_account", account)
        raise ApiError(401, "wrong tenant, username or password", code="INVALID_CREDENTIALS")
    await web.limiter.clear("login_account", account)
    old = await principal_for(request, web.config, web.db)
    async with web.db.write() as conn:
        if old.session_id:  # rotation: the pre-login session (if any) dies
            await delete_session(conn, old.session_id)
        token, csrf = await create_session(conn, web.config, row.id, creds["tenant"], request)
    if old.session_id:
        forget_session(web.db, old.session_id)
    body = {"tenant": creds["tenant"], "username": creds["username"], "role": row.role,
            "level": role_level(row.role), "csrfToken": csrf}
    if request.query_params.get("token") in ("1", "true"):
        # API clients (scripts, benchmarks) ask for the token to send as `Authorization: Bearer`.
        body["token"] = token
    response = json_response(body)
    set_cookie(response, request, web.config, token)
    response.headers["Cache-Control"] = "no-store"
    return response


async def logout(request: Request) -> Response:
    web = request.app.state.mb
    principal = await principal_for(request, web.config, web.db)
    if not csrf_ok(request, principal):
        raise ApiError(403, "missing or wrong X-CSRF-Token", code="CSRF")
    if principal.session_id:
        async with web.db.write() as conn:
            await delete_session(conn, principal.session_id)
        forget_session(web.db, principal.session_id)
    response = Response(status_code=204)
    clear_cookie(response, request, web.config)
    return response


async def me(request: Request) -> Response:
    web = request.app.state.mb
    p = await principal_for(request, web.config, web.db)
    if p.anonymous:
        raise ApiError(401, "not signed in", headers={"WWW-Authenticate": 'Cookie realm="mbsite"'})
    body: dict[str, Any] = {"tenant": p.tenant, "username": p.username, "role": p.role, "level": p.level,
                            "csrfToken": p.csrf_token}
    return json_response(body, headers={"Cache-Control": "private, no-store"})


routes = [
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/me", me, methods=["GET"]),
]
