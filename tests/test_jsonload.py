"""jsonload: schema validation results, kept by a SchemaResults object (and its file) instead of module state."""
from __future__ import annotations

from pathlib import Path

import pytest

from mbsite import jsonload
from mbsite.jsonload import SchemaResults

BAD_PACKAGE = {"packageId": "p", "name": 5}  # name must be a string (package.schema.json)


def _messages(problems: list) -> list[tuple[str, str | None]]:
    return [(p.message, p.location.pointer) for p in problems]


def test_results_are_kept_in_their_file_and_reused_without_validating(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state" / "schema-results.json"
    first = SchemaResults(path)
    found = first.validate(BAD_PACKAGE, "package.schema.json", source="packages/p/package.json", package="p")
    assert found and all(p.code == "schema" and p.location.file == "packages/p/package.json" for p in found)
    assert not path.exists()  # nothing is written until save
    first.save()
    assert path.is_file()

    def refuse(name: str) -> None:
        raise AssertionError(f"validated {name} again")

    monkeypatch.setattr(jsonload, "_validator", refuse)
    second = SchemaResults(path)
    again = second.validate(BAD_PACKAGE, "package.schema.json", source="packages/p/package.json", package="p")
    assert _messages(again) == _messages(found)
    with pytest.raises(AssertionError, match="validated"):  # a document not seen before is validated
        second.validate({**BAD_PACKAGE, "name": 6}, "package.schema.json", source="x")


def test_two_result_sets_share_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One object's results never leak into another's (state used to live in the module)."""
    SchemaResults().validate(BAD_PACKAGE, "package.schema.json", source="a")
    calls: list[str] = []
    real = jsonload._validator

    def counting(name: str) -> object:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(jsonload, "_validator", counting)
    SchemaResults().validate(BAD_PACKAGE, "package.schema.json", source="a")
    assert calls == ["package.schema.json"]


def test_an_unreadable_results_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "schema-results.json"
    path.write_text("[1, 2", encoding="utf-8")
    results = SchemaResults(path)
    assert results.validate(BAD_PACKAGE, "package.schema.json", source="a")
    results.save()
    assert SchemaResults(path).validate(BAD_PACKAGE, "package.schema.json", source="a")
    assert path.read_text(encoding="utf-8").startswith("{")
