"""Benchmark: render every upstream component in one process; report ms per node and per component.

    python benchmarks/bench_components.py [--packages DIR] [--rounds N]

The first round includes compiling each component (parse + expression compile); later rounds use
the cached compiled form, which is what a build that renders many pages sees.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mbsite.components import ComponentRenderer  # noqa: E402
from mbsite.context import PageScope  # noqa: E402
from mbsite.packages import load_packages  # noqa: E402


def main() -> int:
    default = Path(os.environ.get("MBSITE_UPSTREAM") or REPO.parent / "shared" / "upstream") / "packages"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=Path, default=default)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not args.packages.is_dir():
        print(f"no packages at {args.packages}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    packages = load_packages([args.packages])
    load_ms = (time.perf_counter() - t0) * 1000
    renderer = ComponentRenderer(packages)
    scope = PageScope(level=5, role="supergod")
    targets = [(p.id, c.id) for p in packages.ordered() for c in p.components]

    rounds: list[tuple[float, int]] = []
    for _ in range(max(1, args.rounds)):
        nodes = 0
        start = time.perf_counter()
        for pkg, comp in targets:
            nodes += renderer.render_component(pkg, comp, None, scope=scope).nodes
        rounds.append(((time.perf_counter() - start) * 1000, nodes))

    cold_ms, nodes = rounds[0]
    warm = [ms for ms, _ in rounds[1:]] or [cold_ms]
    warm_ms = statistics.median(warm)
    print(f"packages: {len(packages)}  components: {len(targets)}  nodes per round: {nodes}  (load {load_ms:.0f} ms)")
    print(f"cold (compile + render): {cold_ms:8.1f} ms  {cold_ms / nodes:.4f} ms/node  "
          f"{cold_ms / len(targets):.3f} ms/component")
    print(f"warm (cached, median of {len(warm)}): {warm_ms:8.1f} ms  {warm_ms / nodes:.4f} ms/node  "
          f"{warm_ms / len(targets):.3f} ms/component")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
