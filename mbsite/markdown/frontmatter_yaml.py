"""YAML front matter, read fast when it is the common flat kind.

Almost every front matter is a handful of `key: value` lines: a title, a date, a list of tags in brackets.
For that shape `simple_yaml` builds the mapping itself and gives each scalar PyYAML's own type — the same
implicit resolvers (`null`, `true`, `2024-01-05`, `3`, `1.5` …) and the same constructors — which costs a
fraction of a full YAML parse. Anything else (nesting, block lists, anchors, escapes, multi-line or unusual
scalars) is left to PyYAML: `simple_yaml` returns None and `parse_yaml` reads the text with the bounded YAML
loader (`yamlload`), whose errors name the file and line. Tests compare both readings over generated front matter.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import DataError, Location
from ..yamlload import FRONT_MATTER_LIMITS, load

# key: value — a plain key, one space at least after the colon (or nothing: a null value).
_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(.*?))?[ ]*\Z")
# A plain scalar that YAML reads as one line of text: no indicator first, no ': ' or ' #' or tab inside, and
# none of the flow characters (which would make `[a, b]` or `{x}` mean something else).
_PLAIN = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s](?:[^:#\t\[\]{}]|:(?=[^\s])|(?<=[^\s])#)*\Z")
_FLOW_ITEM = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@`\s][^:#\t,\[\]{}]*\Z")
# Characters YAML treats specially wherever they are (line breaks other than \n, characters it refuses, the byte
# order mark): a front matter holding one goes to the YAML parser, which knows what to do or says what is wrong.
_UNUSUAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_SINGLE = re.compile(r"'([^'\\\n]*)'\Z")
_DOUBLE = re.compile(r'"([^"\\\n]*)"\Z')


_STR = "tag:yaml.org,2002:str"


class _Reader:
    """PyYAML's resolver and safe constructors, applied to one scalar at a time."""

    def __init__(self) -> None:
        self.loader = yaml.SafeLoader("")
        self.constructors = yaml.SafeLoader.yaml_constructors

    def is_text(self, text: str) -> bool:
        return self.loader.resolve(yaml.ScalarNode, text, (True, False)) == _STR

    def plain(self, text: str) -> tuple[bool, Any]:
        tag = self.loader.resolve(yaml.ScalarNode, text, (True, False))
        if tag == _STR:
            return True, text
        construct = self.constructors.get(tag)
        if construct is None:  # a tag the safe loader refuses: YAML reports it
            return False, None
        try:
            return True, construct(self.loader, yaml.ScalarNode(tag, text))
        except (ValueError, OverflowError):  # `2024-13-45`: the YAML loader says where and why
            return False, None


_reader: _Reader | None = None


def _scalar(text: str, reader: _Reader, item: bool = False) -> tuple[bool, Any]:
    if not text:
        return (not item), None
    if text[0] == "'":
        m = _SINGLE.match(text)
        return (True, m.group(1)) if m else (False, None)
    if text[0] == '"':
        m = _DOUBLE.match(text)
        return (True, m.group(1)) if m else (False, None)
    if (_FLOW_ITEM if item else _PLAIN).match(text) is None:
        return False, None
    return reader.plain(text)


def simple_yaml(lines: list[str]) -> dict[str, Any] | None:
    """The mapping that `lines` hold when every line is `key: scalar` or `key: [scalar, …]` (blank lines and
    comment lines allowed), typed as PyYAML would; None when the text needs the full YAML parser."""
    global _reader
    reader = _reader
    if reader is None:
        reader = _reader = _Reader()
    data: dict[str, Any] = {}
    for line in lines:
        if _UNUSUAL.search(line):
            return None
        if not line or line.isspace() or line[0] == "#":
            if line[:1] not in ("", "#") and not line.isspace():
                return None
            continue
        m = _LINE.match(line)
        if m is None:
            return None
        key, value = m.group(1), m.group(2) or ""
        if key in data or not reader.is_text(key):
            return None  # let YAML decide what a repeated key means
        if value.startswith("["):
            if not value.endswith("]"):
                return None
            inner = value[1:-1].strip()
            items: list[Any] = []
            if inner:
                for part in inner.split(","):
                    ok, item = _scalar(part.strip(), reader, item=True)
                    if not ok:
                        return None
                    items.append(item)
            data[key] = items
            continue
        ok, scalar = _scalar(value, reader)
        if not ok:
            return None
        data[key] = scalar
    return data


def parse_yaml(raw: str, file: str) -> dict[str, Any]:
    """Front matter text (the lines between the `---` markers) → its mapping, read by the bounded YAML loader;
    any problem is a DataError naming the file and its line (the front matter starts on line 2)."""
    try:
        data = load(raw, file, line=2, limits=FRONT_MATTER_LIMITS)
    except DataError as exc:
        raise DataError(f"front matter: {exc.message.removeprefix('invalid YAML: ')}", exc.location) from None
    if not data:
        return {}
    if not isinstance(data, dict):
        raise DataError("front matter: expected a mapping of keys", Location(file=file, line=2))
    return data


__all__ = ["parse_yaml", "simple_yaml"]
