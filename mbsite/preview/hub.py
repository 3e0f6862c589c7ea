"""Published batches → what each open preview page needs: nothing, a stylesheet swap, a reload, or errors.

An open page is identified by what it shows: tenant, page path, the viewer's level and the SHA-256 of the file
the gate served. After a batch is published, the hub asks which file the gate would serve that page now:
the same bytes → nothing; bytes that differ only in content-hashed asset URLs → swap the stylesheets (the
page keeps its state); anything else → reload. Pages only hear about a batch after it is published, so a
reload always shows the new output. The script that listens (`LIVE_JS`) is added to responses by `serve`,
never to files in the output folder.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import text

from ..config import Config
from ..db.models import now_ms
from ..errors import Problem, relpath
from ..reporter import ConsoleReporter, Reporter
from ..watch import Batch, Watcher
from ..web.gate import Gate

MAX_PROBLEMS = 20
_ASSET = re.compile(rb"(/assets/[^\"'\s<>?#]*?)\.[0-9a-f]{10}((?:\.[A-Za-z0-9]+)?)(?=[\"'\s<>?#)]|$)")
_STYLESHEET = re.compile(rb"<link\b[^>]*\brel=\"stylesheet\"[^>]*>", re.I)
_HREF = re.compile(rb"\bhref=\"([^\"]+)\"")
_HEAD_END = re.compile(rb"</head\s*>", re.I)


def asset_shape(data: bytes) -> str:
    """A digest of a page that ignores content hashes in asset URLs: equal shapes differ only in stylesheets."""
    return hashlib.sha256(_ASSET.sub(rb"\1\2", data)).hexdigest()


def stylesheets(data: bytes) -> list[str]:
    return [m.group(1).decode() for tag in _STYLESHEET.findall(data) if (m := _HREF.search(tag))]


def page_path(raw: str) -> str:
    return "/" + "/".join(p for p in raw.split("/") if p not in ("", "."))


# -- the hub: open pages ↔ published batches ------------------------------------------------------------------

@dataclass(eq=False)
class Viewer:
    """One open page: what it shows (tenant, page, the viewer's level, the served file's digest)."""

    tenant: str | None
    page: str
    level: int
    digest: str
    shape: str | None
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


@dataclass
class Published:
    """A batch as `serve` saw it: the build, the variants whose bytes changed, and what open pages were told."""

    batch: Batch
    changed: list[tuple[str, str, int]] = field(default_factory=list)
    reloaded: int = 0
    restyled: int = 0


def event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def batch_problems(batch: Batch, site_dir: Path) -> list[dict[str, Any]]:
    """The errors of a batch for the overlay: deduplicated, at most MAX_PROBLEMS."""
    found = [Problem.from_error(batch.error)] if batch.error is not None else []
    if batch.result is not None:
        found += [p for p in batch.result.problems if p.severity == "error"]
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for p in found:
        key = (str(p.location), p.message)
        if key in seen:
            continue
        seen.add(key)
        loc = p.location
        file = relpath(loc.file, site_dir) if loc.file and not loc.file.startswith("builtin:") else loc.file
        out.append({"message": p.message, "file": file, "line": loc.line, "column": loc.column,
                    "where": str(loc), "code": p.code})
        if len(out) == MAX_PROBLEMS:
            break
    return out


class LiveHub:
    """Tells open pages what a published batch means for them: nothing, a stylesheet swap, a reload, errors."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.gate = Gate(config.out)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.problems: list[dict[str, Any]] = []
        self.last: dict[str, Any] = {}
        self.shapes: dict[str, str] = {}     # digest of a served file → its asset shape
        self._viewers: set[Viewer] = set()
        self._lock = threading.Lock()
        self._building = False

    # registration (event loop) ---------------------------------------------------------------------------
    def register(self, viewer: Viewer) -> bool:
        """Add a page; True when no build is running, so the caller should compare it with the output now."""
        with self._lock:
            self._viewers.add(viewer)
            return not self._building

    def unregister(self, viewer: Viewer) -> None:
        with self._lock:
            self._viewers.discard(viewer)

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    def remember(self, digest: str, data: bytes) -> str:
        """Note the asset shape of a served file (called by both the event loop and the watcher thread)."""
        shape = self.shapes.get(digest) or asset_shape(data)
        with self._lock:
            if digest not in self.shapes and len(self.shapes) >= 4096:
                self.shapes.pop(next(iter(self.shapes)))
            self.shapes[digest] = shape
        return shape

    # what the gate would serve now -----------------------------------------------------------------------
    def locate(self, tenant: str, page: str, level: int) -> tuple[Path | None, bytes]:
        """The file the gate serves for (tenant, page) to a viewer at `level` (None for a redirect) and the bytes
        it answers with (a composed level: the composition).

        The gate's own choice (web/gate.py): the highest level not above the viewer's, the access-denied page
        for a signed-in viewer below the page's level, the tenant's 404 page for unknown paths."""
        from ..web.gate import choose

        try:
            choice = choose(self.gate, tenant, page, level)
            if choice.kind == "login" or choice.file is None:
                return None, b""
            return choice.file, choice.body() or choice.file.read_bytes()
        except (ValueError, OSError):  # being rewritten or broken: the page will hear from the next batch
            return None, b""

    def verdict(self, viewer: Viewer) -> str | None:
        """The event an open page needs after the output changed: None, `css` or `reload`."""
        if viewer.tenant is None:
            return None
        file, data = self.locate(viewer.tenant, viewer.page, viewer.level)
        digest = hashlib.sha256(data).hexdigest() if file is not None else "none"
        if digest == viewer.digest:
            return None
        if file is not None and viewer.shape is not None and asset_shape(data) == viewer.shape:
            viewer.digest = digest
            self.remember(digest, data)
            return event("css", {"hrefs": stylesheets(data), "hash": digest})
        return event("reload", {})

    # batches (watcher thread) ----------------------------------------------------------------------------
    def begin(self) -> None:
        with self._lock:
            self._building = True

    def publish(self, batch: Batch) -> tuple[int, int]:
        """After a batch is published: update the overlay state and tell every open page; (reloads, swaps)."""
        with self._lock:
            self._building = False
            viewers = list(self._viewers)
        problems = batch_problems(batch, self.config.site_dir)
        messages: list[tuple[Viewer, str | None]] = []
        if problems != self.problems:
            self.problems = problems
            messages += [(v, event("problems", problems)) for v in viewers]
        reloads = swaps = 0
        for v in viewers:
            msg = self.verdict(v)
            if msg is not None:
                messages.append((v, msg))
                reloads += msg.startswith("event: reload")
                swaps += msg.startswith("event: css")
        self.last = {"causes": sorted(batch.causes), "ms": round(batch.seconds * 1000, 1), "errors": len(problems),
                     "summary": batch.result.summary if batch.result else None, "at": time.time()}
        self._send(messages)
        return reloads, swaps

    def close(self) -> None:
        """End every event stream (the server is shutting down)."""
        with self._lock:
            viewers = list(self._viewers)
        self._send([(v, None) for v in viewers])

    def _send(self, messages: list[tuple[Viewer, str | None]]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed() or not messages:
            return
        for viewer, msg in messages:
            with contextlib.suppress(RuntimeError):  # the loop closed under us: nobody is listening
                loop.call_soon_threadsafe(viewer.queue.put_nowait, msg)


# -- the rebuild loop, reporting to the hub ------------------------------------------------------------------

def _outputs(engine: Any, since: int | None = None) -> dict[tuple[str, str, int], str]:
    """html_hash per (tenant, path, level): every stored output, or those rendered at or after `since` (ms)."""
    sql = "SELECT tenant, path, level, html_hash FROM build_outputs"
    with engine.connect() as conn:
        rows = conn.execute(text(sql + (" WHERE rendered_at >= :t" if since is not None else "")), {"t": since}).all()
    return {(r[0], r[1], int(r[2])): r[3] for r in rows}


class PreviewWatcher(Watcher):
    """The `mbsite watch` loop, telling the hub when a build starts and after it is published."""

    def __init__(self, config: Config, reporter: Reporter, hub: LiveHub,
                 on_published: Callable[[Published], None] | None = None) -> None:
        super().__init__(config, reporter, on_batch=self._published)
        self.hub = hub
        self.on_published = on_published
        self._hashes: dict[tuple[str, str, int], str] | None = None
        self._since = 0

    def build_once(self, batch: Batch) -> Batch:
        self.hub.begin()
        if self._hashes is None:
            self._hashes = _outputs(self.engine)
        self._since = now_ms()
        return super().build_once(batch)

    def _published(self, batch: Batch) -> None:
        reloads, swaps = self.hub.publish(batch)  # first: open pages hear about the batch as early as possible
        if self.on_published is not None:
            self.on_published(Published(batch, self._changed(batch), reloads, swaps))

    def _changed(self, batch: Batch) -> list[tuple[str, str, int]]:
        """The variants whose bytes changed, from the stored hashes; reads only this batch's rows when it
        removed nothing (a removed route or a level that became shared needs the whole table)."""
        old = self._hashes or {}
        if batch.result is None:
            return []
        if batch.result.summary.get("removed"):
            new = _outputs(self.engine)
            self._hashes = new
            return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        fresh = _outputs(self.engine, self._since)
        changed = sorted(k for k, h in fresh.items() if old.get(k) != h)
        old.update(fresh)
        return changed


class PreviewReporter(ConsoleReporter):
    """Problems as `file:line: message` while building; the per-batch line comes from `describe`."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self._seen: set[str] = set()

    def start(self, total: int) -> None:
        self._seen.clear()
        super().start(total)

    def problem(self, problem: Problem) -> None:
        key = f"{problem.severity}:{problem}"
        if key not in self._seen:  # a broken template fails every page that uses it: say so once
            self._seen.add(key)
            super().problem(problem)

    def finish(self, summary: dict[str, Any]) -> None:
        pass


def describe(p: Published, site_dir: Path) -> str:
    """One line per rebuild for the terminal: why, what, how long."""
    b = p.batch
    why: list[str] = []
    # Editors save through temporary files (`sedX1b2`, `4913`) that are gone by now: leave those out.
    paths = [x for x in b.paths if Path(x).suffix or Path(x).exists()] or sorted(b.paths)
    if paths:
        names = sorted(relpath(x, site_dir) for x in paths)
        why.append(", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else ""))
    why += [{"data": "database change", "timer": "revalidate timer", "start": "start-up"}.get(c, c)
            for c in sorted(b.causes - {"file"})]
    if b.error is not None:
        what = f"build failed: {b.error}"
    else:
        pages = sorted({(t, path) for t, path, _ in p.changed})
        shown = ", ".join(f"{t} {path}" for t, path in pages[:4]) + (f" +{len(pages) - 4}" if len(pages) > 4 else "")
        what = f"{len(pages)} page{'s' * (len(pages) != 1)} changed ({shown})" if pages else "no page changed"
        errors = b.result.summary.get("errors", 0) if b.result else 0
        if errors:
            what += f", {errors} error{'s' * (errors != 1)}"
    told = f" · {p.reloaded} reloaded, {p.restyled} restyled" if p.reloaded or p.restyled else ""
    return f"{time.strftime('%H:%M:%S')} {' + '.join(why) or 'rebuild'} → {what} · {b.seconds * 1000:.0f} ms{told}"


# -- the script in the page -----------------------------------------------------------------------------------
LIVE_JS_URL = "/_mbsite/live.js"
LIVE_JS = r"""(() => {
const me = JSON.parse(document.currentScript.dataset.mbsite);
const q = () => new URLSearchParams({t: me.tenant || "", p: me.page, l: me.level, h: me.hash});
const stem = (u) => { const m = /\/assets\/(.*?)\.[0-9a-f]{10}((?:\.[A-Za-z0-9]+)?)$/.exec(new URL(u, location.href).pathname);
  return m ? m[1] + m[2] : null; };
function swap(hrefs) {
  const fresh = new Map(hrefs.map((h) => [stem(h), h]));
  for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
    const next = fresh.get(stem(link.href));
    if (!next || stem(link.href) === null || new URL(link.href).pathname.endsWith(next)) continue;
    const copy = link.cloneNode();
    copy.href = me.prefix + next;
    copy.onload = copy.onerror = () => link.remove();  // swap after load: no flash of unstyled content
    link.after(copy);
  }
}
function overlay(list) {
  let el = document.getElementById("mbsite-overlay");
  if (!list.length) { if (el) el.remove(); return; }
  if (!el) {
    el = document.createElement("div");
    el.id = "mbsite-overlay"; el.setAttribute("role", "alertdialog"); el.setAttribute("aria-label", "Build errors");
    el.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(24,4,4,.95);" +
      "color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2rem";
    document.body.appendChild(el);
  }
  const box = document.createElement("div");
  const h = document.createElement("h2");
  h.textContent = "mbsite: the last build has errors (the page shows the last good output)";
  h.style.cssText = "color:#ff8a80;font-size:16px;margin:0 0 1rem";
  const close = document.createElement("button");
  close.textContent = "Dismiss"; close.onclick = () => el.remove();
  box.append(h);
  for (const p of list) {
    const row = document.createElement("pre");
    row.style.cssText = "white-space:pre-wrap;margin:0 0 1rem;padding:.75rem;background:#300;border-left:4px solid #ff5252";
    const where = document.createElement("strong");
    where.className = "mbsite-where";
    where.textContent = (p.file || "") + (p.line != null ? ":" + p.line : "") + (p.column != null ? ":" + p.column : "");
    row.append(where, document.createTextNode((where.textContent ? "\n" : "") + p.message));
    box.append(row);
  }
  box.append(close);
  el.replaceChildren(box);
}
let es = null;
function connect() {
  es = new EventSource("/_mbsite/events?" + q());
  es.addEventListener("reload", () => { es.close(); location.reload(); });
  es.addEventListener("css", (e) => { const d = JSON.parse(e.data); me.hash = d.hash; swap(d.hrefs); });
  es.addEventListener("problems", (e) => overlay(JSON.parse(e.data)));
  es.onerror = () => { es.close(); setTimeout(connect, 500); };  // the server restarted: catch up on reconnect
}
window.__mbsite = me;
connect();
})();"""


def inject(data: bytes, info: dict[str, Any]) -> bytes:
    """The page with the live script before </head> (or at the end when there is no head). The script is a file
    of this origin (`LIVE_JS_URL`), so the site's Content-Security-Policy (`script-src 'self'`) allows it
    as it is: the preview sends the same policy as the deployed gate."""
    attr = html.escape(json.dumps(info, separators=(",", ":")), quote=True)
    tag = f'<script src="{LIVE_JS_URL}" data-mbsite="{attr}"></script>'.encode()
    m = _HEAD_END.search(data)
    return data[:m.start()] + tag + data[m.start():] if m else data + tag


__all__ = ["LiveHub", "Viewer", "Published", "PreviewWatcher", "PreviewReporter", "describe", "inject",
           "asset_shape", "LIVE_JS", "LIVE_JS_URL"]
