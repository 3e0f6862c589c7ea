"""Benchmark: the render time of each route of a site, one route at a time in this process — the slowest routes and
the total by kind. Every Markdown body is rendered first (as a full build's helpers do), so the times are those of
the workers: the layout, the composition of the levels, the file and the row.

    python benchmarks/route_times.py --site SITE [--top 12] [--rounds 1]

The files go to a temporary folder that is deleted at the end; the site's output folder is not touched.
"""
from __future__ import annotations

import argparse
import collections
import gc
import shutil
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, required=True)
    ap.add_argument("--top", type=int, default=12, help="how many of the slowest routes to list")
    ap.add_argument("--rounds", type=int, default=1, help="render every route this many times; the fastest counts")
    args = ap.parse_args()

    from mbsite.builder import render_route
    from mbsite.config import load_config
    from mbsite.markdown import render_markdown
    from mbsite.prerender import body_key
    from mbsite.site import load_model, open_site_db

    work = Path(tempfile.mkdtemp(prefix="mbsite-route-times-"))
    try:
        config = load_config(args.site).with_options(out_dir=work / "out")
        engine, _ = open_site_db(config)
        model = load_model(config, engine, [])
        routes = [r for table in model.tables.values() for r in table.routes.values()]
        bodies = {}
        for route in routes:
            md = route.markdown
            if md is not None:
                bodies[body_key(md.relpath, md.digest, md.body_line, config)] = render_markdown(
                    md.body, highlight_code=config.highlight, line_offset=md.body_line - 1,
                    engine=config.markdown_engine)
        model.bodies.use(bodies)
        for route in routes[:50]:  # (templates compiled, chrome and fragments made)
            render_route(model, route, str(work / "warm"), False)
        gc.disable()
        best: dict[tuple[str, str], float] = {}
        for n in range(args.rounds):
            for route in routes:
                started = time.perf_counter()
                render_route(model, route, str(work / f"round-{n}"), False)
                took = time.perf_counter() - started
                key = (route.tenant, route.path)
                best[key] = min(took, best.get(key, took))
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    kinds: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    by_key = {(r.tenant, r.path): r for r in routes}
    for key, took in best.items():
        kinds[by_key[key].kind] += took
        count[by_key[key].kind] += 1
    print(f"{len(routes)} routes, {sum(best.values()):.3f} s in all")
    print("| route | kind | ms |")
    print("|---|---|---|")
    for key, took in sorted(best.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"| {key[0]} {key[1]} | {by_key[key].kind} | {took * 1000:.2f} |")
    print()
    print("| kind | routes | s in all | ms per route |")
    print("|---|---|---|---|")
    for kind, total in kinds.most_common():
        print(f"| {kind} | {count[kind]} | {total:.3f} | {total / count[kind] * 1000:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
