"""Published page files of each tenant and level → Pagefind search bundles, rebuilt only when what a level sees changed.

The public bundle, `<tenant>/public/pagefind/`, holds the public pages (those anyone may open) as the public file:
`/pagefind/…` is that bundle for every viewer, so a CDN serves it with the rest of public/. A members' bundle,
`<tenant>/private/pagefind/<L>/`, holds only the pages that need a session and that level L may open, each as the file
the gate serves level L (a composed level differs from its base file only in the chrome, which `data-pagefind-body`
keeps out of the index); the theme's search page merges it into the public one for a signed-in member, through
`/pagefind-members/…`, which only the gate answers (web/gate.py `members_search_file`). A level gets a members'
bundle only when its members' pages (or their files) differ from the level below's (level 1's from none); a level
without one is served the highest one below it. So a members' page never reaches the public bundle or a lower
level's, a public page is in one bundle only (indexed as its public file, even where a level's variant of it
differs), and a site with one small members' page has a small members' bundle, not another copy of the site.

Pagefind indexes a whole bundle at once: the incremental part is deciding which bundles to make. Each bundle has a
digest of its pages (path and file hash) stored in the build state; a build remakes a bundle only when that digest
changed or its files are not in the output folder, and stages the files that differ (Pagefind names its index
files by content, so an unchanged page's fragment keeps its name and is not rewritten).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import Location, Problem
from .graph import OutputRow, digest_of
from .routes import RouteTable
from .signing import sign, signed

if TYPE_CHECKING:
    from .writer import Stage

LEVELS = range(6)
SKELETON = "skeleton"  # the row digest of a page's file without its chrome (builder._render_composed, _render_levels)
ENTRY = "pagefind-entry.json"  # the file Pagefind's scripts load first: published last (see Builder._execute)
SEARCH_KINDS = frozenset({"markdown", "component"})  # listings, tag pages, galleries, the search page: not indexed
INSTALL_HINT = "pip install 'pagefind[bin]'"
INDEX_TIMEOUT = 600  # seconds one bundle may take to index
CANCEL_POLL = 0.02   # seconds between two questions whether newer changes wait (update_search's `cancel`)
FORMAT = "search-v2"  # bump when what goes into a bundle changes, so every bundle is made again
SHARDS_DIR = "pagefind-shards"  # public/<this>/<n>/: the further parts of a large public index; index.json lists them
SHARDS_MANIFEST = "index.json"
BUNDLE_CACHE = "search"  # the state folder's bundles made before: .mbsite/search/<bundle digest>/ (SearchCache)

log = logging.getLogger("mbsite.search")


def bundle_dir(tenant: str, level: int, shard: int = 0) -> str:
    """The output-relative folder of a tenant's bundle for one level (and part of the public index)."""
    if level == 0:
        return f"{tenant}/public/pagefind" if shard == 0 else f"{tenant}/public/{SHARDS_DIR}/{shard}"
    return f"{tenant}/private/pagefind/{level}"


def shard_count(pages: int, shard_pages: int) -> int:
    """How many parts a public index of `pages` pages has: 1 below twice `shard_pages` (or when it is 0), else the
    largest power of two with at least `shard_pages` pages a part. It changes only when the site doubles or halves
    across a bound, so a page added or removed re-indexes one part."""
    count = 1
    while shard_pages > 0 and count * 2 * shard_pages <= pages:
        count *= 2
    return count


def shard_of(path: str, count: int) -> int:
    """The part of the public index a page path belongs to (stable: a digest of the path)."""
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:4], "big") % count


