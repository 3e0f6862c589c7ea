"""Benchmark: one change, before and after: builds of one site by two checkouts of mbsite, taking turns.

    python benchmarks/bench_ab.py --base OLD_CHECKOUT [--new NEW_CHECKOUT] --site SITE [--runs 7]
                                  [--mode full|noop] [--work DIR]

OLD_CHECKOUT and NEW_CHECKOUT are folders holding the `mbsite` package (for instance `git worktree add
../before HEAD~1`); NEW_CHECKOUT defaults to the checkout this script is in. Each checkout builds the site
with the interpreter running this script and PYTHONPATH pointing at it:
  * full: `mbsite build --full` into a new output folder every run (nothing deleted while timing; see
    bench_build.py for why that matters on this machine's disk);
  * noop: one full build into a folder of its own, then `mbsite build` runs that find nothing changed (each
    checkout keeps its own copy of the site, so their databases do not mix).
One untimed run each first; then the timed runs alternate (old, new, old, new…), so that a machine whose speed
drifts touches both alike. Prints each side's median and runs, the change of the median, and the same for the CPU
time (user + system) of each build's process tree, which drifts less on a shared machine.
Generate a site with `python benchmarks/gensite.py markdown DIR -n 4000`.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build_cmd(site: Path, out: Path, full: bool) -> list[str]:
    return [sys.executable, "-m", "mbsite.cli", "build", "--json", "--site", str(site), "--out", str(out)] + (
        ["--full"] if full else [])


def timed(cmd: list[str], checkout: Path) -> tuple[float, float]:
    """Wall seconds of one build, and the CPU seconds (user + system) of its process tree: on a machine whose
    speed drifts (a virtual machine's neighbours), the CPU time of equal work moves less than the wall time."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with {checkout}:\n{proc.stderr.decode()[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout with the code before the change")
    ap.add_argument("--new", type=Path, default=HERE.parent, help="checkout with the change (default: this one)")
    ap.add_argument("--site", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--mode", choices=("full", "noop"), default="full")
    ap.add_argument("--work", type=Path, default=None, help="folder for outputs and site copies (default: temp)")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="mbsite-ab-"))
    work.mkdir(parents=True, exist_ok=True)
    sides = {"old": args.base.resolve(), "new": args.new.resolve()}
    for checkout in sides.values():
        if not (checkout / "mbsite" / "__init__.py").is_file():
            raise SystemExit(f"{checkout}: no mbsite package there")
        # Bytecode first, as an installed package has it (see bench_build.py).
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "mbsite")], check=True)
    sites = {}
    for name in sides:  # each side its own copy of the site: its own database and graph
        copy = work / f"site-{name}"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(args.site, copy, ignore=shutil.ignore_patterns(".mbsite", "build", "hugo"))
        sites[name] = copy
    counter = 0

    def out_for(name: str) -> Path:
        nonlocal counter
        if args.mode == "noop":
            return work / f"out-{name}"
        counter += 1
        return work / "outputs" / f"{name}-{os.getpid()}-{counter}"

    for name, checkout in sides.items():  # untimed: creates the database; for noop, the output to keep
        timed(build_cmd(sites[name], out_for(name), full=True), checkout)
        if args.mode == "noop":
            timed(build_cmd(sites[name], out_for(name), full=False), checkout)
    runs: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.runs):
        for name, checkout in sides.items():
            wall, used = timed(build_cmd(sites[name], out_for(name), full=args.mode == "full"), checkout)
            runs[name].append(wall)
            cpu[name].append(used)
    print(f"site {args.site} ({args.mode}), {args.runs} alternating runs each")
    for name in sides:
        print(f"  {name} ({sides[name]}): median {statistics.median(runs[name]):.3f} s; runs "
              + ", ".join(f"{t:.2f}" for t in runs[name])
              + f"; CPU median {statistics.median(cpu[name]):.2f} s")
    old, new = statistics.median(runs["old"]), statistics.median(runs["new"])
    print(f"  change of the median: {old:.3f} s → {new:.3f} s ({(new - old) / old * 100:+.1f}%)")
    old_cpu, new_cpu = statistics.median(cpu["old"]), statistics.median(cpu["new"])
    print(f"  change of the CPU time: {old_cpu:.2f} s → {new_cpu:.2f} s ({(new_cpu - old_cpu) / old_cpu * 100:+.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
