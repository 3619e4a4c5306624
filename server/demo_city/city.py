"""`build_demo_city`: the whole fictional city as table rows, from a seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from ..models import (District, DwatActivityReport, DwatDeployment, DwatMember, DwatRequest, DwatRequestStep, DwatTeam,
                      EvacuationPlan, Municipality, Person, SafetyCheck, Shelter)
from ..models.dwat_field import DwatTriage
from ..models.vocab import DistrictKind
from .common import DEFAULT_SEED, MUNICIPALITY_CODE, IdMaker, stream
from .dwat import build_teams
from .dwat_scenario import build_scenario
from .geography import CityMap, build_map, centroid, geojson_polygon
from .names import CITY_KANA, CITY_NAME, PREFECTURE
from .people import build_people
from .plans import build_plans
from .shelters import build_shelters

# Master data (the municipality and its districts) is dated to a fixed day, so the map
# rows are the same whatever `now` is.
MAP_RECORDED = datetime(2024, 4, 1, 0, 0, tzinfo=timezone.utc)


@dataclass
class DemoCity:
    """Table model instances, ready to insert, in an order that satisfies foreign keys."""

    seed: int
    now: date
    map: CityMap = field(repr=False)
    municipality: Municipality
    districts: list[District]  # the 福祉圏域 first, then the 町丁目
    shelters: list[Shelter]
    people: list[Person]
    plans: list[EvacuationPlan]
    dwat_teams: list[DwatTeam]
    dwat_members: list[DwatMember]
    # The disaster in progress (dwat_scenario.py): deployments, requests, daily reports.
    dwat_deployments: list[DwatDeployment]
    dwat_requests: list[DwatRequest]
    dwat_reports: list[DwatActivityReport]
    dwat_request_steps: list[DwatRequestStep] = field(default_factory=list)
    # Welfare triages by the teams on site, and the safety checks of the moves that arrived.
    dwat_triages: list[DwatTriage] = field(default_factory=list)
    safety_checks: list[SafetyCheck] = field(default_factory=list)

    @property
    def welfare_areas(self) -> list[District]:
        return [d for d in self.districts if d.kind == DistrictKind.welfare_area]

    @property
    def chome(self) -> list[District]:
        return [d for d in self.districts if d.kind == DistrictKind.chome]


def build_demo_city(seed: int = DEFAULT_SEED, people: int = 5000, now: date | None = None) -> DemoCity:
    """Build つなぎ市 (Tsunagi City), a fictional municipality in the Tama area of Tokyo.

    A pure function of its arguments: the same seed, size and `now` give identical rows,
    ids included. `now` (default: today) is the day the register is "as of"; birth,
    consent and review dates are relative to it, and so are the DWAT deployments, requests
    and daily reports (a disaster in progress around `now`). The map and the shelters depend
    on the seed only.
    """
    if people < 0:
        raise ValueError("people must not be negative")
    now = now or date.today()
    ids = IdMaker(seed)
    city_map = build_map(stream(seed, "map"))

    municipality = Municipality(
        id=ids("municipality", MUNICIPALITY_CODE), created_at=MAP_RECORDED, updated_at=MAP_RECORDED,
        municipality_code=MUNICIPALITY_CODE, name=CITY_NAME, name_kana=CITY_KANA, prefecture=PREFECTURE,
    )
    districts = _districts(ids, city_map)
    district_ids = {d.code: d.id for d in districts}
    shelters = build_shelters(stream(seed, "shelters"), stream(seed, "shelter-dates"), ids, city_map,
                              district_ids, now)
    persons = build_people(stream(seed, "people"), stream(seed, "people-dates"), ids, city_map,
                           district_ids, now, people)
    plans = build_plans(stream(seed, "plans"), stream(seed, "plan-dates"), ids, persons, shelters, now)
    teams, members = build_teams(stream(seed, "dwat"), stream(seed, "dwat-dates"), ids, now)
    scenario = build_scenario(stream(seed, "dwat-scenario"), ids, now, teams, members, shelters, persons, plans)
    return DemoCity(seed=seed, now=now, map=city_map, municipality=municipality, districts=districts,
                    shelters=shelters, people=persons, plans=plans, dwat_teams=teams, dwat_members=members,
                    dwat_deployments=scenario.deployments, dwat_requests=scenario.requests,
                    dwat_reports=scenario.reports, dwat_request_steps=scenario.steps,
                    dwat_triages=scenario.triages, safety_checks=scenario.arrivals)


def _districts(ids: IdMaker, city_map: CityMap) -> list[District]:
    rows = []
    area_ids = {}
    for area in city_map.areas:
        area_ids[area.code] = ids("district", area.code)
        lon, lat = centroid(area.ring)
        rows.append(District(
            id=area_ids[area.code], created_at=MAP_RECORDED, updated_at=MAP_RECORDED,
            municipality_code=MUNICIPALITY_CODE, code=area.code, name=area.name, name_kana=area.name_kana,
            kind=DistrictKind.welfare_area, geometry=geojson_polygon(area.ring),
            centroid_lon=lon, centroid_lat=lat,
        ))
    for chome in city_map.chome:
        rows.append(District(
            id=ids("district", chome.code), created_at=MAP_RECORDED, updated_at=MAP_RECORDED,
            municipality_code=MUNICIPALITY_CODE, code=chome.code, name=chome.name, name_kana=chome.name_kana,
            kind=DistrictKind.chome, parent_id=area_ids[chome.area_code], geometry=geojson_polygon(chome.ring),
            centroid_lon=chome.centroid[0], centroid_lat=chome.centroid[1],
        ))
    return rows

