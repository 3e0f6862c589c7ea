"""Registry entries for forms: `<form method=post>` plus controls, each with an associated `<label>`.

Field ids are deterministic per render (mb-f1, mb-f2, …) unless the data gives an `id`; a
FormControl hands its id to the InputLabel and Select inside it, so `<label for>` always points at
the control. Forms post to their `action`, or to the CRUD function of an `entity`, so they work
without JavaScript; event handlers stay inert `data-action` markers.
"""
from __future__ import annotations

from typing import Any

from ..expressions import to_text, truthy
from .html import tag, text
from .registry import Element, renders, variant_classes
from .urls import safe_url

_INPUT_TYPES = frozenset({"text", "email", "password", "number", "search", "tel", "url", "date", "time",
                          "datetime-local", "month", "week", "color", "hidden", "file", "range"})


def _field_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    own = props.get("id")
    if isinstance(own, str) and own:
        fid = own
    elif inherit.get("form_control") and not props.get("label"):
        fid = inherit["field_id"]  # the FormControl's InputLabel already points at this id
    else:
        fid = run.next_id()
    out = {**inherit, "field_id": fid}
    if truthy(props.get("select")) or "options" in props:
        out.update(select=True, select_value=props.get("value"))
    return out


def _select_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    own = props.get("id")
    fid = own if isinstance(own, str) and own else inherit.get("field_id") or run.next_id()
    return {**inherit, "field_id": fid, "select": True, "select_value": props.get("value")}


def _group_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    name = props.get("name")
    return {**inherit, "radio_name": name if isinstance(name, str) else run.next_id()}


def _control_attrs(el: Element, fid: str | None) -> dict[str, Any]:
    value = el.get("value", el.get("defaultValue"))
    return {
        "id": fid, "name": el.get("name") if isinstance(el.get("name"), str) else None,
        "placeholder": to_text(el.get("placeholder")) or None, "required": el.flag("required"),
        "disabled": el.flag("disabled"), "readonly": el.flag("readOnly") or el.flag("readonly"),
        "value": to_text(value) if value is not None and not isinstance(value, (dict, list)) else None,
        "autocomplete": el.get("autoComplete") if isinstance(el.get("autoComplete"), str) else None,
        "aria-invalid": "true" if el.flag("error") else None,
    }


def _labelled(el: Element) -> bool:
    """True inside a FormControl whose InputLabel already labels this control's id."""
    marks = el.inherit.get("labelled")
    return bool(marks) and el.inherit.get("field_id") in marks


def _options(el: Element) -> str:
    """`options` as strings or {value, label} objects → <option>s (when not given as MenuItem children)."""
    options = el.get("options")
    if not isinstance(options, list):
        return ""
    selected = to_text(el.get("value"))
    out = []
    for opt in options:
        value, label = (opt.get("value"), opt.get("label", opt.get("value"))) if isinstance(opt, dict) else (opt, opt)
        out.append(tag("option", {"value": to_text(value), "selected": selected != "" and to_text(value) == selected},
                       text(to_text(label))))
    return "".join(out)


@renders("form", "Form")
def form(el: Element) -> str:
    action = safe_url(el.get("action"))
    entity = el.get("entity")
    tenant = el.run.page.tenant.get("slug") if isinstance(el.run.page.tenant, dict) else None
    package = el.get("package") or el.inherit.get("package")
    if action is None and isinstance(entity, str) and tenant and package:
        action = f"/api/v1/{tenant}/{package}/{entity}"
    attrs = el.attrs("mb-form")
    if action is not None:
        attrs.update(method="post", action=action)
    return tag("form", attrs, el.children)


@renders("TextField", "Input", "input", "Textarea", "textarea", "ColorPicker", provide=_field_provide)
def text_field(el: Element) -> str:
    fid = el.inherit["field_id"]
    label = el.text("label")
    helper = el.text("helperText")
    help_id = f"{fid}-help" if helper else None
    attrs = _control_attrs(el, fid)
    attrs["aria-describedby"] = help_id
    if not label and not el.inherit.get("form_control"):
        aria = el.get("aria-label") or el.get("placeholder") or el.get("name")
        attrs["aria-label"] = to_text(aria) or None
    kind = el.get("inputType") or el.get("type")
    if el.type == "ColorPicker":
        kind = "color"
    multiline = el.flag("multiline") or el.type in ("Textarea", "textarea")
    if el.inherit.get("select"):
        control = tag("select", {"class": "mb-select", **attrs, "value": None}, _options(el) + el.children)
    elif multiline:
        value = attrs.pop("value")
        rows = el.get("rows", el.get("minRows"))
        control = tag("textarea", {"class": "mb-textarea", **attrs, "rows": rows if isinstance(rows, int) else None},
                      text(value or ""))
    else:
        attrs["type"] = kind if kind in _INPUT_TYPES else "text"
        for key in ("min", "max", "step", "minLength", "maxLength", "pattern"):
            if isinstance(el.get(key), (int, float, str)) and not isinstance(el.get(key), bool):
                attrs[key.lower()] = el.get(key)
        control = tag("input", {"class": "mb-input", **attrs})
    if el.type in ("input", "Input", "textarea") and not label and not helper:
        return tag("span", el.attrs("mb-field mb-field--bare", id=None), control)
    inner = (tag("label", {"for": fid, "class": "mb-field__label"}, label) if label else "") + control
    if helper:
        inner += tag("p", {"id": help_id, "class": "mb-field__help"}, helper)
    cls = variant_classes(el, "mb-field", "variant", "size") + (" mb-full-width" if el.flag("fullWidth") else "")
    return tag("div", el.attrs(cls, id=None), inner)  # the id is the control's


