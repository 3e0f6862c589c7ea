"""Exceptions → RFC 9457 problem+json responses: the one place errors become HTTP."""
from __future__ import annotations

import logging
from typing import Any, Mapping

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from ..errors import MbsiteError

log = logging.getLogger("mbsite.web")

PROBLEM_TYPE = "application/problem+json"

# Stable codes for the statuses the API uses (upstream DBAL errors.yaml names where they exist).
CODES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad Request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not Found"),
    405: ("METHOD_NOT_ALLOWED", "Method Not Allowed"),
    406: ("NOT_ACCEPTABLE", "Not Acceptable"),
    409: ("CONFLICT", "Conflict"),
    412: ("PRECONDITION_FAILED", "Precondition Failed"),
    413: ("PAYLOAD_TOO_LARGE", "Content Too Large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type"),
    416: ("RANGE_NOT_SATISFIABLE", "Range Not Satisfiable"),
    422: ("VALIDATION_ERROR", "Unprocessable Content"),
    428: ("PRECONDITION_REQUIRED", "Precondition Required"),
    429: ("RATE_LIMIT_EXCEEDED", "Too Many Requests"),
    500: ("INTERNAL_ERROR", "Internal Server Error"),
    503: ("DATABASE_ERROR", "Service Unavailable"),
}


class ApiError(MbsiteError):
    """An error of the functions: an HTTP status, a stable code and (for 422) the fields at fault. Part of the one
    error tree (errors.MbsiteError), so one handler answers for every error mbsite raises."""

    def __init__(self, status: int, detail: str = "", *, code: str | None = None,
                 errors: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or CODES.get(status, ("ERROR", ""))[0]
        self.errors = errors
        self.headers = dict(headers or {})


def not_found(what: str = "not found") -> ApiError:
    return ApiError(404, what)


def problem(status: int, detail: str = "", *, code: str | None = None, instance: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """A problem+json response; `errors` lists `{field, code, message}` for validation failures."""
    default_code, title = CODES.get(status, ("ERROR", "Error"))
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "code": code or default_code, "detail": detail or title}
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_TYPE, headers=dict(headers or {}))




async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if exc.status_code == 405 and "Allow" not in headers:
        headers["Allow"] = "GET, HEAD"
    return problem(exc.status_code, detail, headers=headers, instance=request.url.path)


async def mbsite_error_handler(request: Request, exc: Exception) -> Response:
    """Every MbsiteError, ApiError included: its status; its message when the caller is at fault (< 500)."""
    assert isinstance(exc, MbsiteError)
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.detail, code=exc.code, errors=exc.errors, headers=exc.headers,
                       instance=request.url.path)
    return problem(exc.status, str(exc) if exc.status < 500 else "", instance=request.url.path)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: http_exception_handler,
    MbsiteError: mbsite_error_handler,
}


class CatchAllMiddleware:
    """Any uncaught exception → a 500 problem (never a traceback), logged; innermost of the user middleware."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return  # the client went away mid-request (e.g. a load generator stopping): nobody to answer
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await problem(500, "internal error", instance=scope.get("path"))(scope, receive, send)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """orjson-encoded JSON; the hot path's only serializer."""
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=dict(headers or {}))
