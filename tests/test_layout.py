"""The package reads in one direction: no import cycle (type-only imports aside) and no module imports another
module's private (`_name`) names."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mbsite"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], list[str]]:
    """The mbsite modules `name` imports anywhere (function bodies included, `if TYPE_CHECKING:` blocks excluded),
    and the private names it takes from other modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.If)
                 and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
                 for sub in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    private: list[str] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("mbsite"):
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                targets.add(full if full in modules else module)
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    private.append(f"{name} imports {module}.{alias.name}")
        elif isinstance(node, ast.Import):
            targets |= {a.name for a in node.names if a.name in modules}
    return targets & set(modules), private


def test_no_import_cycles_and_no_private_imports() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    private: list[str] = []
    for name, path in modules.items():
        graph[name], taken = _imports(name, path, modules)
        private += taken
    assert private == []
    # A module reaching itself through what it imports is a cycle (a package's own __init__ excepted: importing
    # a submodule runs its package first, by Python's rules, not by our choice).
    cycles = []
    for start in graph:
        seen, stack = set(), [t for t in graph[start] if not start.startswith(t + ".")]
        while stack:
            node = stack.pop()
            if node == start:
                cycles.append(start)
                break
            if node in seen:
                continue
            seen.add(node)
            stack += [t for t in graph.get(node, ()) if not node.startswith(t + ".")]
    assert cycles == []


def test_one_error_tree_mapped_once_per_interface() -> None:
    """Every error mbsite raises is an MbsiteError; the CLI maps them in one place (its command group) and the
    functions in one handler, by the error's own status."""
    from mbsite.cli import MbsiteGroup, main
    from mbsite.errors import DatabaseError, DataError, MbsiteError, RouteError
    from mbsite.web.problems import EXCEPTION_HANDLERS, ApiError

    assert issubclass(ApiError, MbsiteError) and ApiError not in EXCEPTION_HANDLERS
    assert isinstance(main, MbsiteGroup)
    assert (DataError.status, RouteError.status, DatabaseError.status, MbsiteError.status) == (422, 422, 503, 500)
    cli = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    assert cli.count("raise CliError(exc) from exc") <= 3  # the group, and the build's two --json paths
