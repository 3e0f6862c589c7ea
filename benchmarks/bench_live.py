"""Live-preview latency: a saved file or a changed row → the open browser tab shows it.

Runs `mbsite serve` (a subprocess) on a temporary copy of the demo site and drives headless Chromium with
playwright. The clock starts just before the write and stops at the DOMContentLoaded of the reloaded page
(for the stylesheet: the first animation frame with the new style applied), both read as wall-clock time on
this machine.

    python benchmarks/bench_live.py [--runs 20] [--chromium /usr/bin/chromium]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOADED_AT = ("() => { const n = performance.getEntriesByType('navigation')[0];"
             " return [performance.timeOrigin, performance.timeOrigin + n.domContentLoadedEventEnd]; }")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(site: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "mbsite.cli", "serve", "--site", str(site), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("mbsite serve did not come up")


def last_batch(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/_mbsite/status", timeout=5) as r:
        return json.loads(r.read())["last"]  # type: ignore[no-any-return]


def measure(page: Any, base: str, change: Callable[[int], str], runs: int, settle: float) -> list[tuple[float, ...]]:
    """(total, build, published, reload started) ms from `change(i)` (returning text the page must then show) to
    the reloaded page's DOMContentLoaded; `published` is when the server told the open pages, `reload started` the
    new document's time origin."""
    out: list[tuple[float, ...]] = []
    for i in range(runs + 1):
        time.sleep(settle)
        t0 = time.time() * 1000
        expected = change(i)
        page.get_by_text(expected).first.wait_for(timeout=20_000)
        origin, loaded = page.evaluate(LOADED_AT)
        last = last_batch(base)
        if i:  # the first run warms caches
            out.append((loaded - t0, last["ms"], last["at"] * 1000 - t0, origin - t0))
    return out


def summary(name: str, runs: list[tuple[float, ...]]) -> str:
    values = [r[0] for r in runs]
    q = statistics.quantiles(values, n=10) if len(values) >= 2 else values * 9
    parts = [f"| {name} | {len(values)} | {statistics.median(values):.0f} | {q[8]:.0f} | {max(values):.0f}"]
    for col in (1, 2, 3):
        parts.append(f"{statistics.median(r[col] for r in runs):.0f}" if len(runs[0]) > col else "–")
    return " | ".join(parts) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--css-runs", type=int, default=5)
    ap.add_argument("--chromium", default=os.environ.get("MBSITE_TEST_CHROMIUM") or shutil.which("chromium")
                    or "/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="mbsite-bench-live-"))
    site = tmp / "site"
    shutil.copytree(REPO / "content", site / "content")
    static = site / "themes" / "default" / "static"
    static.mkdir(parents=True)
    shutil.copy(REPO / "themes" / "default" / "static" / "style.css", static / "style.css")
    port = free_port()
    proc = start_server(site, port)
    base = f"http://127.0.0.1:{port}"
    rows: list[str] = []
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(str(tmp / "profile"), executable_path=args.chromium,
                                                        headless=True, args=ARGS)
            page = ctx.new_page()

            md = site / "content" / "pages" / "about.md"
            original = md.read_text()
            page.goto(f"{base}/acme/about")

            def edit_markdown(i: int) -> str:
                token = f"Benchmark paragraph {i} {time.time_ns()}"
                md.write_text(original + f"\n{token}\n")
                return token

            rows.append(summary("Markdown file saved → page reloaded", measure(page, base, edit_markdown, args.runs, 0.3)))

            page.goto(f"{base}/acme/products")
            db = site / ".mbsite" / "mbsite.sqlite3"

            def edit_row(i: int) -> str:
                name = f"Rocket Skates {i}-{time.time_ns() % 100000}"
                with sqlite3.connect(db) as con:
                    con.execute("UPDATE entity_records SET data = json_set(data, '$.name', ?) WHERE id = 'rocket-skates'",
                                (name,))
                return name

            rows.append(summary("Row updated with SQL → page reloaded", measure(page, base, edit_row, args.runs, 0.3)))

            css = static / "style.css"
            base_css = css.read_text()
            page.goto(f"{base}/acme/about")
            swaps: list[tuple[float, ...]] = []
            for i in range(args.css_runs):
                time.sleep(0.5)
                color = f"rgb(1, 2, {i + 10})"
                t0 = time.time() * 1000
                css.write_text(base_css + f"\nbody {{ background-color: {color} !important; }}\n")
                page.wait_for_function(f"() => getComputedStyle(document.body).backgroundColor === '{color}'",
                                       timeout=30_000, polling="raf")
                done = page.evaluate("() => Date.now()")
                last = last_batch(base)
                swaps.append((done - t0, last["ms"], last["at"] * 1000 - t0))
            rows.append(summary("Stylesheet saved → new style applied (no reload)", swaps))
            ctx.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print("| change | runs | p50 ms | p90 ms | max ms | build p50 | published p50 | reload started p50 |\n"
          "|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
