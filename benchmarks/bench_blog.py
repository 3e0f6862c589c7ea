"""Benchmark: a new user's blog, side by side with Hugo in one run.

    python benchmarks/bench_blog.py [--posts 4000] [--reps 3] [--work DIR] [--no-hugo]

The mbsite site is what a new user has: `mbsite init` (the default theme, one tenant, an admin user) with N posts
copied into content/blog/. Hugo gets the same posts in content/posts/ and its defaults (home, section list,
tags, RSS, sitemap) with the smallest layouts that render them. Cases, each run as one process (interpreter
start, imports and database open included):

  * first build: `mbsite build` on a new copy of the site without its state folder (.mbsite/: no database, no
    kept compiled templates or search indexes), as a new user or a CI job on a fresh clone runs it, and `hugo`,
    each into a new, empty folder, alternating;
  * cold build: `mbsite build --full` into a new, empty folder with the site's state folder kept (as after
    `rm -rf build`), mbsite with its search index (the default) and without (MBSITE_SEARCH=0); Hugo alone (it
    makes no search index) and Hugo followed by Pagefind on its output (the search index Hugo's documentation
    points to), when Pagefind is installed;
  * no-op build: `mbsite build` with nothing changed;
  * members-only nav change: a level-2 page with `nav: true` is added (then removed), `mbsite build`;
  * public nav change: a public page with `nav: true` is added (then removed), `mbsite build`.

Prints the median wall time of each case, the HTML files written per page, and the ratios the targets name.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gensite import markdown_body  # noqa: E402

HUGO_LAYOUTS = {
    "_default/baseof.html": '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>'
                            '</head><body><header><a href="/">Blog</a></header><main>{{ block "main" . }}{{ end }}'
                            '</main><footer>built</footer></body></html>',
    "_default/single.html": '{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}'
                            '</time>{{ .Content }}</article>{{ end }}',
    "_default/list.html": '{{ define "main" }}<ul>{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">'
                          '{{ .Title }}</a></li>{{ end }}</ul>{{ end }}',
    "index.html": '{{ define "main" }}<ul>{{ range first 20 .Site.RegularPages }}<li><a href="{{ .RelPermalink }}">'
                  '{{ .Title }}</a></li>{{ end }}</ul>{{ end }}',
}


def make_sites(work: Path, posts: int) -> tuple[Path, Path]:
    rng = random.Random(42)
    site, hugo = work / "mbsite", work / "hugo"
    for folder in (site, hugo):
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "mbsite.cli", "init", str(site)], check=True, capture_output=True)
    (hugo / "content" / "posts").mkdir(parents=True)
    (hugo / "hugo.toml").write_text('baseURL = "https://blog.example/"\ntitle = "Blog"\n[taxonomies]\ntag = "tags"\n')
    for rel, text in HUGO_LAYOUTS.items():
        (hugo / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
        (hugo / "layouts" / rel).write_text(text)
    for i in range(posts):
        text = (f"---\ntitle: Post {i}\ndate: 2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}\ntags: [t{i % 10}]\n---\n"
                + markdown_body(i, posts, rng))
        (site / "content" / "blog" / f"post-{i}.md").write_text(text)
        (hugo / "content" / "posts" / f"post-{i}.md").write_text(text)
    return site, hugo


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=None if env is None else {**os.environ, **env})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def mbsite(site: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mbsite.cli", "build", "--json", "--site", str(site), "--out", str(out), *extra]


def pagefind_binary() -> str | None:
    """The Pagefind program the `pagefind[bin]` package installs (mbsite's own), or one on PATH."""
    try:
        from pagefind.service import get_executable

        found = get_executable()
        if found is not None:
            return str(found)
    except ImportError:
        pass
    return shutil.which("pagefind")


def html_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=4000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--no-hugo", action="store_true")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mbsite-blog-"))
    work.mkdir(parents=True, exist_ok=True)
    site, hugo = make_sites(work, args.posts)
    use_hugo = not args.no_hugo and shutil.which("hugo") is not None
    cold: dict[str, list[float]] = {"mbsite-first": [], "mbsite": [], "mbsite-nosearch": [], "hugo": [],
                                    "hugo+pagefind": []}
    pagefind = pagefind_binary()
    files: dict[str, int] = {}
    pages = 0
    for rep in range(args.reps + 1):  # the first round is the untimed warm-up
        fresh = work / f"first-{rep}"
        shutil.copytree(site, fresh, ignore=shutil.ignore_patterns(".mbsite", "build"))
        seconds, _ = timed(mbsite(fresh, work / f"out-first-{rep}"))
        shutil.rmtree(fresh)
        if rep:
            cold["mbsite-first"].append(seconds)
        out = work / f"out-mbsite-{rep}"
        seconds, stdout = timed(mbsite(site, out, "--full"))
        pages = json.loads(stdout.strip().splitlines()[-1])["pages"]
        files["mbsite"] = html_files(out)
        if rep:
            cold["mbsite"].append(seconds)
        seconds, _ = timed(mbsite(site, work / f"out-nosearch-{rep}", "--full"), {"MBSITE_SEARCH": "0"})
        if rep:
            cold["mbsite-nosearch"].append(seconds)
        if use_hugo:
            hout = work / f"out-hugo-{rep}"
            seconds, _ = timed(["hugo", "--quiet", "-s", str(hugo), "-d", str(hout)])
            files["hugo"] = html_files(hout)
            if pagefind:
                indexed, _ = timed([pagefind, "--site", str(hout), "--silent"])
            if rep:
                cold["hugo"].append(seconds)
                if pagefind:
                    cold["hugo+pagefind"].append(seconds + indexed)
    out = work / "out-incremental"
    timed(mbsite(site, out))
    noop = [timed(mbsite(site, out))[0] for _ in range(args.reps)]
    nav: dict[str, list[float]] = {"members": [], "public": []}
    for kind, level in (("members", 2), ("public", 0)):
        page = site / "content" / "pages" / f"bench-{kind}.md"
        for _ in range(args.reps):
            page.write_text(f"---\ntitle: {kind.title()} corner\nnav: true\nlevel: {level}\n---\nHello.\n")
            nav[kind].append(timed(mbsite(site, out))[0])
            page.unlink()
            timed(mbsite(site, out))
    med = {k: statistics.median(v) for k, v in cold.items() if v}
    print(f"new user's blog: {args.posts} posts, {pages} mbsite pages; median of {args.reps} runs, wall seconds")
    print(f"| case | mbsite | hugo {'' if use_hugo else '(not run)'} |")
    print("|---|---|---|")
    hugo_cold = f"{med['hugo']:.2f} s, {files.get('hugo', 0)} HTML files" if use_hugo else "-"
    print(f"| first build (no state folder) | {med['mbsite-first']:.2f} s, {files['mbsite']} HTML files "
          f"({files['mbsite'] / pages:.2f} per page) | {hugo_cold} |")
    print(f"| cold build (empty output folder, --full, state kept) | {med['mbsite']:.2f} s | "
          f"{med['hugo']:.2f} s |" if use_hugo else f"| cold build, state kept | {med['mbsite']:.2f} s | - |")
    print(f"| cold build, no search index (MBSITE_SEARCH=0) | {med['mbsite-nosearch']:.2f} s | "
          f"{med['hugo']:.2f} s (Hugo makes none) |" if use_hugo else
          f"| cold build, no search index | {med['mbsite-nosearch']:.2f} s | - |")
    if "hugo+pagefind" in med:
        print(f"| first build with a search index | {med['mbsite-first']:.2f} s | {med['hugo+pagefind']:.2f} s "
              f"(hugo, then pagefind) |")
    noop_med = statistics.median(noop)
    print(f"| no-op build | {noop_med:.2f} s | - |")
    for kind in ("members", "public"):
        m = statistics.median(nav[kind])
        print(f"| {kind} nav page added | {m:.2f} s ({m / noop_med:.1f}x no-op) | full rebuild |")
    if use_hugo:
        print(f"first build ratio mbsite/hugo, both at their defaults: {med['mbsite-first'] / med['hugo']:.2f}")
        print(f"cold build ratio mbsite/hugo, both at their defaults, mbsite's state kept: "
              f"{med['mbsite'] / med['hugo']:.2f}")
        print(f"cold build ratio without a search index (MBSITE_SEARCH=0 / hugo): "
              f"{med['mbsite-nosearch'] / med['hugo']:.2f}")
        if "hugo+pagefind" in med:
            print(f"first build ratio with a search index (mbsite / hugo+pagefind): "
                  f"{med['mbsite-first'] / med['hugo+pagefind']:.2f}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