@dataclass(frozen=True)
class Bundle:
    """One level's index (or one part of the public index): the pages it holds as (page path, output file, file
    hash), sorted by path."""

    tenant: str
    level: int
    pages: tuple[tuple[str, str, str], ...]
    shard: int = 0

    @property
    def folder(self) -> str:
        return bundle_dir(self.tenant, self.level, self.shard)

    @property
    def key(self) -> str:
        """Its name in the stored digests: the level, and the part of the public index after a dot."""
        return str(self.level) if self.shard == 0 else f"{self.level}.{self.shard}"

    def shards(self, shard_pages: int) -> list[Bundle]:
        """The public bundle cut into its parts (shard_count), itself when it has one."""
        count = shard_count(len(self.pages), shard_pages)
        if count == 1:
            return [self]
        parts: list[list[tuple[str, str, str]]] = [[] for _ in range(count)]
        for page in self.pages:
            parts[shard_of(page[0], count)].append(page)
        return [Bundle(self.tenant, self.level, tuple(part), n) for n, part in enumerate(parts)]

    def digest(self, version: str) -> str:
        return digest_of([FORMAT, version, self.pages])


def indexed_digest(row: OutputRow) -> str:
    """What decides a page's part of the index: the digest of its page without the chrome (`skeleton`, stored for a
    page the gate can compose), else of its whole file. The index takes only `data-pagefind-body`, which the chrome
    never is, so a navigation change that splices every page does not make the bundle again."""
    return row.digests.get(SKELETON) or row.html_hash


def plan_bundles(table: RouteTable, rows: dict[str, list[OutputRow]]) -> dict[int, Bundle]:
    """The bundles of one tenant by level: level 0 (the public pages) always; level L ≥ 1 (the pages that need a
    session and that L may open) when they, or the files L is served of them, differ from level L−1's (level 1's
    from none). `rows`: the tenant's output rows by page path."""
    slug = table.tenant.slug
    bundles: dict[int, Bundle] = {}
    previous: tuple[tuple[str, str, str], ...] = ()
    indexed = sorted((path, route) for path, route in table.routes.items() if route.kind in SEARCH_KINDS)
    for level in LEVELS:
        pages: list[tuple[str, str, str]] = []
        for path, route in indexed:
            # Level 0 holds the public pages; a members' bundle the members' pages only (the public ones are in
            # the public bundle, which the search page merges with it).
            if route.min_level > level or (level > 0 and route.min_level == 0):
                continue
            seen = [r for r in rows.get(path, ()) if r.level <= level]
            if seen:
                row = max(seen, key=lambda r: r.level)  # the variant the gate serves this level
                pages.append((path, row.file, indexed_digest(row)))
        here = tuple(pages)
        if level == 0 or here != previous:
            bundles[level] = Bundle(slug, level, here)
        if level > 0:
            previous = here
    return bundles


