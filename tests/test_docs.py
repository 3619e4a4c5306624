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


def test_access_md_shows_the_access_table():
    """docs/access.md's action table is the code's (server/auth/policy.py ACTIONS and the routes)."""
    from server.app import create_app
    from server.auth.guard import access_table_markdown
    from server.db import make_engine

    routes = create_app(engine=make_engine("sqlite://")).routes
    expected = access_table_markdown(routes)
    text = _text("docs/access.md")
    shown = text.split("<!-- access-table:start -->\n", 1)[1].split("<!-- access-table:end -->", 1)[0]
    assert shown == expected, "docs/access.md's action table differs from the code; paste:\n" + expected
