"""Hostile and careless YAML: every YAML the build reads is bounded (size, nesting, aliases) and every problem is a
located DataError, never a traceback, a hang or a crash."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mbsite.db.seed import parse_seed
from mbsite.entities import load_file
from mbsite.errors import DataError
from mbsite.markdown import split_front_matter
from mbsite.yamlload import Limits, load, load_all


def bomb(levels: int, width: int = 10, indent: str = "") -> str:
    """Anchors of aliases: `levels` lines that stand for width**levels values."""
    lines = [f"{indent}a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines)


def test_aliases_of_aliases_are_refused_with_their_line() -> None:
    with pytest.raises(DataError) as info:
        load(bomb(6), "x.yaml", limits=Limits(values=100_000))
    assert "more than 100000 values" in str(info.value)
    assert info.value.location.file == "x.yaml" and info.value.location.line == 6


def test_aliases_within_the_limit_load_as_usual() -> None:
    data = load(bomb(3), "x.yaml")
    assert len(data["a3"]) == 10 and data["a3"][0][0][0] == ["x"]
    assert load_all("a: 1\n---\nb: 2\n", "x.yaml") == [{"a": 1}, {"b": 2}]


def test_deep_nesting_is_refused_before_the_parser_recurses() -> None:
    # libyaml's composer recurses in C: this text crashes the interpreter when composed (see the subprocess test)
    text = "x: " + "[" * 100_000 + "]" * 100_000
    with pytest.raises(DataError) as info:
        load(text, "deep.yaml")
    assert "nested deeper than 100 levels" in str(info.value)
    assert info.value.location.line == 1


def test_a_text_over_the_size_limit_is_refused() -> None:
    with pytest.raises(DataError, match="over the limit of 100"):
        load("a: " + "x" * 200, "big.yaml", limits=Limits(bytes=100))


def test_an_impossible_date_names_its_line() -> None:
    with pytest.raises(DataError) as info:
        load("title: x\nwhen:\n  date: 2024-13-45\n", "d.yaml", line=2)
    assert str(info.value) == "d.yaml:4:9: invalid date '2024-13-45': month must be in 1..12"


# -- every caller ------------------------------------------------------------------------------------------------

def test_front_matter_bomb_is_a_located_error() -> None:
    text = "---\ntitle: Boom\n" + bomb(6) + "\n---\nbody\n"
    with pytest.raises(DataError) as info:
        split_front_matter(text, "content/pages/boom.md")
    assert info.value.location.file == "content/pages/boom.md"
    assert info.value.location.line == 8  # the line of the alias that crosses the front matter's limit
    assert "values" in info.value.message


@pytest.mark.parametrize("front, line", [
    ("date: 2024-13-45", 2),                        # the flat reader
    ("title: x\ndata:\n  when: 2024-02-30", 4),     # the YAML parser
], ids=["flat", "nested"])
def test_front_matter_impossible_date_is_a_located_error(front: str, line: int) -> None:
    with pytest.raises(DataError) as info:
        split_front_matter(f"---\n{front}\n---\nbody\n", "content/pages/d.md")
    assert info.value.location.file == "content/pages/d.md" and info.value.location.line == line
    assert "invalid date" in info.value.message


def test_seed_bomb_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "content" / "seed" / "boom.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("entity: Tenant\nrecords:\n  - slug: t\n    settings:\n" + bomb(7, indent="      ") + "\n")
    with pytest.raises(DataError) as info:
        parse_seed(path, tmp_path)
    assert info.value.location.file == "content/seed/boom.yaml"
    assert info.value.location.line == 11
    assert "values" in info.value.message


def test_seed_impossible_date_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "content" / "seed" / "d.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("entity: Tenant\nrecords:\n  - slug: t\n    settings: {since: 2024-13-45}\n")
    with pytest.raises(DataError) as info:
        parse_seed(path, tmp_path)
    assert str(info.value).startswith("content/seed/d.yaml:4:")


def test_entity_file_bomb_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "schemas" / "entities" / "boom.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("entity: Boom\nfields:\n  name: {type: string}\nextra:\n" + bomb(7, indent="  ") + "\n")
    with pytest.raises(DataError) as info:
        load_file(path, None, tmp_path)
    assert info.value.location.file == "schemas/entities/boom.yaml"
    assert info.value.location.line == 11


def test_entity_file_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("entity: E\nfields:\n  a: [oops\n")
    with pytest.raises(DataError) as info:
        load_file(path, None, tmp_path)
    assert info.value.location.file == "e.yaml" and info.value.location.line is not None


def test_deeply_nested_front_matter_does_not_crash_the_build(make_site) -> None:
    """The whole CLI in a child process: a crash (the C parser's recursion) would be a signal, not exit 1."""
    deep = "[" * 100_000 + "]" * 100_000
    site = make_site({"content/pages/deep.md": f"---\ntitle: x\ndata: {{a: {deep}}}\n---\nbody\n",
                      "content/pages/ok.md": "---\ntitle: ok\n---\nfine\n"})
    proc = subprocess.run([sys.executable, "-c", "from mbsite.cli import main; main()", "check", "--site", str(site)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "content/pages/deep.md:3" in proc.stdout + proc.stderr
    assert "nested deeper than" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
