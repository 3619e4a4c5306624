"""むすび町 (Musubi Town): the smaller neighbour of つなぎ市 for `tsunagu demo --cities 2`.

Several municipalities in one installation (a prefecture, a 広域連合, a vendor on the government
cloud): the neighbour is built by the same generator from a seed of its own, then given its own
code, name and 共通ID, and moved east so that it borders つなぎ市. Its DWAT is
the prefecture's (つなぎ市's teams), so it brings none of its own. One of its welfare shelters
accepts people of つなぎ市 (広域避難, Shelter.accepts_from): the cross-border allowance. It numbers
its own register from 000001 as つなぎ市 does, so the two cities share 登録者番号 (unique per
municipality, migration 0018), as real neighbours do.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..models.vocab import ShelterKind
from .city import DemoCity, build_demo_city
from .common import MUNICIPALITY_CODE, NEIGHBOUR_CODE, NEIGHBOUR_CODE5
NEIGHBOUR_NAME, NEIGHBOUR_KANA = "むすび町", "ムスビマチ"
SEED_OFFSET = 7919  # a seed of its own: other ids, other people, another map


def _shift(value: Any, dx: float) -> Any:
    """GeoJSON coordinates moved east by dx degrees."""
    if isinstance(value, list) and value and isinstance(value[0], (int, float)):
        return [value[0] + dx, *value[1:]]
    if isinstance(value, list):
        return [_shift(v, dx) for v in value]
    return value


def build_neighbour(seed: int, people: int, now: date | None = None) -> DemoCity:
    city = build_demo_city(seed=seed + SEED_OFFSET, people=people, now=now)
    lons = [lon for lon, _ in city.map.boundary]
    dx = max(lons) - min(lons) + 0.002  # east of つなぎ市's map, a street apart
    m = city.municipality
    m.municipality_code, m.name, m.name_kana = NEIGHBOUR_CODE, NEIGHBOUR_NAME, NEIGHBOUR_KANA
    for d in city.districts:
        d.municipality_code = NEIGHBOUR_CODE
        d.name = f"むすび{d.name}" if not d.name.startswith("むすび") else d.name
        if d.geometry:
            d.geometry = {**d.geometry, "coordinates": _shift(d.geometry["coordinates"], dx)}
        if d.centroid_lon is not None:
            d.centroid_lon += dx
    for s in city.shelters:
        s.municipality_code = NEIGHBOUR_CODE
        renamed = s.name.replace("つなぎ市", NEIGHBOUR_NAME)
        s.name = renamed if renamed != s.name else f"{NEIGHBOUR_NAME}{s.name}"
        s.address = s.address.replace("つなぎ市", NEIGHBOUR_NAME)
        s.operator = s.operator.replace("つなぎ市", NEIGHBOUR_NAME)
        if s.common_id:
            s.common_id = s.common_id[0] + NEIGHBOUR_CODE5 + s.common_id[6:]
        if s.lon is not None:
            s.lon += dx
    for p in city.people:
        p.municipality_code = NEIGHBOUR_CODE
        p.address = p.address.replace("つなぎ市", NEIGHBOUR_NAME)
        if p.lon is not None:
            p.lon += dx
    # the westernmost welfare shelter, nearest つなぎ市, takes its people too (受入協定)
    welfare = [s for s in city.shelters if s.kind != ShelterKind.designated and s.lon is not None]
    if welfare:
        min(welfare, key=lambda s: s.lon).accepts_from = [MUNICIPALITY_CODE]
    city.dwat_teams, city.dwat_members = [], []
    city.dwat_deployments, city.dwat_requests, city.dwat_reports = [], [], []
    city.dwat_request_steps = []
    city.dwat_triages, city.safety_checks = [], []  # the disaster's triages are つなぎ市's
    return city
