"""The content scan and Markdown bodies, done ahead on the core that would otherwise wait.

Before the render workers start, a build runs in one process: it imports, reads the database, loads packages,
theme and Markdown sources and plans — most of a second on a large site, with the other cores idle. A build
therefore forks helpers first, one per core (at most four). Each scans its share of the content folder's Markdown
files (every n-th file: reads it and parses its front matter, exactly as the build would) and hands the scan over
through a pipe; the build puts the shares back in file order and takes the scan where it would otherwise scan
itself. Then each helper renders the Markdown bodies of its share in path order. Right before the workers
fork, the build stops the helper and takes the bodies it finished (an incremental build's helper only scans:
its bodies would be a guess), and the workers (forked after) find those bodies ready and skip the Markdown
engine for them.

A body's HTML depends only on the file's bytes, where the body starts, the highlighting switch and the engine,
which is the key (`body_key`), and it never depends on the viewer or the site — except through
shortcodes: a body that calls one is left to the workers. A body the engine fails on is skipped; the workers
then report it as usual. If the helper fails or hands over something unreadable, the build scans and renders
by itself: nothing the helper does reaches the output except through the scan it would have made anyway and
that key.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
from typing import TYPE_CHECKING, Any, TypeAlias

from .config import Config
from .procs import die_with_parent
from .writer import read_marker

if TYPE_CHECKING:
    from .errors import Problem
    from .sources import MarkdownSource

MIN_FILES = 200   # fewer Markdown pages: the helpers would not pay for themselves
MAX_HELPERS = 4   # helpers a build forks at most (one per core up to this)
_PIPE_SIZE = 1 << 20  # Linux: ask for 1 MiB pipes (fewer wake-ups handing over megabytes)

Scan: TypeAlias = "tuple[list[MarkdownSource], list[Problem]]"


class ShortcodeRefused(Exception):
    """Raised through the Markdown engine by `refuse_shortcodes`: this body calls a shortcode."""


def refuse_shortcodes(*_args: Any) -> str:
    """A shortcode handler for bodies rendered away from their page: a body that calls one is not rendered."""
    raise ShortcodeRefused


def start_prerender(config: Config, *, full: bool = False) -> "Prerenderer | None":
    """Fork the helpers when the build has more than one core to work with. The scan serves every build; the
    bodies are rendered only when every page is about to be rendered (`full`, or no earlier output in the
    folder): for an incremental build they would be a guess, burning CPU time that a no-op build never uses."""
    workers = config.workers or os.cpu_count() or 1
    if workers <= 1:
        return None
    every_page = full or read_marker(config.out) is None
    return Prerenderer.start(config, bodies=every_page, shares=min(workers, MAX_HELPERS))


def body_key(relpath: str, digest: str, body_line: int, config: Config) -> tuple[Any, ...]:
    """Everything a Markdown body's HTML depends on (shortcodes aside)."""
    return (relpath, digest, body_line, config.highlight, config.markdown_engine)


