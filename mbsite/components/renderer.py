"""(package, component ref | node tree, props, PageScope) → RenderResult (HTML, CSS, warnings, unknown types).

Walks the compiled form (cached per component) with a scope chain loop vars → props → state →
page scope, expands control nodes, resolves references per package, and hands each element to
its registry entry. Every input read is reported to the Recorder.

A render always ends: a component that references itself again with the same props (directly or through
others) is a reference cycle, and one render visits at most MAX_RENDER_NODES nodes (a component referencing
the next one twice, 24 deep, would otherwise expand 2**24 times). Both raise a RenderError located at the
reference (file, JSON pointer, package, component); recursion that changes its props and ends is allowed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from markupsafe import Markup, escape

from ..context import NullRecorder, PageScope, Recorder
from ..errors import Location, Problem, RenderError
from ..expressions import UNDEFINED, to_text, truthy
from ..levels import clamp_level
from . import registry
from .compiler import (
    CCond,
    CDynamic,
    CElement,
    CFragment,
    CLoop,
    CNode,
    CRef,
    CText,
    Dyn,
    compile_children,
    compile_value,
    is_node_value,
    resolve,
)
from .defs import ComponentDef
from .html import tag
from .styles import StyleSheet
from .urls import safe_url

if TYPE_CHECKING:
    from ..packages import Package, PackageSet

MAX_REF_DEPTH = 24
MAX_NODE_DEPTH = 200
MAX_LOOP_ITEMS = 1000
MAX_RENDER_NODES = 100_000   # nodes one render call may visit (elements, text, control nodes, references)


@dataclass
class RenderResult:
    html: str
    css: str
    warnings: list[Problem] = field(default_factory=list)
    unknown_types: Counter[str] = field(default_factory=Counter)
    nodes: int = 0  # elements rendered (for benchmarks)


class _Ctx:
    """Expression scope for one component instance (or one loop iteration inside it)."""

    __slots__ = ("vars", "props", "state", "run", "comp", "pkg", "pointer")

    def __init__(self, vars_: dict[str, Any], props: dict[str, Any], state: dict[str, Any], run: "_Run",
                 comp: ComponentDef | None, pkg: Package | None) -> None:
        self.vars, self.props, self.state, self.run, self.comp, self.pkg = vars_, props, state, run, comp, pkg
        self.pointer = ""

    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.vars:
            return True, self.vars[name]
        if name == "props":
            return True, self.props
        if name == "state":
            return True, self.state
        if name in self.props:
            return True, self.props[name]
        if name in self.state:
            return True, self.state[name]
        return self.run.page.lookup(name, self.run.recorder)

    def warn(self, message: str) -> None:
        self.run.warn(message, self)

    @property
    def timezone(self) -> str:
        """The tenant's time zone: the `date` filter and Date methods show moments in it."""
        return self.run.page.timezone

    def child(self, vars_: dict[str, Any]) -> "_Ctx":
        ctx = _Ctx(vars_, self.props, self.state, self.run, self.comp, self.pkg)
        ctx.pointer = self.pointer
        return ctx


class _Run:
    """Mutable state of one render call."""

    def __init__(self, renderer: "ComponentRenderer", page: PageScope, recorder: Recorder,
                 id_prefix: str = "mb-f") -> None:
        self.renderer, self.page, self.recorder = renderer, page, recorder
        self.id_prefix = id_prefix
        self.sheet = StyleSheet()
        self.warnings: list[Problem] = []
        self.unknown: Counter[str] = Counter()
        self.depth = 0
        self.node_depth = 0
        self.nodes = 0
        self.visited = 0
        # The components being rendered, outermost first, with the props and loop vars they were given.
        self.stack: list[tuple[ComponentDef, Package, dict[str, Any], dict[str, Any]]] = []
        self._ids = 0
        self.at: _Ctx | None = None  # the node an entry is rendering (so that it can warn at its JSON pointer)
        self._seen_warnings: set[tuple[str, str | None, str | None]] = set()

    def next_id(self) -> str:
        self._ids += 1
        return f"{self.id_prefix}{self._ids}"

    def warn(self, message: str, ctx: _Ctx | None) -> None:
        where = self.where(ctx)
        key = (message, where.file, where.pointer)
        if key in self._seen_warnings:
            return  # the same problem inside a loop is reported once
        self._seen_warnings.add(key)
        self.warnings.append(Problem("warning", message, where, "render"))

    def where(self, ctx: _Ctx | None) -> Location:
        """The node being rendered: its file, its JSON pointer there, its package and component."""
        comp = ctx.comp if ctx else None
        pointer = ((comp.pointer + "/render/template") if comp else "") + (ctx.pointer if ctx else "")
        return Location(file=comp.source if comp else None, pointer=pointer or None,
                        package=(ctx.pkg.id if ctx and ctx.pkg else None), node=comp.id if comp else None)


