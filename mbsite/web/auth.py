"""POST /api/auth/login, POST /api/auth/logout, GET /api/auth/me: database sessions behind a cookie.

Brute force: the route class `login` limits requests per client (middleware). Each sign-in attempt is also
counted per account (`login_account`) and per client (`login_client`) *before* its password is verified, and
given back only when the password was right: however many attempts run at once, on however many instances,
no more than the limit are ever verified, and a locked account answers 429 even to the right password.
"""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

import orjson
from sqlalchemy import text
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..levels import role_level
from ..passwords import dummy_hash, verify_password
from .problems import ApiError, json_response
from .ratelimit import RateLimiter, Reservation
from .redirects import sign_in_target
from .sessions import (
    clear_cookie,
    create_session,
    csrf_ok,
    delete_session,
    forget_session,
    principal_for,
    same_origin,
    set_cookie,
)
from .toolpages import shell, signin_form

_USER = text("SELECT u.id, u.role, c.password_hash FROM users u LEFT JOIN credentials c ON c.user_id = u.id "
             "WHERE u.tenant = :t AND u.username = :u "
             "AND NOT EXISTS (SELECT 1 FROM disabled_users d WHERE d.user_id = u.id)")


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
    out = {k: str(body[k]) for k in ("tenant", "username", "password")}
    if isinstance(body.get("next"), str):
        out["next"] = body["next"]
    return out


def _form_body(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype in ("application/x-www-form-urlencoded", "multipart/form-data")


def _browser_form(request: Request) -> bool:
    """A plain HTML form (the static login and sign-out forms), not an API client asking for JSON."""
    return _form_body(request) and "application/json" not in request.headers.get("accept", "")


def _next_path(request: Request, wanted: str | None) -> str:
    """Where a browser goes after signing in or out: the form's `next`, the query's, or the `next` of the
    sign-in page it came from; only a path of this origin (`sign_in_target`), else `/`."""
    candidates: list[str | None] = [wanted, request.query_params.get("next")]
    referer = _same_origin_referer(request)
    if referer is not None:
        candidates += parse_qs(referer.query).get("next", [])[:1]
    for path in candidates:
        target = sign_in_target(path, "")
        if target:
            return target
    return "/"


def _same_origin_referer(request: Request) -> SplitResult | None:
    referer = urlsplit(request.headers.get("referer", ""))
    return referer if referer.netloc and referer.netloc == request.headers.get("host", "") else None


def _login_csrf_ok(request: Request) -> bool:
    """Login CSRF: a page of another site must not sign a visitor into an account of its choosing.

    A form is what any site can post cross-site, so a form sign-in needs the browser to attest this origin
    (`Sec-Fetch-Site: same-origin`, else an `Origin` equal to the Host); one with neither header is refused
    too (every current browser sends Origin on a POST; other clients sign in with JSON). A JSON sign-in cannot
    be sent cross-site without a CORS preflight, which the functions never grant, so scripts and apps need no
    browser headers; one whose headers say it comes from another site is refused all the same."""
    if _form_body(request):
        return same_origin(request)
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    return request.headers.get("origin") is None or same_origin(request)


async def _form_failure(request: Request, exc: ApiError) -> Response:
    """A sign-in form that failed gets the form back with what went wrong (not a JSON document), in the default
    theme's look; trying again from it goes on to where the first attempt was going."""
    try:
        form = await request.form()  # read once already: Starlette keeps it
    except (MultiPartException, ValueError):  # a broken form body: an empty form again
        form = None

    def field(name: str) -> str:
        value = form.get(name) if form is not None else None
        return value if isinstance(value, str) else ""

    wanted = field("next") or None
    body = signin_form(exc.detail, tenant=field("tenant"), username=field("username"),
                       next_path=_next_path(request, wanted))
    page = shell("Sign in", body, brand=request.app.state.mb.config.title)
    return HTMLResponse(page, status_code=exc.status, headers={**exc.headers, "Cache-Control": "no-store"})


async def login(request: Request) -> Response:
    try:
        return await _login(request)
    except ApiError as exc:
        if _browser_form(request):
            return await _form_failure(request, exc)
        raise


async def _reserve_attempt(limiter: RateLimiter, account: str, client: str) -> list[Reservation]:
    """Count this attempt against the account and the client, or 429 when either is spent (then nothing
    stays counted: the password was not tried)."""
    held = [await limiter.reserve("login_account", account), await limiter.reserve("login_client", client)]
    refused = next((r for r in held if not r.verdict.allowed), None)
    if refused is not None:
        for reservation in held:
            await limiter.release(reservation)
        what = "for this account" if refused.name == "login_account" else "from this address"
        raise ApiError(429, f"too many failed sign-ins {what}", headers=refused.verdict.headers())
    return held


async def _login(request: Request) -> Response:
    web = request.app.state.mb
    if not _login_csrf_ok(request):
        raise ApiError(403, "sign-in from another site refused", code="CSRF")
    creds = await _credentials(request)
    account = f"{creds['tenant']}:{creds['username'].lower()}"
    attempt = await _reserve_attempt(web.limiter, account, request.client.host if request.client else "unknown")
    async with web.db.read() as conn:
        row = (await conn.execute(_USER, {"t": creds["tenant"], "u": creds["username"]})).first()
    # argon2 is CPU-bound (~50 ms): verify in a thread, and against a dummy hash for unknown users so the
    # response time does not tell whether an account exists.
    stored = row.password_hash if row is not None and row.password_hash else dummy_hash()
    ok = await asyncio.to_thread(verify_password, stored, creds["password"])
    if not ok or row is None or not row.password_hash:
        raise ApiError(401, "wrong tenant, username or password", code="INVALID_CREDENTIALS")  # stays counted
    # Only this attempt is given back: the failures before it still count (a success resets nobody's budget).
    for reservation in attempt:
        await web.limiter.release(reservation)
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
    response = json_response(body) if not _browser_form(request) else \
        RedirectResponse(_next_path(request, creds.get("next")), status_code=303)
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
    response = Response(status_code=204) if not _browser_form(request) else \
        RedirectResponse(_next_path(request, None), status_code=303)
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


async def reset(request: Request) -> Response:
    from .manage_users import redeem_reset

    return await redeem_reset(request)


routes = [
    Route("/login", login, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/me", me, methods=["GET"]),
]
