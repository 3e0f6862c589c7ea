"""JSON file bytes → Python values, tolerant of upstream quirks, with precise error locations.

Upstream data has two quirks a standard parser gets wrong or reports poorly:

* duplicate ``"type"`` keys in one object (``{"type": "TextField", ..., "type": "email"}``): the
  first is the component type, later ones are the HTML input type, kept as ``inputType``;
* invalid JSON (a missing comma): reported as ``file:line:column`` so an author can fix it.

Schema validation lives here too because it is a property of loaded JSON, and it only ever warns.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .errors import DataError, Location, Problem

INPUT_TYPE_KEY = "inputType"


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
    rest = _skip_ws(text, end)
    if rest != len(text):
        line = text.count("\n", 0, rest) + 1
        column = rest - (text.rfind("\n", 0, rest) + 1) + 1
        raise DataError("invalid JSON: extra data after the value", Location(file=source, line=line, column=column))
    return value


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


def validate(value: Any, schema_name: str, *, source: str, package: str | None = None,
             limit: int = 20) -> list[Problem]:
    """Value → schema warnings (JSON pointer each); never raises, never gates loading."""
    validator = _validator(schema_name)
    if validator is None:
        return []
    problems: list[Problem] = []
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    for err in errors[:limit]:
        where = Location(file=source, pointer=pointer(err.absolute_path), package=package)
        problems.append(Problem("warning", f"schema {schema_name}: {_short(err.message)}", where, "schema"))
    if len(errors) > limit:
        problems.append(Problem("warning", f"schema {schema_name}: {len(errors) - limit} more problems",
                                Location(file=source, package=package), "schema"))
    return problems


def _short(message: str, width: int = 160) -> str:
    return message if len(message) <= width else message[: width - 1] + "…"
