"""Builds on a real Dask cluster (a scheduler and two workers, separate processes on 127.0.0.1): the same bytes and
the same graph as a local build, full and incremental; a worker killed mid-build; an unreachable scheduler."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed", reason="the cluster extra is not installed (pip install 'mbsite[cluster]')")

from support import output_tree as tree

from mbsite.builder import Builder  # noqa: E402
from mbsite.cli import main  # noqa: E402
from mbsite.cluster import Cluster, pack_sources  # noqa: E402
from mbsite.config import load_config  # noqa: E402
from mbsite.reporter import BufferReporter  # noqa: E402
from mbsite.site import open_site_db  # noqa: E402
from mbsite.writer import MARKER  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# -- a real cluster: one scheduler and two workers, each its own process group ---------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_alive(pgid: int) -> bool:
    """Whether any process of the process group is left (zombies aside: they are reaped by wait)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive(proc.pid):  # (a child that ignored SIGTERM)
        os.killpg(proc.pid, signal.SIGKILL)


class LocalCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, as an operator would start them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--no-dashboard"])
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started: list[subprocess.Popen[bytes]] = [self.scheduler]

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")
        try:
            return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()

    def add_worker(self) -> subprocess.Popen[bytes]:
        n = len(self.started)
        # One thread (rendering holds the interpreter lock) and no nanny: killing the worker kills the worker,
        # not a process that a nanny would restart. --death-timeout: a worker whose scheduler is gone exits.
        proc = self._spawn(f"worker{n}", ["worker", self.address, "--nthreads", "1", "--no-nanny",
                                          "--no-dashboard", "--name", f"w{n}", "--death-timeout", "20",
                                          "--local-directory", str(self.tmp / f"w{n}")])
        self.workers.append(proc)
        self.started.append(proc)
        return proc

    def wait_for(self, n: int) -> list[str]:
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)
            return sorted(client.scheduler_info(n_workers=-1)["workers"])

    def close(self) -> None:
        for proc in reversed(self.started):
            stop(proc)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("dask"))
    try:
        local.add_worker()
        local.add_worker()
        local.wait_for(2)
        yield local
    finally:
        local.close()
        left = [p.pid for p in local.started if group_alive(p.pid)]
        assert not left, f"processes left behind: {left}"


# -- helpers ---------------------------------------------------------------------------------------------------

def demo_site(root: Path) -> Path:
    shutil.copytree(REPO / "content", root / "content")
    return root


def twin(site: Path, name: str) -> Path:
    """A copy of the site with the same database (seeded once, so rows carry the same times in both)."""
    engine, _ = open_site_db(load_config(site))
    engine.dispose()
    return Path(shutil.copytree(site, site.parent / name))


def component_site(root: Path, tenants: int, pages: int) -> Path:
    spec = importlib.util.spec_from_file_location("gensite", REPO / "benchmarks" / "gensite.py")
    assert spec is not None and spec.loader is not None
    gensite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gensite)
    gensite.component_site(root, tenants, pages)
    return root




def graph(site: Path) -> list[tuple[Any, ...]]:
    """The stored dependency graph, without the times of rendering (digests compared as mappings: a forked
    build warms the records before rendering, so it meets its inputs in another order)."""
    con = sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3")
    try:
        rows = con.execute("SELECT tenant, path, level, file, html_hash, inputs, digests, reason "
                           "FROM build_outputs ORDER BY tenant, path, level").fetchall()
    finally:
        con.close()
    return [(*row[:6], json.loads(row[6]), row[7]) for row in rows]


def build(site: Path, cluster: Cluster | None = None, reporter: BufferReporter | None = None,
          **options: Any) -> dict[str, Any]:
    config = load_config(site).with_options(workers=2, **options)
    builder = Builder(config, reporter or BufferReporter(), cluster=cluster)
    try:
        result = builder.run()
    finally:
        builder.close()
    assert result.ok, [str(p) for p in result.problems if p.severity == "error"]
    return result.summary


def same_output(a: Path, b: Path) -> None:
    ta, tb = tree(a / "build"), tree(b / "build")
    assert sorted(ta) == sorted(tb)
    assert [k for k in ta if ta[k] != tb[k]] == []
    assert graph(a) == graph(b)


def edit_everywhere(*sites: Path) -> None:
    """One edit of each kind to every copy: a new page (navigation of every page), a page's text, a data row."""
    for site in sites:
        (site / "content" / "pages" / "cluster-news.md").write_text(
            "---\ntitle: Cluster news\ntenants: [acme]\n---\n\nRendered wherever there is room.\n")
        about = site / "content" / "pages" / "about.md"
        about.write_text(about.read_text() + "\n\nEdited for the incremental build.\n")
        con = sqlite3.connect(site / ".mbsite" / "mbsite.sqlite3")
        con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Renamed On Both') "
                    "WHERE tenant = 'acme' AND package = 'shop' AND id = (SELECT id FROM entity_records "
                    "WHERE tenant = 'acme' AND package = 'shop' ORDER BY id LIMIT 1)")
        con.commit()
        con.close()


