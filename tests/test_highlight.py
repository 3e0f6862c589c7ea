"""The joined-pattern lexer driver must produce exactly Pygments' token stream."""
from __future__ import annotations

import re
from pathlib import Path

import pygments
import pytest
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer, bygroups, default
from pygments.lexers import get_lexer_by_name
from pygments.token import Keyword, Name, String, Text

from mbsite.markdown import highlight as hl

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ["python", "javascript", "typescript", "json", "yaml", "toml", "bash", "console", "sql", "html", "css",
             "scss", "jinja", "html+jinja", "markdown", "rust", "go", "c", "cpp", "java", "kotlin", "ruby", "php",
             "diff", "ini", "docker", "nginx", "xml", "lua", "haskell", "csharp", "swift", "perl", "r", "make",
             "powershell", "graphql", "tsx", "jsx", "vue", "text"]


def _texts() -> list[str]:
    files = sorted((ROOT / "mbsite").rglob("*.py"))[::5] + sorted((ROOT / "docs").glob("*.md"))[::3]
    files += sorted((ROOT / "mbsite" / "builtin").rglob("*.html"))[:3] + sorted((ROOT / "mbsite" / "builtin").rglob("*.css"))[:2]
    files += sorted((ROOT / "mbsite" / "builtin").rglob("*.json"))[:3]
    pyg = Path(pygments.__file__).parent / "lexers"
    files += [pyg / "javascript.py", pyg / "shell.py"]
    texts = [f.read_text(encoding="utf-8", errors="replace")[:2500] for f in files]
    texts += ["", "\n", "x", "<?php echo $a; ?>\n", "SELECT * FROM t WHERE a = 'b'; -- c\n", "\t\r\n  \x00 é ",
              "{{ a }} {% if b %}c{% endif %}\n", "#include <stdio.h>\nint main(void) { return 0; }\n",
              'f"{x!r:>{width}}" rb"\\d" \'\'\'doc\'\'\'\n', "$ ls -la | grep x > out 2>&1\n"]
    return texts


TEXTS = _texts()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_same_tokens_as_pygments(lang: str) -> None:
    reference = get_lexer_by_name(lang)
    fast = hl.speed_up(get_lexer_by_name(lang))
    for text in TEXTS:
        assert list(fast.get_tokens(text)) == list(reference.get_tokens(text)), (lang, text[:60])


def test_python_states_are_joined_and_html_matches() -> None:
    lexer = hl.lexer_for("python")
    assert "get_tokens_unprocessed" in lexer.__dict__  # the driver is in use
    joined = hl._joined_states(lexer._tokens, type(lexer).flags)
    assert all(joined[state] is not None for state in lexer._tokens)  # inline (?i) rules are scoped, not refused
    code = 'def f(x):\n    return rb"\\d" + f"{x!r}"  # note\n'
    expected = pygments_highlight(code, get_lexer_by_name("python"), HtmlFormatter(nowrap=True))
    assert hl.highlight(code, "python") == (f'<pre class="highlight"><code class="language-python">{expected}'
                                            "</code></pre>\n")


class _BackrefLexer(RegexLexer):
    """A state with a back-reference (must keep the rule-by-rule loop) and one with groups (joined)."""

    name = "backref-test"
    tokens = {
        "root": [
            (r"(['\"])(.*?)\1", bygroups(String, String)),
            (r"(\w+)(=)", bygroups(Name, Text), "value"),
            (r"\s+", Text),
            (r".", Text),
        ],
        "value": [
            (r"(?i)(true|false)\b", Keyword, "#pop"),
            (r"(\d+)(\.\d+)?", bygroups(Name, Name), "#pop"),
            (r"", Text, "#pop"),
        ],
    }


def test_states_that_cannot_be_joined_keep_the_rule_loop() -> None:
    lexer = hl.speed_up(_BackrefLexer())
    joined = hl._joined_states(lexer._tokens, type(lexer).flags)
    assert joined["root"] is None and joined["value"] is not None  # (joined on first use)
    text = "a='x' b=TRUE c=1.5 d=\"y\" e= 'unterminated\n"
    assert list(lexer.get_tokens(text)) == list(_BackrefLexer().get_tokens(text))


def test_unknown_language_and_lexers_with_their_own_loop() -> None:
    assert hl.highlight("x", "no-such-language") is None
    console = hl.speed_up(get_lexer_by_name("pycon"))  # overrides get_tokens_unprocessed: left as it is
    assert "get_tokens_unprocessed" not in console.__dict__
    assert re.search(r'class="gp"', hl.highlight(">>> 1 + 1\n2\n", "pycon") or "")


