"""Benchmark: the per-page pieces of a Markdown build, in one process (CPU time per item, best of N rounds).

    python benchmarks/bench_markdown.py [--pages 2000] [--rounds 3] [--work DIR]

Generates the benchmark pages (benchmarks/gensite.py) and measures, on the same pages:
  * reading front matter and body of every file (mbsite's content scan), and the same with PyYAML for every
    front matter instead of the flat reader;
  * one fenced Python block highlighted by Pygments' own lexer loop and by mbsite's driver (and lexing alone);
  * a Markdown body with each engine, highlighting on and off.
Each figure is the best of --rounds rounds over all pages, so that a busy machine disturbs it less.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gensite  # noqa: E402


def best(rounds: int, items: list, fn: Callable) -> float:
    """Best per-item time in milliseconds over `rounds` passes (after one warm-up call)."""
    fn(items[0])
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            fn(item)
        times.append((time.perf_counter() - started) / len(items) * 1000)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()

    import yaml
    from pygments import highlight as pygments_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    from mbsite.config import load_config
    from mbsite.markdown import frontmatter_yaml as frontmatter
    from mbsite.markdown import render_markdown, split_front_matter
    from mbsite.markdown.highlight import highlight, lexer_for
    from mbsite.sources import scan_markdown

    work = args.work or Path(tempfile.mkdtemp(prefix="mbsite-md-bench-"))
    site = work / "md"
    if not (site / "content").is_dir():
        gensite.markdown_site(site, args.pages, hugo=False)
    config = load_config(site)
    rows: list[tuple[str, str]] = []

    def scan() -> float:
        started = time.perf_counter()
        scan_markdown(config, [])
        return time.perf_counter() - started

    scan()
    rows.append(("content scan, flat front matter reader", f"{min(scan() for _ in range(args.rounds)):.3f} s"))
    flat = frontmatter.simple_yaml
    markdown_module = sys.modules["mbsite.markdown.frontmatter"]
    markdown_module.simple_yaml = lambda lines: None  # every front matter through PyYAML
    try:
        rows.append(("content scan, PyYAML for every front matter",
                     f"{min(scan() for _ in range(args.rounds)):.3f} s"))
    finally:
        markdown_module.simple_yaml = flat

    files = sorted((site / "content").rglob("*.md"))[:args.pages]
    bodies = [split_front_matter(f.read_text(), f.name)[1] for f in files]
    block = 'def handler_{n}(request):\n    total = sum(x * {n} for x in range({n}))\n    return {{"page": {n}}}\n'
    codes = [block.format(n=i) for i in range(len(bodies))]
    reference, formatter, driven = PythonLexer(), HtmlFormatter(nowrap=True), lexer_for("python")
    rows.append(("Python block, Pygments' own loop: highlight / lex",
                 f"{best(args.rounds, codes, lambda c: pygments_highlight(c, reference, formatter)):.3f} / "
                 f"{best(args.rounds, codes, lambda c: list(reference.get_tokens(c))):.3f} ms"))
    rows.append(("Python block, mbsite's driver: highlight / lex",
                 f"{best(args.rounds, codes, lambda c: highlight(c, 'python')):.3f} / "
                 f"{best(args.rounds, codes, lambda c: list(driven.get_tokens(c))):.3f} ms"))
    engines = ["markdown-it"]
    try:
        import pyromark  # noqa: F401
        engines.append("pyromark")
    except ImportError:
        print("pyromark not installed: its rows are skipped (pip install -e '.[fast]')", file=sys.stderr)
    for engine in engines:
        for hl in (False, True):
            ms = best(args.rounds, bodies, lambda b, hl=hl, engine=engine: render_markdown(b, highlight_code=hl,
                                                                                           engine=engine))
            rows.append((f"Markdown body, {engine}, highlighting {'on' if hl else 'off'}", f"{ms:.3f} ms"))

    print(f"{len(bodies)} pages; best of {args.rounds} rounds; python {sys.version.split()[0]}; "
          f"PyYAML with libyaml: {hasattr(yaml, 'CSafeLoader')}")
    print()
    print("| what | time |")
    print("|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