@renders("Select", "select", "NativeSelect", provide=_select_provide)
def select(el: Element) -> str:
    fid = el.inherit["field_id"]
    attrs = _control_attrs(el, fid)
    attrs.pop("value")
    attrs.pop("placeholder")
    label = "" if _labelled(el) else el.text("label")
    if not label and not el.inherit.get("form_control"):
        attrs["aria-label"] = to_text(el.get("aria-label") or el.get("placeholder") or el.get("name")) or None
    control = tag("select", {**el.attrs("mb-select"), **attrs, "multiple": el.flag("multiple")},
                  _options(el) + el.children)
    if label:
        return tag("div", {"class": "mb-field"}, tag("label", {"for": fid, "class": "mb-field__label"}, label) + control)
    return control


def _check(el: Element, kind: str, role: str | None = None) -> str:
    fid = el.get("id") if isinstance(el.get("id"), str) else el.run.next_id()
    name = el.get("name") if isinstance(el.get("name"), str) else el.inherit.get("radio_name") if kind == "radio" else None
    value = el.get("value")
    checked = el.get("checked", el.get("defaultChecked"))
    if kind == "radio" and checked is None and "radio_value" in el.inherit:
        checked = to_text(value) == to_text(el.inherit.get("radio_value"))
    attrs = {"type": kind, "id": fid, "name": name, "role": role, "checked": truthy(checked) and checked != "false",
             "disabled": el.flag("disabled"), "required": el.flag("required"),
             "value": to_text(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None}
    label = el.text("label")
    if not label and el.parent != "FormControlLabel":
        attrs["aria-label"] = to_text(el.get("aria-label") or el.get("name")) or None
    control = tag("input", {"class": f"mb-{kind if role is None else 'switch'}", **attrs})
    if label:
        return tag("label", el.attrs(f"mb-check mb-check--{role or kind}", id=None, **{"for": fid}),
                   control + tag("span", {"class": "mb-check__label"}, label))
    return control


@renders("Checkbox")
def checkbox(el: Element) -> str:
    return _check(el, "checkbox")


@renders("Switch")
def switch(el: Element) -> str:
    return _check(el, "checkbox", role="switch")


@renders("Radio")
def radio(el: Element) -> str:
    return _check(el, "radio")


@renders("RadioGroup", provide=_group_provide)
def radio_group(el: Element) -> str:
    return tag("div", el.attrs("mb-radio-group", role="radiogroup"), el.children)


@renders("Slider")
def slider(el: Element) -> str:
    fid = el.get("id") if isinstance(el.get("id"), str) else el.inherit.get("field_id") or el.run.next_id()
    attrs = _control_attrs(el, fid)
    attrs["type"] = "range"
    for key in ("min", "max", "step"):
        if isinstance(el.get(key), (int, float)) and not isinstance(el.get(key), bool):
            attrs[key] = el.get(key)
    if isinstance(el.get("value"), list):
        attrs["value"] = to_text(el.get("value")[0]) if el.get("value") else None
    label = el.text("label")
    control = tag("input", {"class": "mb-slider", **attrs})
    if label:
        return tag("div", el.attrs("mb-field", id=None),
                   tag("label", {"for": fid, "class": "mb-field__label"}, label) + control)
    if "aria-label" not in attrs and not el.inherit.get("field_id"):
        control = control.replace("<input ", f'<input aria-label="{text(to_text(el.get("name")) or "value")}" ', 1)
    return control


def _form_control_provide(props: dict[str, Any], inherit: dict[str, Any], run: Any) -> dict[str, Any]:
    # `labelled` is filled in by an InputLabel/FormLabel drawn inside, so a Select after it adds no second label.
    return {**inherit, "field_id": run.next_id(), "form_control": True, "labelled": []}


@renders("FormControl", "FormField", system=True, provide=_form_control_provide)
def form_control(el: Element) -> str:
    return tag("div", el.attrs(variant_classes(el, "mb-form-control", "variant")), el.children)


@renders("FormControlLabel")
def form_control_label(el: Element) -> str:
    control = el.text("control")
    return tag("label", el.attrs("mb-check"), control + tag("span", {"class": "mb-check__label"}, el.content("label")))
