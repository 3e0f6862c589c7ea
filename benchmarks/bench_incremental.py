"""Incremental regeneration benchmarks: watch latency for one row change, no-op build, 1k vs 10k outputs;
a template edit re-rendering every page of a Markdown site.

    python benchmarks/bench_incremental.py [--rounds 30] [--workdir DIR] [--markdown-pages 4000] [--only rows|template]

Sites: T tenants × P component pages (page-config rows), each page listing the entity records whose `page`
field is its number, rendered at every level 0..5 (the header shows who is signed in, so the six variants
differ): 1 × 170 × 6 ≈ 1,000 outputs and 4 × 420 × 6 ≈ 10,000 outputs.

Template edit: N generated Markdown pages (benchmarks/gensite.py), two copies of the site, each with a
long-lived builder as `mbsite watch` keeps it — one keeping the Markdown bodies it rendered (as watch does),
one not — after a full build, edits of the site's copy of base.html built in turns, five each.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from mbsite.builder import Builder
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.watch import Watcher


def make_site(root: Path, tenants: int, pages: int) -> Path:
    if root.exists():
        shutil.rmtree(root)
    seed = root / "content" / "seed"
    seed.mkdir(parents=True)
    docs = [
        {"entity": "Tenant", "records": [{"slug": f"t{t}", "name": f"Tenant {t}"} for t in range(tenants)]},
        {"entity": "InstalledPackage", "records": [
            {"tenant": f"t{t}", "package": p, "sortOrder": i} for t in range(tenants)
            for i, p in enumerate(("mb_header", "mb_footer", "mb_nav", "mb_data_table"))]},
        {"entity": "PageConfig", "records": [
            {"tenant": f"t{t}", "path": f"/p/{p}", "title": f"Page {p}", "packageId": "mb_data_table",
             "component": "data_table",
             "params": {"nav": False,
                        "data": {"items": {"package": "bench", "entity": "item", "filter": {"page": p}}},
                        "props": {"title": f"Items of page {p}", "rows": "{{records.items}}",
                                  "columns": [{"field": "name", "label": "Name"},
                                              {"field": "price", "label": "Price"}]}}}
            for t in range(tenants) for p in range(pages)]},
        {"entity": "Record", "records": [
            {"tenant": f"t{t}", "package": "bench", "entity": "item", "id": f"t{t}-i{p}-{k}",
             "data": {"name": f"Item {p}.{k}", "price": p * 3 + k, "page": p}}
            for t in range(tenants) for p in range(pages) for k in range(2)]},
    ]
    (seed / "site.yaml").write_text("\n---\n".join(json.dumps(d) for d in docs))
    (root / "mbsite.toml").write_text("[build]\nhighlight = false\n")
    return root


def _wait_for(path: Path, marker: bytes, timeout: float = 10.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            if marker in path.read_bytes():
                return time.perf_counter()
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    raise TimeoutError(f"{path} never showed {marker!r}")


def watch_latency(site: Path, rounds: int, pages: int) -> list[float]:
    """Commit a row change with sqlite3, wait until `mbsite watch` (in-process) published the page."""
    config = load_config(site)
    watcher = Watcher(config, BufferReporter())
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    time.sleep(1.5)  # initial (no-op) build and listeners up
    db = sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3")
    out = []
    try:
        for i in range(rounds):
            page = (i * 37) % pages
            marker = f"Renamed-{i}-{time.time_ns()}"
            db.execute("UPDATE entity_records SET data = json_set(data, '$.name', ?) WHERE tenant = 't0' AND id = ?",
                       (marker, f"t0-i{page}-0"))
            start = time.perf_counter()
            db.commit()
            end = _wait_for(site / "build" / "t0" / "public" / "p" / str(page) / "index.html", marker.encode())
            out.append((end - start) * 1000)
            time.sleep(0.05)
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
        db.close()
    return out


def cli(site: Path, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mbsite.cli", "build", "--site", str(site), "--json", *args],
                          capture_output=True, text=True, check=True)
    return (time.perf_counter() - start) * 1000, json.loads(proc.stdout.strip().splitlines()[-1])


def one_edit(site: Path, page: int) -> tuple[dict, dict]:
    """The same row edit built by a fresh `mbsite build` (cold) and by a long-lived Builder (warm)."""
    builder = Builder(load_config(site))
    builder.run()
    db = sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3")
    db.execute("UPDATE entity_records SET data = json_set(data, '$.price', 999) WHERE tenant='t0' AND id = ?",
               (f"t0-i{page}-1",))
    db.commit()
    warm = builder.run(paths=set()).summary
    db.execute("UPDATE entity_records SET data = json_set(data, '$.price', 998) WHERE tenant='t0' AND id = ?",
               (f"t0-i{page}-1",))
    db.commit()
    db.close()
    _ms, cold = cli(site)
    return warm, cold


def template_edits(work: Path, pages: int, rounds: int = 5) -> dict[bool, list[float]]:
    """Seconds per template edit, every page re-rendered, by a builder keeping bodies (True) or not (False)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gensite

    from mbsite.config import builtin_root

    builders, templates = {}, {}
    for keep in (False, True):
        site = work / f"md-{pages}-{'keep' if keep else 'plain'}"
        gensite.markdown_site(site, pages, hugo=False)
        folder = site / "themes" / "default" / "templates"
        folder.mkdir(parents=True)
        shutil.copy(builtin_root() / "themes" / "default" / "templates" / "base.html", folder / "base.html")
        templates[keep] = folder / "base.html"
        builders[keep] = Builder(load_config(site), BufferReporter(), keep_bodies=keep)
        assert builders[keep].run().ok
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(rounds):
        for keep in (False, True):
            tpl = templates[keep]
            tpl.write_text(tpl.read_text() + f"\n{{# edit {i} #}}\n")
            started = time.perf_counter()
            result = builders[keep].run({str(tpl)})
            times[keep].append(time.perf_counter() - started)
            assert result.ok and result.summary["rendered"] == pages, result.summary
    for b in builders.values():
        b.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--markdown-pages", type=int, default=4000)
    ap.add_argument("--only", choices=("rows", "template"), default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mbsite-bench-"))
    if args.only != "rows":
        times = template_edits(work, args.markdown_pages)
        for keep in (False, True):
            runs = ", ".join(f"{t:.2f}" for t in times[keep])
            print(f"template edit, {args.markdown_pages} Markdown pages re-rendered, "
                  f"{'bodies kept (watch)' if keep else 'bodies not kept'}: median "
                  f"{statistics.median(times[keep]):.2f} s (runs {runs})")
        if args.only == "template":
            return
    rows = []
    for label, tenants, pages in (("1k", 1, 170), ("10k", 4, 420)):
        site = make_site(work / f"site-{label}", tenants, pages)
        full_ms, full = cli(site, "--full")
        noop = sorted(cli(site)[0] for _ in range(5))
        warm, cold = one_edit(site, 7)
        lat = watch_latency(site, args.rounds, pages)
        rows.append((label, full["variants_written"], full_ms, statistics.median(noop), warm, cold,
                     statistics.median(lat), sorted(lat)[int(len(lat) * 0.95) - 1]))
    print(f"{'site':>5} {'outputs':>8} {'full build':>11} {'no-op build':>12} {'edit: warm':>22} "
          f"{'edit: cold (CLI)':>24} {'watch p50':>10} {'watch p95':>10}")
    for label, outputs, full_ms, noop_ms, warm, cold, p50, p95 in rows:
        print(f"{label:>5} {outputs:>8} {full_ms / 1000:>10.2f}s {noop_ms:>10.0f}ms "
              f"{warm['rendered']:>4} pages {warm['seconds'] * 1000:>7.0f}ms "
              f"{cold['rendered']:>4} pages {cold['seconds'] * 1000:>9.0f}ms {p50:>8.0f}ms {p95:>8.0f}ms")
    print(f"(cpu count {os.cpu_count()}; watch latency over {args.rounds} row changes, commit → file published)")


if __name__ == "__main__":
    main()
