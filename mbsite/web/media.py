"""/api/media/{tenant}[/{id}] → multipart upload (sniffed, size-limited, stored by SHA-256), list, read, delete.

Each upload is its own asset (a media_assets row): owned by its uploader, with its own filename, deleted by
them (or an admin) alone. Its id is `<sha256>-<12 random hex>`: the bytes' hash, so a read is immutable and
cacheable forever, and a suffix of its own, so equal bytes uploaded twice are two assets. The bytes are
shared: they live once at `<media_dir>/<tenant>/<sha256>` (temp file + os.replace, so readers never see half
a file) and are removed with the last asset that uses them. Writing and removing them happen inside the
write transaction that adds or deletes an asset, serialised per file (SQLite runs one write transaction at a
time; PostgreSQL takes an advisory lock on the tenant and hash), so an upload racing a delete of equal bytes
never loses them. Rows of older versions, whose id is the bare hash, are read and deleted the same way.
The media_assets triggers put every upload and delete in the change feed.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import struct
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..db.models import now_ms
from . import audit
from .problems import ApiError, json_response
from .sessions import csrf_ok, principal_for

ID_RE = re.compile(r"^[0-9a-f]{64}(-[0-9a-f]{12})?$")
IMMUTABLE = "public, max-age=31536000, immutable"
_COLUMNS = "id, filename, content_type, size, width, height, created_by, created_at"


def sniff(head: bytes) -> str | None:
    """The content type from the first bytes, if it is on the allow-list (SVG is not: it can carry script)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def image_size(data: bytes, ctype: str) -> tuple[int | None, int | None]:
    """Width and height from the image header (no image library needed for these formats)."""
    try:
        if ctype == "image/png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if ctype == "image/gif":
            return struct.unpack("<HH", data[6:10])
        if ctype == "image/webp":
            chunk = data[12:16]
            if chunk == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
            if chunk == b"VP8L":
                b = data[21:25]
                return 1 + (((b[1] & 0x3F) << 8) | b[0]), 1 + (((b[3] & 0xF) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
            if chunk == b"VP8X":
                return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if ctype == "image/jpeg":
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                length = struct.unpack(">H", data[i + 2:i + 4])[0]
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                    h, w = struct.unpack(">HH", data[i + 5:i + 9])
                    return w, h
                i += 2 + length
    except (struct.error, IndexError):
        pass
    return None, None


def _asset(row: Any, tenant: str) -> dict[str, Any]:
    return {"id": row.id, "tenant": tenant, "sha256": row.id[:64], "filename": row.filename, "contentType": row.content_type,
            "size": row.size, "width": row.width, "height": row.height, "createdBy": row.created_by,
            "createdAt": row.created_at, "url": f"/api/media/{tenant}/{row.id}"}


def _safe_name(name: str | None) -> str:
    base = os.path.basename((name or "upload").replace("\\", "/"))
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:200] or "upload"


async def _principal(request: Request, write: bool) -> Any:
    web = request.app.state.mb
    principal = await principal_for(request, web.config, web.db)
    if write and not csrf_ok(request, principal):
        raise ApiError(403, "missing or wrong X-CSRF-Token", code="CSRF")
    if web.directory.stale:
        async with web.db.read() as conn:
            await web.directory.refresh(conn)
    return principal


async def upload(request: Request) -> Response:
    web = request.app.state.mb
    tenant = request.path_params["tenant"]
    principal = await _principal(request, True)
    web.authz.member_of(principal, tenant)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
        raise ApiError(415, "send multipart/form-data with a `file` part")
    form = await request.form(max_files=1, max_fields=10, max_part_size=web.config.media_max_bytes)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ApiError(422, "no file", errors=[{"field": "/file", "code": "required", "message": "is required"}])
    data = await file.read(web.config.media_max_bytes + 1)
    await form.close()
    if len(data) > web.config.media_max_bytes:
        raise ApiError(413, f"files are limited to {web.config.media_max_bytes} bytes")
    ctype = sniff(data[:64])
    if ctype is None:
        raise ApiError(415, "file type not allowed (png, jpeg, gif, webp, pdf)")
    digest = hashlib.sha256(data).hexdigest()
    mid = f"{digest}-{secrets.token_hex(6)}"
    name = _safe_name(file.filename)
    width, height = image_size(data, ctype)
    async with web.db.write() as conn:
        await _lock_bytes(conn, tenant, digest)
        await conn.execute(text(
            "INSERT INTO media_assets (tenant, id, filename, content_type, size, width, height, created_by, "
            "created_at) VALUES (:t, :id, :fn, :ct, :size, :w, :h, :by, :at)"),
            {"t": tenant, "id": mid, "fn": name, "ct": ctype, "size": len(data), "w": width, "h": height,
             "by": principal.user_id, "at": now_ms()})
        await audit.record(conn, tenant=tenant, actor=principal.user_id, action="create",
                           target=f"media/{mid}", after={"filename": name, "size": len(data)})
        row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM media_assets WHERE tenant = :t AND id = :id"),
                                  {"t": tenant, "id": mid})).first()
        _store(web.config.media_dir / tenant, digest, data)
    web.webhooks.emit(tenant, "media.created", {"id": mid})
    return json_response(_asset(row, tenant), status=201, headers={"Location": f"/api/media/{tenant}/{mid}"})


