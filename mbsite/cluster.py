"""Routes to render → chunks on a Dask distributed cluster → outcomes and file bytes for the coordinator's stage.

The coordinator (the process running `mbsite build --cluster` or `mbsite watch`) plans and publishes exactly as a
local build does; only rendering moves. Two decisions shape this module:

- **Sources are shipped, not shared.** The coordinator packs the files a render reads (mbsite.toml, content/,
  packages/, themes/, schemas/) into one compressed archive, content-addressed by its digest, and scatters it to
  the workers; each worker unpacks it once into its own scratch folder. A worker machine then needs only mbsite and
  access to the database, and it renders exactly the sources the coordinator planned from: a shared checkout could
  be one `git pull` ahead or behind (or half-way through one) and publish a mix. The database is shared (it is the
  site's live data, and PostgreSQL serves many readers).
- **Rendered files come back as bytes in the task result**, and the coordinator writes them into its stage. No
  shared output volume is needed, a worker that dies mid-chunk leaves nothing half-written anywhere, and the stage
  stays a folder on the coordinator's file system so publishing remains a rename per file.

The workers load the site model themselves (from the shipped sources and the database) once per build and keep it
for the build's chunks. The local build never imports this module's Dask side: `distributed` is imported only
when a cluster is used (`pip install 'mbsite[cluster]'`).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import queue
import shutil
import socket
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import Config, builtin_root
from .errors import Location, MbsiteError, Problem
from .paths import link_roots
from .reporter import Reporter
from .writer import staged_path, write_new

if TYPE_CHECKING:
    from .builder import RouteOutcome
    from .routes import Route
    from .site import SiteModel
    from .writer import Stage

CONNECT_TIMEOUT_S = 10.0
NO_WORKER_TIMEOUT_S = 60.0   # a build with no worker left for this long gives up (nothing is published)
CHUNKS_PER_THREAD = 8        # enough chunks that a slow or lost worker is balanced out by the others
CHUNK_MIN = 16               # a task costs a few milliseconds of scheduling and two round trips: not for one page
CHUNK_MAX = 200              # and its result (every variant's bytes) should stay a few megabytes on the wire
WATCH_BURST = 256            # `mbsite watch` sends a batch to the cluster from this many pages (a theme change)
SOURCE_FOLDERS = ("content", "packages", "themes", "schemas")
# Packages whose versions decide the rendered bytes: a worker must run the same ones as the coordinator.
RENDER_DEPENDENCIES = ("jinja2", "markdown-it-py", "mdit-py-plugins", "pygments", "pyromark", "pyyaml",
                       "orjson", "sqlalchemy")


# -- what the coordinator sends ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One build's rendering, as every chunk task of it sees it (small: the sources travel separately)."""

    build: str            # unique per build: a worker's cached model belongs to one build
    sources: str          # digest of the shipped sources archive
    config: Config        # the coordinator's config (site_dir is replaced by the worker's unpacked copy)
    database_url: str     # absolute, with its password: the workers read the same database
    environment: str      # digest of mbsite's code and the renderers' versions on the coordinator


@dataclass
class ChunkResult:
    outcomes: list["RouteOutcome"]
    files: dict[str, bytes]
    worker: str
    seconds: float


def pack_sources(config: Config) -> bytes:
    """The files a render reads, as a gzip'd tar that is the same bytes for the same sources (so its digest names
    them). Symbolic links that the build may follow are shipped as the files they lead to (a worker cannot follow
    them into the coordinator's disk); links the build refuses stay links, so a worker refuses them too."""
    site = config.site_dir
    roots = link_roots(config)
    skip = {config.out.resolve(), config.state_dir.resolve()}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("mbsite.toml", *SOURCE_FOLDERS):
            path = site / name
            if os.path.lexists(path):
                _add(tar, path, name, roots, skip)
    return gzip.compress(buf.getvalue(), compresslevel=1, mtime=0)


def _add(tar: tarfile.TarFile, path: Path, arcname: str, roots: tuple[str, ...], skip: set[Path]) -> None:
    if path.is_symlink():
        real = os.path.realpath(path)
        if not any(real == r or real.startswith(r + os.sep) for r in roots) or not os.path.exists(real):
            tar.addfile(_clean(tar.gettarinfo(str(path), arcname)))
            return
        path = Path(real)
    if path.resolve() in skip or path.name == "__pycache__":
        return
    if path.is_dir():
        tar.addfile(_clean(tar.gettarinfo(str(path), arcname)))
        for child in sorted(path.iterdir(), key=lambda p: p.name):
            _add(tar, child, f"{arcname}/{child.name}", roots, skip)
    elif path.is_file():
        with open(path, "rb") as fh:
            tar.addfile(_clean(tar.gettarinfo(str(path), arcname, fileobj=fh)), fh)