def pagefind_version() -> str | None:
    """The installed Pagefind's version, or None when the Python package is not installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("pagefind")
        except PackageNotFoundError:
            return None
    except ImportError:  # pragma: no cover - importlib.metadata is in every supported Python
        return None


@dataclass
class SearchResult:
    """What the search step did: the digests to store, the bundles made (tenant, level), and its problems; `reused`:
    the bundles of `made` taken whole from the state folder (SearchCache), without running Pagefind."""

    digests: dict[str, dict[str, str]]
    made: list[tuple[str, int]]
    problems: list[Problem]
    reused: list[tuple[str, int]] = field(default_factory=list)


class SearchCache:
    """Bundles Pagefind made before, kept in the state folder by their digest (the Pagefind version and every page's
    path, file and indexed content: Bundle.digest), so that a bundle whose pages were indexed before is not indexed
    again: `rm -rf build`, a `--full` build, another `--out`, an edit undone, a CI job that keeps `.mbsite/`.

    A bundle is published as it is, scripts included, and the state folder may come with the site (copied, or
    committed by mistake): each entry's list of files (name, size, SHA-256) is signed with this user's key
    (signing.py) together with its digest, and an entry is used only when the list is this key's and every file
    still matches it; else it is indexed again. Entries are hard links to the files Pagefind made where the file
    system allows (no copy of the bundle); a published file is never written in place, only replaced. The folder
    keeps what the last build used and, besides, at most as much again of the entries used most recently. Nothing
    here is an error: an entry that cannot be read or written is one that is not there."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder, self.key = folder, key

    def fetch(self, digest: str, target: Path) -> bool:
        """Write the files of the entry for `digest` into `target` (a new folder); False when there is no good one."""
        entry = self.folder / digest
        try:
            if not _ENTRY_NAME.fullmatch(digest) or entry.is_symlink() or not entry.is_dir():
                return False
            files = self._manifest(entry, digest)
            if files is None:
                return False
            for name, size, sha in files:
                source = entry / name
                info = source.lstat()
                if not stat.S_ISREG(info.st_mode) or info.st_size != size:
                    raise ValueError(name)
                data = source.read_bytes()
                if hashlib.sha256(data).hexdigest() != sha:
                    raise ValueError(name)
                dest = target / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
            os.utime(entry)  # (most recently used: pruned last)
        except (OSError, ValueError):
            shutil.rmtree(target, ignore_errors=True)
            return False
        return True

    def keep(self, digest: str, made: Path) -> None:
        """Add the bundle Pagefind made in `made` as the entry for `digest`."""
        if not _ENTRY_NAME.fullmatch(digest) or (self.folder / digest).exists():
            return
        work = self.folder / f".{digest}.{os.getpid()}.{time.time_ns()}.tmp"
        try:
            if self.folder.is_symlink():
                return
            work.mkdir(parents=True)
            files: list[tuple[str, int, str]] = []
            for path in sorted(made.rglob("*")):
                if not path.is_file():
                    continue
                name = path.relative_to(made).as_posix()
                dest = work / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:
                    shutil.copyfile(path, dest)
                data = dest.read_bytes()
                files.append((name, len(data), hashlib.sha256(data).hexdigest()))
            payload = json.dumps({"digest": digest, "files": files}, separators=(",", ":")).encode()
            (work / _MANIFEST).write_bytes(sign(self.key, _PURPOSE, payload) + payload)
            os.rename(work, self.folder / digest)
        except OSError:
            shutil.rmtree(work, ignore_errors=True)

    def prune(self, used: set[str]) -> None:
        """Remove the entries beyond those in `used` and, newest first, as many bytes again of the others (never
        through a symbolic link; only folders named like an entry, and leftovers of cut-short writes)."""
        try:
            if self.folder.is_symlink() or not self.folder.is_dir():
                return
            others: list[tuple[float, int, Path]] = []
            budget = 0
            for entry in self.folder.iterdir():
                if entry.is_symlink() or not entry.is_dir():
                    continue
                if _LEFTOVER.fullmatch(entry.name):
                    if time.time() - entry.stat().st_mtime > 3600:
                        shutil.rmtree(entry, ignore_errors=True)
                    continue
                if not _ENTRY_NAME.fullmatch(entry.name):
                    continue
                files = self._manifest(entry, entry.name)
                size = sum(f[1] for f in files) if files is not None else 0
                if entry.name in used and files is not None:
                    budget += size
                elif files is None:
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    others.append((entry.stat().st_mtime, size, entry))
            for _mtime, size, entry in sorted(others, key=lambda o: -o[0]):
                budget -= size
                if budget < 0:
                    shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass

    def _manifest(self, entry: Path, digest: str) -> list[tuple[str, int, str]] | None:
        """The entry's files as this key signed them, or None."""
        try:
            payload = signed(self.key, _PURPOSE, (entry / _MANIFEST).read_bytes())
            if payload is None:
                return None
            data = json.loads(payload)
            if not isinstance(data, dict) or data.get("digest") != digest or not isinstance(data.get("files"), list):
                return None
            files = [(str(n), int(z), str(h)) for n, z, h in data["files"]]
        except (OSError, ValueError, TypeError):
            return None
        if not files or any(not _FILE_NAME.fullmatch(n) or ".." in n.split("/") for n, _z, _h in files):
            return None
        return files


_PURPOSE = b"search-bundle"
_MANIFEST = "mbsite-manifest"  # (a name Pagefind never writes)
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}")
_LEFTOVER = re.compile(r"\.[0-9a-f]{32}\.\d+\.\d+\.tmp")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


class Cancelled(Exception):
    """Indexing was given up because newer changes wait to be built (the caller's `cancel` said so)."""


