"""Markdown bodies rendered ahead, on the core that would otherwise wait.

Before the render workers start, a build runs in one process: it imports, reads the database, loads packages,
theme and Markdown sources and plans — most of a second on a large site, with the other cores idle. A full
build therefore forks a helper first, which renders Markdown bodies in path order meanwhile. Right before the
workers fork, the build stops the helper and takes what it finished; the workers (forked after) find those
bodies ready and skip the Markdown engine for them.

A body's HTML depends only on the file's bytes, where the body starts, the highlighting switch and the engine,
which is the key (`pages.body_key`), and it never depends on the viewer or the site — except through
shortcodes: a body that calls one is left to the workers. A file the helper cannot read or parse is skipped;
the workers then report it as usual. Nothing the helper does reaches the output except through that key.
"""
from __future__ import annotations

import os
import pickle
import select
import signal
from typing import Any

from .config import Config

MIN_FILES = 200   # fewer Markdown pages: the helper would not pay for itself


class _Shortcode(Exception):
    pass


def _refuse(*_args: Any) -> str:
    raise _Shortcode


def start_prerender(config: Config, *, full: bool) -> "Prerenderer | None":
    """Fork the helper when every page is about to be rendered (a full build, or no earlier output) and the
    build will have workers on other cores."""
    workers = config.workers or os.cpu_count() or 1
    if workers <= 1:
        return None
    fresh = not any(config.out.glob("*/routes.json"))
    return Prerenderer.start(config) if (full or fresh) else None


def body_key(relpath: str, digest: str, body_line: int, config: Config) -> tuple[Any, ...]:
    """Everything a Markdown body's HTML depends on (shortcodes aside)."""
    return (relpath, digest, body_line, config.highlight, config.markdown_engine)


class Prerenderer:
    def __init__(self, pid: int, stop_w: int, result_r: int) -> None:
        self.pid = pid
        self._stop_w = stop_w
        self._result_r = result_r

    @classmethod
    def start(cls, config: Config) -> "Prerenderer | None":
        if not hasattr(os, "fork") or not config.content_dir.is_dir():
            return None
        stop_r, stop_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the helper
            code = 0
            try:
                os.close(stop_w)
                os.close(result_r)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build decides; it stops the helper
                _helper(config, stop_r, result_w)
            except BaseException:  # noqa: BLE001 - whatever happens, the helper only ever exits
                code = 1
            finally:
                os._exit(code)
        os.close(stop_r)
        os.close(result_w)
        return cls(pid, stop_w, result_r)

    def collect(self) -> dict[tuple[Any, ...], str]:
        """Stop the helper and return the bodies it finished (empty if it failed)."""
        try:
            os.write(self._stop_w, b"x")
        except OSError:
            pass
        chunks = []
        try:
            while True:
                chunk = os.read(self._result_r, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            self._close()
        try:
            return pickle.loads(b"".join(chunks)) if chunks else {}
        except Exception:  # noqa: BLE001 - a helper killed mid-write: nothing gained, nothing lost
            return {}

    def cancel(self) -> None:
        """Stop the helper without waiting for its results (the build failed or was interrupted)."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self._close()

    def _close(self) -> None:
        for fd in (self._stop_w, self._result_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._stop_w = self._result_r = -1
        if self.pid:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = 0


def _stop_requested(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def _helper(config: Config, stop_r: int, result_w: int) -> None:
    import gc

    from .markdown import render_markdown
    from .sources import markdown_files, read_markdown, sha256_bytes, split_front_matter

    gc.disable()
    done: dict[tuple[Any, ...], str] = {}
    root = config.content_dir
    files = markdown_files(root)
    if len(files) >= MIN_FILES:
        for _rel, relpath, data in read_markdown(root, files):
            if _stop_requested(stop_r):
                break
            try:
                _front, body, line = split_front_matter(data.decode("utf-8"), relpath)
                html = render_markdown(body, highlight_code=config.highlight, shortcode=_refuse,
                                       line_offset=line - 1, engine=config.markdown_engine)
            except Exception:  # noqa: BLE001 - shortcodes, unreadable or broken files: the workers' business
                continue
            done[body_key(relpath, sha256_bytes(data), line, config)] = html
    payload = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(payload)
    while view:
        written = os.write(result_w, view)
        view = view[written:]
    os.close(result_w)


__all__ = ["Prerenderer", "body_key", "start_prerender"]