def _clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owners and times say nothing about the sources (a render never reads them) and would differ between
    checkouts: without them, the same sources are the same archive and a worker unpacks them once."""
    info.uid = info.gid = 0
    info.mtime = 0
    info.uname = info.gname = ""
    return info


def environment_digest() -> str:
    """mbsite's own code and built-ins, and the versions of the packages that shape the output."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        h = hashlib.sha256()
        for dep in RENDER_DEPENDENCIES:
            try:
                h.update(f"{dep}={metadata.version(dep)}\n".encode())
            except metadata.PackageNotFoundError:
                h.update(f"{dep}=-\n".encode())
        code = Path(__file__).resolve().parent
        roots = [code] + [builtin_root() / n for n in ("packages", "themes", "schemas")]
        for root in dict.fromkeys(roots):
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    if name.endswith((".pyc", ".pyo")):
                        continue
                    p = os.path.join(folder, name)
                    h.update(os.path.relpath(p, root).encode() + b"\0")
                    with open(p, "rb") as fh:
                        h.update(hashlib.sha256(fh.read()).digest())
        _ENVIRONMENT = h.hexdigest()
    return _ENVIRONMENT


_ENVIRONMENT: str | None = None


def chunk_size(routes: int, threads: int) -> int:
    """Routes per task: about CHUNKS_PER_THREAD tasks per worker thread, within [CHUNK_MIN, CHUNK_MAX]."""
    return max(CHUNK_MIN, min(CHUNK_MAX, math.ceil(routes / max(1, threads * CHUNKS_PER_THREAD))))


# -- the coordinator's side ----------------------------------------------------------------------------------

