"""Raw JSON nodes → compiled nodes: control spellings normalised, props merged, expressions precompiled.

The compiled form is what the renderer caches per component, so a second render of the same
component skips every dict walk and every expression parse. Compilation never fails: a broken
expression becomes a value that warns when evaluated.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..errors import ExpressionError
from ..expressions import UNDEFINED, compile_expression, split_template, to_text

LOOP_TYPES = frozenset({"each", "loop", "map", "repeat", "iterate", "iterator", "for_each"})
REF_TYPES = frozenset({"ComponentRef", "component", "RenderComponent"})
CONTROL_TYPES = LOOP_TYPES | REF_TYPES | {"conditional", "ConditionalRender", "Fragment"}
# Keys that never become HTML props: structure, styling handled separately, or node bookkeeping.
_STRUCTURAL = frozenset({"type", "children", "props", "key", "itemKey"})
_NODE_EXEMPT = frozenset({"sx", "style"})
_EVENT = re.compile(r"^on[A-Z]")
_IDENT = re.compile(r"[A-Za-z_$][\w$.]*")
# A click handler whose whole body is a navigation call; its argument is an ordinary expression.
_NAVIGATE = re.compile(r"^\s*(?:\{\{)?\s*(?:\(\s*\)\s*=>\s*)?(?:navigateTo|navigate|router\.push|window\.location\.assign)"
                       r"\s*\((.+)\)\s*;?\s*(?:\}\})?\s*$", re.S)
_NOT_HANDLER = frozenset({"item", "index", "e", "event", "props", "state", "true", "false", "null"})


class Dyn:
    """A value that depends on the scope: `fn(ctx) -> value`."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn


def _expression(src: str) -> Callable[[Any], Any]:
    try:
        expr = compile_expression(src)
    except ExpressionError as err:
        message = f"expression error (column {err.location.column}): {err.message}" if err.location.column \
            else f"expression error: {err.message}"

        def broken(ctx: Any) -> Any:
            ctx.warn(message)
            return UNDEFINED
        return broken
    evaluate = expr.evaluate

    def run(ctx: Any) -> Any:
        try:
            return evaluate(ctx)
        except (RecursionError, OverflowError, ValueError, TypeError) as exc:
            ctx.warn(f"expression {src!r} failed: {exc}")
            return UNDEFINED
    return run


def compile_text(text: str) -> Any:
    """A string → itself, or a Dyn (whole `{{x}}` → raw value, mixed → string)."""
    if "{{" not in text:
        return text
    parts = split_template(text)
    if len(parts) == 1 and parts[0][0]:
        return Dyn(_expression(parts[0][1]))
    fns: list[Any] = [_expression(src) if is_expr else src for is_expr, src in parts]

    def mixed(ctx: Any) -> str:
        return "".join(f if isinstance(f, str) else to_text(f(ctx)) for f in fns)
    return Dyn(mixed)


def compile_value(value: Any) -> Any:
    """Any JSON value → itself when constant, else a Dyn that rebuilds it."""
    if isinstance(value, str):
        return compile_text(value)
    if isinstance(value, dict):
        items = {k: compile_value(v) for k, v in value.items()}
        dyn = [(k, v.fn) for k, v in items.items() if isinstance(v, Dyn)]
        if not dyn:
            return value
        return Dyn(lambda ctx: {**items, **{k: fn(ctx) for k, fn in dyn}})
    if isinstance(value, list):
        seq = [compile_value(v) for v in value]
        if not any(isinstance(v, Dyn) for v in seq):
            return value
        return Dyn(lambda ctx: [v.fn(ctx) if isinstance(v, Dyn) else v for v in seq])
    return value


def resolve(value: Any, ctx: Any) -> Any:
    return value.fn(ctx) if isinstance(value, Dyn) else value


def is_node(value: Any) -> bool:
    return isinstance(value, dict) and (isinstance(value.get("type"), str) or "$ref" in value)


def is_node_value(value: Any) -> bool:
    """A prop value that is a node, or a non-empty list of nodes, is rendered, never stringified."""
    return is_node(value) or (isinstance(value, list) and bool(value) and all(is_node(v) for v in value))


