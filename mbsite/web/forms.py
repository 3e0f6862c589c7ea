"""HTML form posts to the management API → the endpoint's JSON request, answered by a redirect back with a message.

The admin panel's pages are built, static HTML; their forms post `application/x-www-form-urlencoded` bodies to
the management endpoints (`/api/v1/{tenant}/_pages…`, `_packages…`, `_users…`, `_settings`, `/api/v1/_tenants…`)
with fields of their own: `_method` (the verb the form stands for: PATCH, PUT, DELETE or POST), `_next` (the page
to return to), `csrf` (the session's token, which the gate writes into panel pages) and, on a form that changes a
row, `_if_match` (the row's version tag as the page was built with it, sent on as `If-Match`). This ASGI
middleware turns such a post into the JSON request the endpoint takes — so the form goes through exactly the
validation, authorization, audit and change feed of the API — then answers `303 See Other` back to the page with
the outcome in a flash cookie. The cookie is signed with the session's CSRF token, so it is shown only to the
session that caused it (`flash_for`, used by the gate), and it lives two minutes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from markupsafe import escape
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .sessions import principal_for

FORM_TYPE = "application/x-www-form-urlencoded"
FLASH_COOKIE = "mb_flash"
FLASH_MAX_AGE = 120
_MANAGED = re.compile(r"^/api/v1/(?:[^/]+/_(?:pages|packages|users|settings)|_tenants)(?:/|$)")
_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
_INTS = {"level", "sortOrder"}
_BOOLS = {"published", "requiresAuth", "enabled", "disabled"}
_JSON = {"params", "config", "componentTree", "meta", "settings"}
_LISTS = {"tags", "domains"}
_CLEARABLE = {"title", "description"}   # an empty field means "empty" for these, "unchanged" for the others
MAX_MESSAGE = 600
_ETAG = re.compile(r'"[0-9a-f]{1,64}"')  # a row's version tag as the panel's forms carry it (`_if_match`)


# What the panel templates leave for the gate to fill for the signed-in viewer (templates/panel/*.html).
CSRF_SLOT = b'value="" data-mb-csrf'
FLASH_SLOT = b'<output class="panel-flash" data-mb-flash hidden></output>'


def personalize(page: bytes, csrf_token: str, cookie: str | None) -> tuple[bytes, bool]:
    """A panel page for one session: its CSRF token in the forms, and the message of its last form (when the flash
    cookie was signed for it). Returns the page and whether the flash cookie should be cleared."""
    if csrf_token:
        page = page.replace(CSRF_SLOT, b'value="' + escape(csrf_token).encode() + b'" data-mb-csrf')
    message = flash_for(cookie, csrf_token)
    if message is not None:
        ok, text = message
        slot = (b'<output class="panel-flash' + (b"" if ok else b" error") + b'" data-mb-flash role="status">'
                + escape(text).encode() + b"</output>")
        page = page.replace(FLASH_SLOT, slot, 1)
    return page, cookie is not None


class FormError(ValueError):
    """A form field that cannot become the JSON value the API expects."""


def form_to_json(fields: list[tuple[str, str]]) -> tuple[str, str, dict[str, Any]]:
    """Form fields → (method, next, JSON body). The last value of a repeated field wins (a hidden `false` before a
    checkbox's `true`); `component` as `package:component` is split in two."""
    values: dict[str, str] = {}
    for key, value in fields:
        values[key] = value
    method = values.pop("_method", "POST").upper() or "POST"
    if method not in _METHODS:
        raise FormError(f"_method: {method!r} is not one of {', '.join(sorted(_METHODS))}")
    target = values.pop("_next", "")
    values.pop("csrf", None)
    body: dict[str, Any] = {}
    for key, raw in values.items():
        if key.startswith("_"):
            continue
        if raw == "" and key not in _CLEARABLE:
            continue
        if key in _INTS:
            try:
                body[key] = int(raw)
            except ValueError:
                raise FormError(f"{key}: {raw!r} is not a whole number") from None
        elif key in _BOOLS:
            if raw not in ("true", "false", "on"):
                raise FormError(f"{key}: {raw!r} is not true or false")
            body[key] = raw != "false"
        elif key in _JSON:
            try:
                body[key] = json.loads(raw)
            except ValueError as exc:
                raise FormError(f"{key}: not valid JSON ({exc})") from None
        elif key in _LISTS:
            body[key] = [part.strip() for part in raw.split(",") if part.strip()]
        elif key == "component" and ":" in raw:
            body["package"], body["component"] = raw.split(":", 1)
        else:
            body[key] = raw
    return method, target, body


def safe_target(request: Request, given: str) -> str:
    """Where to send the browser back: the page the form was on (its same-origin Referer), else `_next` when it is
    a path of this site; never another site."""
    referer = request.headers.get("referer", "")
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.headers.get("host", "") and parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    if given.startswith("/") and not given.startswith(("//", "/\\")) and not any(c in given for c in "\r\n\\"):
        return given
    return "/"


def _sign(key: str, payload: bytes) -> str:
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()[:32]


def flash_cookie(key: str, ok: bool, text: str) -> str:
    """The cookie value carrying a result message, signed with the session's CSRF token."""
    payload = json.dumps({"ok": ok, "text": text[:MAX_MESSAGE]}, separators=(",", ":")).encode()
    return urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(key, payload)


def flash_for(cookie: str | None, key: str | None) -> tuple[bool, str] | None:
    """The message of a flash cookie, when it was signed for this session (else None)."""
    if not cookie or not key or "." not in cookie:
        return None
    encoded, signature = cookie.rsplit(".", 1)
    try:
        payload = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _sign(key, payload)):
        return None
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
        return None
    return bool(doc.get("ok")), doc["text"]