def update_search(out: Path, stage: Stage, tables: dict[str, RouteTable],
                  final: dict[tuple[str, str], list[OutputRow]], stored: dict[str, dict[str, str]],
                  *, force: bool, cancel: Callable[[], bool] | None = None, shard_pages: int = 0,
                  cache: SearchCache | None = None) -> SearchResult:
    """Stage the bundles whose pages changed (all of them when `force`: a full build publishes whole tenant
    folders), and mark the files of bundles that are no longer wanted, or of older versions, obsolete.
    `stored`: the digests of the bundles the output folder holds (tenant → level → digest). `cancel`: asked while
    Pagefind runs; when it answers True, Pagefind is stopped and Cancelled raised (nothing is staged).
    `shard_pages`: a public index of at least twice as many pages is made in parts (shard_count), each its own
    Pagefind bundle, listed in `public/pagefind-shards/index.json` for the search page to merge; 0 never.
    `cache`: bundles made before, taken instead of running Pagefind, and given the bundles it makes."""
    problems: list[Problem] = []
    version = pagefind_version()
    by_tenant: dict[str, dict[str, list[OutputRow]]] = {}
    for (slug, path), rows in final.items():
        by_tenant.setdefault(slug, {})[path] = rows
    wanted: dict[str, dict[int, Bundle]] = {slug: plan_bundles(table, by_tenant.get(slug, {}))
                                           for slug, table in tables.items()}
    digests: dict[str, dict[str, str]] = {}
    todo: list[Bundle] = []
    for slug, bundles in sorted(wanted.items()):
        old = stored.get(slug, {})
        for level in LEVELS:
            if level not in bundles:
                _drop_folder(out, stage, bundle_dir(slug, level))  # this level is served a lower level's bundle
        parts: list[Bundle] = []
        for level, bundle in sorted(bundles.items()):
            parts.extend(bundle.shards(shard_pages) if level == 0 else [bundle])
        public = any(b.level == 0 and b.pages for b in parts)
        _stage_shard_list(out, stage, slug, [b.shard for b in parts if b.level == 0 and b.shard > 0 and b.pages],
                          public, force)
        for bundle in parts:
            digest = bundle.digest(version or "")
            if not bundle.pages:  # nothing this level may search (Pagefind makes no index of no page): no bundle
                _drop_folder(out, stage, bundle.folder)
                digests.setdefault(slug, {})[bundle.key] = digest
                continue
            current = not force and old.get(bundle.key) == digest and (out / bundle.folder / ENTRY).is_file()
            if current:
                digests.setdefault(slug, {})[bundle.key] = digest
            else:
                todo.append(bundle)
    made: list[tuple[str, int]] = []
    if not todo:
        return SearchResult(digests, made, problems)
    why = "the pagefind package is not installed" if version is None else ""
    # Pagefind writes each bundle into a folder of this build's staging area (the output folder's file system), from
    # which its files are moved into the stage: no file of a bundle is read back and written again.
    work = out / ".staging" / f"search-{os.getpid()}-{time.time_ns()}"
    try:
        made_at: dict[tuple[str, str], Path] = {}
        fresh = todo  # (the bundles Pagefind indexes: those the cache has not)
        if not why:
            try:
                assert version is not None
                if cache is not None:
                    for bundle in todo:
                        target = work / f"cached-{bundle.tenant}-{bundle.key}"
                        if cache.fetch(bundle.digest(version), target):
                            made_at[(bundle.tenant, bundle.key)] = target
                    fresh = [b for b in todo if (b.tenant, b.key) not in made_at]
                if fresh:
                    indexed = _index(out, stage, fresh, work, cancel)
                    made_at.update(indexed)
                    if cache is not None:
                        for bundle in fresh:
                            cache.keep(bundle.digest(version), indexed[(bundle.tenant, bundle.key)])
                        cache.prune({d for levels in digests.values() for d in levels.values()}
                                    | {b.digest(version) for b in todo})
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - a missing binary or a crash of Pagefind: no search, never no build
                log.debug("pagefind failed", exc_info=True)
                why = f"Pagefind could not run ({type(exc).__name__}: {exc})"
        if why:
            # Fail closed: an out-of-date bundle could still hold a page that a level may no longer see, so it goes
            # (the search page then says search is unavailable) until a build can make it again.
            for bundle in todo:
                _drop_folder(out, stage, bundle.folder)
            problems.append(_unavailable(todo, why))
            return SearchResult(digests, made, problems)
        assert version is not None
        for bundle in todo:
            _stage_bundle(out, stage, bundle.folder, made_at[(bundle.tenant, bundle.key)], force)
            digests.setdefault(bundle.tenant, {})[bundle.key] = bundle.digest(version)
            if (bundle.tenant, bundle.level) not in made:
                made.append((bundle.tenant, bundle.level))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    indexed_levels = {(b.tenant, b.level) for b in fresh}  # (a level is reused when none of its parts was indexed)
    return SearchResult(digests, made, problems, [m for m in made if m not in indexed_levels])