async def _lock_bytes(conn: Any, tenant: str, digest: str) -> None:
    """Serialise the transactions that add or remove users of one file (see the module docstring)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"media:{tenant}:{digest}"})


def _store(folder: Path, digest: str, data: bytes) -> None:
    """The bytes at `<folder>/<digest>`, unless an earlier upload of equal bytes put them there."""
    target = folder / digest
    if target.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_USERS = "SELECT count(*) FROM media_assets WHERE tenant = :t AND (id = :d OR substr(id, 1, 65) = :prefix)"


async def listing(request: Request) -> Response:
    web = request.app.state.mb
    tenant = request.path_params["tenant"]
    web.authz.member_of(await _principal(request, False), tenant)
    async with web.db.read() as conn:
        rows = (await conn.execute(text(f"SELECT {_COLUMNS} FROM media_assets WHERE tenant = :t "
                                        "ORDER BY created_at DESC, id LIMIT 500"), {"t": tenant})).all()
    return json_response({"data": [_asset(r, tenant) for r in rows]}, headers={"Cache-Control": "private, no-store"})


async def read(request: Request) -> Response:
    web = request.app.state.mb
    tenant, mid = request.path_params["tenant"], request.path_params["id"]
    # Media are public by id (pages embed them); the id is the SHA-256 of the bytes.
    web.authz.check_tenant(await _principal(request, False), tenant)
    if not ID_RE.match(mid):
        raise ApiError(404, "no such media")
    async with web.db.read() as conn:
        row = (await conn.execute(text("SELECT content_type, filename FROM media_assets WHERE tenant = :t AND id = :id"),
                                  {"t": tenant, "id": mid})).first()
    path = web.config.media_dir / tenant / mid[:64]
    if row is None or not path.is_file():
        raise ApiError(404, "no such media")
    # FileResponse answers Range requests (206/416) and sets ETag/Last-Modified.
    response = FileResponse(Path(path), media_type=row.content_type, headers={
        "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{_safe_name(row.filename)}"'})
    return response


async def remove(request: Request) -> Response:
    web = request.app.state.mb
    tenant, mid = request.path_params["tenant"], request.path_params["id"]
    principal = await _principal(request, True)
    web.authz.member_of(principal, tenant)
    if not ID_RE.match(mid):
        raise ApiError(404, "no such media")
    digest = mid[:64]
    async with web.db.write() as conn:
        await _lock_bytes(conn, tenant, digest)
        row = (await conn.execute(text(f"SELECT {_COLUMNS} FROM media_assets WHERE tenant = :t AND id = :id"),
                                  {"t": tenant, "id": mid})).first()
        if row is None:
            raise ApiError(404, "no such media")
        if row.created_by != principal.user_id:
            web.authz.admin_of(principal, tenant)
        await conn.execute(text("DELETE FROM media_assets WHERE tenant = :t AND id = :id"), {"t": tenant, "id": mid})
        await audit.record(conn, tenant=tenant, actor=principal.user_id, action="delete", target=f"media/{mid}",
                           before={"filename": row.filename, "size": row.size})
        users = (await conn.execute(text(_USERS), {"t": tenant, "d": digest, "prefix": f"{digest}-"})).scalar_one()
        if users == 0:  # the last asset with these bytes: nobody else's upload loses them
            (web.config.media_dir / tenant / digest).unlink(missing_ok=True)
    web.webhooks.emit(tenant, "media.deleted", {"id": mid})
    return Response(status_code=204)


async def item(request: Request) -> Response:
    return await (remove(request) if request.method == "DELETE" else read(request))


async def collection(request: Request) -> Response:
    return await (upload(request) if request.method == "POST" else listing(request))


routes = [
    Route("/api/media/{tenant}", collection, methods=["GET", "POST"]),
    Route("/api/media/{tenant}/{id}", item, methods=["GET", "DELETE"]),
]