def navigation(value: Any) -> Any:
    """`"navigateTo('/x')"`, `"{{() => navigate('/u/' + item.id)}}"` → the compiled path; anything else → None."""
    if not isinstance(value, str):
        return None
    m = _NAVIGATE.match(value)
    if m is None:
        return None
    return Dyn(_expression(m.group(1)))


def handler_name(value: Any) -> str | None:
    """`"{{() => onAction(item)}}"`, `"{{handleClick}}"`, `"selectTable"` → the handler's name."""
    if not isinstance(value, str):
        return None
    for name in _IDENT.findall(value.replace("{{", " ").replace("}}", " ")):
        if name.split(".")[0] not in _NOT_HANDLER:
            return name
    return None


# --------------------------------------------------------------------------- compiled node kinds

class CNode:
    __slots__ = ("pointer",)


class CText(CNode):
    __slots__ = ("value",)

    def __init__(self, value: Any, pointer: str) -> None:
        self.value, self.pointer = value, pointer


class CElement(CNode):
    __slots__ = ("type", "props", "node_props", "children", "events", "gate", "nav")

    def __init__(self, type_: str, props: dict[str, Any], node_props: dict[str, list[CNode]],
                 children: list[CNode], events: dict[str, str], gate: Any, pointer: str, nav: Any = None) -> None:
        self.type, self.props, self.node_props, self.children = type_, props, node_props, children
        self.events, self.gate, self.pointer = events, gate, pointer
        self.nav = nav  # the target of a click handler that only navigates (a path, or a Dyn computing it)


class CCond(CNode):
    __slots__ = ("test", "then", "other")

    def __init__(self, test: Any, then: list[CNode], other: list[CNode], pointer: str) -> None:
        self.test, self.then, self.other, self.pointer = test, then, other, pointer


class CLoop(CNode):
    __slots__ = ("items", "var", "index", "body")

    def __init__(self, items: Any, var: str, index: str, body: list[CNode], pointer: str) -> None:
        self.items, self.var, self.index, self.body, self.pointer = items, var, index, body, pointer


class CRef(CNode):
    __slots__ = ("ref", "props", "inherit")

    def __init__(self, ref: Any, props: dict[str, Any], inherit: bool, pointer: str) -> None:
        self.ref, self.props, self.inherit, self.pointer = ref, props, inherit, pointer


class CDynamic(CNode):
    """RenderComponent: a tree taken from data at render time."""

    __slots__ = ("tree",)

    def __init__(self, tree: Any, pointer: str) -> None:
        self.tree, self.pointer = tree, pointer


class CFragment(CNode):
    __slots__ = ("children",)

    def __init__(self, children: list[CNode], pointer: str) -> None:
        self.children, self.pointer = children, pointer


# --------------------------------------------------------------------------- compiler

def compile_children(value: Any, pointer: str) -> list[CNode]:
    """children as a string, a node, or a list of both (None → nothing)."""
    if value is None or value is False:
        return []
    if isinstance(value, list):
        out: list[CNode] = []
        for i, item in enumerate(value):
            out.extend(compile_children(item, f"{pointer}/{i}"))
        return out
    if isinstance(value, dict):
        if is_node(value):
            return [compile_node(value, pointer)]
        if isinstance(value.get("ref"), str):
            return [_compile_ref(value, pointer)]  # `{"ref": "Name", "props": {…}}`: a reference with no type
        # A node with no type: kept (type "") so the render and `check` report it where it is.
        return [_compile_element(value, "", pointer)] if value else []
    if isinstance(value, str):
        return [CText(compile_text(value), pointer)]
    return [CText(to_text(value), pointer)]


