"""`tsunagu settings`: every setting, its value and where the value came from; secrets masked."""

from __future__ import annotations

import json

from server.settings import SETTINGS, Setting, describe, load_settings

PASSWORD = "Kakushi-9f3b@x/7"  # with an @ and a / of its own


def _lines(text: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in text.splitlines():
        parts = line.split(None, 2)
        if parts and parts[0] in {s.name for s in SETTINGS}:
            rows[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return rows


def test_each_setting_with_its_value_and_source(tmp_path, capsys):
    from server.cli import cmd_settings

    dotenv = tmp_path / ".env"
    dotenv.write_text(f"DATABASE_URL=postgresql+psycopg://tsunagu:{PASSWORD}@db.example/tsunagu\n"
                      "TSUNAGU_HOST=0.0.0.0\nTSUNAGU_PORT=9000\n", encoding="utf-8")
    settings = load_settings({"TSUNAGU_PORT": "8123", "TSUNAGU_DEMO": "yes"}, dotenv=dotenv)

    assert cmd_settings(type("Args", (), {"json": False})(), settings) == 0
    out = capsys.readouterr().out
    rows = _lines(out)
    assert set(rows) == {s.name for s in SETTINGS}  # every setting, once
    assert rows["TSUNAGU_PORT"] == ("environment", "8123")  # the environment wins over .env
    assert rows["TSUNAGU_DEMO"] == ("environment", "true")
    assert rows["TSUNAGU_HOST"] == (".env", "0.0.0.0")
    assert rows["DATABASE_URL"] == (".env", "postgresql+psycopg://tsunagu:********@db.example/tsunagu")
    assert rows["TSUNAGU_PAGE_SIZE_MAX"] == ("default", "500")
    assert rows["TSUNAGU_CHROMIUM"] == ("default", "(empty)")
    assert PASSWORD not in out and "Kakushi" not in out

    assert cmd_settings(type("Args", (), {"json": True})(), settings) == 0
    out = capsys.readouterr().out
    listed = {row["name"]: row for row in json.loads(out)}
    assert listed["TSUNAGU_PORT"] == {"name": "TSUNAGU_PORT", "value": "8123", "source": "environment"}
    assert listed["DATABASE_URL"]["value"].endswith(":********@db.example/tsunagu") and "Kakushi" not in out


def test_the_command_reads_the_environment(monkeypatch, capsys):
    from server.cli import main

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://ops:{PASSWORD}@localhost:5432/tsunagu")
    monkeypatch.setenv("TSUNAGU_LOG_LEVEL", "WARNING")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    rows = _lines(out)
    assert rows["DATABASE_URL"] == ("environment", "postgresql+psycopg://ops:********@localhost:5432/tsunagu")
    assert rows["TSUNAGU_LOG_LEVEL"] == ("environment", "WARNING")
    assert PASSWORD not in out and "Kakushi" not in out


def test_a_secret_setting_is_masked_whole_and_plain_urls_are_left_alone():
    specs = [Setting("X_TOKEN", "", "a token", secret=True), Setting("X_EMPTY_TOKEN", "", "unset", secret=True),
             Setting("X_URL", "", "a URL"), Setting("X_TEXT", "", "text")]
    settings = load_settings({}, dotenv=None)
    settings.values.update({"X_TOKEN": "tok-123456", "X_EMPTY_TOKEN": "",
                            "X_URL": "https://tiles.example/{z}/{x}/{y}.png", "X_TEXT": "mail ops@example.jp"})
    rows = {row["name"]: row["value"] for row in describe(settings, specs)}
    assert rows == {"X_TOKEN": "********", "X_EMPTY_TOKEN": "",
                    "X_URL": "https://tiles.example/{z}/{x}/{y}.png", "X_TEXT": "mail ops@example.jp"}
