"""Helpers shared by the tests (imported by name: the tests folder is on the path)."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any, Callable

from mbsite.writer import MARKER


def output_tree(out: Path) -> dict[str, bytes]:
    """Every file of an output folder by its relative path, as a build leaves it: the build's marker and any
    staging folder left aside (they are bookkeeping, not output)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != MARKER and ".staging" not in p.parts}


def folder_server(root: Path, origin: str, html_headers: dict[str, str] | None = None) -> Callable[[Any], None]:
    """A playwright route handler that answers `origin`'s URLs from a built public folder, as a CDN would
    (folders by their index.html, 404 for what is not there); `html_headers` go with every page."""
    def serve(route: Any) -> None:
        path = route.request.url[len(origin):].split("?")[0].split("#")[0]
        file = root / path.lstrip("/")
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            route.fulfill(status=404, body="not found")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=file.read_bytes(), content_type=kind,
                      headers=(html_headers or {}) if kind == "text/html" else {})
    return serve