class _VerboseLexer(RegexLexer):
    """Verbose patterns whose last line is a comment: joining must not let the comment eat what follows."""

    name = "verbose-test"
    flags = re.VERBOSE
    tokens = {
        "root": [
            (r"[a-z]+  # a word", Name),
            (r"(?i) \d+ (px|em)  # a size", Keyword),
            (r"\s+", Text),
            (r".", Text),
        ],
    }


def test_verbose_rules_ending_in_a_comment_are_joined_correctly() -> None:
    lexer = hl.speed_up(_VerboseLexer())
    assert hl._joined_states(lexer._tokens, type(lexer).flags)["root"] is not None
    text = "width 12PX and 3em! x\n"
    assert list(lexer.get_tokens(text)) == list(_VerboseLexer().get_tokens(text))


class _InlineVerboseLexer(RegexLexer):
    """A rule verbose by its own `(?x)` in a lexer that is not: the newline that ends its comment must stay
    inside the rule, where verbose mode ignores it; a default rule opens the second state."""

    name = "inline-verbose-test"
    tokens = {
        "root": [
            (r"(?x) [a-z]+  # a word", Name, "after"),
            (r"\s+", Text),
            (r".", Text),
        ],
        "after": [
            default("#pop"),
        ],
    }


def test_inline_verbose_rule_in_a_plain_lexer() -> None:
    lexer = hl.speed_up(_InlineVerboseLexer())
    joined = hl._joined_states(lexer._tokens, type(lexer).flags)
    assert joined["root"] is not None and joined["after"] is not None
    text = "abc def\nxyz 1\n"
    assert list(lexer.get_tokens(text)) == list(_InlineVerboseLexer().get_tokens(text))


@pytest.mark.parametrize("lang", ["python", "javascript", "bash", "sql", "css", "html", "yaml", "rust", "php", "c"])
def test_first_character_analysis_is_sound(lang: str) -> None:
    """A rule may be skipped at a position only if it cannot match there: whenever a rule matches text that
    starts with an ASCII character, the analysis must list that character (or call the rule nullable)."""
    lexer = get_lexer_by_name(lang)
    suffixes = ["", "a", "1 ", "'x'", '"y"', "\n", "-->", "*/", "  b", "${z}"]
    for state, steps in lexer._tokens.items():
        for rexmatch, _action, _new in steps:
            chars, nullable = hl._first_of(rexmatch.__self__)
            for code in range(128):
                for suffix in suffixes:
                    m = rexmatch(chr(code) + suffix, 0)
                    if m is not None and (m.end() > 0 or not nullable):
                        assert nullable or code in chars, (lang, state, rexmatch.__self__.pattern, chr(code))
                    if m is not None and m.end() == 0:
                        assert nullable, (lang, state, rexmatch.__self__.pattern)


def test_first_characters_of_simple_patterns() -> None:
    def first(pattern: str, flags: int = 0) -> tuple[str, bool]:
        chars, nullable = hl._first_of(re.compile(pattern, flags))
        return "".join(sorted(chr(c) for c in chars)), nullable

    assert first(r"\b(and|or)\b") == ("ao", False)
    assert first(r"(?i)k") == ("Kk", False)
    assert first(r"\d+(\.\d*)?") == ("0123456789", False)
    assert first(r"(?<!\.)x|(?=y)z") == ("xz", False)
    assert first(r"x?") == ("x", True)
    assert first(r"") == ("", True)
    assert first(r"[^a]")[0].count("a") == 0 and len(first(r"[^a]")[0]) == 127


@pytest.mark.parametrize("missing", ["re._parser", "re._constants"])
def test_an_interpreter_without_the_private_re_modules_keeps_pygments_own_loop(
        monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    assert hl.regex_internals()  # this interpreter has them: the fast driver is in use
    monkeypatch.setitem(__import__("sys").modules, missing, None)  # `from re import …` now raises ImportError
    monkeypatch.delattr(re, missing.split(".")[1], raising=False)
    assert not hl.regex_internals()
    lexer = hl.speed_up(get_lexer_by_name("python"))
    assert "get_tokens_unprocessed" not in lexer.__dict__  # Pygments' own loop, untouched
    code = "def f(x):\n    return x + 1  # one\n"
    assert pygments_highlight(code, lexer, HtmlFormatter()) == pygments_highlight(
        code, get_lexer_by_name("python"), HtmlFormatter())


def test_renamed_internals_also_keep_pygments_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from re import _constants

    monkeypatch.delattr(_constants, "SUBPATTERN")
    assert not hl.regex_internals()
    assert "get_tokens_unprocessed" not in hl.speed_up(get_lexer_by_name("python")).__dict__