# -- the tests -------------------------------------------------------------------------------------------------

def test_demo_on_the_cluster_equals_a_local_build_full_and_incremental(cluster: LocalCluster,
                                                                         tmp_path: Path) -> None:
    on = demo_site(tmp_path / "cluster")
    off = twin(on, "local")
    dask = Cluster(cluster.address)
    dask.connect()
    try:
        summary = build(on, dask)
        build(off)
        same_output(on, off)
        used = summary["cluster"]["workers"]
        assert sum(used.values()) == summary["cluster"]["chunks"] > 1
        assert set(used) <= set(cluster.wait_for(2))

        edit_everywhere(on, off)
        summary = build(on, dask)
        local = build(off)
        assert summary["rendered"] == local["rendered"] > 0 and "cluster" in summary, (summary["reasons"], local["reasons"])
        assert summary["reasons"] == local["reasons"]
        same_output(on, off)
    finally:
        dask.close()


def test_a_worker_killed_mid_build_is_replaced_and_the_output_equals_a_local_build(cluster: LocalCluster,
                                                                                   tmp_path: Path) -> None:
    on = component_site(tmp_path / "cluster", tenants=4, pages=420)  # 1,700 pages: 10,000 page-level outputs
    off = twin(on, "local")
    victim = cluster.workers[0]

    class KillAfterFirstChunk(BufferReporter):
        def advance(self, n: int = 1) -> None:
            super().advance(n)
            if victim.poll() is None:  # both workers are busy with their next chunks: kill one of them
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait(timeout=10)

    dask = Cluster(cluster.address)
    dask.connect()
    try:
        reporter = KillAfterFirstChunk()
        summary = build(on, dask, reporter)
        assert victim.returncode == -signal.SIGKILL and not group_alive(victim.pid)
        assert reporter.done == reporter.total == summary["rendered"] >= 1680
        figures = summary["cluster"]
        assert len(figures["workers_lost"]) == 1 and figures["recomputed"] >= 1
        assert sum(figures["workers"].values()) == figures["chunks"]
        build(off)
        same_output(on, off)
    finally:
        dask.close()
        cluster.workers.remove(victim)
        cluster.add_worker()  # (the module's cluster has two workers again)
    cluster.wait_for(2)


def test_an_unreachable_scheduler_is_an_error_and_nothing_is_published(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    site = demo_site(tmp_path / "site")
    build(site)
    before = tree(site / "build")
    marker = (site / "build" / MARKER).read_text()
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: Not published\n---\n\nNo.\n")
    monkeypatch.setenv("MBSITE_CLUSTER", f"tcp://127.0.0.1:{free_port()}")  # nothing listens there
    result = CliRunner().invoke(main, ["build", "--site", str(site), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["errors"] == 1 and "cannot reach the Dask scheduler" in summary["problems"][0]["message"]
    assert tree(site / "build") == before and (site / "build" / MARKER).read_text() == marker


def test_config_key_and_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "mbsite.toml").write_text('[build]\ncluster = "tcp://scheduler.internal:8786"\n')
    assert load_config(site).cluster == "tcp://scheduler.internal:8786"
    monkeypatch.setenv("MBSITE_CLUSTER", "tcp://other:8786")
    assert load_config(site).cluster == "tcp://other:8786"


def test_sources_archive_is_the_same_bytes_for_the_same_sources(tmp_path: Path) -> None:
    site = demo_site(tmp_path / "site")
    (site / "build").mkdir()
    (site / "build" / "stale.html").write_text("not a source")
    first = pack_sources(load_config(site))
    os.utime(site / "content", None)  # (a folder's time is not a source)
    assert pack_sources(load_config(site)) == first
    (site / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\n\nChanged.\n")
    assert pack_sources(load_config(site)) != first


def test_the_local_build_does_not_import_dask(tmp_path: Path) -> None:
    site = demo_site(tmp_path / "site")
    code = ("import sys\nfrom mbsite.cli import main\n"
            "try:\n    main(['build', '--site', sys.argv[1]], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n")
    done = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert (site / "build" / "acme").is_dir()


def test_the_watch_renders_here_while_the_scheduler_is_unreachable() -> None:
    said: list[str] = []
    dask = Cluster(f"tcp://127.0.0.1:{free_port()}", min_routes=2, fallback=True, notify=said.append)
    assert not dask.takes([object()])  # a small batch never goes out
    assert said == []
    assert not dask.takes([object()] * 3)  # type: ignore[list-item]
    assert "cannot reach the Dask scheduler" in said[0] and "rendering 3 pages here" in said[0]
    assert dask.last is None
