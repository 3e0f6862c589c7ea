"""YAML text → Python values, bounded: size, nesting and alias expansion are checked before anything is built.

Every YAML the build reads (front matter, seed files, entity files, package YAML) goes through this module, so
one hostile file cannot take a build down. PyYAML alone can be made to:

* expand a few lines of anchors and aliases ("billion laughs") into more values than memory holds — the loader
  shares the aliased objects, but whatever walks the result afterwards (a digest, a JSON dump) does not;
* recurse in C on deeply nested flow collections (`[[[[…` a few hundred thousand levels: a segfault);
* raise a bare ValueError for a well-formed but impossible date (`2024-13-45`).

So the text is first read as a stream of parser events (libyaml's parser keeps its own stacks and yields one
event at a time), counting nesting depth and the values each alias stands for; a file over a limit stops at
the event that crosses it. Only then is it composed (libyaml, fast) and constructed by the safe constructor,
whose errors name the value's line. Every error is a DataError `file:line[:column]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from .errors import DataError, Location, relpath

# libyaml's parser and composer when PyYAML was built with them (about 10x faster), else the pure-Python ones.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Limits:
    """What one YAML text may hold: its size in bytes, its nesting depth, and its values once aliases are
    expanded (each scalar, sequence and mapping counts one; an alias counts what its anchor holds)."""

    bytes: int = 32 * 1024 * 1024
    depth: int = 100
    values: int = 1_000_000


DEFAULT_LIMITS = Limits()
# A page's front matter is a header: a few keys, sometimes a small `data` mapping.
FRONT_MATTER_LIMITS = Limits(bytes=1024 * 1024, values=100_000)

_KINDS = {"timestamp": "date", "int": "integer", "float": "number", "bool": "boolean", "binary": "binary value"}


def load(text: str, source: str | None, *, line: int = 1, limits: Limits = DEFAULT_LIMITS) -> Any:
    """One YAML document → its value (None for an empty text). `line`: the file line the text starts on."""
    docs = load_all(text, source, line=line, limits=limits)
    if len(docs) > 1:
        raise DataError("expected one YAML document, found several", Location(file=source, line=line))
    return docs[0] if docs else None


def load_all(text: str, source: str | None, *, line: int = 1, limits: Limits = DEFAULT_LIMITS) -> list[Any]:
    """Every document of a YAML stream → its value."""
    return [construct(node, source, line=line) for node in compose_all(text, source, line=line, limits=limits)]


def read_all(path: Path, root: Path | None = None, *, limits: Limits = DEFAULT_LIMITS) -> list[Any]:
    """A YAML file → the value of each document; its size is checked before it is read."""
    source = relpath(path, root)
    return load_all(read_text(path, source, limits), source, limits=limits)


def read_text(path: Path, source: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """A YAML file's text, refused (DataError) when it is larger than the limit or not UTF-8."""
    size = path.stat().st_size
    if size > limits.bytes:
        raise DataError(f"YAML file of {size} bytes is over the limit of {limits.bytes}", Location(file=source))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8: {exc.reason}", Location(file=source)) from None


def compose_all(text: str, source: str | None, *, line: int = 1,
                limits: Limits = DEFAULT_LIMITS) -> list[yaml.Node]:
    """The node tree of each document (nodes keep their marks, for located messages), after the limits held."""
    check(text, source, line=line, limits=limits)
    try:
        return [node for node in yaml.compose_all(text, Loader=_Loader) if node is not None]
    except yaml.YAMLError as exc:  # pragma: no cover - check() has parsed the same events already
        raise _error(exc, text, source, line) from None


def construct(node: yaml.Node, source: str | None, *, line: int = 1) -> Any:
    """One composed document → its value, by the safe constructor; a value it cannot build names its line."""
    constructor = _Constructor(source, line)
    try:
        return constructor.construct_document(node)
    except ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DataError(f"invalid YAML: {exc.problem or exc}", _where(source, line, mark)) from None


def check(text: str, source: str | None, *, line: int = 1, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise DataError when `text` is over a limit or is not YAML; builds nothing."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > limits.bytes:
        raise DataError(f"YAML text of {size} bytes is over the limit of {limits.bytes}",
                        Location(file=source, line=line))
    # Per open collection: [values it holds so far, its anchor]. An anchor's size is known once it is complete.
    stack: list[list[Any]] = []
    anchors: dict[str, int] = {}
    total = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            kind = type(event)
            if kind is yaml.ScalarEvent:
                size = 1
                if event.anchor:
                    anchors[event.anchor] = 1
            elif kind is yaml.AliasEvent:
                size = anchors.get(event.anchor, 1)  # an unknown alias is the composer's error to report
            elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                total += 1
                stack.append([1, event.anchor])
                if len(stack) > limits.depth:
                    raise DataError(f"YAML nested deeper than {limits.depth} levels",
                                    _where(source, line, event.start_mark))
                continue
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                size, anchor = stack.pop()
                if anchor:
                    anchors[anchor] = size
                if stack:
                    stack[-1][0] += size
                continue
            else:
                if kind is yaml.DocumentStartEvent:
                    anchors.clear()  # anchors do not cross documents
                continue
            total += size
            if stack:
                stack[-1][0] += size
            if total > limits.values:
                raise DataError(f"YAML expands to more than {limits.values} values (aliases of aliases?)",
                                _where(source, line, event.start_mark))
    except yaml.YAMLError as exc:
        raise _error(exc, text, source, line) from None


class _Constructor(SafeConstructor):
    """The safe constructor, turning a scalar it cannot build (`2024-13-45`) into a located DataError."""

    def __init__(self, source: str | None, line: int) -> None:
        super().__init__()
        self.source, self.first_line = source, line

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else tag
            raise DataError(f"invalid {_KINDS.get(tag, tag)} {value!r}: {exc}",
                            _where(self.source, self.first_line, node.start_mark)) from None


def _where(source: str | None, line: int, mark: Any) -> Location:
    if mark is None:
        return Location(file=source, line=line)
    return Location(file=source, line=mark.line + line, column=mark.column + 1)


def _error(exc: yaml.YAMLError, text: str, source: str | None, line: int) -> DataError:
    """A parser error as a DataError. libyaml's marks can point past the error: the Python parser says where."""
    if _Loader is not yaml.SafeLoader:
        try:
            for _ in yaml.parse(text, Loader=yaml.SafeLoader):
                pass
        except yaml.YAMLError as precise:
            exc = precise
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return DataError(f"invalid YAML: {problem}", _where(source, line, mark))


__all__ = ["DEFAULT_LIMITS", "FRONT_MATTER_LIMITS", "Limits", "check", "compose_all", "construct", "load",
           "load_all", "read_all", "read_text"]
