"""Code highlighting with Pygments, driven faster.

Pygments' `RegexLexer` finds the next token by trying the rules of the current state one after another, one
`re.match` call per rule: about thirty Python-level calls per token for the Python lexer. The driver here joins
the rules of each state into one alternation, `(?:r1)()|(?:r2)()|…`, and asks the regular-expression engine
once; an alternation tries its branches in order at the same position, so the branch that matches is the rule
the sequential loop would have picked, and `lastindex` names it (the empty group after a rule closes after
every group inside it). When the rule's action needs the match object (`bygroups`, `using`, callbacks),
the rule's own pattern is run once at that position so the action sees the groups numbered as it expects.

A regular-expression engine gives up on a branch quickly only when the branch starts with a plain character,
so a state of fifty rules still costs fifty tries at every token. Each rule's possible first characters are
therefore worked out from its parsed pattern (asking the engine which ASCII characters each leading atom
matches, so case folding and classes count as they do when matching); at an ASCII character only the rules that
can start with it, or can match nothing, are joined and tried, still in their order. Letters, digits and spaces
share one join per class. Other characters and the end of the text use the join of all rules.

The token stream is the one Pygments produces: the state machine below is `RegexLexer.get_tokens_unprocessed`
step for step (tests compare the two over many lexers and inputs). A state whose rules cannot be joined safely
(back-references, which would count groups differently, mixed flags, or a join that does not compile) keeps
the sequential loop. Lexers that override `get_tokens_unprocessed` are used as they are.
"""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Any, Callable, Iterator

# A back-reference (`\1`, `(?P=name)`) or a conditional group (`(?(1)…)`) counts groups from the start of the
# pattern; joined with other rules, the numbers would point elsewhere. Textual and conservative: an escaped
# backslash before a digit also sends the state to the sequential loop, which is always correct.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")
_LEADING_FLAGS = re.compile(r"\A\(\?([imsx]+)\)")

_Step = tuple[Any, Any, Any]  # (rexmatch, action, new_state), as in RegexLexer._tokens


class _JoinedState:
    """One state's rules as a single pattern; `rules[i]` is the rule whose end marker is group i."""

    __slots__ = ("match", "rules")

    def __init__(self, match: Callable[..., Any], rules: list[_Step | None]) -> None:
        self.match = match
        self.rules = rules


_INLINE = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_ASCII = [chr(c) for c in range(128)]
_ALL = frozenset(range(128))


@lru_cache(maxsize=4096)
def _atom_chars(regex: str, flags: int) -> frozenset[int]:
    """The ASCII characters one single-character atom matches, found by asking the engine (so case folding,
    categories and negation mean exactly what they mean to it)."""
    try:
        match = re.compile(regex, flags & ~re.VERBOSE).fullmatch
    except re.error:
        return _ALL
    return frozenset(c for c, ch in enumerate(_ASCII) if match(ch))


def _class_regex(items: list[Any]) -> str | None:
    from re import _constants as sre

    cats = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
            sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W"}
    out = []
    for op, av in items:
        if op is sre.NEGATE:
            out.insert(0, "^")
        elif op is sre.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is sre.RANGE:
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is sre.CATEGORY and av in cats:
            out.append(cats[av])
        else:
            return None
    return "[" + "".join(out) + "]"


def _first(seq: Any, flags: int) -> tuple[frozenset[int], bool]:
    """(ASCII characters a match of `seq` can start with, whether it can match the empty string): a superset,
    from the parsed pattern; anything not understood counts as every character."""
    from re import _constants as sre

    chars: frozenset[int] = frozenset()
    for op, av in seq:
        nullable = False
        if op is sre.LITERAL:
            got = _atom_chars(re.escape(chr(av)), flags)
        elif op is sre.NOT_LITERAL:
            got = _atom_chars(f"[^{re.escape(chr(av))}]", flags)
        elif op is sre.ANY:
            got = _atom_chars(".", flags)
        elif op is sre.IN:
            regex = _class_regex(av)
            got = _ALL if regex is None else _atom_chars(regex, flags)
        elif op is sre.BRANCH:
            got, nullable = frozenset(), False
            for alternative in av[1]:
                f, n = _first(alternative, flags)
                got, nullable = got | f, nullable or n
        elif op is sre.SUBPATTERN:
            _group, add, remove, inner = av
            got, nullable = _first(inner, (flags | add) & ~remove)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, _high, inner = av
            got, nullable = _first(inner, flags)
            nullable = nullable or low == 0
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            got, nullable = _first(av, flags)
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            got, nullable = frozenset(), True  # zero width: the next item decides
        else:
            return _ALL, True
        chars |= got
        if not nullable:
            return chars, False
    return chars, True


def _first_of(pattern: re.Pattern[str]) -> tuple[frozenset[int], bool]:
    from re import _parser

    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        return _first(list(parsed), parsed.state.flags)
    except Exception:  # noqa: BLE001 - an analysis we cannot do: every character, every position
        return _ALL, True


