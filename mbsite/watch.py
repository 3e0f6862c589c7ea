"""Files + change feed + revalidation timers → a loop of incremental builds, each published atomically.

On PostgreSQL several watches may run against one database (on several machines): one is active, holding the
watch lock (lease.py), and the others stand by, trying the lock every STANDBY_POLL_SECONDS. A standby that gets
it starts as any watch starts: a cold run from the stored graph and change cursor, so the changes the previous
active one published are not rendered again and those it had not are not lost.
"""
from __future__ import annotations

import os
import queue
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sqlalchemy import Engine, text

from .builder import Builder, BuildResult
from .config import Config, builtin_root
from .errors import MbsiteError, Problem
from .lease import WatchLock
from .reporter import Reporter
from .site import open_site_db

if TYPE_CHECKING:
    from .cluster import Cluster

POLL_SECONDS = 0.005       # SQLite: how often PRAGMA data_version is read (a few microseconds each)
DEBOUNCE_SECONDS = 0.005   # gather events that arrive together into one batch
STANDBY_POLL_SECONDS = 0.5  # how often a standby tries the watch lock (the takeover delay, at most)


@dataclass
class Batch:
    """What woke the loop, and what the build did."""

    causes: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    result: BuildResult | None = None
    error: MbsiteError | None = None
    seconds: float = 0.0


