"""Icon names → vendored icon drawings: every upstream icon export draws, aliases resolve, data ships."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mbsite.components import icons
from mbsite.components.icons import has_icon, icon_svg

DATA_DIR = Path(icons.__file__).resolve().parent / "icondata"


def _names(upstream: Path) -> list[str]:
    lines = (upstream / "fakemui-icons.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_every_upstream_icon_export_draws_a_real_icon(upstream: Path) -> None:
    names = _names(upstream)
    assert len(names) > 400
    missing = [name for name in names if not has_icon(name)]
    assert missing == []
    for name in names:
        svg = icon_svg(name)
        assert 'data-icon="unknown"' not in svg and "role=\"img\"" not in svg, name


@pytest.mark.parametrize("name", ["DeleteOutlined", "DeleteRounded", "DeleteSharp", "DeleteTwoTone", "DeleteIcon",
                                  "delete_outline", "delete-forever"],
                         ids=lambda n: n)
def test_variant_suffixes_and_spellings_resolve(name: str) -> None:
    assert has_icon(name)


def test_suffix_alias_draws_the_base_icon() -> None:
    base = re.search(r"<path[^>]*>", icon_svg("Delete"))
    assert base is not None
    for alias in ("DeleteRounded", "DeleteSharp", "DeleteIcon"):
        assert base.group(0) in icon_svg(alias)


@pytest.mark.parametrize("name", ["GitHub", "LinkedIn", "Twitter", "YouTube", "Google", "ThreeDRotation", "TenK",
                                  "AccessAlarm", "Brightness4", "Plus", "Trash", "Gear", "Spinner"], ids=lambda n: n)
def test_mui_export_names_and_common_words_draw(name: str) -> None:
    assert has_icon(name), name


def test_unknown_name_draws_a_labelled_placeholder() -> None:
    svg = icon_svg("DefinitelyNotAnIconName")
    assert 'role="img"' in svg and 'aria-label="DefinitelyNotAnIconName"' in svg and 'data-icon="unknown"' in svg


def test_icons_fill_with_the_text_colour_and_keep_their_own_view_box() -> None:
    material, phosphor = icon_svg("Delete"), icon_svg("MagnifyingGlass")
    assert 'fill="currentColor"' in material and 'viewBox="0 0 24 24"' in material
    assert 'viewBox="0 0 256 256"' in phosphor


def test_icon_data_ships_with_its_licences() -> None:
    data = json.loads((DATA_DIR / "icons.json").read_text(encoding="utf-8"))
    assert {s["package"] for s in data["sets"].values()} >= {"@material-design-icons/svg", "@phosphor-icons/core"}
    for spec in data["sets"].values():
        assert (DATA_DIR / spec["license_file"]).is_file()
    # Kept small: the data is what the renderer needs, not whole icon packages.
    assert (DATA_DIR / "icons.json").stat().st_size < 1_200_000
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "components/icondata/*" in pyproject


def test_icon_markup_is_only_shapes() -> None:
    data = json.loads((DATA_DIR / "icons.json").read_text(encoding="utf-8"))
    allowed = re.compile(r"^(<(path|circle|rect|ellipse|polygon|polyline|line|g)( [a-z-]+=\"[^\"<>]*\")*/?>|</g>)+$")
    for key, (_, body) in data["icons"].items():
        assert allowed.match(body), key