def _join(steps: list[_Step], flags: int) -> _JoinedState | None:
    """One pattern for a state's rules, compiled with the lexer's flags (as Pygments compiled each rule)."""
    if not steps:
        return None
    parts: list[str] = []
    rules: list[_Step | None] = [None]
    for step in steps:
        pattern = step[0].__self__
        source = pattern.pattern
        if not isinstance(source, str) or _GROUP_REFERENCE.search(source) or pattern.groupindex:
            return None
        if source:  # (the empty pattern of a `default` rule matches everywhere, whatever the flags)
            lead = _LEADING_FLAGS.match(source)
            inline = 0
            if lead:  # a global inline flag must open a pattern: scope it to this rule instead
                for letter in lead.group(1):
                    inline |= _INLINE[letter]
                rest = source[lead.end():]
                # (In verbose mode a trailing `# comment` would swallow the closing parenthesis: end the line.)
                verbose = "x" in lead.group(1) or flags & re.VERBOSE
                source = f"(?{lead.group(1)}:{rest}\n)" if verbose else f"(?{lead.group(1)}:{rest})"
            elif source.startswith("(?") and re.match(r"\(\?[aiLmsux]+\)", source):
                return None
            try:
                if pattern.flags & ~inline != re.compile(source, flags).flags & ~inline:
                    return None  # compiled with other flags than the lexer's: leave this state alone
            except re.error:
                return None
        # The rule, then an empty group that closes last when the rule matches: `lastindex` names the rule. (Not
        # a group around the rule: a branch that starts with a literal or a character set lets the engine skip
        # it after one character, and a group in front would hide that.)
        parts.append(f"(?:{source}\n)()" if flags & re.VERBOSE else f"(?:{source})()")
        rules.extend([None] * pattern.groups)
        rules.append(step)
    try:
        joined = re.compile("|".join(parts), flags)
    except (re.error, OverflowError, RecursionError):
        return None
    if joined.groups != len(rules) - 1:
        return None
    return _JoinedState(joined.match, rules)


def _classes() -> dict[int, tuple[int, ...]]:
    groups = [[c for c in range(128) if test(chr(c))]
              for test in (str.islower, str.isupper, str.isdigit, str.isspace)]
    return {c: tuple(g) for g in groups for c in g}


_CLASSES = _classes()


def _no_match(_text: str, _pos: int) -> None:
    return None


_NOTHING = _JoinedState(_no_match, [None])


class _Dispatch:
    """A state's rules joined, and joined again per first character: at a position whose character is ASCII,
    only the rules that can start with it (or match nothing) are tried — in their order, so the first that
    matches is still the rule Pygments' loop would pick. Elsewhere (other characters, the end) all of them."""

    __slots__ = ("steps", "flags", "other", "table", "_firsts", "_joins")

    def __init__(self, steps: list[_Step], flags: int, other: _JoinedState) -> None:
        self.steps = steps
        self.flags = flags
        self.other = other
        self.table: list[_JoinedState | None] = [None] * 128
        self._firsts = [_first_of(step[0].__self__) for step in steps]
        self._joins: dict[tuple[int, ...], _JoinedState] = {}

    def at(self, code: int) -> _JoinedState:
        # Letters, digits and spaces go by class (one join for all lowercase letters, say): fewer patterns to
        # compile, and a class rarely adds a rule that one of its characters would not have had anyway.
        group = _CLASSES.get(code, (code,))
        chosen = tuple(i for i, (chars, nullable) in enumerate(self._firsts)
                       if nullable or not chars.isdisjoint(group))
        joined = self._joins.get(chosen)
        if joined is None:
            joined = _join([self.steps[i] for i in chosen], self.flags) if chosen else _NOTHING
            self._joins[chosen] = joined = joined or self.other
        for member in group:
            self.table[member] = joined
        return joined


class _JoinedTable(dict):
    """state name → its joined pattern (None: keep the rule loop), joined the first time the state is entered:
    joining all of a large lexer's states up front costs a tenth of a second; a code block visits a few."""

    def __init__(self, tokendefs: dict[str, list[_Step]], flags: int) -> None:
        super().__init__()
        self.tokendefs = tokendefs
        self.flags = flags

    def __missing__(self, state: str) -> _Dispatch | None:
        steps = list(self.tokendefs[state])
        joined = _join(steps, self.flags)
        dispatch = self[state] = _Dispatch(steps, self.flags, joined) if joined is not None else None
        return dispatch


_JOINED: dict[int, _JoinedTable] = {}


def _joined_states(tokendefs: dict[str, list[_Step]], flags: int) -> _JoinedTable:
    """The joined patterns of a lexer's processed token table (shared by the class, or by instances of the
    same options: some lexers pick one of several tables in __init__)."""
    table = _JOINED.get(id(tokendefs))
    if table is None or table.tokendefs is not tokendefs:
        table = _JOINED[id(tokendefs)] = _JoinedTable(tokendefs, flags)  # holds the table: its id stays its own
    return table


