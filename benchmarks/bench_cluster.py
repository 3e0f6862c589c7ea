"""Local build vs the same build on a Dask cluster (a scheduler and two workers started here, on 127.0.0.1).

For the 10k-output component site and the 4,000-post blog: full builds, each into a new folder, alternating local
and cluster runs; reports the medians, the cluster's overhead per written output, and checks that both wrote the
same bytes. On one machine the workers share its cores with each other and with the coordinator, so this
measures what the cluster costs, not what it gains (see docs/performance.md).

    python benchmarks/bench_cluster.py --work /some/new/folder [--reps 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gensite  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def build(site: Path, out: Path, cluster: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-c", "from mbsite.cli import run; run()", "build", "--full", "--json",
           "--site", str(site), "--out", str(out), "--workers", "2"]
    if cluster:
        cmd += ["--cluster", cluster]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr[-2000:]}")
    summary = json.loads(done.stdout.splitlines()[-1])
    summary["wall"] = wall
    return summary


def same_tree(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and p.name != ".mbsite-build"}
    return files(a) == files(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="a new folder for the sites and outputs")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    sites = {"components 4x420": work / "comp", "blog 4000": work / "md4k"}
    if not (sites["components 4x420"] / "content").is_dir():
        gensite.component_site(sites["components 4x420"], 4, 420)
    if not (sites["blog 4000"] / "content").is_dir():
        gensite.markdown_site(sites["blog 4000"], 4000, hugo=False)

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], work / "scheduler.log")]
    time.sleep(2)
    for i in range(2):
        procs.append(spawn(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}",
                            "--local-directory", str(work / f"w{i}")], work / f"worker{i}.log"))
    results: dict[str, Any] = {}
    try:
        time.sleep(4)
        run = 0
        for name, site in sites.items():
            build(site, work / "out" / f"warmup-{name.split()[0]}", None)  # seeds the database
            rows: dict[str, list[dict[str, Any]]] = {"local": [], "cluster": []}
            for _ in range(args.reps):
                for mode in ("local", "cluster"):
                    run += 1
                    out = work / "out" / f"{run}-{mode}"
                    rows[mode].append(build(site, out, address if mode == "cluster" else None))
                    rows[mode][-1]["out"] = str(out)
            local = statistics.median(r["wall"] for r in rows["local"])
            dist = statistics.median(r["wall"] for r in rows["cluster"])
            outputs = rows["local"][0]["variants_written"]
            figures = rows["cluster"][-1]["cluster"]
            results[name] = {
                "pages": rows["local"][0]["pages"], "outputs": outputs,
                "local_s": round(local, 2), "cluster_s": round(dist, 2),
                "local_runs": [round(r["wall"], 2) for r in rows["local"]],
                "cluster_runs": [round(r["wall"], 2) for r in rows["cluster"]],
                "cluster_render_s": figures["seconds"], "worker_busy_s": figures["worker_seconds"],
                "serial_s": round(rows["cluster"][-1]["wall"] - figures["seconds"], 2), "chunks": figures["chunks"],
                "chunk_size": figures["chunk_size"], "sources_bytes": figures["sources_bytes"],
                "overhead_ms_per_output": round((dist - local) * 1000 / outputs, 3),
                "same_bytes": same_tree(Path(rows["local"][-1]["out"]), Path(rows["cluster"][-1]["out"])),
            }
            print(json.dumps({name: results[name]}), flush=True)
    finally:
        for proc in reversed(procs):
            stop(proc)
    print("\n| site | pages | outputs | local s | cluster s (2 workers) | overhead per output | same bytes |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['pages']} | {r['outputs']} | {r['local_s']} | {r['cluster_s']} | "
              f"{r['overhead_ms_per_output']:+.3f} ms | {r['same_bytes']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