class ComponentRenderer:
    """Renders components of a PackageSet; caches each component's compiled form across renders."""

    def __init__(self, packages: PackageSet, *,
                 type_template: Callable[[str], Any] | None = None) -> None:
        self.packages = packages
        self.type_template = type_template
        self._compiled: dict[tuple[str, str], list[CNode]] = {}
        self._states: dict[tuple[str, str], dict[str, Any]] = {}
        self._templates: dict[str, Any] = {}
        self._dynamic: dict[int, tuple[Any, list[CNode]]] = {}

    # ------------------------------------------------------------------ public API

    def render_component(self, package_id: str, ref: str, props: dict | None = None, *, scope: PageScope,
                         recorder: Recorder | None = None, id_prefix: str = "mb-f") -> RenderResult:
        """One component by reference (id, name, or `pkg.Name`) → RenderResult.

        Generated element ids start with `id_prefix`: renders that end up in one page use distinct prefixes."""
        run = _Run(self, scope, recorder if recorder is not None else NullRecorder(), id_prefix)
        pkg = self.packages.get(package_id)
        root = _Ctx({}, {}, {}, run, None, pkg)
        found = self.resolve_ref(pkg, ref) if pkg is not None else None
        if found is None:
            where = f"package {package_id!r}" if pkg is None else f"{package_id}"
            run.warn(f"component {ref!r} not found in {where}", root)
            return self._result(run, _missing(ref))
        comp, owner = found
        page_props = self._page_props(props, root)
        html = self._render_def(owner, comp, page_props, root, wrap=True)
        return self._result(run, html)

    def render_tree(self, package_id: str, node: Any, props: dict | None = None, *, scope: PageScope,
                    recorder: Recorder | None = None, id_prefix: str = "mb-f") -> RenderResult:
        """An inline tree (page-config componentTree, ui.json page layout) in a package's context."""
        run = _Run(self, scope, recorder if recorder is not None else NullRecorder(), id_prefix)
        pkg = self.packages.get(package_id)
        root = _Ctx({}, {}, {}, run, None, pkg)
        page_props = self._page_props(props, root)
        if isinstance(node, dict) and isinstance(node.get("render"), dict):
            # A whole component definition stored as a tree (upstream componentTree rows).
            from .defs import components_from_file
            defs = components_from_file(package_id, [node], "<tree>", [])
            if defs and pkg is not None:
                ctx = _Ctx({}, {**defs[0].defaults, **page_props}, dict(defs[0].state), run, None, pkg)
                return self._result(run, self._nodes(compile_children(defs[0].template, ""), ctx, {}, ""))
        if pkg is not None:
            self._record_package(run, pkg)
        ctx = _Ctx({}, page_props, {}, run, None, pkg)
        return self._result(run, self._nodes(compile_children(node, ""), ctx, {}, ""))

    def resolve_ref(self, pkg: Package, ref: str) -> tuple[ComponentDef, Package] | None:
        """id, then name, in the package; then `pkg.Name` / `pkg:Name` across packages."""
        comp = pkg.find_component(ref)
        if comp is not None:
            return comp, pkg
        for sep in (":", "."):
            if sep in ref:
                other_id, _, name = ref.partition(sep)
                other = self.packages.get(other_id)
                comp = other.find_component(name) if other is not None else None
                if comp is not None and other is not None:
                    return comp, other
        return None

    def _state(self, comp: ComponentDef) -> dict[str, Any]:
        key = (comp.package, comp.id)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = {k: compile_value(v) for k, v in comp.state.items()}
        return state

    def compiled(self, comp: ComponentDef) -> list[CNode]:
        key = (comp.package, comp.id)
        nodes = self._compiled.get(key)
        if nodes is None:
            nodes = self._compiled[key] = compile_children(comp.template, "")
        return nodes

    # ------------------------------------------------------------------ internals

    def _result(self, run: _Run, html: str) -> RenderResult:
        return RenderResult(html, run.sheet.css(), run.warnings, run.unknown, run.nodes)

    def _page_props(self, props: dict | None, root: _Ctx) -> dict[str, Any]:
        """Props given by a page may hold `{{…}}`: evaluate them against the page scope first."""
        if not props:
            return {}
        return {k: resolve(compile_value(v), root) for k, v in props.items()}

    def _record_package(self, run: _Run, pkg: Package) -> None:
        if pkg.source and pkg.source in pkg.files:
            run.recorder.file(pkg.source, pkg.files[pkg.source])

    def _render_def(self, pkg: Package, comp: ComponentDef, props: dict[str, Any], caller: _Ctx, *,
                    wrap: bool = False, vars_: dict[str, Any] | None = None) -> str:
        run = caller.run
        run.recorder.component(pkg.id, comp.id)
        if comp.source in pkg.files:
            run.recorder.file(comp.source, pkg.files[comp.source])
        self._record_package(run, pkg)
        if pkg.min_level > 0:
            run.recorder.read_level()
            if run.page.level < pkg.min_level:
                caller.warn(f"package {pkg.id} needs level {pkg.min_level}; {comp.id} is not rendered for level "
                            f"{run.page.level}")
                return ""
        vars_ = vars_ or {}
        for i, (seen, _seen_pkg, seen_props, seen_vars) in enumerate(run.stack):
            # The same component with the same props and loop vars renders the same tree again, forever.
            if seen is comp and seen_props == props and seen_vars == vars_:
                chain = " → ".join(f"{p.id}:{c.id}" for c, p, _, _ in run.stack[i:]) + f" → {pkg.id}:{comp.id}"
                raise RenderError(f"component reference cycle: {chain}", run.where(caller))
        if run.depth >= MAX_REF_DEPTH:
            caller.warn(f"component nesting deeper than {MAX_REF_DEPTH} at {comp.id!r}")
            return _missing(comp.id, "too deep")
        run.depth += 1
        run.stack.append((comp, pkg, props, vars_))
        try:
            ctx = _Ctx(vars_, {**comp.defaults, **props}, {}, run, comp, pkg)
            if comp.state:
                # Initial state may be computed from props ("a": "{{props.initialA}}").
                ctx.state = {k: resolve(v, ctx) for k, v in self._state(comp).items()}
            inherit = {"package": pkg.id}
            html = self._nodes(self.compiled(comp), ctx, inherit, "")
        finally:
            run.depth -= 1
            run.stack.pop()
        if wrap or (caller.pkg is not None and caller.pkg.id != pkg.id):
            # display:contents wrapper: scopes package tokens without changing layout.
            html = tag("div", {"class": "mb-component", "data-mb-component": f"{pkg.id}:{comp.id}",
                               "data-mb-package": pkg.id}, html)
        return html

    def _nodes(self, nodes: list[CNode], ctx: _Ctx, inherit: dict[str, Any], parent: str) -> str:
        return "".join([self._node(n, ctx, inherit, parent) for n in nodes])

    def _node(self, node: CNode, ctx: _Ctx, inherit: dict[str, Any], parent: str) -> str:
        run = ctx.run
        run.visited += 1
        if run.visited > MAX_RENDER_NODES:
            ctx.pointer = node.pointer
            raise RenderError(f"the component tree expands to more than {MAX_RENDER_NODES} nodes; rendering stopped",
                              run.where(ctx))
        run.node_depth += 1
        try:
            if run.node_depth > MAX_NODE_DEPTH:
                ctx.warn(f"tree deeper than {MAX_NODE_DEPTH} levels; the rest is cut")
                return ""
            ctx.pointer = node.pointer
            kind = type(node)
            if kind is CElement:
                return self._element(node, ctx, inherit, parent)  # type: ignore[arg-type]
            if kind is CText:
                value = node.value  # type: ignore[attr-defined]
                if isinstance(value, Dyn):
                    value = value.fn(ctx)
                    if isinstance(value, Markup):
                        return str(value)  # children rendered by this renderer, passed down as a prop
                    if is_node_value(value):
                        return self._data_tree(value, ctx, inherit, parent)
                    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                        # Objects are no child (React refuses them): never print "[object Object]".
                        ctx.warn("children evaluate to data objects, not nodes: nothing rendered")
                        return ""
                return str(escape(to_text(value))) if not isinstance(value, str) else str(escape(value))
            if kind is CCond:
                branch = node.then if truthy(resolve(node.test, ctx)) else node.other  # type: ignore[attr-defined]
                return self._nodes(branch, ctx, inherit, parent)
            if kind is CLoop:
                return self._loop(node, ctx, inherit, parent)  # type: ignore[arg-type]
            if kind is CRef:
                return self._ref(node, ctx)  # type: ignore[arg-type]
            if kind is CFragment:
                return self._nodes(node.children, ctx, inherit, parent)  # type: ignore[attr-defined]
            if kind is CDynamic:
                return self._data_tree(resolve(node.tree, ctx), ctx, inherit, parent)  # type: ignore[attr-defined]
            return ""
        finally:
            run.node_depth -= 1

    def _loop(self, node: CLoop, ctx: _Ctx, inherit: dict[str, Any], parent: str) -> str:
        items = resolve(node.items, ctx)
        if isinstance(items, dict):
            items = list(items.values())
        if not isinstance(items, (list, tuple)):
            if items not in (None, UNDEFINED) and not isinstance(items, (str, bool)):
                ctx.warn(f"loop items are not a list ({type(items).__name__}); nothing rendered")
            return ""
        if len(items) > MAX_LOOP_ITEMS:
            ctx.warn(f"loop over {len(items)} items cut to {MAX_LOOP_ITEMS}")
            items = items[:MAX_LOOP_ITEMS]
        out = []
        for i, item in enumerate(items):
            child = ctx.child({**ctx.vars, node.var: item, node.index: i})
            out.append(self._nodes(node.body, child, inherit, parent))
        return "".join(out)

    def _ref(self, node: CRef, ctx: _Ctx) -> str:
        ref = resolve(node.ref, ctx)
        if not isinstance(ref, str) or not ref or ctx.pkg is None:
            ctx.warn(f"component reference is empty or not a name ({to_text(ref) or type(ref).__name__})")
            return _missing(to_text(ref) or "?")
        found = self.resolve_ref(ctx.pkg, ref)
        if found is None:
            ctx.warn(f"component {ref!r} not found in package {ctx.pkg.id}")
            return _missing(ref)
        comp, pkg = found
        props = {k: resolve(v, ctx) for k, v in node.props.items()}
        if node.inherit:
            props = {**ctx.props, **props}
            return self._render_def(pkg, comp, props, ctx, vars_=ctx.vars)
        return self._render_def(pkg, comp, props, ctx)

    def _data_tree(self, value: Any, ctx: _Ctx, inherit: dict[str, Any], parent: str) -> str:
        """A node tree that arrives as data (RenderComponent, `{{children}}`): compiled once per object."""
        if isinstance(value, dict) and isinstance(value.get("render"), dict):
            value = value["render"].get("template")
        if not is_node_value(value):
            return ""
        cached = self._dynamic.get(id(value))
        if cached is None or cached[0] is not value:
            cached = (value, compile_children(value, "/<data>"))
            self._dynamic[id(value)] = cached
        return self._nodes(cached[1], ctx, inherit, parent)

    def _element(self, node: CElement, ctx: _Ctx, inherit: dict[str, Any], parent: str) -> str:
        run = ctx.run
        if node.gate is not None:
            run.recorder.read_level()
            if run.page.level < clamp_level(resolve(node.gate, ctx)):
                return ""
        run.nodes += 1
        props = {k: (v.fn(ctx) if isinstance(v, Dyn) else v) for k, v in node.props.items()}
        nav = safe_url(to_text(resolve(node.nav, ctx))) if node.nav is not None else None
        if nav is not None and props.get("href") in (None, UNDEFINED, ""):
            props["href"] = nav  # a click that only navigates is a link
        entry = registry.REGISTRY.get(node.type)
        own = entry.provide(props, inherit, run) if entry is not None and entry.provide is not None else inherit
        for key, nodes in node.node_props.items():
            props[key] = Markup(self._nodes(nodes, ctx, own, node.type))
            ctx.pointer = node.pointer
        parts = [self._node(child, ctx, own, node.type) for child in node.children]
        ctx.pointer = node.pointer
        el = registry.Element(node.type, props, parts, node.events, own, parent, run)
        template = self._theme_template(node.type)
        if template is not None:
            return str(template.render(props=props, children=Markup(el.children), type=node.type, attrs=el.attrs()))
        if entry is None and ctx.pkg is not None:
            comp = ctx.pkg.find_component(node.type)
            if comp is not None and comp is not ctx.comp:
                # A custom type named after a component of the same package is that component.
                if parts:
                    props["children"] = Markup(el.children)
                return self._render_def(ctx.pkg, comp, props, ctx)
        if entry is None:
            run.unknown[node.type] += 1
            ctx.warn("node has no `type` (nor `ref`/`$ref`): rendered as an empty container" if not node.type
                     else f"unknown component type {node.type!r}: rendered as an empty container")
            return registry.unknown(el)
        run.at = ctx
        html = entry.render(el)
        if nav is not None and f'href="{escape(nav)}"' not in html:
            # The type draws no link of its own (a Card, a Box): the whole drawing becomes the link.
            html = tag("a", {"class": "mb-nav-link", "href": nav}, html)
        return html

    def unknown_elements(self, pkg: Package | None, nodes: list[CNode]) -> list[CElement]:
        """The elements of a compiled tree whose type nothing renders: no registry entry, no theme template, no
        component of that name in the package (what `mbsite check` reports; a render only warns)."""
        found = []
        for el in elements(nodes):
            if el.type in registry.REGISTRY or self._theme_template(el.type) is not None:
                continue
            if pkg is not None and pkg.find_component(el.type) is not None:
                continue
            found.append(el)
        return found

    def _theme_template(self, type_: str) -> Any:
        if self.type_template is None:
            return None
        if type_ not in self._templates:
            self._templates[type_] = self.type_template(type_)
        return self._templates[type_]


def elements(nodes: list[CNode]) -> Iterator[CElement]:
    """Every element of a compiled tree, in document order, whichever branch or loop body holds it."""
    todo = list(reversed(nodes))
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is CElement:
            yield node  # type: ignore[misc]
            inner = [n for group in node.node_props.values() for n in group] + node.children  # type: ignore[attr-defined]
        elif kind is CCond:
            inner = node.then + node.other  # type: ignore[attr-defined]
        elif kind is CLoop:
            inner = node.body  # type: ignore[attr-defined]
        elif kind is CFragment:
            inner = node.children  # type: ignore[attr-defined]
        else:
            continue
        todo.extend(reversed(inner))


def _missing(ref: str, why: str = "missing") -> str:
    return tag("div", {"class": "mb-missing", "role": "note", "data-mb-missing": ref},
               escape(f"Component {why}: {ref}"))