def _tokens_unprocessed(lexer: Any, text: str, stack: tuple[str, ...] = ("root",)) -> Iterator[tuple[int, Any, str]]:
    """`RegexLexer.get_tokens_unprocessed`, finding each rule with one joined match per token."""
    from pygments.token import Error, Whitespace, _TokenType

    tokendefs = lexer._tokens
    joined = _joined_states(tokendefs, type(lexer).flags)
    pos = 0
    end = len(text)
    statestack = list(stack)
    state = statestack[-1]
    statetokens = tokendefs[state]
    fast = joined[state]
    while True:
        step = None
        m = None
        if fast is not None:
            if pos < end:
                code = ord(text[pos])
                entry = (fast.table[code] or fast.at(code)) if code < 128 else fast.other
            else:
                entry = fast.other
            jm = entry.match(text, pos)
            if jm is not None:
                step = entry.rules[jm.lastindex]
                action = step[1]
                if action is not None:
                    if type(action) is _TokenType:
                        yield pos, action, jm.group()
                    else:
                        m = step[0](text, pos)
                        yield from action(lexer, m)
                pos = jm.end()
        else:
            for candidate in statetokens:
                m = candidate[0](text, pos)
                if m:
                    step = candidate
                    action = step[1]
                    if action is not None:
                        if type(action) is _TokenType:
                            yield pos, action, m.group()
                        else:
                            yield from action(lexer, m)
                    pos = m.end()
                    break
        if step is not None:
            new_state = step[2]
            if new_state is not None:
                if isinstance(new_state, tuple):
                    for s in new_state:
                        if s == "#pop":
                            if len(statestack) > 1:
                                statestack.pop()
                        elif s == "#push":
                            statestack.append(statestack[-1])
                        else:
                            statestack.append(s)
                elif isinstance(new_state, int):
                    if abs(new_state) >= len(statestack):
                        del statestack[1:]
                    else:
                        del statestack[new_state:]
                elif new_state == "#push":
                    statestack.append(statestack[-1])
                else:
                    raise AssertionError(f"wrong state def: {new_state!r}")
                state = statestack[-1]
                statetokens = tokendefs[state]
                fast = joined[state]
            continue
        # No rule matched here: what RegexLexer does at the end of a line or on a stray character.
        if pos >= len(text):
            break
        if text[pos] == "\n":
            statestack = ["root"]
            state = "root"
            statetokens = tokendefs["root"]
            fast = joined[state]
            yield pos, Whitespace, "\n"
            pos += 1
            continue
        yield pos, Error, text[pos]
        pos += 1


def regex_internals() -> bool:
    """Whether this interpreter has the parts of `re` the first-character analysis reads (CPython's private
    `re._parser` and `re._constants`, 3.11+). They are not a public API: on an interpreter without them, or with
    other names, lexers keep Pygments' own loop (same tokens, slower) instead of failing."""
    try:
        from re import _constants, _parser
    except ImportError:
        return False
    needed = ("LITERAL", "NOT_LITERAL", "ANY", "IN", "BRANCH", "SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT", "AT",
              "ASSERT", "ASSERT_NOT", "NEGATE", "RANGE", "CATEGORY", "CATEGORY_DIGIT", "CATEGORY_WORD")
    return callable(getattr(_parser, "parse", None)) and all(hasattr(_constants, n) for n in needed)


def speed_up(lexer: Any) -> Any:
    """Give a plain RegexLexer the joined-pattern driver (in place); any other lexer, or any lexer on an
    interpreter without the `re` internals the driver reads, is returned unchanged."""
    from pygments.lexer import RegexLexer

    if not regex_internals():
        return lexer
    if isinstance(lexer, RegexLexer) and type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed:
        def driver(text: str, stack: tuple[str, ...] = ("root",)) -> Iterator[tuple[int, Any, str]]:
            return _tokens_unprocessed(lexer, text, stack)
        lexer.get_tokens_unprocessed = driver
    return lexer


@lru_cache(maxsize=128)
def lexer_for(lang: str) -> Any:
    """The Pygments lexer for a fence's language name (None when Pygments does not know it), sped up."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return speed_up(get_lexer_by_name(lang))
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def highlight(code: str, lang: str) -> str | None:
    """`<pre class="highlight"><code class="language-LANG">…</code></pre>` with Pygments' token classes, or None
    when the language is unknown (the caller then writes the code escaped, unhighlighted)."""
    lexer = lexer_for(lang.strip().lower()) if lang.strip() else None
    if lexer is None:
        return None
    from pygments import highlight as pyg_highlight

    return (f'<pre class="highlight"><code class="language-{escape(lang)}">'
            f"{pyg_highlight(code, lexer, _formatter())}</code></pre>\n")


__all__ = ["highlight", "lexer_for", "speed_up"]
