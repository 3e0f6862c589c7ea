"""AST → closures: one compiler per node class, hand-built trees, inert Actions, and the sandbox's refusals."""
from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest

import mbsite.expressions as expressions
from mbsite.errors import ExpressionError
from mbsite.expressions import UNDEFINED, Action, DictScope, compile_expression, compile_node, evaluate
from mbsite.expressions import nodes as n


def run(node: n.Node, **data: Any) -> Any:
    return compile_node(node)(DictScope(data))


def test_every_node_class_has_a_compiler() -> None:
    classes = [cls for _, cls in inspect.getmembers(n, inspect.isclass)
               if issubclass(cls, n.Node) and cls is not n.Node and cls.__module__ == n.__name__]
    assert len(classes) == 13
    for cls in classes:
        samples = {"Node": n.Literal(1), "str": "&&" if cls is n.Logical else "-", "Node | None": None, "Any": 1}
        node = cls(*(samples.get(str(f.type), ()) for f in dataclasses.fields(cls)))
        compile_node(node)  # raises ExpressionError for a class nobody registered


def test_a_node_class_without_a_compiler_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Spread(n.Node):
        value: n.Node

    with pytest.raises(ExpressionError, match="unsupported syntax Spread"):
        compile_node(Spread(n.Name("a")))


@pytest.mark.parametrize("node", [
    n.Unary("~", n.Literal(1)), n.Binary("**", n.Literal(2), n.Literal(3)), n.Logical("and", n.Literal(1), n.Literal(2)),
], ids=["unary", "binary", "logical"])
def test_an_unknown_operator_is_refused(node: n.Node) -> None:
    with pytest.raises(ExpressionError, match="unsupported operator"):
        compile_node(node)


def test_hand_built_trees_evaluate() -> None:
    path = n.Member(n.Member(n.Name("item"), n.Literal("children")), n.Literal("length"))
    assert run(path, item={"children": [1, 2, 3]}) == 3
    level = n.Conditional(n.Binary(">=", n.Member(n.Name("user"), n.Literal("level")), n.Literal(3)),
                          n.Literal("a"), n.Literal("b"))
    assert [run(level, user={"level": lv}) for lv in (2, 3)] == ["b", "a"]
    assert run(n.Object((("k", n.Array((n.Name("x"), n.Literal(None)))),)), x=1) == {"k": [1, None]}
    assert run(n.Filter(n.Name("s"), "upper", ()), s="ab") == "AB"
    assert run(n.Filter(n.Name("s"), "no-such-filter", ()), s="ab") == "ab"
    assert run(n.Unary("typeof", n.Name("missing"))) == "undefined"


def test_logical_operators_short_circuit() -> None:
    calls: list[str] = []

    class Spy:
        def lookup(self, name: str) -> tuple[bool, Any]:
            calls.append(name)
            return True, {"t": 1, "f": 0, "nil": None}.get(name, name)

    for src, value, read in [("f && x", 0, ["f"]), ("t || x", 1, ["t"]), ("t ?? x", 1, ["t"]),
                             ("nil ?? x", "x", ["nil", "x"]), ("t ? a : b", "a", ["t", "a"])]:
        calls.clear()
        assert compile_expression(src).evaluate(Spy()) == value and calls == read, src


@pytest.mark.parametrize(("src", "name"), [
    ("() => ({call: a.b, z: save()})", "save"),  # an object key named `call` is not a call
    ("() => [a, b.c(), d()]", "b.c"),
    ("x => f(g(x))", "f"),
    ("() => new Thing(go())", "go"),
    ("() => a['b'].c()", "a.b.c"),
    ("() => (a + b).c()", "handler.c"),
    ("() => { save() }", "handler"),
    ("() => a", "handler"),
], ids=["object-key-call", "array", "outer-call", "new-argument", "literal-index", "computed", "block", "no-call"])
def test_an_arrow_is_named_after_its_first_call(src: str, name: str) -> None:
    value = evaluate(src, {})
    assert isinstance(value, Action) and value.name == name


class Probe:
    """A value with Python attributes: none of them may be reached."""

    secret = "attribute"

    def method(self) -> str:
        raise AssertionError("a Python method was called")


SCOPE: dict[str, Any] = {
    "s": "text", "items": [1, 2], "d": {"__class__": "a key", "__proto__": "data", "constructor": "also data"},
    "probe": Probe(), "fn": Probe().method,
}
REFUSED = [
    "s.__class__", "s['__class__']", "s.__class__.__mro__", "items.__len__", "items.__len__()",
    "d.__dict__", "d.keys", "d.keys()", "d.get('__proto__')", "s.upper", "s.upper()", "s.format('x')",
    "s.constructor", "s.constructor.constructor('return 1')()", "constructor.constructor('x')()",
    "items.__proto__", "s.__proto__.toString", "''.__class__.__base__.__subclasses__()", "(1).__class__",
    "probe.secret", "probe.method()", "probe['method']()", "fn('x')", "fn.__globals__", "fn.__call__('x')",
    "Math.__dict__", "Math.constructor", "Math.floor.__globals__", "String.constructor('x')",
    "String.__call__('x')", "Math.pow(2, 3)", "eval('1 + 1')", "exec('x')", "__import__('os')",
    "getattr(s, 'upper')", "Function('return 1')()", "new Function('return 1')", "globalThis", "this.constructor",
    "window.location", "process.env", "require('fs')", "new Date().constructor",
]


@pytest.mark.parametrize("src", REFUSED, ids=REFUSED)
def test_python_internals_and_unlisted_callables_are_unreachable(src: str) -> None:
    scope = DictScope(SCOPE)
    value = evaluate(src, scope)
    assert value is UNDEFINED or isinstance(value, Action), value
    assert scope.warnings == []


def test_dunder_keys_of_data_are_data() -> None:
    """A dict key spelled like a Python internal is an ordinary key: read as data, never as an attribute."""
    assert evaluate("d.__class__", SCOPE) == "a key" and evaluate("d['__proto__']", SCOPE) == "data"
    assert evaluate("d.constructor", SCOPE) == "also data"
    assert evaluate("items.length", SCOPE) == 2 and evaluate("probe.length", SCOPE) is UNDEFINED
    assert evaluate("s | __class__", SCOPE) == "text"  # an unknown filter, dunder or not, passes the value on


def test_the_package_never_evaluates_code_or_reads_named_attributes() -> None:
    """No eval/exec/compile/__import__ anywhere; getattr & co. only with a constant attribute name, or on a node's
    own dataclass fields (`getattr(self, field.name)`)."""
    package = Path(expressions.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile", "__import__"), f"{path.name}:{node.lineno}"
                if node.func.id in ("getattr", "setattr", "hasattr", "delattr"):
                    own = isinstance(node.args[0], ast.Name) and node.args[0].id == "self"
                    assert own or isinstance(node.args[1], ast.Constant), f"{path.name}:{node.lineno}"
