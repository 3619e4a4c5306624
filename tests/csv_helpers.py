"""Builders for importer tests: CSV bytes in a chosen encoding, 町丁目 districts, row counts."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Iterable

import sqlalchemy as sa
from sqlmodel import Session

from server.importers.shelters_csv import SHELTER_COLUMNS
from server.models import District, Person, Shelter

PEOPLE_HEADER = ["登録者番号", "市区町村コード", "氏名", "ふりがな", "生年月日", "性別", "郵便番号", "住所", "電話番号",
                 "事由", "町丁目コード", "経度", "緯度", "同意", "同意日"]


OWN_HEADER = [column.ja for column in SHELTER_COLUMNS]


def person_row(**over: str) -> dict[str, str]:
    """A valid people CSV row (Japanese headers); override cells by header."""
    row = {"登録者番号": "T-0001", "市区町村コード": "132144", "氏名": "試験　一郎", "ふりがな": "しけん いちろう",
           "生年月日": "昭和15年3月3日", "性別": "男", "郵便番号": "185-0003", "住所": "東京都国分寺市戸倉3-5-1",
           "電話番号": "042-325-0011", "事由": "要介護3以上", "町丁目コード": "C001", "経度": "139.45423",
           "緯度": "35.70832", "同意": "同意", "同意日": "R5.4.1"}
    row.update(over)
    return row


def csv_bytes(header: list[str], rows: Iterable[dict[str, str] | list[str]], *, encoding: str = "utf-8",
              newline: str = "\r\n") -> bytes:
    """CSV text encoded as `encoding` ("utf-8", "utf-8-sig" or "cp932")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def people_csv(*rows: dict[str, str], header: list[str] | None = None, encoding: str = "utf-8") -> bytes:
    return csv_bytes(header or PEOPLE_HEADER, rows, encoding=encoding)


def add_districts(engine, *codes: str, municipality_code: str = "132144") -> dict[str, uuid.UUID]:
    """Create 町丁目 districts with these codes; returns code → id."""
    ids = {}
    with Session(engine) as session:
        for code in codes:
            district = District(municipality_code=municipality_code, code=code, name=f"町丁目{code}", kind="chome")
            session.add(district)
            ids[code] = district.id
        session.commit()
    return ids


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()


def people(engine) -> dict[str, dict]:
    """Stored people by register number, as column mappings."""
    with engine.connect() as conn:
        return {row["register_no"]: dict(row) for row in conn.execute(sa.select(Person.__table__)).mappings()}


def shelters(engine) -> dict[str, dict]:
    """Stored shelters by 共通ID (or name when there is none)."""
    with engine.connect() as conn:
        return {row["common_id"] or row["name"]: dict(row)
                for row in conn.execute(sa.select(Shelter.__table__)).mappings()}


def own_row(**over: str) -> dict[str, str]:
    """A valid row of the project's own shelter CSV; override cells by header."""
    row = {"共通ID": "E1321400003121", "市区町村コード": "132144", "施設名": "ひかりプラザ", "ふりがな": "ひかりぷらざ",
           "種別": "指定福祉避難所", "受入対象者": "高齢者、障害者", "受入可能人数": "40", "設備": "車いす対応;非常用電源",
           "住所": "東京都国分寺市光町1-46-8", "経度": "139.444667", "緯度": "35.702509", "町丁目コード": "",
           "運営法人": "社会福祉法人 試験会", "電話番号": "042-100-0000", "担当者": "試験 担当", "建築確認日": "昭和60年4月1日",
           "耐震診断": "", "Is値": "", "耐震改修": "", "備考": ""}
    row.update(over)
    return row


def own_csv(*rows: dict[str, str], encoding: str = "utf-8") -> bytes:
    return csv_bytes(OWN_HEADER, rows, encoding=encoding)