class Watcher:
    """The rebuild loop of `mbsite watch` and `mbsite serve`."""

    def __init__(self, config: Config, reporter: Reporter, *, on_batch: Callable[[Batch], None] | None = None,
                 engine: Engine | None = None, cluster: Cluster | None = None, single_active: bool = False,
                 on_role: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.reporter = reporter
        self.on_batch = on_batch
        self.on_role = on_role or reporter.message
        self.engine = engine or open_site_db(config)[0]
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.builder = Builder(config, reporter, engine=self.engine, keep_bodies=True, cluster=cluster)
        # A change that arrives while search bundles are indexed is built first; the build after it indexes.
        self.builder.search_cancel = lambda: not self.events.empty()
        # `mbsite watch` on PostgreSQL: one active watch per database (a SQLite file lives on one machine, with
        # one watch; the preview of `mbsite serve` is no production watch and never waits for the lock).
        self.lock = WatchLock(self.engine.url.render_as_string(hide_password=False)) \
            if single_active and self.engine.dialect.name == "postgresql" else None
        self.lost_lock = False
        self.took_over = False

    # -- sources of wake-ups ---------------------------------------------------------------------------------
    def watched_paths(self) -> list[Path]:
        """The site folder (folders created later, such as a new theme, are seen too) and the built-ins."""
        site = self.config.site_dir
        paths = [site]
        root = builtin_root()
        if root.resolve() != site.resolve():
            paths += [root / n for n in ("packages", "themes") if (root / n).is_dir()]
        return paths

    def _watch_files(self) -> None:
        from watchfiles import watch

        out = self.config.out.resolve()
        state = self.config.state_dir.resolve()
        # A build writes thousands of files into the output folder (often inside the site folder): its events are
        # dropped by a string comparison first, without asking the file system where each path leads.
        skip = tuple({f"{folder}{os.sep}" for folder in (out, state, self.config.out, self.config.state_dir)})

        def keep(_change: object, path: str) -> bool:
            if path.startswith(skip):
                return False
            p = Path(path).resolve()
            return not (p.is_relative_to(out) or p.is_relative_to(state) or p.name.startswith(".")
                        or p.name.endswith("~") or "__pycache__" in p.parts or ".git" in p.parts)

        for changes in watch(*self.watched_paths(), watch_filter=keep, stop_event=self.stop, debounce=20,
                             step=10, yield_on_timeout=False, rust_timeout=200):
            for _change, path in changes:
                self.events.put(("file", path))

    def _feed_marker(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            seq = conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM changes")).scalar_one()
            rev = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM revalidations")).scalar_one()
        return int(seq), int(rev)

    def _watch_sqlite(self, path: str) -> None:
        con = sqlite3.connect(path, check_same_thread=False)
        try:
            version = con.execute("PRAGMA data_version").fetchone()[0]
            marker = self._feed_marker()
            while not self.stop.wait(POLL_SECONDS):
                now = con.execute("PRAGMA data_version").fetchone()[0]
                if now == version:
                    continue
                version = now
                current = self._feed_marker()
                if current != marker:  # our own build writes change data_version but never the feed
                    marker = current
                    self.events.put(("data", "changes"))
        finally:
            con.close()

    def _watch_postgres(self, url: str) -> None:
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        while not self.stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("LISTEN mbsite_changes")
                    marker = self._feed_marker()
                    while not self.stop.is_set():
                        got = False
                        for _note in conn.notifies(timeout=0.5, stop_after=1):
                            got = True
                        current = self._feed_marker()  # also catches revalidation rows, which do not NOTIFY
                        if got or current != marker:
                            marker = current
                            self.events.put(("data", "changes"))
            except psycopg.OperationalError as exc:
                self.reporter.message(f"watch: database listener lost ({exc}); reconnecting")
                self.stop.wait(1.0)

    def _next_timer(self) -> float | None:
        """Seconds until the next revalidate timer or scheduled publish/expiry falls due (None: none is set)."""
        with self.engine.connect() as conn:
            due = conn.execute(text("SELECT MIN(revalidate_at) FROM build_outputs")).scalar()
            scheduled = conn.execute(text("SELECT value FROM build_state WHERE key = 'next_change'")).scalar()
        times = [int(v) for v in (due, scheduled) if v not in (None, "")]
        return None if not times else max(0.0, min(times) / 1000 - time.time())

    # -- the loop ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._threads.append(threading.Thread(target=self._watch_files, name="mbsite-files", daemon=True))
        url = str(self.engine.url)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            feed = threading.Thread(target=self._watch_sqlite, args=(self.engine.url.database,), name="mbsite-feed",
                                    daemon=True)
        else:
            feed = threading.Thread(target=self._watch_postgres, name="mbsite-feed", daemon=True,
                                    args=(self.engine.url.render_as_string(hide_password=False) if url else url,))
        self._threads.append(feed)
        for t in self._threads:
            t.start()

    def build_once(self, batch: Batch) -> Batch:
        started = time.perf_counter()
        try:
            # The first run loads everything; later runs reload only what the batch touched.
            batch.result = self.builder.run(paths=batch.paths if "start" not in batch.causes else None)
        except MbsiteError as exc:  # the last good output stays; the next change retries
            self.builder.model = None  # start the next run cold
            batch.error = exc
            self.reporter.problem(Problem.from_error(exc))
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a bug in one batch
            self.builder.model = None
            batch.error = MbsiteError(f"internal error: {type(exc).__name__}: {exc}")
            self.reporter.problem(Problem("error", batch.error.message, code="internal"))
        batch.seconds = time.perf_counter() - started
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch

    # -- one active watch per database ----------------------------------------------------------------------
    def stand_by(self) -> bool:
        """Wait until this watch holds the watch lock (at once when no other does); False if stopped first."""
        if self.lock is None:
            return True
        started = time.monotonic()
        if not self.lock.try_acquire():
            holder = self.lock.holder()
            self.on_role(f"standing by: another watch is active on this database (server process {holder})"
                         if holder is not None else "standing by: the database cannot be reached")
            while not self.lock.try_acquire():
                if self.stop.wait(STANDBY_POLL_SECONDS):
                    return False
            self.took_over = True
            self.on_role(f"active: took over after standing by for {time.monotonic() - started:.1f} s; "
                         "resuming from the stored change cursor")
        else:
            self.on_role("active: holding the watch lock")
        return True

    def _still_active(self) -> bool:
        """Before each batch and once a second: a watch whose lock session is gone stops at once, since another
        may be active by now (it exits with status 1; a supervisor restarts it as a standby)."""
        if self.lock is None or self.lock.still_held():
            return True
        self.lost_lock = True
        self.on_role("lost the watch lock (its database session ended); stopping")
        self.stop.set()
        return False

    def run(self, *, initial_build: bool = True) -> None:
        """Build what is stale, then rebuild on every change until stop is set (SIGINT/SIGTERM set it).
        On PostgreSQL, first wait for the watch lock (another watch may be active)."""
        try:
            if self.stand_by():
                self._loop(initial_build)
        finally:
            if self.lock is not None:
                self.lock.release()
            self.engine.dispose()

    def _loop(self, initial_build: bool) -> None:
        self.start()
        # A standby that took over has no batch in hand: its cold run plans from the stored cursor in any case.
        if initial_build or self.took_over:
            self.build_once(Batch({"start"}))
        while not self.stop.is_set():
            timeout = self._next_timer()
            try:
                kind, what = self.events.get(timeout=min(timeout, 1.0) if timeout is not None else 1.0)
            except queue.Empty:
                if not self._still_active():
                    break
                due = self._next_timer()
                if due is not None and due <= 0:
                    self.build_once(Batch({"timer"}))
                continue
            batch = Batch({kind}, {what} if kind == "file" else set())
            deadline = time.monotonic() + DEBOUNCE_SECONDS
            while True:
                try:
                    kind, what = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                batch.causes.add(kind)
                if kind == "file":
                    batch.paths.add(what)
            if self.stop.is_set() or not self._still_active():
                break
            self.build_once(batch)
        for t in self._threads:
            t.join(timeout=2)

    def install_signal_handlers(self) -> None:
        def handler(_sig: int, _frame: object) -> None:
            self.stop.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
