"""The docs keep up with the code: every setting is in docs/operations.md, every
top-level `tsunagu` command is in README.md."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from server.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _text(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_setting_is_documented_in_operations(name):
    # In the settings table, as `NAME`.
    assert f"`{name}`" in _text("docs/operations.md"), (
        f"setting {name} (server/settings.py) is missing from docs/operations.md"
    )


def _top_level_commands() -> list[str]:
    from server.cli import build_parser

    parser = build_parser()
    commands: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.extend(action.choices)
    return commands


def test_cli_has_commands():
    assert "serve" in _top_level_commands()


def test_every_cli_command_is_in_readme():
    readme = _text("README.md")
    missing = [c for c in _top_level_commands() if not re.search(rf"\btsunagu {re.escape(c)}\b", readme)]
    assert not missing, f"commands missing from README.md (as `tsunagu COMMAND`): {missing}"