def _unavailable(todo: list[Bundle], why: str) -> Problem:
    tenants = ", ".join(sorted({b.tenant for b in todo}))
    return Problem("warning", f"search: {why}; the search index of {tenants} was not updated (install it with "
                   f"{INSTALL_HINT}, or turn search off with [search] enabled = false)",
                   Location(file="mbsite.toml", pointer="/search/enabled"), "search")


def _index(out: Path, stage: Stage, todo: list[Bundle], work: Path,
           cancel: Callable[[], bool] | None = None) -> dict[tuple[str, str], Path]:
    """Run Pagefind's indexer on each bundle to make: the bundle's pages are linked into a folder of their own under
    `work` (page path/index.html, from which Pagefind takes each page's URL) and indexed into another, whose path
    is returned. (The command, not the package's Python service: the service answers a request at most every
    tenth of a second.)"""
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise FileNotFoundError("the Pagefind program was not found (the pagefind[bin] extra installs it)")
    jobs: list[tuple[Bundle, Path, Path]] = []
    for bundle in todo:
        if cancel is not None and cancel():  # (before linking its pages, which takes a while for a large bundle)
            raise Cancelled()
        name = f"{bundle.tenant}-{bundle.key}"
        site, target = work / f"site-{name}", work / f"out-{name}"
        site.mkdir(parents=True)
        for path, rel, _hash in bundle.pages:
            _place(out, stage, rel, site / path.strip("/") / "index.html")
        jobs.append((bundle, site, target))
    # The bundles are independent: index a few at once (starting Pagefind is a good part of a small bundle's time).
    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 1))) as pool:
        runs = list(pool.map(lambda job: _run(binary, job[1], job[2], cancel), jobs))
    made_at: dict[tuple[str, str], Path] = {}
    for (bundle, _site, target), problem in zip(jobs, runs, strict=True):
        if problem:
            raise RuntimeError(problem)
        entry = target / ENTRY
        entry.write_bytes(_stable_entry(entry.read_bytes()))
        made_at[(bundle.tenant, bundle.key)] = target
    return made_at