def compile_node(node: Any, pointer: str = "") -> CNode:
    """One raw node → its compiled form (never raises)."""
    if not isinstance(node, dict):
        return CFragment(compile_children(node, pointer), pointer)
    if "$ref" in node and not isinstance(node.get("type"), str):
        # `{"$ref": id}` inlines a sibling component with the current props (as upstream does).
        return CRef(compile_value(node["$ref"]), {}, True, pointer)
    kind = node["type"]
    if kind == "conditional":
        return CCond(compile_value(node.get("condition")), compile_children(node.get("then"), pointer + "/then"),
                     compile_children(node.get("else"), pointer + "/else"), pointer)
    if kind == "ConditionalRender":
        bag = node.get("props") if isinstance(node.get("props"), dict) else {}
        test = bag.get("condition", node.get("condition"))
        return CCond(compile_value(test), compile_children(node.get("children"), pointer + "/children"), [], pointer)
    if kind in LOOP_TYPES:
        return _compile_loop(node, pointer)
    if kind == "Fragment":
        return CFragment(compile_children(node.get("children"), pointer + "/children"), pointer)
    if kind == "RenderComponent":
        bag = node.get("props") if isinstance(node.get("props"), dict) else {}
        return CDynamic(compile_value(node.get("component", bag.get("component"))), pointer)
    if kind in REF_TYPES:
        return _compile_ref(node, pointer)
    return _compile_element(node, kind, pointer)


def _compile_loop(node: dict[str, Any], pointer: str) -> CLoop:
    items = next((node[k] for k in ("items", "over", "source") if k in node), None)
    key = next((k for k in ("render", "template", "itemTemplate", "children") if k in node), "render")
    var = node.get("as") or node.get("iterator") or "item"
    index = node.get("index") or node.get("indexAs") or "index"
    return CLoop(compile_value(items), str(var), str(index), compile_children(node.get(key), f"{pointer}/{key}"),
                 pointer)


def _compile_ref(node: dict[str, Any], pointer: str) -> CRef:
    bag = dict(node["props"]) if isinstance(node.get("props"), dict) else {}
    ref = node.get("ref", bag.pop("ref", None))
    if ref is None:
        ref = node.get("name", node.get("component"))
        named_by = "name" if "name" in node else "component"
    else:
        named_by = "ref"
    props: dict[str, Any] = {}
    # Props sit inline on a reference as on any other node; `bindTable` is upstream's spelling of `table`.
    for key, value in node.items():
        if key in _STRUCTURAL or key == named_by or not isinstance(key, str):
            continue
        if key.startswith("bind") and len(key) > 4 and key[4].isupper():
            props[key[4].lower() + key[5:]] = value  # bindTable → table
        else:
            props[key] = value
    props.update(bag)  # the explicit bag wins over inline props
    return CRef(compile_value(ref), {k: compile_value(v) for k, v in props.items()}, False, pointer)


def _compile_element(node: dict[str, Any], kind: str, pointer: str) -> CElement:
    merged = {k: v for k, v in node.items() if k not in _STRUCTURAL}
    bag = node.get("props")
    if isinstance(bag, dict):
        merged.update(bag)  # the explicit bag wins over inline props
    children = node.get("children")
    if children is None and isinstance(bag, dict):
        children = bag.get("children")
    merged.pop("children", None)
    bag_events = merged.pop("events") if isinstance(merged.get("events"), dict) else {}
    props: dict[str, Any] = {}
    node_props: dict[str, list[CNode]] = {}
    events: dict[str, str] = {}
    gate = nav = None
    # Handlers may sit in an `events` object ({"onClick": "loadLogs"}) as well as beside the props.
    handlers = [(k, v) for k, v in bag_events.items() if isinstance(k, str) and _EVENT.match(k)]
    for key, value in handlers + [(k, v) for k, v in merged.items() if _EVENT.match(k)]:
        name = handler_name(value)
        if name:
            events[key[2:].lower()] = name
        if key == "onClick" and nav is None:
            nav = navigation(value)
    for key, value in merged.items():
        if _EVENT.match(key):
            continue
        elif key == "minLevel":
            gate = compile_value(value)
        elif key not in _NODE_EXEMPT and is_node_value(value):
            node_props[key] = compile_children(value, f"{pointer}/{key}")
        else:
            props[key] = compile_value(value)
    return CElement(kind, props, node_props, compile_children(children, pointer + "/children"), events, gate,
                    pointer, nav)
