"""`{{ … }}` text → values, with JavaScript semantics and no eval: the public API of the expression language.

The pipeline, one module per stage: ``lexer`` (text → tokens) → ``parser`` (tokens → the typed AST of ``nodes``)
→ ``compiler`` (AST → closures, cached by source text, so a component rendered many times parses each string
once), over the value semantics of ``values`` and the callable tables of ``library``.

Nothing here can reach Python attributes: member access reads dict keys, list indexes and ``.length`` only;
calls are limited to ``Math.*``, a few pure string/array/date methods and conversions. Any other call or arrow
function yields an inert :class:`Action` marker.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..errors import ExpressionError
from .compiler import Expression, Fn, Scope, compile_expression, compile_node
from .lexer import Token, tokenize
from .parser import MAX_DEPTH, MAX_SOURCE, parse
from .values import (
    UNDEFINED,
    Action,
    get_member,
    loose_equal,
    strict_equal,
    to_number,
    to_string,
    to_text,
    truthy,
)

__all__ = [
    "MAX_DEPTH", "MAX_SOURCE", "UNDEFINED", "Action", "DictScope", "Expression", "Fn", "Scope", "Token",
    "compile_expression", "compile_node", "evaluate", "get_member", "interpolate", "is_template", "loose_equal",
    "parse", "split_template", "strict_equal", "to_number", "to_string", "to_text", "tokenize", "truthy",
]


class DictScope:
    """Adapts a plain mapping to the scope protocol (tests, page props)."""

    __slots__ = ("data", "warnings")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.warnings: list[str] = []

    def lookup(self, name: str) -> tuple[bool, Any]:
        return (True, self.data[name]) if name in self.data else (False, None)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _scope(scope: Scope | dict[str, Any]) -> Scope:
    return DictScope(scope) if isinstance(scope, dict) else scope


def _warn(scope: Scope, message: str) -> None:
    warn = getattr(scope, "warn", None)
    if warn is not None:
        warn(message)


def evaluate(src: str, scope: Scope | dict[str, Any]) -> Any:
    """Expression text → value; never raises: errors give UNDEFINED and a warning through scope.warn."""
    scope = _scope(scope)
    try:
        return compile_expression(src).evaluate(scope)
    except ExpressionError as err:
        column = f" (column {err.location.column})" if err.location.column else ""
        _warn(scope, f"expression error{column}: {err.message}")
    except (RecursionError, OverflowError, ValueError, TypeError) as err:
        _warn(scope, f"expression {src!r} failed: {err}")
    return UNDEFINED


_PART = re.compile(r"\{\{(.*?)\}\}", re.S)


@lru_cache(maxsize=8192)
def split_template(text: str) -> tuple[tuple[bool, str], ...]:
    """Text with `{{…}}` → ((is_expression, text), …); an unclosed `{{` becomes an empty expression."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in _PART.finditer(text):
        if m.start() > pos:
            parts.append((False, text[pos:m.start()]))
        parts.append((True, m.group(1).strip()))
        pos = m.end()
    rest = text[pos:]
    if "{{" in rest:
        cut = rest.index("{{")
        if cut:
            parts.append((False, rest[:cut]))
        parts.append((True, ""))
    elif rest:
        parts.append((False, rest))
    return tuple(parts)


def is_template(value: Any) -> bool:
    """Whether `value` is a string holding at least one `{{`."""
    return isinstance(value, str) and "{{" in value


def interpolate(text: str, scope: Scope | dict[str, Any]) -> Any:
    """Template text → value: a whole `{{x}}` gives the raw value; mixed text gives a string."""
    if "{{" not in text:
        return text
    scope = _scope(scope)
    parts = split_template(text)
    if len(parts) == 1 and parts[0][0]:
        return evaluate(parts[0][1], scope)
    return "".join(to_text(evaluate(src, scope)) if is_expr else src for is_expr, src in parts)