@dataclass
class Cluster:
    """A connection to a Dask scheduler that renders batches of routes. Owned by the command that made it
    (`connect` first, `close` at the end); a Builder given one sends its batches of `min_routes` or more pages to
    it and renders smaller ones itself. With `fallback` (the watch loop), a scheduler that cannot be reached when
    a batch starts is reported and the batch renders locally: the site stays fresh while the cluster is down."""

    address: str
    min_routes: int = 0
    timeout: float = CONNECT_TIMEOUT_S
    fallback: bool = False
    notify: Any = None                   # callable(str) for fallback messages (the reporter's message otherwise)
    last: dict[str, Any] | None = None   # figures of the last batch rendered on the cluster (the JSON summary's)
    _client: Any = field(default=None, repr=False)

    def connect(self) -> None:
        """Reach the scheduler, or raise a located MbsiteError (before anything is built or published)."""
        if self._client is not None:
            return
        try:
            from distributed import Client
        except ImportError as exc:
            raise MbsiteError(f"--cluster needs dask and distributed: pip install 'mbsite[cluster]' ({exc})") from None
        self._probe()
        try:
            self._client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise MbsiteError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None

    def _probe(self) -> None:
        """A refused TCP connection is known at once; Dask itself would retry it until its timeout."""
        parts = urlsplit(self.address if "://" in self.address else "tcp://" + self.address)
        if parts.scheme != "tcp":
            return
        try:
            port = parts.port or 8786
            with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=self.timeout):
                pass
        except (OSError, ValueError) as exc:
            raise MbsiteError(f"cannot reach the Dask scheduler at {self.address}: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()

    def takes(self, routes: list["Route"]) -> bool:
        """Whether this batch goes to the cluster (a batch rendered locally has no cluster figures)."""
        self.last = None
        if not routes or len(routes) < self.min_routes:
            return False
        if self.fallback:
            if self._client is not None and self._client.status != "running":
                self.close()  # lost: connect afresh
            try:
                self.connect()
            except MbsiteError as exc:
                if self.notify is not None:
                    self.notify(f"{exc}; rendering {len(routes)} pages here")
                return False
        return True

    def render(self, model: "SiteModel", routes: list["Route"], stage: "Stage",
               reporter: Reporter) -> list["RouteOutcome"]:
        """Render `routes` on the cluster into `stage`; outcomes in the order of `routes`, as a local build."""
        self.connect()
        client = self._client
        started = time.perf_counter()
        threads = self._threads(client)
        data = pack_sources(model.config)
        job = Job(uuid.uuid4().hex, hashlib.sha256(data).hexdigest(), model.config, _database_url(model),
                  environment_digest())
        size = chunk_size(len(routes), threads)
        chunks = [[(r.tenant, r.path) for r in routes[i:i + size]] for i in range(0, len(routes), size)]
        at_start = set(client.scheduler_info(n_workers=-1)["workers"])
        reporter.message(f"rendering {len(routes)} pages in {len(chunks)} chunks on {self.address} "
                         f"({len(at_start)} workers)")
        sources = client.scatter(data, broadcast=True, hash=True)
        finished: queue.Queue[Any] = queue.Queue()  # futures as they finish (a lost worker's are redone first)
        futures = {}
        for i, chunk in enumerate(chunks):
            fut = client.submit(render_chunk, sources, job, chunk, key=f"mbsite-render-{job.build}-{i}", pure=False)
            fut.add_done_callback(finished.put)
            futures[fut.key] = (i, fut)
        results: list[ChunkResult | None] = [None] * len(chunks)
        used: dict[str, int] = {}
        busy = 0.0
        idle_since: float | None = None
        left = len(chunks)
        try:
            while left:
                try:
                    fut = finished.get(timeout=1.0)
                except queue.Empty:
                    idle_since = self._check_workers(client, idle_since)
                    continue
                idle_since = None
                i, _ = futures.pop(fut.key)
                result = _result(fut)
                fut.release()
                for rel, blob in result.files.items():
                    write_new(stage.path(rel), blob, make_folder=not stage.flat)
                result.files = {}
                results[i] = result
                left -= 1
                used[result.worker] = used.get(result.worker, 0) + 1
                busy += result.seconds
                reporter.advance(len(result.outcomes))
        except BaseException:
            client.cancel([f for _, f in futures.values()])
            raise
        finally:
            del sources
        at_end = set(client.scheduler_info(n_workers=-1)["workers"])
        lost = sorted(at_start - at_end)
        self.last = {"scheduler": self.address, "chunks": len(chunks), "chunk_size": size,
                     "workers": dict(sorted(used.items())), "workers_lost": lost,
                     "recomputed": _taken_back(client, f"mbsite-render-{job.build}-") if lost else 0,
                     "sources_bytes": len(data), "worker_seconds": round(busy, 3),
                     "seconds": round(time.perf_counter() - started, 3)}
        return [oc for r in results if r is not None for oc in r.outcomes]

    def _threads(self, client: Any) -> int:
        try:
            client.wait_for_workers(1, timeout=NO_WORKER_TIMEOUT_S)
        except (TimeoutError, OSError) as exc:
            raise MbsiteError(f"the Dask scheduler at {self.address} has no worker ({exc})") from None
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        return sum(int(w.get("nthreads", 1)) for w in workers) or 1

    def _check_workers(self, client: Any, idle_since: float | None) -> float | None:
        """Tasks wait for a worker while none is left; give up after NO_WORKER_TIMEOUT_S without one."""
        if client.status != "running":
            raise MbsiteError(f"lost the Dask scheduler at {self.address} during the build; nothing was published")
        if client.scheduler_info(n_workers=-1)["workers"]:
            return None
        now = time.monotonic()
        if idle_since is not None and now - idle_since > NO_WORKER_TIMEOUT_S:
            raise MbsiteError(f"no Dask worker left at {self.address} for {NO_WORKER_TIMEOUT_S:.0f} s; "
                              "nothing was published")
        return idle_since if idle_since is not None else now


def _taken_back(client: Any, prefix: str) -> int | None:
    """How many chunks the scheduler took back from a worker it lost, to run them elsewhere (from its transition
    log; None when the scheduler would not tell)."""
    def count(dask_scheduler: Any) -> int:  # (a nested function: shipped by value, the scheduler needs no mbsite)
        return len({str(e[0]) for e in dask_scheduler.transition_log
                    if str(e[0]).startswith(prefix) and e[1] == "processing" and e[2] != "memory"})

    try:
        return int(client.run_on_scheduler(count))
    except Exception:  # noqa: BLE001 - a figure for the summary, never a reason to fail a finished build
        return None


def _result(fut: Any) -> ChunkResult:
    try:
        result = fut.result()
    except MbsiteError:
        raise
    except Exception as exc:  # noqa: BLE001 - a task's error, re-raised by Dask, becomes one clear message
        raise MbsiteError(f"cluster build failed: {type(exc).__name__}: {exc}; nothing was published") from None
    assert isinstance(result, ChunkResult)
    return result


def _database_url(model: "SiteModel") -> str:
    url = model.store.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.abspath(url.database))  # (workers on this machine only: use PostgreSQL)
    return url.render_as_string(hide_password=False)


