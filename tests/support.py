"""Helpers shared by the tests (imported by name: the tests folder is on the path)."""
from __future__ import annotations

import mimetypes
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from mbsite.writer import MARKER

if TYPE_CHECKING:
    from mbsite.errors import Problem
    from mbsite.site import SiteModel

SITES = Path(__file__).resolve().parent / "sites"


_ROW_VERSION = re.compile(rb'(name="_if_match" value=")[^"]*(")')


def output_tree(out: Path, *, bookkeeping: bool = False, links: bool = True,
                row_versions: bool = True) -> dict[str, bytes]:
    """Every file under a folder by its relative path. For an output folder, as a build leaves it: the build's
    marker and any staging folder are left aside (they are bookkeeping, not output) unless `bookkeeping`;
    `links=False` leaves symbolic links aside (and so never reads what they point to); `row_versions=False` blanks
    the row versions in the admin panel's forms, to compare the builds of two databases (the same rows stored at
    different times have different versions)."""
    found = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
             if p.is_file() and (links or not p.is_symlink())
             and (bookkeeping or (p.name != MARKER and ".staging" not in p.relative_to(out).parts))}
    if not row_versions:
        found = {rel: _ROW_VERSION.sub(rb"\1\2", data) if b"_if_match" in data else data for rel, data in found.items()}
    return found


def copy_site(name: str, root: Path, overrides: Mapping[str, str | bytes | None] | None = None) -> Path:
    """A copy of the fixture site `tests/sites/<name>/` at `root` (a folder of the test's tmp_path) with
    `overrides`: site-relative path → new text or bytes, or None to delete that file. Returns `root`."""
    source = SITES / name
    if not source.is_dir():
        raise FileNotFoundError(f"no fixture site {name!r} in {SITES}")
    return copy_folder(source, root, overrides)


def copy_folder(source: Path, root: Path, overrides: Mapping[str, str | bytes | None] | None = None) -> Path:
    """A copy of the folder `source` at `root`, with `overrides` as copy_site takes them. Returns `root`."""
    shutil.copytree(source, root, dirs_exist_ok=True)
    for rel, data in (overrides or {}).items():
        path = root / rel
        if data is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


@contextmanager
def site_model(root: Path) -> Iterator[tuple[SiteModel, list[Problem]]]:
    """The SiteModel of a site folder (its database created and seeded on first use) and the problems loading it
    reported; the database connections are closed after the block."""
    from mbsite.config import load_config
    from mbsite.site import load_model, open_site_db

    config = load_config(root)
    engine, _ = open_site_db(config)
    try:
        problems: list[Problem] = []
        yield load_model(config, engine, problems), problems
    finally:
        engine.dispose()


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