def outcome(status: int, method: str, body: bytes) -> tuple[bool, str]:
    """The message a person reads after the form: what was done, or what the API refused and why."""
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    if 200 <= status < 300:
        reset = doc.get("passwordReset") if isinstance(doc.get("passwordReset"), dict) else doc
        token = reset.get("token")
        done = {"POST": "Created", "PATCH": "Saved", "PUT": "Saved", "DELETE": "Deleted"}.get(method, "Done")
        what = doc.get("path") or doc.get("username") or doc.get("package") or doc.get("slug") or ""
        text = f"{done}{' ' + str(what) if what else ''}. The site is rebuilding the pages it affects."
        if token:
            text += f" One-time password token (shown once, valid 24 hours): {token}"
        return True, text
    if status == 412:
        return False, ("Not saved: this was changed after the page was built (by someone else, or by your last "
                       "change). Reload the page to see it as it is now, then make your change again.")
    title = str(doc.get("detail") or doc.get("title") or f"the request failed ({status})")
    errors = doc.get("errors") if isinstance(doc.get("errors"), list) else []
    details = "; ".join(f"{e.get('field') or ''} {e.get('message') or ''}".strip() for e in errors[:5]
                        if isinstance(e, dict))
    return False, f"Not saved: {title}" + (f" ({details})" if details else "")


class FormPosts:
    """Pure ASGI middleware: management form posts → JSON API calls → 303 back with a flash message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _MANAGED.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
            await self.app(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Request(scope)
        try:
            fields = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
            method, given, body = form_to_json(fields)
        except (UnicodeDecodeError, ValueError) as exc:
            await self._answer(request, send, safe_target(request, ""), False, f"Not saved: {exc}")
            return
        named = dict(fields)
        token, version = named.get("csrf", ""), named.get("_if_match", "")
        if version and not _ETAG.fullmatch(version):
            await self._answer(request, send, safe_target(request, given), False,
                               "Not saved: _if_match is not a version tag of this site")
            return
        data = json.dumps(body).encode()
        inner_headers = [(k, v) for k, v in scope["headers"]
                         if k not in (b"content-type", b"content-length", b"x-csrf-token", b"if-match")]
        inner_headers += [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        if token:
            inner_headers.append((b"x-csrf-token", token.encode()))
        if version:  # the row as the page showed it: changed since, the API answers 412 and nothing is saved
            inner_headers.append((b"if-match", version.encode()))
        inner = dict(scope, method=method, headers=inner_headers)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": data, "more_body": False}

        status, chunks = 500, []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(inner, replay, capture)
        ok, text = outcome(status, method, b"".join(chunks))
        await self._answer(request, send, safe_target(request, given), ok, text)

    @staticmethod
    async def _answer(request: Request, send: Send, target: str, ok: bool, text: str) -> None:
        web = request.app.state.mb
        headers = [(b"location", target.encode("latin-1", "replace")), (b"cache-control", b"no-store"),
                   (b"content-length", b"0")]
        try:
            principal = await principal_for(request, web.config, web.db)
        except Exception:  # noqa: BLE001 - no session, no message: the redirect alone is the answer
            principal = None
        key = getattr(principal, "csrf_token", None)
        if key:
            secure = "; Secure" if request.url.scheme == "https" else ""
            cookie = (f"{FLASH_COOKIE}={flash_cookie(key, ok, text)}; Path=/; Max-Age={FLASH_MAX_AGE}; HttpOnly; "
                      f"SameSite=Strict{secure}")
            headers.append((b"set-cookie", cookie.encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