# -- the worker's side ------------------------------------------------------------------------------------------

_LOCK = threading.Lock()   # a worker with several threads renders one chunk at a time (the model is not shared)
_MODEL: tuple[str, "SiteModel"] | None = None


def render_chunk(sources: bytes, job: Job, keys: list[tuple[str, str]]) -> ChunkResult:
    """Dask task: render (tenant, path) pages with this worker's model of the build; return outcomes and bytes."""
    from .builder import render_route

    started = time.perf_counter()
    with _LOCK:
        model = _model_for(job, sources)
        scratch = tempfile.mkdtemp(prefix="stage-", dir=_scratch_root())
        try:
            outcomes = []
            for tenant, path in keys:
                table = model.tables.get(tenant)
                route = table.routes.get(path) if table is not None else None
                if route is None:
                    outcomes.append(_missing(tenant, path))
                    continue
                outcomes.append(render_route(model, route, scratch, flat=True))
            files: dict[str, bytes] = {}
            for oc in outcomes:
                for rel in oc.files:
                    with open(staged_path(scratch, rel, True), "rb") as fh:
                        files[rel] = fh.read()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return ChunkResult(outcomes, files, _worker_address(), time.perf_counter() - started)


def _missing(tenant: str, path: str) -> "RouteOutcome":
    from .builder import RouteOutcome

    return RouteOutcome(tenant, path, failed=True, problems=[Problem(
        "error", f"{tenant} {path}: the worker's copy of the site has no such page (sources or data changed "
        "during the build); the page keeps its last output and is retried", Location(), "internal")])


def _model_for(job: Job, sources: bytes) -> "SiteModel":
    """This worker's model of the build, loaded on its first chunk (earlier builds' models are dropped)."""
    global _MODEL
    if _MODEL is not None and _MODEL[0] == job.build:
        return _MODEL[1]
    if job.environment != environment_digest():
        raise MbsiteError(f"worker {_worker_address()} runs another mbsite or other renderer versions than the "
                          "coordinator: install the same mbsite (and its dependencies) on every worker")
    if _MODEL is not None:
        _MODEL[1].store.engine.dispose()
        _MODEL = None
    from .db.engine import open_engine
    from .site import load_model

    site = _unpack(job.sources, sources)
    config = replace(job.config, site_dir=site, database_url=job.database_url, workers=1)
    engine = open_engine(job.database_url)
    problems: list[Problem] = []  # the coordinator reported them when it loaded the same sources
    model = load_model(config, engine, problems)
    _MODEL = (job.build, model)
    return model


def _scratch_root() -> str:
    try:
        from distributed import get_worker

        base = get_worker().local_directory
    except (ImportError, ValueError):  # not inside a Dask worker (called directly)
        base = tempfile.gettempdir()
    root = os.path.join(base, "mbsite")
    os.makedirs(root, exist_ok=True)
    return root


def _unpack(digest: str, data: bytes) -> Path:
    """The shipped sources in this worker's scratch folder, unpacked once per digest (the previous kept too)."""
    root = Path(_scratch_root())
    target = root / f"site-{digest[:24]}"
    if not target.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix="unpack-", dir=root))
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as tar:
            if hasattr(tarfile, "tar_filter"):
                tar.extractall(tmp, filter="tar")
            else:  # Python before 3.11.4 (the archive comes from the coordinator, which the worker trusts)
                tar.extractall(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another thread or process of this worker unpacked it first
            shutil.rmtree(tmp, ignore_errors=True)
        sites = sorted((p for p in root.glob("site-*") if p != target), key=lambda p: p.stat().st_mtime)
        for old in sites[:-1]:
            shutil.rmtree(old, ignore_errors=True)
    return target


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


__all__ = ["Cluster", "ChunkResult", "Job", "WATCH_BURST", "chunk_size", "environment_digest", "pack_sources",
           "render_chunk"]
