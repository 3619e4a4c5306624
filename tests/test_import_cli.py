"""`tsunagu import` and `tsunagu export` on the command line."""

from __future__ import annotations

import json

import pytest

from server.cli import main
from server.models import Person

from .csv_helpers import add_districts, count, people_csv, person_row


@pytest.fixture
def cli_env(engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    add_districts(engine, "C001")
    return engine


def test_dry_run_report_lists_bad_rows_without_personal_values(cli_env, tmp_path, capsys):
    path = tmp_path / "meibo.csv"
    path.write_bytes(people_csv(person_row(), person_row(登録者番号="T-0002", 氏名="秘密　花子", 生年月日="令和0年1月1日"),
                                encoding="cp932"))
    assert main(["import", "people", str(path)]) == 1
    out = capsys.readouterr().out
    assert "dry run, nothing written" in out and "rows 2: valid 1, invalid 1" in out
    assert "line 3, 生年月日: 令和0年はありません" in out and "秘密" not in out
    assert count(cli_env, Person) == 0


def test_apply_json_and_export(cli_env, tmp_path, capsys):
    path = tmp_path / "meibo.csv"
    path.write_bytes(people_csv(person_row()))
    assert main(["import", "people", str(path), "--apply", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["applied"] is True and report["counts"]["created"] == 1
    out = tmp_path / "export.csv"
    assert main(["export", "people", "-o", str(out)]) == 0
    assert main(["import", "people", str(out), "--apply"]) == 0
    assert "unchanged 1" in capsys.readouterr().out


def test_whole_file_error_exits_1(cli_env, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert main(["import", "shelters", str(path), "--apply"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "nothing was written" in err
