"""Benchmark: compile and evaluate every distinct `{{ … }}` expression of the upstream packages (µs per expression).

    python benchmarks/bench_expressions.py [--packages DIR] [--rounds N]

Collects the expressions of every package JSON file (the same splitting the component compiler uses), then
measures CPU time (best of --rounds rounds, so that a busy machine disturbs the figures less):
  * compile: parse + compile each expression with the text cache emptied first (a cold build's cost);
  * cached compile: the same calls answered by the cache (every later render of a component);
  * evaluate: each compiled expression run 20 times against a scope holding typical page and component data;
  * evaluate typical: a fixed handful of common shapes (paths, lengths, ternaries, filters), 1,000 times each.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mbsite.errors import ExpressionError  # noqa: E402
from mbsite.expressions import DictScope, compile_expression, split_template  # noqa: E402

TYPICAL = [
    "item.children.length", "user.level >= 3 ? 'a' : 'b'", "props.readonly", "title",
    "trend.direction === 'up' ? 'success' : 'error'", "$context.user.id", "Math.min($json.limit || 50, 500)",
    "items.length > 0 && !loading", "user.name | upper", "'Hello, ' + user.name + '!'",
    "row[column.id] ?? '-'", "() => onSelect(item.id)",
]
SCOPE: dict[str, Any] = {
    "item": {"id": 3, "name": "Item", "children": [{"id": 1}, {"id": 2}]},
    "user": {"id": "u1", "name": "Ann", "username": "ann", "email": "a@example.com", "level": 4, "role": "admin"},
    "props": {"readonly": False, "title": "T"}, "state": {"open": True}, "title": "Title", "label": "Label",
    "items": [1, 2, 3], "loading": False, "level": 4, "role": "admin", "open": True,
    "trend": {"direction": "up", "percentage": 12.5}, "row": {"id": 7}, "column": {"id": "id"},
    "$context": {"tenantId": "acme", "user": {"id": "u1", "level": 4}}, "$json": {"limit": 20, "email": "b@x.org"},
}


def expressions(root: Path) -> list[str]:
    """Every distinct expression source in the JSON files under `root`, in a stable order."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "{{" in value:
                found.update(src for is_expr, src in split_template(value) if is_expr)
        elif isinstance(value, dict):
            for key, sub in value.items():
                walk(key)
                walk(sub)
        elif isinstance(value, list):
            for sub in value:
                walk(sub)

    for path in sorted(root.rglob("*.json")):
        try:
            walk(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(found)


def compiles(src: str) -> bool:
    try:
        compile_expression(src)
    except ExpressionError:
        return False
    return True


def best(rounds: int, work: Callable[[], object]) -> float:
    """Best CPU time of `work` in seconds over `rounds` runs (after one warm-up run)."""
    work()
    times = []
    for _ in range(rounds):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def main() -> int:
    default = Path(os.environ.get("MBSITE_UPSTREAM") or REPO.parent / "shared" / "upstream") / "packages"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=Path, default=default)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not args.packages.is_dir():
        print(f"no packages at {args.packages}", file=sys.stderr)
        return 2

    sources = expressions(args.packages)
    good = [src for src in sources if compiles(src)]
    compiled = [compile_expression(src) for src in good] * 20
    typical = [compile_expression(src) for src in TYPICAL] * 1000
    scope = DictScope(SCOPE)

    def cold() -> None:
        compile_expression.cache_clear()
        for src in sources:
            compiles(src)

    def cached() -> None:
        for src in good:
            compile_expression(src)

    def run(exprs: list[Any]) -> Callable[[], None]:
        def work() -> None:
            for expr in exprs:
                expr.evaluate(scope)
        return work

    print(f"expressions: {len(sources)} distinct ({len(sources) - len(good)} with syntax errors)")
    for label, seconds, count in (
        ("compile (cache emptied)", best(args.rounds, cold), len(sources)),
        ("compile (cached)", best(args.rounds, cached), len(good)),
        ("evaluate (upstream set)", best(args.rounds, run(compiled)), len(compiled)),
        ("evaluate (typical shapes)", best(args.rounds, run(typical)), len(typical)),
    ):
        print(f"{label:28} {seconds * 1000:8.2f} ms  {seconds / count * 1e6:7.3f} µs/expression")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
