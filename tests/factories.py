"""Small payload builders for API tests: valid by default, override what the test is about."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

_counter = itertools.count(1)
JST = timezone(timedelta(hours=9))


def person(**over) -> dict:
    n = next(_counter)
    data = dict(register_no=f"T-{n:05d}", municipality_code="132144", name=f"試験 花子{n}", name_kana="シケン ハナコ",
                birth_date="1940-03-03", sex="female", address="東京都国分寺市戸倉1-1-1", phone="042-100-0000",
                reasons=["care_level_3plus"], care_needs=["wheelchair"], consent="yes", consent_date="2025-04-01",
                lon=139.455, lat=35.708,
                emergency_contacts=[{"name": "試験 太郎", "relation": "長男", "phone": "03-1000-0000"}])
    data.update(over)
    return data


def shelter(**over) -> dict:
    data = dict(name="ひかりプラザ", kind="designated_welfare", target_groups=["elderly", "disabled"], capacity=40,
                capabilities=["wheelchair_access", "backup_power"], address="東京都国分寺市光町1-46-8",
                lon=139.444667, lat=35.702509, building_permit_date="1990-04-01")
    data.update(over)
    return data


def now_jst(minutes_ago: int = 5) -> str:
    return (datetime.now(JST) - timedelta(minutes=minutes_ago)).isoformat()


def create(client, path: str, payload: dict) -> dict:
    response = client.post(f"/api/{path}", json=payload)
    assert response.status_code == 201, response.text
    return response.json()
