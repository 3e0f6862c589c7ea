"""templates.CompiledTemplates: a theme's compiled templates kept in the state folder are loaded instead of compiled
again, never when the source or what the code depends on changed, never when this user's key did not sign them
(an entry that came with the site is not even read), and a damaged or unwritable cache is no error."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import pytest

from mbsite.config import load_config
from mbsite.signing import KEY_FILE, signing_key
from mbsite.templates import CODE_DIR, code_signature, load_theme


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key of this test's own (the user's cache folder is left alone)."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def _site(tmp_path: Path, text: str = "Hello {{ name }}!{% block tail %}{% endblock %}") -> Path:
    site = tmp_path / "site"
    (site / "themes" / "default" / "templates").mkdir(parents=True, exist_ok=True)
    (site / "themes" / "default" / "templates" / "hello.html").write_text(text)
    return site


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def compile(self: Any, source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name or "")
        return original(self, source, name, *args, **kwargs)
    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return compiled


def _entries(site: Path) -> list[Path]:
    return sorted((site / ".mbsite" / CODE_DIR).glob("*/*.code"))


def test_a_second_load_takes_the_compiled_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    first = load_theme(load_config(site)).template("hello.html").render(name="<you>")
    assert first == "Hello &lt;you&gt;!"
    assert len(_entries(site)) == 1
    compiled = _no_compiling(monkeypatch)
    again = load_theme(load_config(site)).template("hello.html").render(name="<you>")
    assert again == first
    assert compiled == []


def test_an_edited_template_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    load_theme(load_config(site)).template("hello.html")
    _site(tmp_path, "Bye {{ name }}")
    compiled = _no_compiling(monkeypatch)
    assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Bye x"
    assert compiled == ["hello.html"]


def test_a_damaged_entry_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(tmp_path)
    load_theme(load_config(site)).template("hello.html")
    (entry,) = _entries(site)
    entry.write_bytes(entry.read_bytes()[:40])  # cut short, as by a crash in the middle of writing it
    compiled = _no_compiling(monkeypatch)
    assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Hello x!"
    assert compiled == ["hello.html"]
    assert len(entry.read_bytes()) > 40  # and replaced


def test_other_filters_are_another_cache(tmp_path: Path) -> None:
    """Jinja resolves filters when it compiles: code compiled with another set of filters is never loaded, and the
    folder of the older set goes."""
    site = _site(tmp_path)
    theme = load_theme(load_config(site))
    before = code_signature(theme.env)
    theme.env.filters["shout"] = str.upper
    assert code_signature(theme.env) != before


def test_an_unwritable_state_folder_is_no_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        site = _site(tmp_path)
        (site / ".mbsite").write_text("a file where the state folder would be")  # no folder can be made under it
    else:
        site = _site(tmp_path)
        (site / ".mbsite").mkdir()
        (site / ".mbsite").chmod(0o500)
    try:
        assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Hello x!"
    finally:
        if (site / ".mbsite").is_dir():
            (site / ".mbsite").chmod(0o700)


def test_a_new_signature_removes_the_old_folders(tmp_path: Path) -> None:
    site = _site(tmp_path)
    stale = site / ".mbsite" / CODE_DIR / "0123456789abcdef0123"
    stale.mkdir(parents=True)
    (stale / "x.code").write_bytes(b"old")
    load_theme(load_config(site)).template("hello.html")
    assert not stale.exists()
    assert len(_entries(site)) == 1


def test_only_compiled_template_folders_are_ever_removed(tmp_path: Path) -> None:
    """A new signature removes the older signatures' folders and nothing else: not another folder the user keeps
    there, not what a link in the cache leads to, and nothing at all when the cache folder is itself a link."""
    site = _site(tmp_path)
    cache = site / ".mbsite" / CODE_DIR
    keep = cache / "notes"
    keep.mkdir(parents=True)
    (keep / "x.txt").write_text("mine")
    outside = tmp_path / "outside"
    (outside / "abcdefabcdefabcdef12").mkdir(parents=True)
    (outside / "abcdefabcdefabcdef12" / "f").write_text("not ours")
    (cache / "0123456789abcdef0123").symlink_to(outside / "abcdefabcdefabcdef12")
    load_theme(load_config(site)).template("hello.html")
    assert (keep / "x.txt").read_text() == "mine"
    assert (outside / "abcdefabcdefabcdef12" / "f").read_text() == "not ours"

    other = _site(tmp_path / "second")
    shared = tmp_path / "shared"
    (shared / "fedcba9876543210fedc").mkdir(parents=True)
    (other / ".mbsite").mkdir()
    (other / ".mbsite" / CODE_DIR).symlink_to(shared)
    load_theme(load_config(other)).template("hello.html")
    assert (shared / "fedcba9876543210fedc").is_dir()


def test_an_entry_another_key_signed_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries that came with the site (compiled on another machine, or by another user) are not loaded."""
    site = _site(tmp_path)
    load_theme(load_config(site)).template("hello.html")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    compiled = _no_compiling(monkeypatch)
    assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Hello x!"
    assert compiled == ["hello.html"]


def test_a_planted_entry_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry written into the state folder by anyone but this user's builds — here one whose pickle would run a
    command when read — is neither run nor even unpickled: the template is compiled, and the entry replaced."""
    import pickle

    from jinja2.bccache import bc_magic

    site = _site(tmp_path)
    load_theme(load_config(site)).template("hello.html")
    (entry,) = _entries(site)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> Any:
            return (Path.write_text, (marker, "ran"))

    entry.write_bytes(bc_magic + pickle.dumps(Payload()))  # (what Jinja reads first: the checksum, a pickle)
    compiled = _no_compiling(monkeypatch)
    assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Hello x!"
    assert compiled == ["hello.html"] and not marker.exists()


def test_a_key_others_may_read_caches_nothing(tmp_path: Path, own_key: Path) -> None:
    assert signing_key() is not None
    key = own_key / "mbsite" / KEY_FILE
    key.chmod(0o644)
    assert signing_key() is None
    site = _site(tmp_path)
    assert load_theme(load_config(site)).template("hello.html").render(name="x") == "Hello x!"
    assert _entries(site) == []
