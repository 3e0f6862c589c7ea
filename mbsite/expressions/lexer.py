"""Expression text → tokens (kind, value, column): numbers, strings (unescaped), names and operators.

One regular expression, tried at each position; whitespace is dropped and the list always ends with an `end`
token whose column is one past the text, so the parser can name the position of a missing closing part.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..errors import ExpressionError, Location

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>===|!==|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?!\d)|[-+*/%<>!?:.,()\[\]{}|])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


class Token(NamedTuple):
    """One token. `value` is the number (int or float) of a `num`, the unescaped text of a `str`, the text of a
    `name` or an `op`, and None for `end`; `column` counts from 1."""

    kind: str
    value: Any
    column: int


# Builds a Token from a tuple in C, skipping NamedTuple's Python-level __new__: tokenizing is most of a parse.
_token = tuple.__new__


def _escape(match: re.Match[str]) -> str:
    code = match.group(1)
    return chr(int(code[1:], 16)) if len(code) == 5 else _ESCAPES.get(code, code)


def _unquote(raw: str) -> str:
    return _ESCAPE.sub(_escape, raw[1:-1])


def tokenize(src: str) -> list[Token]:
    """Expression text → tokens, the last one of kind `end`; an unknown character is an error at its column."""
    tokens: list[Token] = []
    append = tokens.append
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {src[pos]!r}", Location(column=pos + 1))
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "num":
            append(_token(Token, ("num", float(text) if any(c in text for c in ".eE") else int(text), pos + 1)))
        elif kind == "str":
            append(_token(Token, ("str", _unquote(text), pos + 1)))
        elif kind != "ws":
            append(_token(Token, (kind, text, pos + 1)))
        pos = m.end()
    append(Token("end", None, len(src) + 1))
    return tokens
