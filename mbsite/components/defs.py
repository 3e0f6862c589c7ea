"""Component definition files (three upstream shapes) → ComponentDef values.

Shapes (FORMAT §3.1, §3.8): ``components/ui.json`` envelopes ``{"components": [{id, name, props: [...],
render: {template}}]}``; ``component/ui-components.json`` arrays ``[{id, name, template, props: {defaults},
schema}]``; ``seed/component.json`` widget rows ``[{id, name, type, props}]`` that carry no tree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, Problem


@dataclass(frozen=True, eq=False)
class ComponentDef:
    """One component: its prop defaults, initial state and element tree (`template`)."""

    package: str
    id: str
    name: str
    description: str
    props: tuple[dict[str, Any], ...]
    defaults: dict[str, Any]
    state: dict[str, Any]
    template: Any  # a node, or None when the definition carries no tree (seed widget rows)
    source: str    # file key, e.g. "packages/ui_home/components/ui.json"
    pointer: str   # JSON pointer of the component inside that file
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.package}:{self.id}"


def components_from_file(package: str, data: Any, source: str, problems: list[Problem]) -> list[ComponentDef]:
    """A parsed component file → its components (malformed entries reported and skipped)."""
    if isinstance(data, dict):
        items, base = data.get("components"), "/components"
        if items is None:
            return []
    else:
        items, base = data, ""
    if not isinstance(items, list):
        problems.append(Problem("warning", "`components` is not a list; ignored",
                                Location(file=source, pointer=base or "/", package=package)))
        return []
    out: list[ComponentDef] = []
    for index, raw in enumerate(items):
        ptr = f"{base}/{index}"
        comp = _component(package, raw, source, ptr)
        if comp is None:
            problems.append(Problem("warning", "component entry has no usable id; skipped",
                                    Location(file=source, pointer=ptr, package=package)))
            continue
        out.append(comp)
    return out


def _component(package: str, raw: Any, source: str, ptr: str) -> ComponentDef | None:
    if not isinstance(raw, dict):
        return None
    cid = raw.get("id") if isinstance(raw.get("id"), str) else raw.get("name")
    if not isinstance(cid, str) or not cid:
        return None
    name = raw.get("name") if isinstance(raw.get("name"), str) else cid
    render = raw.get("render")
    template: Any = None
    if isinstance(render, dict):
        template = render.get("template")
        if template is None and render.get("type") == "conditional":
            # A whole-component conditional has condition/then/else and no template.
            template = {"type": "conditional", "condition": render.get("condition"),
                        "then": render.get("then"), "else": render.get("else")}
    elif "template" in raw:
        template = raw.get("template")
    elif isinstance(raw.get("type"), str):
        # A seed widget row: a named custom type with default props and no tree of its own.
        template = {"type": raw["type"]}
    return ComponentDef(
        package=package, id=cid, name=name, description=str(raw.get("description") or ""),
        props=tuple(p for p in raw.get("props", ()) if isinstance(p, dict)) if isinstance(raw.get("props"), list) else (),
        defaults=_defaults(raw), state=_state(raw.get("state")), template=template,
        source=source, pointer=ptr, raw=raw,
    )


def _defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """Prop defaults from a `props` list, a `props` dict of values, or a JSON-Schema `schema`."""
    out: dict[str, Any] = {}
    schema = raw.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
        for key, spec in schema["properties"].items():
            if isinstance(spec, dict) and "default" in spec:
                out[key] = spec["default"]
    props = raw.get("props")
    if isinstance(props, list):
        for spec in props:
            if isinstance(spec, dict) and isinstance(spec.get("name"), str) and "default" in spec:
                out[spec["name"]] = spec["default"]
    elif isinstance(props, dict):
        out.update(props)
    return out


def _state(state: Any) -> dict[str, Any]:
    """`state` is a list of {name, default} or a dict of name → default (or → {type, default})."""
    out: dict[str, Any] = {}
    if isinstance(state, list):
        for item in state:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                out[item["name"]] = item.get("default")
    elif isinstance(state, dict):
        for key, value in state.items():
            if isinstance(value, dict) and ("default" in value or "type" in value) and set(value) <= {"type", "default", "description", "initial"}:
                out[key] = value.get("default", value.get("initial"))
            else:
                out[key] = value
    return out