class _Helper:
    """One forked helper: its pid and the build's ends of its pipes (-1 once closed)."""

    def __init__(self, pid: int, stop_w: int, scan_r: int, result_r: int) -> None:
        self.pid, self.stop_w, self.scan_r, self.result_r = pid, stop_w, scan_r, result_r

    def close(self) -> None:
        for fd in (self.stop_w, self.scan_r, self.result_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.stop_w = self.scan_r = self.result_r = -1
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0


class Prerenderer:
    """The build's helpers (each with a share of the Markdown files): their scans, then their bodies."""

    def __init__(self, helpers: list[_Helper]) -> None:
        self.helpers = helpers

    @property
    def pids(self) -> list[int]:
        return [h.pid for h in self.helpers if h.pid]

    @classmethod
    def start(cls, config: Config, *, bodies: bool = True, shares: int = 1) -> "Prerenderer | None":
        if not hasattr(os, "fork") or not config.content_dir.is_dir():
            return None
        helpers = [_fork(config, bodies, share, shares) for share in range(max(1, shares))]
        return cls(helpers)

    def scan(self) -> Scan | None:
        """The helpers' content scan: (Markdown sources, problems), as `sources.scan_markdown` makes them; None if
        they did not scan (too few files) or one failed: the caller then scans itself."""
        items: list[tuple[int, Any, list[Problem]]] = []
        whole = True
        for helper in self.helpers:
            if helper.scan_r < 0:
                whole = False
                continue
            try:
                data = _read_all(helper.scan_r)
            finally:
                os.close(helper.scan_r)
                helper.scan_r = -1
            try:
                share = pickle.loads(data) if data else None
            except Exception:  # noqa: BLE001 - cut short (the helper died): scan again rather than trust it
                share = None
            if share is None:
                whole = False
            else:
                items.extend(share)
        if not whole:
            return None
        items.sort(key=lambda item: item[0])  # back in the order of the files, as one scan would list them
        return [src for _i, src, _p in items if src is not None], [p for _i, _src, found in items for p in found]

    def collect(self) -> dict[tuple[Any, ...], str]:
        """Stop the helpers and return the bodies they finished (none from a helper that failed)."""
        for helper in self.helpers:
            if helper.scan_r >= 0:  # never asked for: let the helper's writer give up
                os.close(helper.scan_r)
                helper.scan_r = -1
            try:
                os.write(helper.stop_w, b"x")
            except OSError:
                pass
        done: dict[tuple[Any, ...], str] = {}
        for helper in self.helpers:
            try:
                data = _read_all(helper.result_r) if helper.result_r >= 0 else b""
            finally:
                helper.close()
            try:
                done.update(pickle.loads(data) if data else {})
            except Exception:  # noqa: BLE001 - a helper killed mid-write: nothing gained, nothing lost
                pass
        return done

    def cancel(self) -> None:
        """Stop the helpers without waiting for their results (the build failed or was interrupted)."""
        for helper in self.helpers:
            if helper.pid:
                try:
                    os.kill(helper.pid, signal.SIGKILL)
                except OSError:
                    pass
        for helper in self.helpers:
            helper.close()


def _fork(config: Config, bodies: bool, share: int, shares: int) -> _Helper:
    stop_r, stop_w = os.pipe()
    scan_r, scan_w = os.pipe()
    result_r, result_w = os.pipe()
    for fd in (scan_w, result_w):
        _widen(fd)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the helper
        code = 0
        try:
            die_with_parent(parent)
            for fd in (stop_w, scan_r, result_r):
                os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides; it stops the helper
            _helper(config, stop_r, scan_w, result_w, bodies, share, shares)
        except BaseException:  # noqa: BLE001 - whatever happens, the helper only ever exits
            code = 1
        finally:
            os._exit(code)
    for fd in (stop_r, scan_w, result_w):
        os.close(fd)
    return _Helper(pid, stop_w, scan_r, result_r)


def _widen(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
    except (ImportError, OSError):
        pass  # another system, or a lower limit: the default size works, with more wake-ups


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, _PIPE_SIZE)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _stop_requested(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


class _Feed:
    """Bytes fed to a pipe without blocking, a piece whenever the reader has made room (the helper hands over
    its scan this way while it renders: a thread would wait for the interpreter lock for as long as rendering
    holds it)."""

    def __init__(self, fd: int, payload: bytes) -> None:
        self.fd = fd
        self.view = memoryview(payload)
        os.set_blocking(fd, False)

    def pump(self) -> None:
        if self.fd < 0:
            return
        try:
            while self.view:
                self.view = self.view[os.write(self.fd, self.view):]
        except BlockingIOError:
            return  # full: the reader is busy elsewhere
        except OSError:
            pass  # the build stopped listening (it scanned itself, or failed): fine
        os.close(self.fd)
        self.fd = -1

    def finish(self) -> None:
        """Write the rest, waiting for the reader as long as it takes (or until it goes away)."""
        if self.fd >= 0:
            os.set_blocking(self.fd, True)
            self.pump()


def _helper(config: Config, stop_r: int, scan_w: int, result_w: int, bodies: bool = True, share: int = 0,
            shares: int = 1) -> None:
    import gc

    from .markdown import render_markdown
    from .sources import MarkdownScanner, markdown_files

    gc.disable()
    done: dict[tuple[Any, ...], str] = {}
    files = markdown_files(config.content_dir)
    if len(files) < MIN_FILES:
        os.close(scan_w)
        os.close(result_w)
        return
    scanner = MarkdownScanner(config)
    items: list[tuple[int, Any, list[Problem]]] = []
    for index in range(share, len(files), shares):
        problems: list[Problem] = []
        src = scanner.scan(files[index], problems)
        if bodies and src is not None:
            src.post_text  # noqa: B018 - worked out here, it comes with the scan (every page will be rendered)
        items.append((index, src, problems))
    scan = _Feed(scan_w, pickle.dumps(items, protocol=-1))
    scan.pump()
    for _index, src, _problems in items if bodies else ():
        scan.pump()
        if _stop_requested(stop_r):
            break
        if src is None:
            continue
        try:
            html = render_markdown(src.body, highlight_code=config.highlight, shortcode=refuse_shortcodes,
                                   line_offset=src.body_line - 1, engine=config.markdown_engine)
        except Exception:  # noqa: BLE001 - shortcodes, or a body the engine fails on: the workers' business
            continue
        done[body_key(src.relpath, src.digest, src.body_line, config)] = html
    scan.finish()  # (the build has read the scan, or closed its end)
    _Feed(result_w, pickle.dumps(done, protocol=-1)).finish()


__all__ = ["Prerenderer", "body_key", "start_prerender"]
