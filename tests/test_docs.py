"""Every command, option and config key is documented (docs/cli.md, docs/configuration.md)."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from mbsite.cli import main
from mbsite.config import CONFIG_KEYS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def commands() -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in main.commands.items():
        out.append((name, cmd))
        if isinstance(cmd, click.Group):
            out += [(f"{name} {sub}", subcmd) for sub, subcmd in cmd.commands.items()]
    return out


@pytest.mark.parametrize("name,cmd", commands(), ids=[n for n, _ in commands()])
def test_every_command_and_option_is_documented(name: str, cmd: click.Command) -> None:
    text = (DOCS / "cli.md").read_text()
    assert f"mbsite {name}" in text
    for param in cmd.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt not in ("--help",):
                assert opt in text, f"{opt} of `mbsite {name}` is not in docs/cli.md"


@pytest.mark.parametrize("key", CONFIG_KEYS)
def test_every_config_key_is_documented(key: str) -> None:
    assert f"`{key}`" in (DOCS / "configuration.md").read_text()
