"""Benchmark of the gate: a composed signed-in page against a stored file, measured with wrk.

    python benchmarks/bench_gate.py [--duration 5] [--connections 16]

Builds the demo site in a temp folder, starts the gate function (uvicorn, one process), signs in as the demo
admin (level 3) through the auth function, and measures, with the same session:
  * a page the gate serves from its own level-3 file (`/acme/admin`: its base level is 3), and
  * a page the gate composes for level 3 (`/acme/about`: the public file with the level-3 chrome fragment),
and, for reference, the public file of `/acme/about` without a session. Each URL is checked once first (status
and whether it was composed). Prints req/s and latency percentiles (wrk's histogram), and the composed/file ratio.
Needs `wrk` (Debian: apt-get install wrk).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import DONE_LUA, free_port, wait_up, wrk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AUTH_LUA = 'wrk.headers["Authorization"] = "Bearer %s"\n'


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="mbsite-gate-"))
    shutil.copytree(ROOT / "content", folder / "content")
    (folder / "mbsite.toml").write_text('[functions]\nrate_limits = { read = "100000000/minute", '
                                        'login = "100000000/minute" }\n')
    subprocess.run([sys.executable, "-m", "mbsite.cli", "build", "--site", str(folder)], check=True,
                   capture_output=True)
    env = {**os.environ, "MBSITE_SITE": str(folder), "PYTHONPATH": str(ROOT)}
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
    port, auth_port = free_port(), free_port()
    gate = subprocess.Popen([*uvicorn, "functions.gate:app", "--port", str(port)], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/acme/about")
        auth = subprocess.Popen([*uvicorn, "functions.auth:app", "--port", str(auth_port)], cwd=ROOT, env=env)
        try:
            wait_up(f"http://127.0.0.1:{auth_port}/api/auth/me")
            r = httpx.post(f"http://127.0.0.1:{auth_port}/api/auth/login?token=1",
                           json={"tenant": "acme", "username": "admin", "password": "mbsite-demo"})
            r.raise_for_status()
            token = r.json()["token"]
        finally:
            auth.terminate()
            auth.wait(timeout=10)
        routes = json.loads((folder / "build" / "acme" / "routes.json").read_text())["pages"]
        assert "3" in routes["/about"]["composed"]["keys"], "the level-3 /about is not composed"
        assert 3 in routes["/admin"]["variants"], "/admin has no level-3 file"
        cases = [("level 3, stored file (/admin)", "/acme/admin", True),
                 ("level 3, composed (/about)", "/acme/about", True),
                 ("public file (/about), no session", "/acme/about", False)]
        print(f"duration={args.duration}s connections={args.connections}, one gate process")
        print(f"{'case':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        results = {}
        for name, path, signed in cases:
            headers = {"Authorization": f"Bearer {token}"} if signed else {}
            check = httpx.get(base + path, headers=headers)
            if check.status_code != 200 or "<html" not in check.text:
                sys.exit(f"{name}: {check.status_code}")
            script = folder / "case.lua"
            script.write_text((AUTH_LUA % token if signed else "") + DONE_LUA)
            wrk(base + path, 2, args.connections, script)  # warm-up
            r = results[name] = wrk(base + path, args.duration, args.connections, script)
            print(f"{name:36} {r['rps']:8.0f} {r.get('p50', 0):8.2f} {r.get('p99', 0):8.2f} {r['errors']:8.0f}")
        file_rps = results[cases[0][0]]["rps"]
        composed_rps = results[cases[1][0]]["rps"]
        print(f"composed / stored file: {composed_rps / file_rps:.2f}")
    finally:
        gate.terminate()
        gate.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
