"""JSON file bytes → Python values, tolerant of upstream quirks, with precise error locations.

Upstream data has two quirks a standard parser gets wrong or reports poorly:

* duplicate ``"type"`` keys in one object (``{"type": "TextField", ..., "type": "email"}``): the
  first is the component type, later ones are the HTML input type, kept as ``inputType``;
* invalid JSON (a missing comma): reported as ``file:line:column`` so an author can fix it.

Nesting is bounded (MAX_DEPTH): deeper values break what reads them later (digests, the component compiler),
and a few thousand brackets exhaust the decoder's recursion. A file past the bound names the bracket that crosses it.

Schema validation lives here too because it is a property of loaded JSON, and it only ever warns.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import orjson

from .errors import DataError, Location, Problem

INPUT_TYPE_KEY = "inputType"
# Arrays and objects inside each other: orjson (digests, the build state) refuses anything deeper.
MAX_DEPTH = 254


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object; the first ``type`` wins and later ones become ``inputType``."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            if key == "type":
                # The first "type" names the component; a later one is the HTML input type.
                obj.setdefault(INPUT_TYPE_KEY, value)
                continue
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook)


def loads(text: str, *, source: str = "<string>") -> Any:
    """JSON text → value (duplicate-``type`` aware); raises DataError with line and column."""
    try:
        value, end = _DECODER.raw_decode(text, _skip_ws(text, 0))
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON: {err.msg}", Location(file=source, line=err.lineno, column=err.colno)) from None
    except RecursionError:
        raise _too_deep(text, source) from None
    if isinstance(value, (dict, list)):
        try:  # orjson counts the depth in C, far faster than a walk in Python; it refuses exactly past MAX_DEPTH
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            if _depth_crossing(text) is not None:  # (else a value orjson cannot write, such as a huge integer)
                raise _too_deep(text, source) from None
    rest = _skip_ws(text, end)
    if rest != len(text):
        line = text.count("\n", 0, rest) + 1
        column = rest - (text.rfind("\n", 0, rest) + 1) + 1
        raise DataError("invalid JSON: extra data after the value", Location(file=source, line=line, column=column))
    return value


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth_crossing(text: str) -> int | None:
    """Offset of the bracket that opens level MAX_DEPTH + 1, or None (strings skipped)."""
    depth = 0
    for m in _TOKENS.finditer(text):
        c = text[m.start()]
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


def _too_deep(text: str, source: str) -> DataError:
    at = _depth_crossing(text) or 0
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return DataError(f"invalid JSON: nested deeper than {MAX_DEPTH} levels", Location(file=source, line=line, column=column))


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n\ufeff":
        pos += 1
    return pos


def read_json(path: Path, *, source: str) -> tuple[Any, str]:
    """A JSON file → (value, sha256 hex of its bytes); raises DataError (bad encoding or JSON)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"not UTF-8: {err.reason}", Location(file=source)) from None
    return loads(text, source=source), digest


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- schemas (warnings only)

def schema_dirs() -> list[Path]:
    """Where mbsite's own schemas live: the repo's schemas/ or the copy bundled in the wheel."""
    here = Path(__file__).resolve().parent
    return [p for p in (here.parent / "schemas", here / "builtin" / "schemas") if p.is_dir()]


@lru_cache(maxsize=None)
def _validator(name: str) -> Any:
    """The Draft 2020-12 validator for schemas/<name>, or None when the schema is not installed."""
    from jsonschema import Draft202012Validator  # heavy import, only when validating

    for base in schema_dirs():
        path = base / name
        if path.is_file():
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            return Draft202012Validator(schema)
    return None


def pointer(parts: Iterable[Any]) -> str:
    """Path parts → RFC 6901 JSON pointer."""
    out = ""
    for part in parts:
        out += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return out or "/"


class SchemaResults:
    """Schema validation results keyed by (schema, document digest), optionally kept in a file between runs:
    validating every package on every build costs more than the rest of a no-op build. The builder's site model
    owns one (kept across its builds); a one-off load gets its own."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._found: dict[str, list[list[Any]]] = {}
        self._dirty = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = None
            if isinstance(loaded, dict):
                self._found.update(loaded)

    def save(self) -> None:
        """Write the results to the file (when there is one and something new was validated)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._found), encoding="utf-8")
        os.replace(tmp, self.path)
        self._dirty = False

    def validate(self, value: Any, schema_name: str, *, source: str, package: str | None = None,
                 limit: int = 20) -> list[Problem]:
        """Value → schema warnings (JSON pointer each); never raises, never gates loading."""
        if not _schema_digest(schema_name):
            return []
        key = schema_name + ":" + _schema_digest(schema_name) + ":" + hashlib.sha256(
            orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()
        found = self._found.get(key)
        if found is None:
            validator = _validator(schema_name)
            errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
            found = [[_short(e.message), pointer(e.absolute_path)] for e in errors[:limit]]
            if len(errors) > limit:
                found.append([f"{len(errors) - limit} more problems", None])
            self._found[key] = found
            self._dirty = True
        return [Problem("warning", f"schema {schema_name}: {message}",
                        Location(file=source, pointer=ptr, package=package), "schema") for message, ptr in found]


@lru_cache(maxsize=None)
def _schema_digest(name: str) -> str:
    for base in schema_dirs():
        path = base / name
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return ""


def _short(message: str, width: int = 160) -> str:
    return message if len(message) <= width else message[: width - 1] + "…"
