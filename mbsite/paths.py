"""Names from sources (route paths, record ids, file names, tenant slugs) → checked output paths.

This module is the one place that decides what may become a path on disk. A route path, a record id that
is spliced into a path, a tenant slug and every output-relative file name pass through it:

- no segment is empty, `.` or `..` (they would climb out of the page, the tenant or the output folder);
- no segment holds a NUL, a control character or a backslash, or is longer than a file name may be;
- every output file lies under `<out>/<tenant>/`;
- a page of level 0 and an image a public page shows go under `public/`; what needs a session (other levels'
  pages, images that only members' pages show) under `private/`, which only the gate serves.

A bad name is a `PathError` that names its source; the caller turns it into a located problem.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Location, MbsiteError, RouteError

if TYPE_CHECKING:
    from .config import Config

MAX_SEGMENT_BYTES = 200        # below NAME_MAX (255) with room for a staging prefix
MAX_ID_LENGTH = 64
IMAGES_DIR = "assets/images"   # processed images: under public/ (served at /assets/images/…) or private/
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
_SLASHES = re.compile(r"/{2,}")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class PathError(RouteError):
    """A name that must not become a path: a `.`/`..`/empty segment, a control character, too long."""

    code = "path"


class SymlinkError(MbsiteError):
    """A source file that is a symbolic link leading outside the site folder and the allowed folders."""

    code = "symlink"


def segment_problem(segment: str) -> str | None:
    """Why `segment` may not be one segment of an output path, or None when it may."""
    if segment in ("", ".", ".."):
        return f"segment {segment!r} is not allowed"
    if _CONTROL.search(segment):
        return f"segment {segment!r} holds a control character or a backslash"
    if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
        return f"segment of {len(segment.encode('utf-8', 'surrogatepass'))} bytes is longer than {MAX_SEGMENT_BYTES}"
    return None


def route_path(raw: str, where: Location | None = None) -> str:
    """A page path in canonical form ("/", "/a/b"): leading slash, no trailing or doubled slashes, and no
    segment that `segment_problem` refuses. Raises PathError naming `where`."""
    path = "/" + raw.strip().strip("/")
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if path != "/":
        for seg in path[1:].split("/"):
            reason = segment_problem(seg)
            if reason is not None:
                raise PathError(f"page path {raw!r}: {reason}", where)
    return path


def route_path_problem(raw: str) -> str | None:
    """Why `raw` is not a valid page path, or None."""
    try:
        route_path(raw)
    except PathError as exc:
        return exc.message
    return None


def record_id_problem(rid: str) -> str | None:
    """Why `rid` may not be a record id (ids become path segments of expanded pages), or None when it may."""
    if not rid or len(rid) > MAX_ID_LENGTH:
        return f"an id has 1 to {MAX_ID_LENGTH} characters"
    if not re.fullmatch(r"[A-Za-z0-9_.:~-]+", rid):
        return "an id uses only letters, digits and _ . : ~ -"
    if set(rid) == {"."}:
        return f"id {rid!r} is not allowed (dots only)"
    return None


def tenant_problem(slug: str) -> str | None:
    """Why `slug` may not be a tenant slug (it is the first folder of every output path), or None."""
    if not _SLUG.match(slug):
        return f"tenant slug {slug!r} must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit"
    return None


def page_file(tenant: str, path: str, level: int) -> str:
    """Output-relative file of a page variant: public/ for level 0, private/<L>/ otherwise."""
    rel = path.strip("/")
    leaf = f"{rel}/index.html" if rel else "index.html"
    return checked_rel(f"{tenant}/public/{leaf}" if level == 0 else f"{tenant}/private/{level}/{leaf}")


def image_file(tenant: str, name: str, level: int) -> str:
    """Output-relative file of a processed image (`name`: its content-hashed file name): public/assets/images/ when
    a public page shows it (level 0), else private/assets/images/ — served by the gate, at the same URL, only to
    viewers of at least `level` (the lowest level of the pages that show it)."""
    if "/" in name:
        raise PathError(f"image file name {name!r} holds a slash")
    return checked_rel(f"{tenant}/{'public' if level == 0 else 'private'}/{IMAGES_DIR}/{name}")


def checked_rel(rel: str) -> str:
    """`rel` itself when it names a file under a tenant folder of the output; else PathError. Every file the
    writer stages, publishes or removes passes through here, whatever computed its name."""
    parts = rel.split("/")
    if len(parts) < 2 or rel.startswith("/"):
        raise PathError(f"output file {rel!r} is not inside a tenant folder")
    reason = tenant_problem(parts[0])
    if reason is not None:
        raise PathError(f"output file {rel!r}: {reason}")
    for seg in parts[1:]:
        reason = segment_problem(seg)
        if reason is not None:
            raise PathError(f"output file {rel!r}: {reason}")
    return rel


def output_file(out: Path, rel: str) -> Path:
    """The absolute file of output-relative `rel`, proven to lie under `<out>/<tenant>/` (a symlinked folder
    inside the output that points elsewhere is refused too)."""
    checked_rel(rel)
    target = out / rel
    tenant_root = (out / rel.split("/", 1)[0]).resolve()
    parent = target.parent.resolve()
    if parent != tenant_root and tenant_root not in parent.parents:
        raise PathError(f"output file {rel!r} resolves outside its tenant folder")
    return target


def link_roots(config: "Config") -> tuple[str, ...]:
    """The folders a symbolic link among the sources may lead into: the site folder, the built-ins shipped
    with mbsite, and the folders of `[build] follow_symlinks` (relative to the site folder)."""
    from .config import builtin_root

    roots = [config.site_dir, builtin_root()]
    roots += [config.site_dir / Path(p).expanduser() for p in config.follow_symlinks]
    return tuple(os.path.realpath(r) for r in roots)


def link_problem(path: str | Path, roots: tuple[str, ...]) -> str | None:
    """Why the source file `path` may not be read (it is a symbolic link leading out of `roots`), or None.
    A plain file costs one lstat; only links are resolved."""
    if not os.path.islink(path):
        return None
    real = os.path.realpath(path)
    if any(real == root or real.startswith(root + os.sep) for root in roots):
        return None
    return (f"symbolic link to {real} leads outside the site folder; not read (allow its folder with "
            "[build] follow_symlinks)")
