"""Helpers shared by the tests (imported by name: the tests folder is on the path)."""
from __future__ import annotations

from pathlib import Path

from mbsite.writer import MARKER


def output_tree(out: Path) -> dict[str, bytes]:
    """Every file of an output folder by its relative path, as a build leaves it: the build's marker and any
    staging folder left aside (they are bookkeeping, not output)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != MARKER and ".staging" not in p.parts}
