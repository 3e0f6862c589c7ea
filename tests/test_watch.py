"""The rebuild loop: files and change-feed rows wake it, batches publish, signals stop it; revalidation; why."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from support import output_tree

from mbsite.builder import Builder
from mbsite.cli import main
from mbsite.config import load_config
from mbsite.reporter import BufferReporter
from mbsite.watch import Batch, Watcher

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(REPO / "content", root / "content")
    assert Builder(load_config(root)).run().ok
    return root


def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@contextmanager
def watching(site: Path) -> Iterator[list[Batch]]:
    """A watcher running in a thread for the duration of the block; yields the batches it publishes."""
    batches: list[Batch] = []
    watcher = Watcher(load_config(site), BufferReporter(), on_batch=batches.append)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        yield batches
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_watch_rebuilds_on_file_and_row_changes(site: Path) -> None:
    with watching(site) as batches:
        wait_for(lambda: len(batches) >= 1)  # the initial build
        about = site / "build/acme/public/about/index.html"
        page = site / "content/pages/about.md"
        page.write_text(page.read_text() + "\n\nWatched paragraph.\n")
        wait_for(lambda: b"Watched paragraph." in about.read_bytes())
        con = sqlite3.connect(site / ".mbsite/mbsite.sqlite3")
        con.execute("UPDATE entity_records SET data = json_set(data, '$.name', 'Feed Driven Name') "
                    "WHERE tenant = 'acme' AND package = 'shop' AND id = "
                    "(SELECT id FROM entity_records WHERE tenant='acme' AND package='shop' "
                    "AND json_extract(data, '$.status') = 'active' ORDER BY id LIMIT 1)")
        con.commit()
        con.close()
        products = site / "build/acme/public/products/index.html"
        wait_for(lambda: b"Feed Driven Name" in products.read_bytes())
        wait_for(lambda: any("data" in b.causes for b in batches))  # on_batch runs right after publishing
        file_batch = next(b for b in batches if "file" in b.causes)
        assert file_batch.result is not None and file_batch.result.summary["rendered"] <= 4
        data_batch = next(b for b in batches if "data" in b.causes)
        assert data_batch.result is not None and data_batch.result.summary["reasons"].get("data", 0) >= 1


def test_a_failing_render_keeps_the_last_good_output_and_recovers(site: Path) -> None:
    with watching(site) as batches:
        wait_for(lambda: len(batches) >= 1)
        override = site / "themes/default/templates/page.html"
        override.parent.mkdir(parents=True)
        good = (site / "build/acme/public/about/index.html").read_bytes()
        override.write_text('{% extends "base.html" %}{% block content %}{{ page.missing.attr }}{% endblock %}')
        wait_for(lambda: any(b.result and b.result.summary["errors"] for b in batches))
        bad = next(b for b in batches if b.result and b.result.summary["errors"])
        assert any(p.location.file == "themes/default/templates/page.html" for p in bad.result.problems)
        assert (site / "build/acme/public/about/index.html").read_bytes() == good
        override.write_text('{% extends "base.html" %}{% block content %}<p>fixed</p>{{ content }}{% endblock %}')
        wait_for(lambda: b"<p>fixed</p>" in (site / "build/acme/public/about/index.html").read_bytes())


def test_watch_command_stops_cleanly_on_sigterm(site: Path) -> None:
    with subprocess.Popen([sys.executable, "-m", "mbsite.cli", "watch", "--site", str(site)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        _stop_on_sigterm(proc)


def _stop_on_sigterm(proc: subprocess.Popen) -> None:
    try:
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and "rendered" not in line:
            line = proc.stderr.readline()
        assert "rendered" in line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_revalidate_by_path_and_tag_and_timer(site: Path) -> None:
    runner = CliRunner()
    queued = runner.invoke(main, ["revalidate", "acme", "/about", "--site", str(site), "--build"])
    assert queued.exit_code == 0, queued.output
    outputs = json.loads(runner.invoke(main, ["why", "acme", "/about", "--site", str(site), "--json"]).stdout)
    assert {o["reason"] for o in outputs["outputs"]} == {"on-demand"}
    by_tag = runner.invoke(main, ["revalidate", "--tag", "entity:shop.product", "--site", str(site), "--build"])
    assert by_tag.exit_code == 0, by_tag.output
    products = json.loads(runner.invoke(main, ["why", "acme", "/products", "--site", str(site), "--json"]).stdout)
    assert {o["reason"] for o in products["outputs"]} == {"on-demand"}
    # A revalidate timer: the page says revalidate: 1 second.
    page = site / "content/pages/about.md"
    page.write_text(page.read_text().replace("---\n", "---\nrevalidate: 1\n", 1))
    assert Builder(load_config(site)).run().ok
    time.sleep(1.1)
    again = Builder(load_config(site)).run()
    assert again.summary["reasons"].get("timer") == 2  # the page in both tenants


def test_why_explains_inputs_and_next_build(site: Path) -> None:
    result = CliRunner().invoke(main, ["why", "acme", "/products", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert "next build: nothing to do" in result.output
    assert "query:acme:shop.product" in result.output
    con = sqlite3.connect(site / ".mbsite/mbsite.sqlite3")
    con.execute("UPDATE entity_records SET data = json_set(data, '$.price', 1) WHERE tenant='acme' AND package='shop' "
                "AND json_extract(data, '$.status') = 'active'")
    con.commit()
    con.close()
    result = CliRunner().invoke(main, ["why", "acme", "/products", "--site", str(site)])
    assert "next build: renders it (data)" in result.output


KILL_POINTS = [0.1, 0.3, 0.5, 0.7, 0.9, 1.2, 1.6, 2.2]


def test_kill_9_at_any_moment_leaves_a_consistent_output(site: Path, tmp_path: Path) -> None:
    """kill -9 the builder at many points; the output stays whole, and the next build completes the job."""
    for i, delay in enumerate(KILL_POINTS):
        post = site / "content/blog/hello-mbsite.md"
        post.write_text(post.read_text() + f"\n\nEdit {i}.\n")
        con = sqlite3.connect(site / ".mbsite/mbsite.sqlite3")
        con.execute("UPDATE page_configs SET title = ? WHERE tenant = 'acme' AND path = '/team'", (f"Team {i}",))
        con.commit()
        con.close()
        args = [sys.executable, "-m", "mbsite.cli", "build", "--site", str(site)] + (["--full"] if i % 2 else [])
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for tenant in ("acme", "globex"):
            manifest = json.loads((site / "build" / tenant / "routes.json").read_text())
            for path, info in manifest["pages"].items():
                for level in info["variants"]:
                    leaf = path.strip("/") + "/index.html" if path != "/" else "index.html"
                    base = site / "build" / tenant / ("public" if level == 0 else f"private/{level}")
                    html = (base / leaf).read_bytes()
                    assert html.rstrip().endswith(b"</html>"), (tenant, path, level)
    assert Builder(load_config(site)).run().ok
    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build"))
    assert Builder(load_config(clean), full=True).run().ok
    assert output_tree(site / "build") == output_tree(clean / "build")
    assert "Edit 7." in (site / "build/acme/public/blog/hello-mbsite/index.html").read_text()
    assert not (site / "build" / ".staging").exists()
    assert os.environ.get("PYTHONHASHSEED", "") != "x"