def _stable_entry(data: bytes) -> bytes:
    """Pagefind lists a multilingual index's languages in no fixed order; the same index must be the same bytes
    (an incremental build equals a full one), so the entry file's keys are sorted. Its readers look names up."""
    try:
        return json.dumps(json.loads(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    except ValueError:
        return data


def _run(binary: Path, site: Path, target: Path, cancel: Callable[[], bool] | None = None) -> str:
    """Index one folder of pages into `target`; "" when done, else what went wrong. Stopped (Cancelled) as soon as
    `cancel` answers True, which is asked before it starts and every CANCEL_POLL seconds."""
    if cancel is not None and cancel():
        raise Cancelled()
    with subprocess.Popen([str(binary), "--site", str(site), "--output-path", str(target), "--silent"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + INDEX_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            try:
                stdout, stderr = proc.communicate(timeout=min(CANCEL_POLL, remaining) if cancel else remaining)
                break
            except subprocess.TimeoutExpired:
                timed_out = time.monotonic() >= deadline
                if timed_out or (cancel is not None and cancel()):
                    proc.kill()
                    proc.communicate()
                    if timed_out:
                        return f"no answer within {INDEX_TIMEOUT} s"
                    raise Cancelled() from None
    if proc.returncode == 0 and (target / ENTRY).is_file():
        return ""
    detail = (stderr or stdout).strip().splitlines()
    return f"exit status {proc.returncode}" + (f": {detail[-1]}" if detail else "")


def _place(out: Path, stage: Stage, rel: str, target: Path) -> None:
    """Put a page file as this build publishes it (the staged copy when the page was rendered now, else the
    published one) at `target`: a hard link, or a copy across file systems. A file that cannot be read is left
    out of the index (the next build that touches the page tries again)."""
    source = Path(stage.path(rel)) if rel in stage.files else out / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        try:
            shutil.copyfile(source, target)
        except OSError:
            log.warning("search: %s could not be read; left out of the index", rel)


def _stage_bundle(out: Path, stage: Stage, folder: str, made: Path, force: bool) -> None:
    """Move the files of a bundle Pagefind made (in `made`, on the output's file system) into the stage: all of them
    when `force` (a full build publishes whole tenant folders: one rename of the folder), else those that differ
    from the published ones; published files the bundle no longer has go."""
    names = sorted(p.relative_to(made).as_posix() for p in made.rglob("*") if p.is_file())
    if force and not stage.flat:
        target = Path(stage.path(f"{folder}/{ENTRY}")).parent
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(made, target)
            stage.adopt({f"{folder}/{name}" for name in names})
            return
    published = out / folder
    for name in names:
        rel, source = f"{folder}/{name}", made / name
        if not force and _same_file(source, published / name):
            continue
        staged = Path(stage.path(rel))
        if not stage.flat:
            staged.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, staged)
        stage.adopt({rel})
    if published.is_dir():
        keep = set(names)
        for path in published.rglob("*"):
            name = path.relative_to(published).as_posix()
            if path.is_file() and name not in keep:
                stage.obsolete.add(f"{folder}/{name}")


def _same_file(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (sizes first; a missing file is never the same)."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def _stage_shard_list(out: Path, stage: Stage, slug: str, shards: list[int], public: bool, force: bool) -> None:
    """`public/pagefind-shards/index.json`, the URLs of the public index's further parts (the search page merges
    them into `/pagefind/`), staged when it changed: an empty list for a public index of one part (the search page
    asks every time, and a missing file would be an error in every visitor's console), no file without a public
    index (`public` False)."""
    folder = f"{slug}/public/{SHARDS_DIR}"
    published = out / folder
    if published.is_dir():  # parts no longer wanted
        for path in sorted(published.iterdir()):
            if path.is_dir() and not (path.name.isdigit() and int(path.name) in shards):
                _drop_folder(out, stage, f"{folder}/{path.name}")
    rel = f"{folder}/{SHARDS_MANIFEST}"
    if not public:
        if (out / rel).is_file():
            stage.obsolete.add(rel)
        return
    data = (json.dumps({"bundles": [f"/{SHARDS_DIR}/{n}/" for n in sorted(shards)]}) + "\n").encode()
    if force or not _same_bytes(out / rel, data):
        stage.write(rel, data)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _drop_folder(out: Path, stage: Stage, folder: str) -> None:
    published = out / folder
    if published.is_dir():
        for path in published.rglob("*"):
            if path.is_file():
                stage.obsolete.add(path.relative_to(out).as_posix())


def search_state(raw: str | None) -> dict[str, dict[str, str]]:
    """The stored digests of the published bundles (build state "search"), {} when absent or unreadable."""
    import json

    try:
        data: Any = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(t): {str(k): str(v) for k, v in levels.items()} for t, levels in data.items()
            if isinstance(levels, dict)}


__all__ = ["ENTRY", "SHARDS_DIR", "Bundle", "shard_count", "shard_of", "SearchCache", "SearchResult", "bundle_dir", "plan_bundles", "search_state", "update_search"]
